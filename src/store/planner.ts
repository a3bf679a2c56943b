// The compute planner: its inputs (raw strings, as typed) and plannerView(), a pure function from
// the inputs, the loaded model's summary, the prune state and the latest speed measurement to every
// number the panel shows. The formulas live in src/core/plan; this file only picks their inputs.
import { create } from 'zustand';
import { type ComputeOptimal, type FitId, FITS, type ModelPosition, type ScalingFit, computeOptimal, fitById, frontier, parseAmount, whereModelSits } from '../core/plan/chinchilla';
import {
  type DecoderShape,
  type FlopsPerToken,
  type PrunedMatrix,
  type WeightBytes,
  bitmaskOverhead,
  decoderLinearWeights,
  decoderShapeFromSummary,
  flopsPerToken,
  headWeights,
  linearNonzeros,
  prunedMatrices,
  weightBytes,
} from '../core/plan/inference';
import { type KnownTokens, knownTrainingTokens } from '../core/plan/known-tokens';
import { targetLabel } from '../core/prune/types';
import type { SpeedRow } from '../core/sparse/speed';
import type { ModelSummary } from '../core/types';
import type { WeightsState } from '../worker/protocol';
import type { RunRecord } from './prune';
import type { SpeedResult } from './speed';
import { OPTIONS } from '../core/options';

export interface PlannerSettings {
  /** Compute budget C in FLOPs, as typed ("1e21"). */
  budget: string;
  /** The fit the chart and the headline use (the table shows both). */
  fitId: FitId;
  /** Training tokens as typed; only used while tokensModel is the loaded model's name. */
  tokens: string;
  /** The model the typed tokens belong to: a new model brings back its model-card value. */
  tokensModel: string | null;
  /** Context length n_ctx of the attention term. */
  ctx: string;
}

export const DEFAULT_PLANNER: PlannerSettings = {
  budget: '1e21',
  fitId: 'hoffmann2022',
  tokens: '',
  tokensModel: null,
  // The studio's default evaluation sequence length.
  ctx: String(OPTIONS.seqlen.default),
};

interface PlannerState extends PlannerSettings {
  set(patch: Partial<PlannerSettings>): void;
  /** The user typed training tokens for this model. */
  setTokens(model: string, value: string): void;
  /** Back to the model-card value (or empty when unknown). */
  resetTokens(): void;
}

export const usePlanner = create<PlannerState>()((set) => ({
  ...DEFAULT_PLANNER,
  set: (patch) => set(patch),
  setTokens: (model, value) => set({ tokens: value, tokensModel: model }),
  resetTokens: () => set({ tokens: '', tokensModel: null }),
}));

/** 6553600000 → "6.5536B", 1.8e11 → "180B", 1.2e13 → "12T": what the tokens input shows. */
export function formatAmount(x: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (x >= v) return `${Number((x / v).toPrecision(12))}${u}`;
  return String(Number(x.toPrecision(12)));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface TokensView {
  /** What the input shows. */
  text: string;
  value: number | null;
  source: 'entered' | 'model card' | 'none';
  /** The table entry for this model (tokens may be null: known model, unpublished number). */
  known: KnownTokens | null;
  error: string | null;
}

export interface FitView {
  fit: ScalingFit;
  /** N_opt, D_opt for the budget (null when the budget is invalid). */
  budget: ComputeOptimal | null;
  /** Where the loaded model sits (null without a model or its training tokens). */
  model: ModelPosition | null;
}

export interface PrunedView {
  /** "sparsegpt 50% (50.0% zeros)". */
  label: string;
  /** Per-sublayer sparsities from the run report, or one overall sparsity spread evenly. */
  source: 'per-sublayer' | 'overall';
  matrices: PrunedMatrix[];
  zeros: number;
  nonzeros: number;
}

export interface SpeedView {
  denseTokensPerS: number;
  sparseTokensPerS: number;
  tokens: number;
  adapter: string;
  /** Measured for other weights than the current ones. */
  stale: boolean;
}

export interface InferenceView {
  /** Null when the summary's shape numbers are unusable (see error). */
  shape: DecoderShape | null;
  params: number;
  linearWeights: number;
  headWeights: number;
  pruned: PrunedView | null;
  /** Null when the context length is invalid. */
  dense: FlopsPerToken | null;
  sparse: FlopsPerToken | null;
  bytesPerValue: number;
  bytes: (WeightBytes & { overhead: number; overheadSource: 'measured' | 'bitmask estimate' }) | null;
  speed: SpeedView | null;
  /** Why the formulas could not be applied to this model (shape numbers missing). */
  error: string | null;
}

export interface ChartSeries {
  fit: FitId;
  label: string;
  selected: boolean;
  points: { C: number; N: number }[];
}

export interface ChartView {
  xDomain: [number, number];
  yDomain: [number, number];
  xTicks: number[];
  yTicks: number[];
  series: ChartSeries[];
  budgetPoint: { C: number; N: number } | null;
  modelPoint: { C: number; N: number } | null;
}

export interface PlannerView {
  fit: ScalingFit;
  budget: number | null;
  budgetError: string | null;
  fits: FitView[];
  model: { name: string; N: number } | null;
  tokens: TokensView;
  ctx: number | null;
  ctxError: string | null;
  inference: InferenceView | null;
  chart: ChartView;
}

export interface PlannerInputs {
  settings: PlannerSettings;
  model: ModelSummary | null;
  weights: WeightsState | null;
  runs: readonly RunRecord[];
  speed: SpeedResult | null;
  /** weightsLabel() of the current weights: a speed result for other weights is stale. */
  weightsLabel: string;
}

/**
 * Plausible ranges, so a typo cannot push the chart's axes to infinity (6·N·D must stay finite):
 * the largest training runs so far are around 1e26 FLOPs and 1e13–1e14 tokens.
 */
export const BUDGET_RANGE: [number, number] = [1e6, 1e35];
export const TOKENS_RANGE: [number, number] = [1, 1e20];

function inRange(x: number, [lo, hi]: [number, number], what: string): number {
  if (x < lo || x > hi) throw new Error(`${what} must be between ${lo.toExponential(0)} and ${hi.toExponential(0)}; got ${x.toExponential(3)}.`);
  return x;
}

export function tokensView(settings: PlannerSettings, model: ModelSummary | null): TokensView {
  const known = model ? knownTrainingTokens(model.name) : null;
  const edited = model !== null && settings.tokensModel === model.name;
  const text = edited ? settings.tokens : known?.tokens != null ? formatAmount(known.tokens) : '';
  if (!text.trim()) return { text, value: null, source: 'none', known, error: null };
  try {
    const value = inRange(parseAmount(text, 'Training tokens D'), TOKENS_RANGE, 'Training tokens D');
    return { text, value, source: edited ? 'entered' : 'model card', known, error: null };
  } catch (e) {
    return { text, value: null, source: edited ? 'entered' : 'model card', known, error: message(e) };
  }
}

export function parseContext(raw: string): number {
  const s = raw.trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new Error(`Context length must be a whole number ≥ 1; got "${raw}".`);
  return n;
}

/** The run whose report describes the current weights: the latest one with the same method, target and sparsity. */
export function runForWeights(weights: WeightsState, runs: readonly RunRecord[]): RunRecord | null {
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i];
    if (!r.layers.length || r.method !== weights.method || !r.target) continue;
    if (targetLabel(r.target) === targetLabel(weights.target) && Math.abs(r.sparsity - weights.sparsity) < 1e-9) return r;
  }
  return null;
}

function prunedView(shape: DecoderShape, model: ModelSummary, weights: WeightsState | null, runs: readonly RunRecord[]): PrunedView | null {
  let label: string;
  let matrices: PrunedMatrix[] | null = null;
  let source: PrunedView['source'] = 'overall';
  if (weights) {
    label = `${weights.method} ${targetLabel(weights.target)} (${(weights.sparsity * 100).toFixed(1)}% zeros)`;
    const run = runForWeights(weights, runs);
    if (run) {
      matrices = prunedMatrices(shape, run.layers);
      if (matrices) source = 'per-sublayer';
    }
    matrices ??= prunedMatrices(shape, { overall: weights.sparsity });
  } else if (model.prunedBy && model.prunedBy.sparsity > 0 && model.prunedBy.sparsity < 1) {
    // A folder exported pruned by the studio: its prune_studio.json gives the overall sparsity.
    label = `loaded pruned: ${model.prunedBy.method} (${(model.prunedBy.sparsity * 100).toFixed(1)}% zeros)`;
    matrices = prunedMatrices(shape, { overall: model.prunedBy.sparsity });
  } else return null;
  if (!matrices) return null;
  const nonzeros = linearNonzeros(shape, matrices);
  return { label, source, matrices, zeros: decoderLinearWeights(shape) - nonzeros, nonzeros };
}

/**
 * Index/mask bytes measured by "Speed & size": per weight shape, the smallest sparse format on
 * disk less its nonzero f32 values, times the sublayers of that shape. (Only the shapes the view
 * measured: weights paged into several GPU buffers are skipped there.)
 */
export function measuredOverhead(rows: readonly SpeedRow[]): number | null {
  const best = new Map<string, SpeedRow>();
  for (const r of rows) {
    if (r.format === 'dense') continue;
    const b = best.get(r.shape);
    if (!b || r.bytes.disk < b.bytes.disk) best.set(r.shape, r);
  }
  if (!best.size) return null;
  let bytes = 0;
  for (const r of best.values()) bytes += r.count * Math.max(0, r.bytes.disk - Math.round(r.N * r.K * (1 - r.sparsity)) * 4);
  return bytes;
}

function inferenceView(model: ModelSummary, ctx: number | null, inp: PlannerInputs): InferenceView | null {
  let shape: DecoderShape;
  try {
    shape = decoderShapeFromSummary(model);
  } catch (e) {
    return {
      shape: null, params: model.parameters, linearWeights: 0, headWeights: 0, pruned: null, dense: null, sparse: null,
      bytesPerValue: 0, bytes: null, speed: null, error: message(e),
    };
  }
  const pruned = prunedView(shape, model, inp.weights, inp.runs);
  const dense = ctx === null ? null : flopsPerToken(shape, ctx);
  const sparse = ctx === null || !pruned ? null : flopsPerToken(shape, ctx, pruned.nonzeros);
  // Average bytes per stored parameter: exact for a single-dtype checkpoint (F32 4, F16/BF16 2).
  const bytesPerValue = model.parameters > 0 ? model.bytes / model.parameters : 4;
  const fresh = inp.speed !== null && inp.speed.weights === inp.weightsLabel;
  let bytes: InferenceView['bytes'] = null;
  if (pruned && model.parameters > 0 && bytesPerValue > 0) {
    const measured = fresh ? measuredOverhead(inp.speed!.report.rows) : null;
    const overhead = measured ?? bitmaskOverhead(pruned.matrices);
    bytes = {
      ...weightBytes({ params: model.parameters, zeros: Math.min(pruned.zeros, model.parameters), bytesPerValue, overheadBytes: overhead }),
      overhead,
      overheadSource: measured !== null ? 'measured' : 'bitmask estimate',
    };
  }
  const d = inp.speed?.report.decode;
  const speed: SpeedView | null =
    inp.speed && d && d.dense_tokens_per_s > 0
      ? { denseTokensPerS: d.dense_tokens_per_s, sparseTokensPerS: d.sparse_tokens_per_s, tokens: d.tokens, adapter: inp.speed.adapter, stale: !fresh }
      : null;
  return { shape, params: model.parameters, linearWeights: decoderLinearWeights(shape), headWeights: headWeights(shape), pruned, dense, sparse, bytesPerValue, bytes, speed, error: null };
}

function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) out.push(Math.pow(10, e));
  return out;
}

function chartView(fit: ScalingFit, budget: number | null, fits: FitView[], modelPos: ModelPosition | null): ChartView {
  const cs = [budget, modelPos?.compute].filter((x): x is number => x !== null && x !== undefined);
  // Two decades either side of what is plotted, on whole decades.
  const lo = cs.length ? Math.pow(10, Math.floor(Math.log10(Math.min(...cs))) - 2) : 1e15;
  const hi = cs.length ? Math.pow(10, Math.ceil(Math.log10(Math.max(...cs))) + 2) : 1e25;
  const series: ChartSeries[] = FITS.map((f) => ({ fit: f.id, label: f.label, selected: f.id === fit.id, points: frontier(lo, hi, f, 4).map((p) => ({ C: p.C, N: p.N })) }));
  const budgetPoint = budget !== null ? { C: budget, N: fits.find((f) => f.fit.id === fit.id)!.budget!.N } : null;
  const modelPoint = modelPos ? { C: modelPos.compute, N: modelPos.N } : null;
  const ns = [...series.flatMap((s) => s.points.map((p) => p.N)), ...(modelPoint ? [modelPoint.N] : [])];
  const yLo = Math.pow(10, Math.floor(Math.log10(Math.min(...ns))));
  const yHi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ns))));
  return { xDomain: [lo, hi], yDomain: [yLo, yHi], xTicks: decades(lo, hi), yTicks: decades(yLo, yHi), series, budgetPoint, modelPoint };
}

/** Everything the planner panel shows, from its inputs. Invalid inputs give per-field errors, never a throw. */
export function plannerView(inp: PlannerInputs): PlannerView {
  const fit = fitById(inp.settings.fitId);
  let budget: number | null = null;
  let budgetError: string | null = null;
  try {
    budget = inRange(parseAmount(inp.settings.budget, 'Compute budget C'), BUDGET_RANGE, 'Compute budget C');
  } catch (e) {
    budgetError = message(e);
  }
  let ctx: number | null = null;
  let ctxError: string | null = null;
  try {
    ctx = parseContext(inp.settings.ctx);
  } catch (e) {
    ctxError = message(e);
  }
  const model = inp.model && inp.model.parameters > 0 ? { name: inp.model.name, N: inp.model.parameters } : null;
  const tokens = tokensView(inp.settings, inp.model);
  const fits: FitView[] = FITS.map((f) => ({
    fit: f,
    budget: budget !== null ? computeOptimal(budget, f) : null,
    model: model && tokens.value !== null ? whereModelSits(model.N, tokens.value, f) : null,
  }));
  const selected = fits.find((f) => f.fit.id === fit.id)!;
  return {
    fit,
    budget,
    budgetError,
    fits,
    model,
    tokens,
    ctx,
    ctxError,
    inference: inp.model ? inferenceView(inp.model, ctx, inp) : null,
    chart: chartView(fit, budget, fits, selected.model),
  };
}
