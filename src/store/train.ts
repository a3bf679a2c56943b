// Training state: the Train area's settings (raw input strings, validated on Train), the loss of
// each step of the run in flight (from its progress events), and the last run's result. A run in
// flight is the job in the job slot (store/job.ts); the actions live in train-actions.ts.
import { create } from 'zustand';
import type { FinetuneResult } from '../core/jobs/finetune';
import { OPTIONS } from '../core/options';

export type TrainMode = 'recover' | 'gmp';

export interface TrainSettings {
  /** Recover a pruned model (its zeros kept), or prune gradually by magnitude while training. */
  mode: TrainMode;
  steps: string;
  batch: string;
  seqlen: string;
  lr: string;
  warmup: string;
  /** GMP: final sparsity in percent, and its schedule. */
  gmpPct: string;
  gmpT0: string;
  gmpDt: string;
  gmpN: string;
}

const str = (o: { default: number }) => String(o.default);

export const DEFAULT_TRAIN: TrainSettings = {
  mode: 'recover',
  steps: str(OPTIONS.steps),
  batch: str(OPTIONS.batch),
  seqlen: str(OPTIONS.trainSeqlen),
  lr: str(OPTIONS.lr),
  warmup: str(OPTIONS.warmup),
  gmpPct: '50',
  gmpT0: str(OPTIONS.gmpT0),
  gmpDt: str(OPTIONS.gmpDt),
  gmpN: str(OPTIONS.gmpN),
};

export interface TrainRunView extends FinetuneResult {
  mode: TrainMode;
  /** What the weights were before ("sparsegpt 50%", "dense"). */
  from: string;
  evalLabel: string;
  textLabel: string;
}

interface TrainState {
  settings: TrainSettings;
  /** Step losses of the run in flight (index = step − 1). */
  live: number[];
  result: TrainRunView | null;
  /** A cancelled run: after how many steps (the weights keep them). */
  cancelled: { steps: number } | null;
  setSettings: (patch: Partial<TrainSettings>) => void;
  set: (patch: Partial<Omit<TrainState, 'set' | 'setSettings'>>) => void;
}

export const useTrain = create<TrainState>()((set) => ({
  settings: DEFAULT_TRAIN,
  live: [],
  result: null,
  cancelled: null,
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  set: (patch) => set(patch),
}));
