// GPU adapter / engine status, as the header shows it.
import { create } from 'zustand';
import type { AdapterSummary } from '../core/types';

export type EngineStatus =
  /** Worker and GPU device are starting. */
  | 'starting'
  | 'ready'
  /** navigator.gpu is missing: the browser has no WebGPU (or it is disabled). */
  | 'no-webgpu'
  /** navigator.gpu exists but requestAdapter() gave no adapter (blocklisted GPU, disabled, headless). */
  | 'no-adapter'
  /** The engine failed to start for another reason (message in the errors store, area "engine"). */
  | 'failed'
  /** The GPU device was lost; a restart is needed. */
  | 'lost';

interface EngineState {
  status: EngineStatus;
  adapter: AdapterSummary | null;
  /** Detail for no-webgpu / no-adapter / lost. */
  message: string | null;
  /** Shader modules bundled into the worker. */
  shaders: string[];
  set(patch: Partial<Omit<EngineState, 'set'>>): void;
}

export const useEngine = create<EngineState>()((set) => ({
  status: 'starting',
  adapter: null,
  message: null,
  shaders: [],
  set: (patch) => set(patch),
}));

