// What pruning changes at inference, by formula: FLOPs per generated token and bytes of weights,
// dense against the nonzero weights. Plain functions; the planner panel puts the measured decode
// tokens/s from "Speed & size" next to them.
//
// FLOPs per token follow Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", arXiv
// 2001.08361, §2.1 and Table 1): a multiply-add is 2 FLOPs, so a linear layer with W weights costs
// 2·W per token, and
//
//   C_forward ≈ 2·N + 2·n_layer·n_ctx·d_attn
//
// with N the non-embedding weights and the second term attention's QKᵀ scores over n_ctx positions
// (d_attn = heads × head_dim). Kaplan's Table 1 lists the de-embedding (LM head) 2·d_model·n_vocab
// separately and drops it from N; for the small models this studio prunes it is a large share
// (13 % of stories260K's FLOPs), so it is kept here as its own term:
//
//   FLOPs/token = 2·W_linear + 2·V·E + 2·n_layer·n_ctx·d_attn
//
// Pruning zeroes decoder linear weights only (embeddings, norms and the head stay dense), and a
// sparse kernel skips the zeros, so the pruned count replaces W_linear by its nonzeros:
//
//   FLOPs/token (sparse) = 2·nnz_linear + 2·V·E + 2·n_layer·n_ctx·d_attn
//
// Norms, rotary, softmax and biases are O(d) per token and left out, as Kaplan does. Whether the
// sparse count turns into speed depends on the kernels and the GPU: the measured tokens/s say.
import { BadOption } from '../errors';
import { estimateBytes } from '../model/sparse-formats';
import type { ModelSummary } from '../types';
import { requirePositive } from './chinchilla';

/** The shape numbers the formulas need (a decoder-only transformer). */
export interface DecoderShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** MLP inner width. */
  ffn: number;
  /** down(act(gate(x)) ⊙ up(x)): three MLP matrices instead of two (llama, qwen2). */
  gatedMlp: boolean;
  vocab: number;
  /** Width of the LM head's input (OPT's word_embed_proj_dim, else hidden). */
  embedDim: number;
}

function checkShape(s: DecoderShape): void {
  for (const k of ['layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'embedDim'] as const) {
    if (!Number.isSafeInteger(s[k]) || s[k] <= 0) throw new BadOption(`The model's ${k} must be a positive whole number; got ${s[k]}.`);
  }
}

/** Shape (out, in) of a canonical linear sublayer ("layers.3.attn.q", "mlp.down"), as spec.linearShape. */
export function sublayerShape(s: DecoderShape, name: string): [number, number] | null {
  const short = name.replace(/^layers\.\d+\./, '');
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  switch (short) {
    case 'attn.q':
      return [q, s.hidden];
    case 'attn.k':
    case 'attn.v':
      return [kv, s.hidden];
    case 'attn.o':
      return [s.hidden, q];
    case 'mlp.gate':
      return s.gatedMlp ? [s.ffn, s.hidden] : null;
    case 'mlp.up':
      return [s.ffn, s.hidden];
    case 'mlp.down':
      return [s.hidden, s.ffn];
    default:
      return null;
  }
}

/** The linear sublayers of one decoder layer, canonical short names. */
export function sublayerNames(s: DecoderShape): string[] {
  return ['attn.q', 'attn.k', 'attn.v', 'attn.o', ...(s.gatedMlp ? ['mlp.gate'] : []), 'mlp.up', 'mlp.down'];
}

/** Weights of one decoder layer's linear sublayers: H·(q + 2kv) + q·H + (2 or 3)·H·F. */
export function linearWeightsPerLayer(s: DecoderShape): number {
  checkShape(s);
  return sublayerNames(s).reduce((acc, n) => {
    const [o, i] = sublayerShape(s, n)!;
    return acc + o * i;
  }, 0);
}

/** W_linear = n_layer × per-layer linear weights: what pruning acts on. */
export function decoderLinearWeights(s: DecoderShape): number {
  return s.layers * linearWeightsPerLayer(s);
}

/** The LM head's weights V·E (tied or not, the matmul is done every token). */
export function headWeights(s: DecoderShape): number {
  checkShape(s);
  return s.vocab * s.embedDim;
}

export interface FlopsPerToken {
  /** 2·W_linear, or 2·nnz_linear for sparse kernels. */
  linear: number;
  /** 2·V·E. */
  head: number;
  /** 2·n_layer·n_ctx·d_attn. */
  attention: number;
  total: number;
}

/**
 * Forward FLOPs per token at context length `ctx`, counting `linearNonzeros` of the decoder linear
 * weights (default: all of them, i.e. dense).
 */
export function flopsPerToken(s: DecoderShape, ctx: number, linearNonzeros?: number): FlopsPerToken {
  checkShape(s);
  if (!Number.isSafeInteger(ctx) || ctx < 1) throw new BadOption(`Context length must be a whole number ≥ 1; got ${ctx}.`);
  const all = decoderLinearWeights(s);
  const nnz = linearNonzeros ?? all;
  if (!Number.isFinite(nnz) || nnz < 0 || nnz > all) throw new BadOption(`Nonzero linear weights must be in [0, ${all}]; got ${nnz}.`);
  const linear = 2 * nnz;
  const head = 2 * headWeights(s);
  const attention = 2 * s.layers * ctx * s.heads * s.headDim;
  return { linear, head, attention, total: linear + head + attention };
}

/** One pruned sublayer: canonical name and its fraction of zeros. */
export interface SublayerSparsity {
  name: string;
  sparsity: number;
}

export interface PrunedMatrix {
  name: string;
  rows: number;
  cols: number;
  nonzeros: number;
}

/**
 * The pruned matrices with their nonzeros: per sublayer from a run's report (exact up to rounding
 * of sparsity × size), or, when only the overall sparsity is known, that sparsity spread over every
 * decoder linear (an approximation: skipped layers or per-layer targets make it wrong).
 * Null when a reported name is not a linear sublayer of this shape.
 */
export function prunedMatrices(s: DecoderShape, pruned: readonly SublayerSparsity[] | { overall: number }): PrunedMatrix[] | null {
  checkShape(s);
  const list: SublayerSparsity[] = [];
  if ('overall' in pruned) {
    for (let i = 0; i < s.layers; i++) for (const n of sublayerNames(s)) list.push({ name: `layers.${i}.${n}`, sparsity: pruned.overall });
  } else list.push(...pruned);
  const out: PrunedMatrix[] = [];
  for (const p of list) {
    if (!(p.sparsity >= 0 && p.sparsity <= 1)) throw new BadOption(`Sparsity of ${p.name} must be in [0, 1]; got ${p.sparsity}.`);
    const m = /^layers\.(\d+)\./.exec(p.name);
    if (!m || Number(m[1]) >= s.layers) return null;
    const shape = sublayerShape(s, p.name);
    if (!shape) return null;
    const [rows, cols] = shape;
    out.push({ name: p.name, rows, cols, nonzeros: Math.round(rows * cols * (1 - p.sparsity)) });
  }
  return out;
}

/** nnz_linear: every decoder linear weight minus the zeros of the pruned matrices. */
export function linearNonzeros(s: DecoderShape, pruned: readonly PrunedMatrix[]): number {
  let zeros = 0;
  for (const m of pruned) zeros += m.rows * m.cols - m.nonzeros;
  return decoderLinearWeights(s) - zeros;
}

/**
 * Index/mask bytes of the bitmask format (compressed-tensors' sparse-bitmask) for these matrices:
 * the format's size (src/core/sparse/formats.ts estimateBytes, on disk) less its values, i.e. per
 * matrix N·ceil(K/8) mask bytes + 8N row offsets + 16 bytes of shape.
 */
export function bitmaskOverhead(pruned: readonly PrunedMatrix[]): number {
  let bytes = 0;
  for (const m of pruned) bytes += estimateBytes('bitmask', m.rows, m.cols, m.nonzeros, 'f32').disk - m.nonzeros * 4;
  return bytes;
}

export interface WeightBytes {
  /** Every parameter stored densely: params × bytes per value. */
  dense: number;
  /** The zeros dropped, nothing added: (params − zeros) × bytes per value (a lower bound). */
  nonzeroValues: number;
  /** nonzeroValues + the format's index/mask overhead. */
  sparse: number;
}

/**
 * Bytes of the weights dense and with the pruned linears' zeros dropped. `overheadBytes` is the
 * storage format's index/mask bytes (measured by "Speed & size", or bitmaskOverhead()).
 */
export function weightBytes(o: { params: number; zeros: number; bytesPerValue: number; overheadBytes: number }): WeightBytes {
  requirePositive(o.params, 'Parameters');
  requirePositive(o.bytesPerValue, 'Bytes per value');
  if (!Number.isFinite(o.zeros) || o.zeros < 0 || o.zeros > o.params) throw new BadOption(`Zeros must be in [0, ${o.params}]; got ${o.zeros}.`);
  if (!Number.isFinite(o.overheadBytes) || o.overheadBytes < 0) throw new BadOption(`Format overhead must be ≥ 0 bytes; got ${o.overheadBytes}.`);
  const dense = o.params * o.bytesPerValue;
  const nonzeroValues = (o.params - o.zeros) * o.bytesPerValue;
  return { dense, nonzeroValues, sparse: nonzeroValues + o.overheadBytes };
}

/**
 * The shape numbers from a loaded model's summary. The summary has no head_dim or MLP kind, so:
 * head_dim = rows of layer 0's q projection / heads when that tensor is found (llama-style
 * checkpoints may set head_dim explicitly), else hidden / heads; a gated MLP for the llama and
 * qwen2 families; the head's input width from the token embedding's columns.
 */
export function decoderShapeFromSummary(m: ModelSummary): DecoderShape {
  const q = m.tensors.find((t) => /(^|\.)layers\.0\.self_attn\.q_proj\.weight$/.test(t.name) && t.shape.length === 2);
  const qRows = q ? q.shape[0] : 0;
  const headDim = qRows > 0 && qRows % m.heads === 0 ? qRows / m.heads : Math.round(m.hidden / m.heads);
  const emb = m.tensors.find((t) => /(^|\.)(embed_tokens|wte|embed_in)\.weight$/.test(t.name) && t.shape.length === 2);
  const shape: DecoderShape = {
    layers: m.layers,
    hidden: m.hidden,
    heads: m.heads,
    kvHeads: m.kvHeads,
    headDim,
    ffn: m.ffn,
    gatedMlp: m.family === 'llama' || m.family === 'qwen2',
    vocab: m.vocabSize,
    embedDim: emb ? emb.shape[1] : m.hidden,
  };
  checkShape(shape);
  return shape;
}
