// Sweeps: several methods × several targets in one go, each point pruned from the dense model and
// evaluated, reported as soon as it is measured (the live sparsity-vs-perplexity chart).
import type { Engine } from '../engine';
import type { ProgressFn } from '../types';
import type { JobHooks } from './job';
import type { Factorisation } from '../options';
import type { SparseLlmOptions } from '../prune/sparsellm';
import { checkPruneOptions } from '../prune/driver';
import { type PruneMethod, type PruneOptions, type SublayerReport, type Target, checkTarget, targetLabel } from '../prune/types';

export interface SweepPoint {
  method: PruneMethod;
  target: Target;
}

export interface SweepSpec {
  points: SweepPoint[];
  /** Measure the dense model first (the chart's reference point). */
  includeDense: boolean;
  calibSamples: number;
  seqlen: number;
  maxWindows?: number;
  percdamp?: number;
  blocksize?: number;
  factorisation?: Factorisation;
  seed?: number;
  /** SparseLLM points: its options (defaults: the authors'). */
  sparsellm?: Partial<SparseLlmOptions>;
}

export interface SweepPointResult {
  method: PruneMethod | 'dense';
  target: Target | null;
  label: string;
  /** Achieved sparsity over the pruned sublayers (0 for dense). */
  sparsity: number;
  ppl: number;
  nll: number;
  windows: number;
  tokens: number;
  /** Prune + evaluation wall time. */
  seconds: number;
  prune_seconds: number;
  layers: SublayerReport[];
  warnings: string[];
}

/** "a,b" × "0.1,0.5" plus patterns "2:4" → the points of a sweep, checked. */
export function sweepPoints(methods: PruneMethod[], sparsities: number[], patterns: Array<[number, number]> = []): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const method of methods) {
    for (const s of sparsities) points.push({ method, target: checkTarget({ kind: 'unstructured', sparsity: s }) });
    for (const [n, m] of patterns) points.push({ method, target: checkTarget({ kind: 'nm', n, m }) });
  }
  return points;
}

/**
 * Run the points in order; each is pruned from the dense model and evaluated, and reported through
 * onPoint as soon as it is measured. Afterwards the weights are those of the last point (export
 * them, or restoreDense()); a cancellation during a point's pruning leaves the model dense, during
 * its evaluation leaves that point's consistently pruned weights.
 */
export async function runSweep(
  engine: Engine,
  input: { calibText: string; evalText: string; spec: SweepSpec },
  { onPoint, onProgress, signal }: JobHooks & { onPoint?: (r: SweepPointResult) => void } = {},
): Promise<SweepPointResult[]> {
  const { calibText, evalText, spec } = input;
  const results: SweepPointResult[] = [];
  const evalOpts = { seqlen: spec.seqlen, maxWindows: spec.maxWindows };
  const total = spec.points.length + (spec.includeDense ? 1 : 0);
  const report = (r: SweepPointResult) => {
    results.push(r);
    onPoint?.(r);
  };
  const progressFor = (k: number, label: string): ProgressFn | undefined =>
    onProgress &&
    ((p) => onProgress({ ...p, point: k + 1, points: total, detail: `point ${k + 1}/${total} (${label}) · ${p.detail ?? p.phase}` }));
  const optionsOf = (pt: SweepPoint): PruneOptions => ({
    method: pt.method, target: pt.target, calibSamples: spec.calibSamples, seqlen: spec.seqlen,
    percdamp: spec.percdamp, blocksize: spec.blocksize, seed: spec.seed,
    ...(spec.factorisation ? { factorisation: spec.factorisation } : {}),
    ...(pt.method === 'sparsellm' && spec.sparsellm ? { sparsellm: spec.sparsellm } : {}),
  });
  // Refuse a point that cannot run (e.g. 4:8 on a width not divisible by 8) before the first one.
  const model = engine.gpuModel;
  if (model) for (const pt of spec.points) checkPruneOptions(model.spec, optionsOf(pt));
  let k = 0;
  if (spec.includeDense) {
    engine.restoreDense();
    const t0 = performance.now();
    const e = await engine.perplexity(evalText, evalOpts, progressFor(k, 'dense'), signal);
    report({
      method: 'dense', target: null, label: 'dense', sparsity: 0, ppl: e.ppl, nll: e.nll, windows: e.windows, tokens: e.tokens,
      seconds: (performance.now() - t0) / 1000, prune_seconds: 0, layers: [], warnings: [],
    });
    k++;
  }
  for (const pt of spec.points) {
    const label = `${pt.method} ${targetLabel(pt.target)}`;
    const t0 = performance.now();
    const opts = optionsOf(pt);
    const pr = await engine.prune(calibText, opts, progressFor(k, label), signal);
    const e = await engine.perplexity(evalText, evalOpts, progressFor(k, label), signal);
    report({
      method: pt.method, target: pt.target, label, sparsity: pr.sparsity, ppl: e.ppl, nll: e.nll, windows: e.windows,
      tokens: e.tokens, seconds: (performance.now() - t0) / 1000, prune_seconds: pr.seconds, layers: pr.layers, warnings: pr.warnings,
    });
    k++;
  }
  return results;
}
