// Contextual (structured) pruning state: the panel's settings (raw input strings, validated on
// Run), the last result (the run's plain-data report and the domain / general perplexities, dense
// and pruned), the smaller export's status, and the dense perplexities already measured (so a
// second run does not measure them again). A run in flight is the job in the job slot
// (store/job.ts); the actions live in contextual-actions.ts. No tensors: the weights stay on the
// GPU in the worker.
import { create } from 'zustand';
import type { ContextualScoring } from '../core/prune/contextual';
import type { ContextualReport } from '../core/jobs/contextual';
import { jobRunning } from './job';
import { useModel } from './model';
import type { ExportStatus } from './prune';

export interface ContextualSettings {
  /** Uniform: a fraction of every layer (exportable as a smaller model); or a score threshold. */
  targetKind: 'fraction' | 'threshold';
  /** Percent of the MLP neurons of every layer, 0–95. */
  fractionPct: string;
  /** Neurons (and head units) scoring below this are removed. */
  threshold: string;
  /** Percent of the head units of every layer; blank: the neuron percentage; 0 keeps every head. */
  headFractionPct: string;
  /** Head units scoring below this; blank: the neuron threshold. */
  headThreshold: string;
  scoring: ContextualScoring;
  zeroUnusedTokens: boolean;
}

export const DEFAULT_CONTEXTUAL: ContextualSettings = {
  targetKind: 'fraction',
  fractionPct: '30',
  threshold: '0.05',
  headFractionPct: '',
  headThreshold: '',
  scoring: 'mean-abs',
  zeroUnusedTokens: false,
};

/** A perplexity per text: the domain (the Data area's evaluation text) and the general sample. */
export interface PplPairView {
  domain: number | null;
  general: number | null;
}

export interface ContextualResult {
  report: ContextualReport;
  dense: PplPairView;
  pruned: PplPairView;
  /** What was measured: "seqlen 64, max 2 windows, pasted text" and the general text's label. */
  domainLabel: string;
  generalLabel: string;
  calibLabel: string;
  /** The whole job: dense measurements (if any), pruning, pruned measurements. */
  seconds: number;
  modelName: string;
  /** The model's architecture before (for "172 → 120"). */
  before: { ffn: number; heads: number; kvHeads: number };
}

interface ContextualState {
  settings: ContextualSettings;
  result: ContextualResult | null;
  /** Outcome of the last run that did not finish (shown next to the panel). */
  cancelled: { elapsed: number; dense: boolean } | null;
  exportStatus: ExportStatus;
  /** Dense perplexity by measurement key (model, text, seqlen, windows). */
  denseCache: Record<string, number>;
  set(patch: Partial<Omit<ContextualState, 'set' | 'setSettings'>>): void;
  setSettings(patch: Partial<ContextualSettings>): void;
}

export const useContextual = create<ContextualState>()((set) => ({
  settings: DEFAULT_CONTEXTUAL,
  result: null,
  cancelled: null,
  exportStatus: { status: 'idle' },
  denseCache: {},
  set: (patch) => set(patch),
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
}));

export function contextualRunning(): boolean {
  return jobRunning('contextual');
}

/** A new model: the result, the dense figures and the export status belong to the previous one. */
useModel.subscribe((s, prev) => {
  if (s.summary !== prev.summary) useContextual.getState().set({ result: null, cancelled: null, exportStatus: { status: 'idle' }, denseCache: {} });
});
