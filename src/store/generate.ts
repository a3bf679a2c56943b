// Generation playground state: the settings (raw input strings, validated on Generate) and the two
// outputs (dense and pruned weights) with their streamed text and measured figures. A generation
// in flight is the job in the job slot (store/job.ts); the actions live in generate-actions.ts.
import { create } from 'zustand';
import type { GenerateResult } from '../core/eval/generate';
import { jobRunning } from './job';

export type GenMode = 'greedy' | 'sampling';
export type GenSide = 'dense' | 'pruned';

export interface GenSettings {
  prompt: string;
  maxNewTokens: string;
  mode: GenMode;
  /** Sampling only. */
  temperature: string;
  /** Sampling only; blank or 0: no cut. */
  topK: string;
  /** Sampling only; blank: 0. */
  seed: string;
}

export const DEFAULT_GEN_SETTINGS: GenSettings = {
  prompt: 'Once upon a time',
  maxNewTokens: '32',
  mode: 'greedy',
  temperature: '0.8',
  topK: '40',
  seed: '0',
};

export interface GenOutput {
  /**
   * waiting: queued behind the other side; unavailable: the model is dense, no pruned side;
   * cancelled / failed: stopped (the text so far stays).
   */
  status: 'waiting' | 'running' | 'done' | 'cancelled' | 'failed' | 'unavailable';
  /** The continuation streamed so far (the prompt is not repeated). */
  text: string;
  tokens: number;
  /** When this side started (page clock), for the live elapsed time. */
  startedAt: number | null;
  /** Worker updates received (the e2e test checks that text streamed). */
  updates: number;
  result: GenerateResult | null;
  /** weightsLabel() of the weights this side ran with. */
  weights: string;
}

interface GenerateState {
  settings: GenSettings;
  outputs: Record<GenSide, GenOutput | null>;
  /** The prompt and decoding of the outputs shown. */
  shown: { prompt: string; decoding: string } | null;
  setSettings(patch: Partial<GenSettings>): void;
  set(patch: Partial<Omit<GenerateState, 'set' | 'setSettings'>>): void;
}

export const useGenerate = create<GenerateState>()((set) => ({
  settings: DEFAULT_GEN_SETTINGS,
  outputs: { dense: null, pruned: null },
  shown: null,
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  set: (patch) => set(patch),
}));

/** A generation is in flight (the other starters refuse meanwhile). */
export function generationRunning(): boolean {
  return jobRunning('generate');
}
