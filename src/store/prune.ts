// Pruning state: the method settings (raw input strings, validated on Run), the sweep settings,
// the runs measured so far and what the weights on the GPU are now (a running prune or sweep is
// the job slot's, job.ts). Only summaries live here: per-sublayer reports are small plain objects; the weights stay
// on the GPU in the worker.
import { create } from 'zustand';
import type { PruneMethod, SublayerReport, Target } from '../core/prune/types';
import type { WeightsState } from '../worker/protocol';
import type { SweepSpec } from '../core/jobs/sweep';
import { OPTIONS } from '../core/options';

export type TargetKind = 'unstructured' | 'nm';
export type PatternChoice = '2:4' | '4:8' | 'custom';

export interface MethodSettings {
  method: PruneMethod;
  targetKind: TargetKind;
  /** Percent, 0–95. */
  sparsityPct: string;
  pattern: PatternChoice;
  /** "N:M" when pattern is custom. */
  customPattern: string;
  calibSamples: string;
  /** SparseGPT dampening (fraction of mean diag H). */
  percdamp: string;
  /** SparseGPT block size (columns). */
  blocksize: string;
  /** Decoder layers left dense, e.g. "0, 4". */
  skipLayers: string;
  /** Per-sublayer targets, e.g. "mlp.down=30%, layers.0.attn.q=2:4" (blank: none). */
  overrides: string;
  /** Blank: the first windows of the text; a number: random windows with that seed. */
  seed: string;
}

export interface SweepSettings {
  methods: Record<PruneMethod, boolean>;
  /** Comma list of fractions ("0.3, 0.5") or percents ("30%"). */
  sparsities: string;
  /** Comma list of N:M patterns, may be empty. */
  patterns: string;
  includeDense: boolean;
}

/** The calibration and SparseGPT settings a run was made with. */
export interface RecordedOptions {
  calibSamples: number;
  seqlen: number;
  /** Random calibration windows with this seed; absent: the first windows of the text. */
  seed?: number;
  percdamp: number;
  blocksize: number;
  skipLayers: number[];
}

/** One measured configuration: a single prune run or one point of a sweep. */
/** How a training run's weights came about (RunRecord.trained). */
export interface TrainedRunInfo {
  mode: 'recover' | 'gmp';
  steps: number;
  batch: number;
  seqlen: number;
  lr: number;
  warmup: number;
  gmp?: { final: number; t0: number; dt: number; n: number };
  /** The run whose weights it trained (the one-shot point it recovers), when it is in the table. */
  fromRunId: number | null;
  /** What the weights were before ("sparsegpt 50%", "dense"). */
  from: string;
  /** Perplexity before training (same evaluation). */
  pplStart: number | null;
  weightDecay?: number;
  clip?: number;
  /** Windows N of the training text (llm-compressor's epochs). */
  windows?: number;
  /** Hugging Face names of the decoder linears (the train stage's targets). */
  modules?: string[];
}

export interface RunRecord {
  id: number;
  source: 'prune' | 'sweep' | 'train';
  /** The sweep it belongs to. */
  sweepId?: number;
  method: PruneMethod | 'dense' | 'trained';
  target: Target | null;
  /** "sparsegpt 50%", "wanda 2:4", "dense", "recovered sparsegpt 50%". */
  label: string;
  /** Achieved sparsity over the pruned sublayers. */
  sparsity: number;
  /** Null when the evaluation was cancelled or failed. */
  ppl: number | null;
  nll: number | null;
  /** Prune + evaluation. */
  seconds: number;
  pruneSeconds: number;
  layers: SublayerReport[];
  warnings: string[];
  /** Identifies the evaluation (model, text, seqlen, windows): runs with the same key compare. */
  evalKey: string;
  evalLabel: string;
  /** Calibration settings, for the table's tooltip. */
  calibLabel: string;
  /** The settings themselves (absent on dense points and on runs saved by older versions). */
  options?: RecordedOptions;
  /** Training runs: how the weights were trained, and from what. */
  trained?: TrainedRunInfo;
}

/** An asked-for sweep, kept so that a reload, crash or lost device can resume it. */
export interface SweepRecord {
  sweepId: number;
  spec: SweepSpec;
  /** The evaluation it measures with (model, text, seqlen, windows): a resume needs the same. */
  evalKey: string;
  evalLabel: string;
  calibLabel: string;
  /** 'running' until it ends; a reload, crash or lost device leaves it 'running' (resumable). */
  status: 'running' | 'cancelled' | 'done';
  savedAt: number;
}

export type ExportStatus =
  | { status: 'idle' }
  | { status: 'exporting' }
  | { status: 'done'; message: string; files: string[] };

interface PruneState {
  settings: MethodSettings;
  sweep: SweepSettings;
  runs: RunRecord[];
  /** The ids the next run and sweep get (page-wide, above those in the saved history). */
  nextIds: { run: number; sweep: number };
  selectedRunId: number | null;
  /** The prune state of the weights on the GPU: null while dense. */
  weights: WeightsState | null;
  /** Dense perplexity by evaluation key (from a sweep's dense point or a dense measurement). */
  dense: Record<string, number>;
  /** Canonical sublayer name → Hugging Face module name, for the layer table. */
  hfNames: Record<string, string>;
  exportStatus: ExportStatus;
  /** The sweeps of this model by id, as saved in the history (an unfinished one can resume). */
  sweeps: Record<number, SweepRecord>;
  /** A notice about the last sweep that is not an error (e.g. it recovered from a lost device). */
  notice: string | null;
  /**
   * With weights null: the weights are trained (not the loaded ones) — by the run in the table with
   * this id (null: a paused or cancelled run), so the next run says what it starts from.
   */
  trainedRun: { id: number | null; label: string } | null;
  set(patch: Partial<Omit<PruneState, 'set' | 'setSettings' | 'setSweep'>>): void;
  setSettings(patch: Partial<MethodSettings>): void;
  setSweep(patch: Partial<SweepSettings>): void;
}

export const DEFAULT_SETTINGS: MethodSettings = {
  method: 'sparsegpt',
  targetKind: 'unstructured',
  sparsityPct: '50',
  pattern: '2:4',
  customPattern: '',
  calibSamples: String(OPTIONS.calibSamples.default),
  percdamp: String(OPTIONS.percdamp.default),
  blocksize: String(OPTIONS.blocksize.default),
  skipLayers: '',
  overrides: '',
  seed: '',
};

export const DEFAULT_SWEEP: SweepSettings = {
  methods: { magnitude: true, wanda: true, sparsegpt: true, sparsellm: false },
  sparsities: '0.3, 0.5, 0.7',
  patterns: '2:4',
  includeDense: true,
};

/** What belongs to one model: a different model starts from this again (settings and ids stay). */
export const FRESH_MODEL_STATE: Pick<PruneState, 'runs' | 'selectedRunId' | 'weights' | 'dense' | 'hfNames' | 'exportStatus' | 'sweeps' | 'notice' | 'trainedRun'> = {
  runs: [],
  selectedRunId: null,
  weights: null,
  dense: {},
  hfNames: {},
  exportStatus: { status: 'idle' },
  sweeps: {},
  notice: null,
  trainedRun: null,
};

export const usePrune = create<PruneState>()((set) => ({
  settings: DEFAULT_SETTINGS,
  sweep: DEFAULT_SWEEP,
  nextIds: { run: 1, sweep: 1 },
  ...FRESH_MODEL_STATE,
  set: (patch) => set(patch),
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  setSweep: (patch) => set((s) => ({ sweep: { ...s.sweep, ...patch } })),
}));

export const METHOD_LABELS: Record<PruneMethod | 'dense' | 'trained', string> = {
  magnitude: 'Magnitude',
  wanda: 'Wanda',
  sparsegpt: 'SparseGPT',
  sparsellm: 'SparseLLM',
  dense: 'Dense',
  trained: 'Trained',
};

/** The run the layer table shows: the selected one, else the latest with layers. */
export function selectedRun(s: Pick<PruneState, 'runs' | 'selectedRunId'>): RunRecord | null {
  if (s.selectedRunId !== null) {
    const r = s.runs.find((x) => x.id === s.selectedRunId);
    if (r) return r;
  }
  for (let i = s.runs.length - 1; i >= 0; i--) if (s.runs[i].layers.length) return s.runs[i];
  return null;
}


/**
 * What is left of an unfinished sweep: the points (and the dense point) it asked for that have no
 * run yet. Null when the sweep finished, or nothing is left.
 */
export function sweepRemainder(rec: SweepRecord, runs: readonly RunRecord[]): { points: SweepRecord['spec']['points']; includeDense: boolean; done: number; total: number } | null {
  if (rec.status === 'done') return null;
  const mine = runs.filter((r) => r.source === 'sweep' && r.sweepId === rec.sweepId);
  const key = (m: string, t: SweepRecord['spec']['points'][number]['target'] | null) => `${m} ${t ? JSON.stringify(t) : ''}`;
  const have = new Set(mine.map((r) => key(r.method, r.target)));
  const points = rec.spec.points.filter((p) => !have.has(key(p.method, p.target)));
  const includeDense = rec.spec.includeDense && !mine.some((r) => r.method === 'dense');
  const total = rec.spec.points.length + (rec.spec.includeDense ? 1 : 0);
  const left = points.length + (includeDense ? 1 : 0);
  return left === 0 ? null : { points, includeDense, done: total - left, total };
}

/** After a reload: keep numbering runs and sweeps above those in the saved history. */
export function continueIdsAbove(maxRunId: number, maxSweepId: number): void {
  const { nextIds, set } = usePrune.getState();
  set({ nextIds: { run: Math.max(nextIds.run, maxRunId + 1), sweep: Math.max(nextIds.sweep, maxSweepId + 1) } });
}
