// Float64 oracle of the training protocol (README, "Training"), written apart from the GPU job
// (src/core/jobs/finetune.ts) so that the two can be compared end to end: the windows of each
// step, the warm-up + cosine learning rate, the mean of the windows' gradients, global-norm
// clipping, AdamW, the masks (the zeros at the start, or gradual magnitude pruning's), and the
// perplexity protocol before and after. Every number is float64; the per-window loss and gradient
// are train-model.ts's referenceTrainStep. Slow by design: the demo model's full protocol (100 steps
// × 8 windows × 128 tokens) takes minutes (scripts/train-oracle.ts).
import type { ModelSpec } from '../model/spec';
import type { TrainProtocol } from '../types';
import { linearNames } from '../model/spec';
import { adamwRef, clipScaleRef } from './train';
import { referenceTrainStep, type RefParams } from './train-model';

export interface RefProtocol extends TrainProtocol {
  /** Gradual magnitude pruning to `final` at t0, t0 + dt, …, t0 + n·dt (from dense); none: the zeros at the start stay. */
  gmp?: { final: number; t0: number; dt: number; n: number };
}

export interface RefRun {
  /** Mean cross-entropy of each step. */
  losses: number[];
  /** GMP: the fraction pruned in every decoder linear at each pruning step. */
  pruning: Array<{ step: number; sparsity: number }>;
}

/** The decoder linears' weight names, the tensors the masks cover. */
function maskedNames(spec: ModelSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < spec.nLayers; i++) for (const n of linearNames(spec, i)) out.push(`${n}.weight`);
  return out;
}

/** Zhu & Gupta's cubic schedule, s_t = s_f (1 − (1 − k/n)³) at the k-th pruning step. */
function gmpTarget(t: number, g: NonNullable<RefProtocol['gmp']>): number | null {
  if (t < g.t0 || (t - g.t0) % g.dt) return null;
  const k = (t - g.t0) / g.dt;
  if (k > g.n) return null;
  return g.n === 0 ? g.final : g.final * (1 - (1 - k / g.n) ** 3);
}

/** Keep-mask of w with its ⌊s·numel⌋ smallest magnitudes removed (ties: lower index first). */
function magnitudeMask(w: Float64Array, s: number): Uint8Array {
  const k = Math.floor(s * w.length + 1e-9);
  const idx = Array.from({ length: w.length }, (_, i) => i).sort((a, b) => Math.abs(w[a]) - Math.abs(w[b]) || a - b);
  const keep = new Uint8Array(w.length).fill(1);
  for (let i = 0; i < k; i++) keep[idx[i]] = 0;
  return keep;
}

/**
 * Train `params` in place by the protocol on the token ids of the training text: N = ⌊n/T⌋
 * windows, step t reads windows (t·B + j) mod N.
 */
export function referenceFinetune(spec: ModelSpec, params: RefParams, ids: readonly number[], p: RefProtocol, onStep?: (t: number, loss: number) => void): RefRun {
  const T = p.seqlen, B = p.batch;
  const N = Math.floor(ids.length / T);
  if (N < B) throw new Error(`reference: ${N} windows of ${T}, fewer than one batch of ${B}`);
  const masks = new Map<string, Uint8Array>();
  if (!p.gmp) for (const n of maskedNames(spec)) masks.set(n, Uint8Array.from(params.get(n)!, (x) => (x !== 0 ? 1 : 0)));
  const m = new Map([...params].map(([k, v]) => [k, new Float64Array(v.length)]));
  const v = new Map([...params].map(([k, x]) => [k, new Float64Array(x.length)]));
  const losses: number[] = [];
  const pruning: RefRun['pruning'] = [];
  for (let t = 0; t < p.steps; t++) {
    const s = p.gmp ? gmpTarget(t, p.gmp) : null;
    if (s !== null) {
      for (const n of maskedNames(spec)) {
        const w = params.get(n)!;
        const keep = magnitudeMask(w, s);
        for (let i = 0; i < w.length; i++) if (!keep[i]) w[i] = 0;
        masks.set(n, keep);
      }
      pruning.push({ step: t, sparsity: s });
    }
    // Warm-up, then cosine to 0 at step S.
    const lr = t < p.warmup ? (p.lr * (t + 1)) / p.warmup : p.steps > p.warmup ? p.lr * 0.5 * (1 + Math.cos((Math.PI * (t - p.warmup)) / (p.steps - p.warmup))) : p.lr;
    const grads = new Map<string, Float64Array>();
    let loss = 0;
    for (let j = 0; j < B; j++) {
      const w = (t * B + j) % N;
      const r = referenceTrainStep(spec, params, ids.slice(w * T, (w + 1) * T));
      loss += r.loss / B;
      for (const [k, g] of r.grads) {
        const acc = grads.get(k) ?? new Float64Array(g.length);
        for (let i = 0; i < g.length; i++) acc[i] += g[i] / B;
        grads.set(k, acc);
      }
    }
    const { scale } = clipScaleRef([...grads.values()], p.clip);
    for (const [k, w] of params) {
      adamwRef(w, grads.get(k) ?? new Float64Array(w.length), m.get(k)!, v.get(k)!, t + 1, { lr, weightDecay: p.weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, scale, masks.get(k));
    }
    losses.push(loss);
    onStep?.(t, loss);
  }
  return { losses, pruning };
}

/**
 * The perplexity protocol in float64: ⌊n/T⌋ non-overlapping windows (the first maxWindows),
 * exp(total NLL over the predicted tokens / (windows × (T − 1))).
 */
export function referencePerplexity(spec: ModelSpec, params: RefParams, ids: readonly number[], seqlen: number, maxWindows?: number): number {
  let n = Math.floor(ids.length / seqlen);
  if (maxWindows !== undefined) n = Math.min(n, maxWindows);
  if (n < 1) throw new Error(`reference: no window of ${seqlen} in ${ids.length} tokens`);
  let sum = 0;
  for (let w = 0; w < n; w++) sum += referenceTrainStep(spec, params, ids.slice(w * seqlen, (w + 1) * seqlen), false).loss * (seqlen - 1);
  return Math.exp(sum / (n * (seqlen - 1)));
}

/** Fraction of zeros over the decoder linears. */
export function referenceSparsity(spec: ModelSpec, params: RefParams): number {
  let z = 0, c = 0;
  for (const n of maskedNames(spec)) {
    const w = params.get(n)!;
    for (const x of w) if (x === 0) z++;
    c += w.length;
  }
  return c ? z / c : 0;
}
