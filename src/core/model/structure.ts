// The structure of a removal (contextual pruning): which MLP neurons, attention heads and tokens
// each layer loses, the widths that remain, and how a canonical tensor is cut to them. Pure
// functions of the ModelSpec; prune/contextual.ts zeroes by these cuts, export/structured.ts
// slices by them.
import { BadOption } from '../errors';
import type { ModelSpec } from './spec';

export interface LayerRemoval {
  /** Removed MLP neurons (indices into F), ascending. */
  neurons: number[];
  /** Removed query heads, ascending. */
  heads: number[];
  /** KV heads all of whose query heads are removed (their k/v rows go too), ascending. */
  kvHeads: number[];
}

export interface StructuredRemoval {
  /** One entry per decoder layer. */
  layers: LayerRemoval[];
  /** Token ids whose embedding (and untied head) rows are zeroed, ascending. */
  tokens: number[];
}

export interface RemovalDims {
  nLayers: number;
  ffn: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, k) => from + k);

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Refuse a removal made for other dimensions, or with indices out of range. */
export function checkRemovalFits(spec: ModelSpec, r: StructuredRemoval): void {
  const bad = (why: string) => {
    throw new BadOption(`This structured removal does not fit the loaded model (${why}); score the loaded model again.`);
  };
  if (r.layers.length !== spec.nLayers) bad(`${r.layers.length} layers, the model has ${spec.nLayers}`);
  const inRange = (xs: number[], n: number) => xs.every((x) => Number.isInteger(x) && x >= 0 && x < n);
  r.layers.forEach((l, i) => {
    if (!inRange(l.neurons, spec.ffn)) bad(`layer ${i}: a neuron outside 0..${spec.ffn - 1}`);
    if (!inRange(l.heads, spec.nHeads)) bad(`layer ${i}: a head outside 0..${spec.nHeads - 1}`);
    if (!inRange(l.kvHeads, spec.nKvHeads)) bad(`layer ${i}: a KV head outside 0..${spec.nKvHeads - 1}`);
    if (l.neurons.length >= spec.ffn) bad(`layer ${i} would lose every MLP neuron`);
    if (l.heads.length >= spec.nHeads) bad(`layer ${i} would lose every attention head`);
    // A KV head may only go with all of its query heads (its keys/values would be read otherwise).
    const G = spec.nHeads / spec.nKvHeads;
    const gone = new Set(l.heads);
    for (const g of l.kvHeads) if (!range(G, g * G).every((h) => gone.has(h))) bad(`layer ${i}: KV head ${g} removed while some of its query heads stay`);
  });
  if (!inRange(r.tokens, spec.vocabSize)) bad(`a token outside 0..${spec.vocabSize - 1}`);
}

/**
 * The smaller shapes a removal allows when every layer removes alike (null where it does not):
 * ffn' = F − r when every layer removes r neurons; heads when every layer keeps the same number of
 * KV heads and each kept KV head the same number m ≥ 1 of query heads (nHeads' = m · nKv').
 */
export function structureOf(dims: RemovalDims, layers: LayerRemoval[]): { ffn: number | null; heads: { nHeads: number; nKvHeads: number } | null } {
  const { ffn: F, nHeads: nH, nKvHeads: nKv } = dims;
  const G = nH / nKv;
  const rn = new Set(layers.map((l) => l.neurons.length));
  const ffn = rn.size === 1 ? F - [...rn][0] : null;
  let shape: { nHeads: number; nKvHeads: number } | null = null;
  for (const l of layers) {
    const gone = new Set(l.heads);
    const goneKv = new Set(l.kvHeads);
    // Query heads kept by each KV head that stays.
    const kept = range(nKv).filter((g) => !goneKv.has(g)).map((g) => range(G, g * G).filter((h) => !gone.has(h)).length);
    const m = kept[0];
    if (kept.length === 0 || kept.some((k) => k !== m || k === 0)) return { ffn, heads: null };
    if (shape && (shape.nHeads !== m * kept.length || shape.nKvHeads !== kept.length)) return { ffn, heads: null };
    shape = { nHeads: m * kept.length, nKvHeads: kept.length };
  }
  return { ffn, heads: shape };
}

// ---------------------------------------------------------------------------------------------
// Cuts: which rows/columns of which canonical tensor a removal takes

/** Rows (axis 0) or columns (axis 1) `idx` of a canonical tensor are removed: zeroed, or sliced out. */
export interface Cut {
  axis: 0 | 1;
  idx: number[];
  slice: boolean;
}

const expand = (units: number[], D: number) => units.flatMap((u) => range(D, u * D));

/**
 * Cuts by canonical tensor name (entries for biases a checkpoint lacks are harmless):
 *   neuron j:  mlp.gate / mlp.up row j (+bias), mlp.down column j      (F axis)
 *   head h:    attn.q rows [hD, (h+1)D) (+bias), attn.o columns [hD, (h+1)D)
 *   KV head g: attn.k / attn.v rows [gD, (g+1)D) (+bias)
 *   token v:   embed.tokens row v, head.weight row v (untied head; its bias stays)
 */
export function cutsOf(spec: ModelSpec, r: StructuredRemoval, slicing: { mlp: boolean; heads: boolean }): Map<string, Cut> {
  const cuts = new Map<string, Cut>();
  const D = spec.headDim;
  r.layers.forEach((l, i) => {
    const p = `layers.${i}.`;
    if (l.neurons.length) {
      for (const n of spec.gatedMlp ? ['mlp.gate', 'mlp.up'] : ['mlp.up']) {
        cuts.set(`${p}${n}.weight`, { axis: 0, idx: l.neurons, slice: slicing.mlp });
        cuts.set(`${p}${n}.bias`, { axis: 0, idx: l.neurons, slice: slicing.mlp });
      }
      cuts.set(`${p}mlp.down.weight`, { axis: 1, idx: l.neurons, slice: slicing.mlp });
    }
    if (l.heads.length) {
      const rows = expand(l.heads, D);
      cuts.set(`${p}attn.q.weight`, { axis: 0, idx: rows, slice: slicing.heads });
      cuts.set(`${p}attn.q.bias`, { axis: 0, idx: rows, slice: slicing.heads });
      cuts.set(`${p}attn.o.weight`, { axis: 1, idx: rows, slice: slicing.heads });
    }
    if (l.kvHeads.length) {
      const rows = expand(l.kvHeads, D);
      for (const n of ['attn.k', 'attn.v']) {
        cuts.set(`${p}${n}.weight`, { axis: 0, idx: rows, slice: slicing.heads });
        cuts.set(`${p}${n}.bias`, { axis: 0, idx: rows, slice: slicing.heads });
      }
    }
  });
  if (r.tokens.length) {
    cuts.set('embed.tokens', { axis: 0, idx: r.tokens, slice: false });
    cuts.set('head.weight', { axis: 0, idx: r.tokens, slice: false });
  }
  return cuts;
}

/** (R, C) of a canonical shape; a vector is (n, 1). */
const rc = (shape: number[]): [number, number] => [shape[0], shape.length > 1 ? numel(shape.slice(1)) : 1];

/**
 * Apply a cut to x: (R, C): zeros in place (x itself is returned), or the kept rows/columns as a
 * new array with the smaller shape.
 */
export function cutTensor(x: Float32Array, shape: number[], cut: Cut): { data: Float32Array; shape: number[] } {
  const [R, C] = rc(shape);
  if (!cut.slice) {
    if (cut.axis === 0) for (const r of cut.idx) x.fill(0, r * C, (r + 1) * C);
    else for (let r = 0; r < R; r++) for (const c of cut.idx) x[r * C + c] = 0;
    return { data: x, shape };
  }
  const gone = new Set(cut.idx);
  if (cut.axis === 0) {
    const keep = range(R).filter((r) => !gone.has(r));
    const out = new Float32Array(keep.length * C);
    keep.forEach((r, k) => out.set(x.subarray(r * C, (r + 1) * C), k * C));
    return { data: out, shape: [keep.length, ...shape.slice(1)] };
  }
  const keep = range(C).filter((c) => !gone.has(c));
  const out = new Float32Array(R * keep.length);
  for (let r = 0; r < R; r++) keep.forEach((c, k) => (out[r * keep.length + k] = x[r * C + c]));
  return { data: out, shape: [R, keep.length] };
}

/** Values a cut leaves stored as zeros (0 when it slices them out). */
export function zeroedStored(shape: number[], cut: Cut | undefined): number {
  if (!cut || cut.slice) return 0;
  const [R, C] = rc(shape);
  return cut.idx.length * (cut.axis === 0 ? C : R);
}

/** Values a canonical tensor keeps in storage after a cut. */
export function storedAfter(shape: number[], cut: Cut | undefined): number {
  const [R, C] = rc(shape);
  if (!cut?.slice) return R * C;
  return cut.axis === 0 ? (R - cut.idx.length) * C : R * (C - cut.idx.length);
}

export interface ParamCounts {
  /** Parameters (the tensors the family reads; buffers and unused tensors excluded) and their stored bytes. */
  before: { params: number; bytes: number };
  /** After the export: stored parameters and bytes, and the parameters not removed as zeros. */
  after: { params: number; bytes: number; nonzero: number };
  /** Which parts the export makes genuinely smaller. */
  smaller: { mlp: boolean; heads: boolean };
  warnings: string[];
}
