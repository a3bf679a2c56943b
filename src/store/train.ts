// Training state: the Train area's settings (raw input strings, validated on Train), the loss of
// each step of the run in flight (from its progress events), and the last run's result. A run in
// flight is the job in the job slot (store/job.ts); the actions live in train-actions.ts.
import { create } from 'zustand';
import type { FinetuneResult } from '../core/jobs/finetune';
import type { TwinResult } from '../core/jobs/twin';
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
  /** Steps between checkpoints kept in this browser (a reload or a lost device resumes from the last). */
  checkpointEvery: string;
  /** A cancelled run keeps the weights trained so far, or reverts to those before the run. */
  onCancel: 'keep' | 'revert';
  /** Tensors left untrained: names or prefixes, comma-separated ("embed, layers.0"). */
  freeze: string;
  /** GPU memory the run may use ("8GB"; blank: no check): a run predicted to need more is refused with the sizes. */
  gpuMemory: string;
  /** Add KL(teacher ‖ model) to the loss, the teacher being the model as loaded (dense, untrained). */
  distill: boolean;
  /** Add SquareHead (each decoder layer's normalised MSE to the same teacher's output) to the loss. */
  squareHead: boolean;
  /** Activation recomputation: less GPU memory for one more forward per step (same weights). */
  recompute: boolean;
  /** Train from fresh weights (the family's initialisation, seeded) instead of the current ones. */
  fromScratch: boolean;
  seed: string;
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
  checkpointEvery: '10',
  onCancel: 'keep',
  freeze: '',
  gpuMemory: '',
  distill: false,
  squareHead: false,
  recompute: false,
  fromScratch: false,
  seed: '0',
};

export interface TrainRunView extends FinetuneResult {
  mode: TrainMode;
  /** What the weights were before ("sparsegpt 50%", "dense"). */
  from: string;
  evalLabel: string;
  textLabel: string;
}

/**
 * A run in flight or interrupted (a reload, a crash, a lost device), kept in localStorage from its
 * start until it ends: its settings and labels, and once a checkpoint is saved (in the worker's
 * private file storage) its step and the losses up to it. A run with a checkpoint can resume.
 */
export interface PendingTrain {
  model: string;
  settings: TrainSettings;
  labels: { from: string; evalLabel: string; textLabel: string; fromRunId?: number | null };
  steps: number;
  /** The last checkpoint's step (0: none yet). */
  step: number;
  losses: number[];
  savedAt: number;
  /** Paused by the user (rather than stopped by a reload or a crash). */
  paused?: boolean;
}

const PENDING_KEY = 'prune-studio.train-run';

export function readPending(): PendingTrain | null {
  try {
    const raw = globalThis.localStorage?.getItem(PENDING_KEY);
    const p = raw ? (JSON.parse(raw) as PendingTrain) : null;
    return p && typeof p.step === 'number' && Array.isArray(p.losses) && p.settings ? { ...p, settings: { ...DEFAULT_TRAIN, ...p.settings } } : null;
  } catch {
    return null;
  }
}

export function writePending(p: PendingTrain | null): void {
  try {
    if (p) globalThis.localStorage?.setItem(PENDING_KEY, JSON.stringify(p));
    else globalThis.localStorage?.removeItem(PENDING_KEY);
  } catch {
    // Storage full or disabled: the run goes on; it just cannot resume after a reload.
  }
}

interface TrainState {
  settings: TrainSettings;
  /** Step losses of the run in flight (index = step − 1). */
  live: number[];
  result: TrainRunView | null;
  /** A cancelled run: after how many steps (the weights keep them). */
  cancelled: { steps: number; reverted: boolean } | null;
  /** A pause was asked for and the run has not stopped yet. */
  pausing: boolean;
  /** An interrupted run found at start-up (a reload mid-run), resumable from its checkpoint. */
  interrupted: PendingTrain | null;
  /** What happened to the run that the user should know (a lost device it resumed after). */
  notice: string | null;
  /** The last dense-twin comparison (GMP from scratch against a dense model of its non-zeros), with its text's label. */
  twin: (TwinResult & { textLabel: string }) | null;
  setSettings: (patch: Partial<TrainSettings>) => void;
  set: (patch: Partial<Omit<TrainState, 'set' | 'setSettings'>>) => void;
}

export const useTrain = create<TrainState>()((set) => ({
  settings: DEFAULT_TRAIN,
  live: [],
  result: null,
  cancelled: null,
  pausing: false,
  interrupted: readPending(),
  notice: null,
  twin: null,
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  set: (patch) => set(patch),
}));
