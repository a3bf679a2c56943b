// Float64 reference of the sequential, layer-by-layer one-shot pruning drivers:
// IST-DASLab/sparsegpt llama.py llama_sequential (default, not --true-sequential) and
// locuslab/wanda lib/prune.py prune_wanda / prune_sparsegpt:
//
//   inps = residual stream entering layer 0 for each calibration window (run from position 0)
//   for each decoder layer i:
//     one pass of every calibration window through the DENSE layer i, with hooks on each linear
//       sublayer collecting the statistics of its input (SparseGPT H, Wanda scaler_row)
//     prune every linear sublayer of layer i
//     outs = layer i (now pruned) on every window; inps = outs
//
// Embeddings, norms and the LM head are never pruned. The model is driven through
// referenceLayerStack (hf-model.ts), so every family the reference forward supports works here.
// Also the SparseGPT perplexity protocol (llama_eval / opt_eval).

import { BadOption } from '../errors.ts';
import {
  referenceLayerStack,
  referenceNll,
  type HfConfig,
  type RefLinearSpec,
  type RefTensors,
} from './hf-model.ts';
import {
  checkPattern,
  createHessianState,
  createScalerRowState,
  hessianAccumulate,
  magnitudeRef,
  relativeError,
  scalerRowAccumulate,
  sparsegptRef,
  wandaRef,
  zeroFraction,
  type HessianState,
  type PrunePattern,
  type ScalerRowState,
  type SparseGptOptions,
} from './prune.ts';

export type ReferencePruneMethod = 'dense' | 'magnitude' | 'wanda' | 'sparsegpt';

export interface ReferencePruneOptions extends SparseGptOptions {
  method: ReferencePruneMethod;
  /** Ignored for 'dense'. */
  pattern: PrunePattern;
  /** Called after each sublayer is pruned. */
  onSublayer?: (report: SublayerReport) => void;
}

export interface SublayerReport {
  /** Checkpoint name of the weight, e.g. "model.layers.0.self_attn.q_proj.weight". */
  name: string;
  layer: number;
  rows: number;
  cols: number;
  /** Fraction of exact zeros in the pruned weight (wanda's check_sparsity). */
  sparsity: number;
  /**
   * tr((W - Wp) H (W - Wp)^T) / tr(W H W^T) with H from this sublayer's calibration inputs (those
   * of the sequential pass, i.e. produced by the already-pruned earlier layers).
   */
  rel_error: number;
  /** SparseGPT only: sum(Losses) and the dampening used. */
  loss?: number;
  dampUsed?: number;
  retries?: number;
}

export interface ReferencePruneResult {
  /** The input map with every pruned weight replaced (Float64Array, same shape and layout). */
  tensors: RefTensors;
  sublayers: SublayerReport[];
  /** Zeros over all pruned sublayers / their total size. */
  sparsity: number;
}

/** The first `count` non-overlapping windows of `seqlen` tokens (fewer if ids run out). */
export function tokenWindows(ids: readonly number[], seqlen: number, count = Infinity): number[][] {
  if (!Number.isInteger(seqlen) || seqlen < 2) throw new BadOption(`seqlen must be an integer >= 2, got ${seqlen}.`);
  const n = Math.min(Math.floor(ids.length / seqlen), count);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(ids.slice(i * seqlen, (i + 1) * seqlen));
  return out;
}

/** The (R = out, C = in) pruning matrix of a sublayer, as float64 (Conv1D weights transposed). */
function readMatrix(tensors: RefTensors, spec: RefLinearSpec): Float64Array {
  const t = tensors.get(spec.weight);
  if (!t) throw new Error(`reference prune: checkpoint lacks ${spec.weight}`);
  const { rows: R, cols: C } = spec;
  if (t.data.length !== R * C) throw new Error(`reference prune: ${spec.weight} has ${t.data.length} values, expected ${R}x${C}`);
  const out = new Float64Array(R * C);
  if (spec.transposed) {
    for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) out[r * C + c] = t.data[c * R + r];
  } else {
    for (let i = 0; i < out.length; i++) out[i] = t.data[i];
  }
  return out;
}

function writeMatrix(tensors: RefTensors, spec: RefLinearSpec, W: Float64Array): void {
  const old = tensors.get(spec.weight)!;
  const { rows: R, cols: C } = spec;
  let data = W;
  if (spec.transposed) {
    data = new Float64Array(R * C);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) data[c * R + r] = W[r * C + c];
  }
  tensors.set(spec.weight, { shape: old.shape.slice(), data });
}

/**
 * Prune every linear sublayer of every decoder layer with `method`, sequentially, on the
 * calibration windows (token id arrays, each run from position 0). The input map is not modified.
 */
export function referencePruneModel(
  config: HfConfig,
  tensors: RefTensors,
  calibration: readonly (readonly number[])[],
  opts: ReferencePruneOptions,
): ReferencePruneResult {
  const out: RefTensors = new Map(tensors);
  const stack = referenceLayerStack(config, out); // reads `out` live: pruned weights take effect
  const sublayers: SublayerReport[] = [];
  let zeros = 0;
  let total = 0;

  if (opts.method === 'dense') {
    for (let l = 0; l < stack.numLayers; l++) {
      for (const spec of stack.linears(l)) {
        const W = readMatrix(out, spec);
        const report: SublayerReport = { name: spec.weight, layer: l, rows: spec.rows, cols: spec.cols, sparsity: zeroFraction(W), rel_error: 0 };
        zeros += report.sparsity * W.length;
        total += W.length;
        sublayers.push(report);
        opts.onSublayer?.(report);
      }
    }
    return { tensors: out, sublayers, sparsity: zeros / total };
  }

  checkPattern(opts.pattern);
  if (calibration.length === 0) throw new BadOption('Pruning needs at least one calibration window.');
  let xs = calibration.map((ids) => stack.embed(ids));
  const Ts = calibration.map((ids) => ids.length);

  for (let l = 0; l < stack.numLayers; l++) {
    const specs = stack.linears(l);
    const hess = new Map<string, HessianState>();
    const scaler = new Map<string, ScalerRowState>();
    for (const s of specs) {
      hess.set(s.name, createHessianState(s.cols));
      scaler.set(s.name, createScalerRowState(s.cols));
    }
    // Statistics pass through the dense layer (its outputs are discarded, as in the published code,
    // where they are overwritten by the second pass).
    for (let j = 0; j < xs.length; j++) {
      stack.layer(l, xs[j], Ts[j], (name, input, T) => {
        const h = hess.get(name);
        const sr = scaler.get(name);
        if (!h || !sr) throw new Error(`reference prune: unexpected sublayer ${name} in layer ${l}`);
        hessianAccumulate(h, input, T);
        scalerRowAccumulate(sr, input, T);
      });
    }

    for (const spec of specs) {
      const { rows: R, cols: C } = spec;
      const W = readMatrix(out, spec);
      const H = hess.get(spec.name)!;
      if (H.nsamples !== xs.length) throw new Error(`reference prune: ${spec.weight} saw ${H.nsamples} of ${xs.length} windows`);
      let Wp: Float64Array;
      const extra: Partial<SublayerReport> = {};
      switch (opts.method) {
        case 'magnitude':
          Wp = magnitudeRef(W, R, C, opts.pattern).W;
          break;
        case 'wanda':
          Wp = wandaRef(W, R, C, scaler.get(spec.name)!.scalerRow, opts.pattern).W;
          break;
        case 'sparsegpt': {
          const r = sparsegptRef(W, R, C, H.H, opts.pattern, opts);
          Wp = r.W;
          extra.loss = r.loss;
          extra.dampUsed = r.dampUsed;
          extra.retries = r.retries;
          break;
        }
        default:
          throw new BadOption(`Unknown pruning method ${JSON.stringify(opts.method)}.`);
      }
      writeMatrix(out, spec, Wp);
      const report: SublayerReport = {
        name: spec.weight,
        layer: l,
        rows: R,
        cols: C,
        sparsity: zeroFraction(Wp),
        rel_error: relativeError(W, Wp, R, C, H.H),
        ...extra,
      };
      zeros += report.sparsity * Wp.length;
      total += Wp.length;
      sublayers.push(report);
      opts.onSublayer?.(report);
    }

    // Outputs of the pruned layer feed the next layer.
    xs = xs.map((x, j) => stack.layer(l, x, Ts[j]));
  }
  return { tensors: out, sublayers, sparsity: zeros / total };
}

export interface ReferencePerplexity {
  ppl: number;
  /** Sum of NLL (natural log) over all predicted tokens. */
  nll: number;
  windows: number;
  /** Predicted tokens: windows * (seqlen - 1). */
  tokens: number;
  /** Sum of NLL of each window (the first k give the perplexity of the first k windows). */
  windowNll: Float64Array;
}

/**
 * SparseGPT's perplexity protocol (llama_eval): floor(n / seqlen) non-overlapping windows of the
 * whole tokenized text (at most maxWindows), each run from position 0 with no context carried over;
 * ppl = exp(sum NLL over the seqlen - 1 predicted tokens of every window / (windows * (seqlen - 1))).
 * (llama_eval multiplies each window's mean loss by seqlen and divides by windows * seqlen: the same.)
 */
export function referencePerplexity(
  config: HfConfig,
  tensors: RefTensors,
  ids: readonly number[],
  seqlen: number,
  maxWindows?: number,
): ReferencePerplexity {
  const windows = tokenWindows(ids, seqlen, maxWindows ?? Infinity);
  if (windows.length === 0) throw new BadOption(`The text has ${ids.length} tokens: fewer than one window of ${seqlen}.`);
  const windowNll = new Float64Array(windows.length);
  windows.forEach((w, i) => {
    for (const v of referenceNll(config, tensors, w)) windowNll[i] += v;
  });
  let nll = 0;
  for (const v of windowNll) nll += v;
  const tokens = windows.length * (seqlen - 1);
  return { ppl: Math.exp(nll / tokens), nll, windows: windows.length, tokens, windowNll };
}
