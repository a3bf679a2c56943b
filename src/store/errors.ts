// Error messages per area of the page. An error is shown next to the area where the user acted,
// in a role="alert" element, with the error's own message (they say what to do).
import { create } from 'zustand';

/** data: the evaluation text; calib: the calibration text; prune / sweep: those runs; results: export; speed: speed & size; contextual: contextual pruning and its export. */
export type ErrorArea = 'engine' | 'model' | 'hub' | 'data' | 'calib' | 'eval' | 'prune' | 'sweep' | 'results' | 'speed' | 'generate' | 'contextual' | 'train';

export interface ShownError {
  /** Error class name, e.g. "BadModelFile". */
  name: string;
  message: string;
}

export function toShownError(e: unknown): ShownError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  if (e && typeof e === 'object' && 'message' in e) {
    const o = e as { name?: unknown; message: unknown };
    return { name: typeof o.name === 'string' ? o.name : 'Error', message: String(o.message) };
  }
  return { name: 'Error', message: String(e) };
}

interface ErrorsState {
  errors: Partial<Record<ErrorArea, ShownError>>;
  setError(area: ErrorArea, e: unknown): void;
  clearError(area: ErrorArea): void;
}

export const useErrors = create<ErrorsState>()((set) => ({
  errors: {},
  setError: (area, e) => set((s) => ({ errors: { ...s.errors, [area]: toShownError(e) } })),
  clearError: (area) =>
    set((s) => {
      if (!(area in s.errors)) return s;
      const errors = { ...s.errors };
      delete errors[area];
      return { errors };
    }),
}));
