// The loaded model, as a summary (no tensors in page state: they live on the GPU, in the worker).
import { create } from 'zustand';
import type { GpuMemory, ModelSummary, Progress } from '../core/types';

export type ModelStatus = 'empty' | 'loading' | 'loaded';

interface ModelState {
  status: ModelStatus;
  summary: ModelSummary | null;
  /** Where the loaded model came from, e.g. "Demo model (stories260K)" or "Folder Qwen2-0.5B". */
  label: string | null;
  /** What is being loaded right now. */
  loadingLabel: string | null;
  progress: Progress | null;
  /** The weights' GPU budget, what is on the GPU and the peaks (refreshed after each job). */
  memory: GpuMemory | null;
  /** The GPU budget field as typed ("" = the adapter's default), used by every load. */
  gpuBudgetText: string;
  set(patch: Partial<Omit<ModelState, 'set'>>): void;
}

export const useModel = create<ModelState>()((set) => ({
  status: 'empty',
  summary: null,
  label: null,
  loadingLabel: null,
  progress: null,
  memory: null,
  gpuBudgetText: '',
  set: (patch) => set(patch),
}));
