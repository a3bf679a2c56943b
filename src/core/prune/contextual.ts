// Contextual pruning (Mini-GPTs, Valicenti et al. 2023): a model meant for one domain drops the
// parts the domain never uses. The domain (calibration) text is run through the DENSE model once;
// every MLP neuron and every attention head is scored by how much it is used; the least used are
// removed (a fraction per layer, or everything below a threshold); optionally the embedding (and
// untied head) rows of tokens the domain never uses are zeroed.
//
// What is scored (decoder layer i, N = calibration tokens = windows × seqlen):
//   a: (N, F)     the input of mlp.down (capture point 'down_in'): act(up(h)) for plain MLPs,
//                 act(gate(h)) · up(h) for gated ones (llama, qwen2): the post-activation product.
//   z: (N, Q)     the input of attn.o (capture point 'o_in'), Q = nHeads · headDim: every head's
//                 attention output, head h in columns [h·D, (h+1)·D).
//   neuron j, 'mean-abs' (the paper):  mean_t |a_tj|
//   neuron j, 'wanda' (structured Wanda, our formula): ‖W_down[:, j]‖₂ · sqrt(mean_t a_tj²),
//       the root of the summed squared Wanda scores |W_ij|·‖X_j‖ of the weights the neuron owns
//       (column j of down), with the RMS of the input instead of its norm so that a threshold
//       does not depend on the number of calibration tokens.
//   head h, 'mean-abs':  mean over t and d ∈ [hD, (h+1)D) of |z_td|
//   head h, 'wanda':     sqrt(Σ_{d in head} ‖W_o[:, d]‖₂² · mean_t z_td²)
//   token usage: the number of occurrences of each id in the domain ids.
//
// Why one pass over the dense model (not the sequential driver): the paper measures activations
// of the original model; every score then describes the dense network, so scoring is one forward
// pass per window with no per-layer activation storage, and selection/apply can be redone for any
// fraction or threshold without recollecting (a sweep is cheap). The price: scores of layer i do
// not see the removals in layers < i.
//
// Selection: a fraction per layer (uniform: round(fraction · n) units in every layer, at most
// n − 1, which is what makes a smaller export possible) or a threshold on the score (non-uniform:
// units scoring below it). A layer always keeps at least one neuron and one head. Heads with GQA
// (nKvHeads < nHeads, G = nHeads / nKvHeads query heads per KV head): by default the unit is a
// whole KV group (score = mean of its query heads' scores); removing it removes its G query heads
// AND its k/v head, so the smaller export is again a valid GQA model (nHeads' = G · nKv'). With
// `gqa: 'within-groups'` the unit is a query head: a fraction removes round(f · G) query heads
// from every group (exportable: nKv kept, nHeads' = nKv · (G − r)); a threshold removes any query
// heads (k/v of a group only when all of its query heads go) and is exported as zeros unless the
// result happens to be regular. Without GQA the two modes are the same (unit = one head).
//
// Apply: zeros on the GPU (rows of gate/up and their biases and column j of down for a neuron;
// the head's rows of q (+bias) and columns of o, and the k/v rows (+biases) of KV heads that lost
// every query head; embedding rows and untied head rows of unused tokens, the head bias kept),
// with the dense values kept in a DenseBackup (the driver's mechanism) so restoreContextual puts
// them back. The statistics are f32 sums on the GPU (per window in registers, then across
// windows), read back once and turned into float64 scores on the CPU.
//
// The engine runs it (Engine.pruneContextual: score, select, apply, keep the selection for the
// export), restores it (restoreContextual, every chunk of paged tensors) and exports the smaller
// model (export/structured.ts); jobs/contextual.ts measures the perplexities around a run.
import { BadOption } from '../errors';
import { collectColumnStats } from '../calib/columns';
import {
  type LayerRemoval, type StructuredRemoval, checkRemovalFits, cutTensor, cutsOf, structureOf, zeroedStored,
} from '../model/structure';
import type { ModelFolder } from '../model/folder';
import { linearNames, linearShape, type ModelSpec } from '../model/spec';
import type { GpuModel } from '../nn/model';
import type { ProgressFn } from '../types';
import type { DenseBackup } from './driver';
import { now } from '../units';


export type ContextualScoring = 'mean-abs' | 'wanda';
/** GQA head units: whole KV groups (default) or query heads within groups. */
export type GqaMode = 'whole-groups' | 'within-groups';

export interface LayerScores {
  /** mean_t |a_tj|: (F). */
  neuronMeanAbs: Float64Array;
  /** ‖W_down[:, j]‖₂ · sqrt(mean_t a_tj²): (F). */
  neuronWanda: Float64Array;
  /** mean over tokens and the head's D channels of |z|: (nHeads). */
  headMeanAbs: Float64Array;
  /** sqrt(Σ_d ‖W_o[:, d]‖₂² · mean_t z_td²) over the head's channels d: (nHeads). */
  headWanda: Float64Array;
}

export interface ContextualScores {
  dims: { nLayers: number; ffn: number; nHeads: number; nKvHeads: number; headDim: number; vocabSize: number };
  /** BOS / EOS ids of the model (never zeroed). */
  specialIds: number[];
  windows: number;
  /** Token positions scored: windows × seqlen. */
  tokens: number;
  layers: LayerScores[];
  /** Occurrences of each token id in the domain ids: (V). */
  tokenCounts: Uint32Array;
}

export interface ContextualOptions {
  /** Uniform: remove this fraction of the neurons (and, by default, of the head units) of every layer. */
  fraction?: number;
  /** Non-uniform: remove the neurons (and, by default, head units) scoring below this. */
  threshold?: number;
  /** Fraction of head units per layer (default: `fraction`; 0 keeps every head). Fraction mode only. */
  headFraction?: number;
  /** Threshold for head units (default: `threshold`). Threshold mode only. */
  headThreshold?: number;
  scoring?: ContextualScoring;
  gqa?: GqaMode;
  /** Zero the embedding (and untied head) rows of tokens that never occur in the domain ids. */
  zeroUnusedTokens?: boolean;
  /** Token ids never zeroed (special tokens: specialTokenIds(folder)); BOS/EOS always kept. */
  keepTokens?: Iterable<number>;
}

export type LayerSelection = LayerRemoval;

export interface ContextualSelection extends StructuredRemoval {
  mode: 'fraction' | 'threshold';
  scoring: ContextualScoring;
  gqa: GqaMode;
  /** The options as resolved (fraction/threshold for neurons and heads). */
  neuronTarget: number;
  headTarget: number;
  dims: ContextualScores['dims'];
  layers: LayerSelection[];
  /** Token ids whose embedding (and untied head) rows are zeroed, ascending. */
  tokens: number[];
  /**
   * The smaller shapes when every layer removes alike (null: non-uniform, export as zeros):
   * ffn' and (nHeads', nKvHeads') with every kept KV head keeping the same number of query heads.
   */
  structure: { ffn: number | null; heads: { nHeads: number; nKvHeads: number } | null };
  summary: {
    neurons: { removed: number; total: number };
    heads: { removed: number; total: number };
    kvHeads: { removed: number; total: number };
    tokens: { removed: number; total: number };
  };
}


// ---------------------------------------------------------------------------------------------
// Whole canonical tensors on the GPU (paged weights included)

/** Write a whole canonical tensor back into its chunks. */

/** Put every backed-up tensor back (the model becomes dense again); handles paged tensors. */
export function restoreContextual(model: GpuModel, backup: DenseBackup): void {
  for (const [name, data] of backup) if (model.has(name)) model.write(name, data);
}

// ---------------------------------------------------------------------------------------------
// Scores

/**
 * Score every MLP neuron and attention head on the calibration windows (one pass over the model,
 * which must be dense: restore it first), and count token usage in `countIds` (default: the
 * windows' ids).
 */
export async function scoreContextual(
  model: GpuModel,
  windows: number[][],
  opts: { countIds?: ArrayLike<number> } = {},
  onProgress?: ProgressFn,
  signal?: AbortSignal,
): Promise<ContextualScores> {
  const { spec } = model;
  const V = spec.vocabSize;
  const F = spec.ffn, D = spec.headDim, nH = spec.nHeads, Q = nH * D, L = spec.nLayers;
  const start = now();
  const stats = await collectColumnStats(model, windows, (s) => {
    const el = (now() - start) / 1000;
    onProgress?.({ phase: 'prune', done: s + 1, total: windows.length, detail: `scoring · window ${s + 1}/${windows.length} · ${el.toFixed(1)} s` });
  }, signal);
  const N = stats.tokens;
  const layers: LayerScores[] = [];
  for (let i = 0; i < L; i++) {
    const sd = stats.down[i];
    const so = stats.attn[i];
    // Column norms² of the weights the units own: W_down (H, F) columns, W_o (H, Q) columns.
    const wd = colSq(await model.read(`layers.${i}.mlp.down.weight`), spec.hidden, F);
    const wo = colSq(await model.read(`layers.${i}.attn.o.weight`), spec.hidden, Q);
    const ls: LayerScores = {
      neuronMeanAbs: new Float64Array(F),
      neuronWanda: new Float64Array(F),
      headMeanAbs: new Float64Array(nH),
      headWanda: new Float64Array(nH),
    };
    for (let j = 0; j < F; j++) {
      ls.neuronMeanAbs[j] = sd[j] / N;
      ls.neuronWanda[j] = Math.sqrt(wd[j] * (sd[F + j] / N));
    }
    for (let h = 0; h < nH; h++) {
      let a = 0, w = 0;
      for (let d = h * D; d < (h + 1) * D; d++) {
        a += so[d];
        w += wo[d] * (so[Q + d] / N);
      }
      ls.headMeanAbs[h] = a / (N * D);
      ls.headWanda[h] = Math.sqrt(w);
    }
    layers.push(ls);
  }
  const tokenCounts = new Uint32Array(V);
  const count = (id: number) => {
    if (Number.isInteger(id) && id >= 0 && id < V) tokenCounts[id]++;
  };
  if (opts.countIds) for (let k = 0; k < opts.countIds.length; k++) count(opts.countIds[k]);
  else for (const w of windows) w.forEach(count);
  const specialIds = [spec.bosTokenId, spec.eosTokenId].filter((x): x is number => x !== null);
  return {
    dims: { nLayers: L, ffn: F, nHeads: nH, nKvHeads: spec.nKvHeads, headDim: D, vocabSize: V },
    specialIds,
    windows: windows.length,
    tokens: N,
    layers,
    tokenCounts,
  };
}

/** Σ_r W[r, c]² per column c of W: (R, C), in float64. */
function colSq(w: Float32Array, R: number, C: number): Float64Array {
  const out = new Float64Array(C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c] += w[r * C + c] * w[r * C + c];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Selection

function checkFraction(x: number, what: string): number {
  if (!(Number.isFinite(x) && x >= 0 && x < 1)) throw new BadOption(`${what} must be a fraction in [0, 1); got ${x}.`);
  return x;
}

function checkThreshold(x: number, what: string): number {
  if (!(Number.isFinite(x) && x >= 0)) throw new BadOption(`${what} must be a finite score ≥ 0; got ${x}.`);
  return x;
}

/** Indices of `scores` ordered by (score, index) ascending: the least used first. */
function ascending(scores: ArrayLike<number>, idx: number[]): number[] {
  return [...idx].sort((a, b) => scores[a] - scores[b] || a - b);
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, k) => from + k);
const countFor = (fraction: number, n: number) => Math.min(n - 1, Math.max(0, Math.round(fraction * n)));

/**
 * Units below `threshold` (or the lowest `count`), never all of them: at least the best unit stays.
 * Returns the removed units, ascending.
 */
function pick(scores: ArrayLike<number>, units: number[], rule: { count: number } | { threshold: number }): number[] {
  const order = ascending(scores, units);
  let removed = 'count' in rule ? order.slice(0, rule.count) : order.filter((u) => scores[u] < rule.threshold);
  if (removed.length >= units.length) removed = order.slice(0, units.length - 1);
  return removed.sort((a, b) => a - b);
}

/** Choose what to remove from the scores (no GPU work). */
export function selectContextual(scores: ContextualScores, opts: ContextualOptions): ContextualSelection {
  const scoring = opts.scoring ?? 'mean-abs';
  if (scoring !== 'mean-abs' && scoring !== 'wanda') throw new BadOption(`Contextual scoring must be "mean-abs" or "wanda"; got "${String(scoring)}".`);
  const gqa = opts.gqa ?? 'whole-groups';
  if (gqa !== 'whole-groups' && gqa !== 'within-groups') throw new BadOption(`The GQA mode must be "whole-groups" or "within-groups"; got "${String(gqa)}".`);
  const hasF = opts.fraction !== undefined, hasT = opts.threshold !== undefined;
  if (hasF === hasT) throw new BadOption('Contextual pruning needs either a fraction (e.g. 0.3) or a threshold on the activation score, not both.');
  if (hasF && opts.headThreshold !== undefined) throw new BadOption('A head threshold goes with --threshold, not with --fraction.');
  if (hasT && opts.headFraction !== undefined) throw new BadOption('A head fraction goes with --fraction, not with --threshold.');
  const mode = hasF ? 'fraction' : 'threshold';
  const neuronTarget = hasF ? checkFraction(opts.fraction!, 'The fraction') : checkThreshold(opts.threshold!, 'The threshold');
  const headTarget = hasF
    ? checkFraction(opts.headFraction ?? opts.fraction!, 'The head fraction')
    : checkThreshold(opts.headThreshold ?? opts.threshold!, 'The head threshold');
  const { nLayers, ffn: F, nHeads: nH, nKvHeads: nKv, vocabSize: V } = scores.dims;
  const G = nH / nKv;
  const rule = (n: number, target: number) => (mode === 'fraction' ? { count: countFor(target, n) } : { threshold: target });

  const layers: LayerSelection[] = scores.layers.map((ls) => {
    const ns = scoring === 'wanda' ? ls.neuronWanda : ls.neuronMeanAbs;
    const hs = scoring === 'wanda' ? ls.headWanda : ls.headMeanAbs;
    const neurons = pick(ns, range(F), rule(F, neuronTarget));
    let heads: number[];
    if (G === 1 || gqa === 'whole-groups') {
      // Unit = KV group (= one head without GQA); its score is the mean of its query heads'.
      const gs = range(nKv).map((g) => range(G, g * G).reduce((s, h) => s + hs[h], 0) / G);
      heads = pick(gs, range(nKv), rule(nKv, headTarget)).flatMap((g) => range(G, g * G));
    } else if (mode === 'fraction') {
      // The same number of query heads from every group (the group keeps at least one).
      const r = countFor(headTarget, G);
      heads = range(nKv).flatMap((g) => pick(hs, range(G, g * G), { count: r })).sort((a, b) => a - b);
    } else {
      heads = pick(hs, range(nH), { threshold: headTarget });
    }
    const gone = new Set(heads);
    const kvHeads = range(nKv).filter((g) => range(G, g * G).every((h) => gone.has(h)));
    return { neurons, heads, kvHeads };
  });

  let tokens: number[] = [];
  if (opts.zeroUnusedTokens) {
    const keep = new Set<number>([...scores.specialIds, ...(opts.keepTokens ?? [])]);
    tokens = range(V).filter((id) => scores.tokenCounts[id] === 0 && !keep.has(id));
  }

  const sum = (f: (l: LayerSelection) => number) => layers.reduce((s, l) => s + f(l), 0);
  const sel: ContextualSelection = {
    mode, scoring, gqa, neuronTarget, headTarget, dims: scores.dims, layers, tokens,
    structure: { ffn: null, heads: null },
    summary: {
      neurons: { removed: sum((l) => l.neurons.length), total: nLayers * F },
      heads: { removed: sum((l) => l.heads.length), total: nLayers * nH },
      kvHeads: { removed: sum((l) => l.kvHeads.length), total: nLayers * nKv },
      tokens: { removed: tokens.length, total: V },
    },
  };
  sel.structure = structureOf(scores.dims, layers);
  return sel;
}

// ---------------------------------------------------------------------------------------------
// Apply on the GPU

/**
 * Zero what `sel` removes in the model's weights on the GPU, keeping the dense values in `backup`
 * (values already there are taken as the dense ones). Returns the canonical names changed. On
 * failure every backed-up tensor is restored, so the model is never left half-pruned.
 */
export async function applyContextual(model: GpuModel, sel: ContextualSelection, backup: DenseBackup): Promise<string[]> {
  checkRemovalFits(model.spec, sel);
  const changed: string[] = [];
  try {
    for (const [name, cut] of cutsOf(model.spec, sel, { mlp: false, heads: false })) {
      const t = model.weights.get(name);
      if (!t) continue; // a bias the checkpoint does not have, or the head of a tied model
      const dense = backup.get(name) ?? (await model.read(name));
      backup.set(name, dense);
      const x = dense.slice();
      cutTensor(x, t.shape, cut);
      model.write(name, x);
      changed.push(name);
    }
    await model.ctx.finish();
  } catch (e) {
    restoreContextual(model, backup);
    await model.ctx.finish().catch(() => undefined);
    throw e;
  }
  return changed;
}

/** Fraction of zeros each linear sublayer gets from `sel` (the per-sublayer table). */
export function sublayerSparsity(spec: ModelSpec, sel: ContextualSelection): Array<{ name: string; sparsity: number }> {
  const cuts = cutsOf(spec, sel, { mlp: false, heads: false });
  const out: Array<{ name: string; sparsity: number }> = [];
  for (let i = 0; i < spec.nLayers; i++) {
    for (const name of linearNames(spec, i)) {
      const [R, C] = linearShape(spec, name);
      out.push({ name, sparsity: zeroedStored([R, C], cuts.get(`${name}.weight`)) / (R * C) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Special tokens

/**
 * Ids that must never be zeroed: config bos/eos/pad/unk/decoder_start ids, tokenizer.json's special
 * added tokens and tokenizer_config.json's added_tokens_decoder.
 */
export async function specialTokenIds(folder: ModelFolder): Promise<number[]> {
  const ids = new Set<number>();
  const add = (v: unknown) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) ids.add(v);
    else if (Array.isArray(v)) v.forEach(add);
  };
  for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id', 'unk_token_id', 'decoder_start_token_id', 'sep_token_id']) add(folder.config[k]);
  add(folder.spec.bosTokenId);
  add(folder.spec.eosTokenId);
  const json = async (name: string): Promise<Record<string, unknown> | null> => {
    const f = folder.files.get(name);
    if (!f) return null;
    try {
      const v = JSON.parse(new TextDecoder().decode(await f.slice(0, f.size)));
      return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
    } catch {
      return null; // the tokenizer loader reports malformed files; here they only add no ids
    }
  };
  const tj = await json('tokenizer.json');
  for (const a of (Array.isArray(tj?.added_tokens) ? tj.added_tokens : []) as Array<{ id?: unknown; special?: unknown }>) {
    if (a && a.special !== false) add(a.id);
  }
  const tc = await json('tokenizer_config.json');
  const dec = tc?.added_tokens_decoder;
  if (dec && typeof dec === 'object') {
    for (const [id, v] of Object.entries(dec as Record<string, { special?: unknown }>)) if (v?.special !== false) add(Number(id));
  }
  return [...ids].sort((a, b) => a - b);
}

