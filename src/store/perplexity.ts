// The last perplexity measurement: idle, done (with result), failed or cancelled; while one runs,
// it is the job in the job slot (store/job.ts). The error message of a failed run is in the errors
// store (area "eval").
import { create } from 'zustand';
import type { PerplexityResult } from '../core/types';
import { OPTIONS } from '../core/options';

export interface PerplexitySettings {
  seqlen: number;
  maxWindows?: number;
  /** Label of the text and model measured, for the result panel. */
  textLabel: string;
  modelName: string;
  /** What the weights were: "dense" or the prune run they reflected. */
  weights: string;
}

export type PerplexityRun =
  | { status: 'idle' }
  | { status: 'done'; callId: number; result: PerplexityResult; settings: PerplexitySettings }
  | { status: 'failed'; settings: PerplexitySettings }
  | { status: 'cancelled'; settings: PerplexitySettings; elapsed: number };

interface PerplexityState {
  /** Raw input values (strings, so the user can type freely; validated on Measure). */
  seqlenInput: string;
  maxWindowsInput: string;
  run: PerplexityRun;
  set(patch: Partial<Omit<PerplexityState, 'set'>>): void;
}

export const DEFAULT_SEQLEN = OPTIONS.seqlen.default;

export const usePerplexity = create<PerplexityState>()((set) => ({
  seqlenInput: String(DEFAULT_SEQLEN),
  maxWindowsInput: '',
  run: { status: 'idle' },
  set: (patch) => set(patch),
}));
