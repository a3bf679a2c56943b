// Host side of the kernels in shaders/: one function per kernel role, taking buffers and logical
// shapes, recording a dispatch on the context (nothing is submitted here).
import { type Binding, type GpuContext, grid1d, params } from './context';

/** A weight on the GPU, paged into row chunks when it is larger than one storage binding. */
export interface GpuTensor {
  shape: number[];
  chunks: Array<{ buffer: GPUBuffer; row0: number; rows: number }>;
}

/** Rows split into chunks of at most ctx.pageBytes bytes, each chunk's buffer made by `make`. */
function pagedTensor(ctx: GpuContext, shape: number[], label: string, make: (r0: number, elems: number, label: string) => GPUBuffer): GpuTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rowLen = shape.length > 1 ? n / shape[0] : n;
  const nRows = shape.length > 1 ? shape[0] : 1;
  const rowsPerChunk = Math.max(1, Math.floor(ctx.pageBytes / (rowLen * 4)));
  const chunks: GpuTensor['chunks'] = [];
  for (let r0 = 0; r0 < nRows; r0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, nRows - r0);
    chunks.push({ buffer: make(r0 * rowLen, rows * rowLen, chunks.length ? `${label}[${r0}:]` : label), row0: r0, rows });
  }
  return { shape, chunks };
}

/** Upload a row-major tensor, splitting rows into chunks of at most ctx.pageBytes bytes. */
export function uploadTensor(ctx: GpuContext, data: Float32Array, shape: number[], label: string): GpuTensor {
  return pagedTensor(ctx, shape, label, (o, n, l) => ctx.upload(data.subarray(o, o + n), l));
}

/** A tensor of zeros paged as uploadTensor pages it (WebGPU zero-fills new buffers: no CPU copy). */
export function zeroTensor(ctx: GpuContext, shape: number[], label: string): GpuTensor {
  return pagedTensor(ctx, shape, label, (_o, n, l) => ctx.storage(n * 4, l));
}

/** A tensor's values, every chunk, row-major in its shape (read back from the GPU). */
export async function readTensor(ctx: GpuContext, t: GpuTensor): Promise<Float32Array<ArrayBuffer>> {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const rowLen = t.shape.length > 1 ? n / t.shape[0] : n;
  const out = new Float32Array(n);
  for (const c of t.chunks) {
    const len = Math.min(c.rows * rowLen, n - c.row0 * rowLen);
    out.set(await ctx.read(c.buffer, 0, len * 4), c.row0 * rowLen);
  }
  return out;
}

/** Write a tensor's values, every chunk (row-major in its shape); recorded on the queue. */
export function writeTensor(ctx: GpuContext, t: GpuTensor, data: Float32Array<ArrayBuffer>, label = 'tensor'): void {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`internal: ${label} holds ${n} values, ${data.length} given`);
  const rowLen = t.shape.length > 1 ? n / t.shape[0] : n;
  for (const c of t.chunks) {
    const len = Math.min(c.rows * rowLen, n - c.row0 * rowLen);
    ctx.device.queue.writeBuffer(c.buffer, 0, data, c.row0 * rowLen, len);
  }
}

export function destroyTensor(ctx: GpuContext, t: GpuTensor | undefined): void {
  if (t) for (const c of t.chunks) ctx.destroy(c.buffer);
}

export function tensorBytes(t: GpuTensor): number {
  return t.chunks.reduce((s, c) => s + c.buffer.size, 0);
}

/** Record one GEMM dispatch of the context's variant. */
function gemmDispatch(ctx: GpuContext, words: ArrayBuffer, bindings: Array<GPUBuffer | Binding>, T: number, N: number): void {
  if (ctx.matmulVariant === 'rb') {
    ctx.dispatch('matmul_rb', words, bindings, [Math.ceil(Math.ceil(N / 4) / 64), Math.ceil(T / 4)]);
  } else {
    ctx.dispatch('matmul', words, bindings, [Math.ceil(N / 64), Math.ceil(T / 64)]);
  }
}

/**
 * The cross-Gram G (M, K) = a·G + b·AᵀB of `params(T, M, K, a, b, transA, lda, aOff)` on the
 * context's GEMM variant (cross_gram.wgsl's shared tiles, or cross_gram_rb.wgsl without barriers).
 */
export function crossGramDispatch(ctx: GpuContext, words: ArrayBuffer, bindings: Array<GPUBuffer | Binding>, M: number, K: number): void {
  if (ctx.matmulVariant === 'rb') {
    ctx.dispatch('cross_gram_rb', words, bindings, [Math.ceil(Math.ceil(K / 4) / 64), Math.ceil(M / 4)]);
  } else {
    ctx.dispatch('cross_gram', words, bindings, [Math.ceil(K / 64), Math.ceil(M / 64)]);
  }
}

/** Y[:, :N] (+)= X Wᵀ + b.  x: (T, K), W: (N, K) paged by rows, b: (N), y: (T, ldy). */
export function matmul(
  ctx: GpuContext,
  x: GPUBuffer | Binding,
  w: GpuTensor,
  bias: GpuTensor | undefined,
  y: GPUBuffer,
  T: number,
  opts: { accumulate?: boolean; ldy?: number } = {},
): void {
  const [N, K] = w.shape;
  const ldy = opts.ldy ?? N;
  if (bias && bias.chunks.length !== 1) throw new Error('matmul: a paged bias is not supported');
  const flags = (bias ? 1 : 0) | (opts.accumulate ? 2 : 0);
  for (const c of w.chunks) {
    gemmDispatch(ctx, params(T, c.rows, K, ldy, c.row0, c.row0, flags, K, 0, 0, 0), [x, c.buffer, bias ? bias.chunks[0].buffer : ctx.empty, y], T, c.rows);
  }
}

/**
 * General strided form: Y[t, yCol0 + n] (+/-)= Σ_k X[t, k] · W[wOff + n·ldw + k] for t < T, n < N,
 * k < K.  x: (T, K) contiguous, y: (T, ldy). Used by the pruning updates (sub-blocks of W).
 */
export function gemmStrided(
  ctx: GpuContext,
  x: GPUBuffer | Binding,
  w: GPUBuffer,
  y: GPUBuffer,
  d: { T: number; N: number; K: number; ldw: number; wOff: number; ldy: number; yCol0: number; accumulate?: boolean; subtract?: boolean },
): void {
  const flags = (d.accumulate ? 2 : 0) | (d.subtract ? 4 : 0);
  gemmDispatch(ctx, params(d.T, d.N, d.K, d.ldy, d.yCol0, 0, flags, d.ldw, d.wOff, 0, 0), [x, w, ctx.empty, y], d.T, d.N);
}

/** Y[t, :] (+)= E[ids[t], :].  ids: (T) u32, E: (V, C) paged by rows, y: (T, C). */
export function embed(ctx: GpuContext, ids: GPUBuffer, E: GpuTensor, y: GPUBuffer, T: number, accumulate = false): void {
  const C = E.shape[1];
  for (const c of E.chunks) {
    ctx.dispatch('embed', params(T, C, c.row0, c.rows, accumulate ? 1 : 0), [ids, c.buffer, y], grid1d(T * C));
  }
}

/**
 * The geometry of a row kernel over T rows (shaders/common/row_reduce.wgsl): RW threads per row,
 * 64 / RW rows per 64-thread workgroup; RW = 1 (a thread per row, no barriers) on the barrier-free
 * variant the context chose for software adapters.
 */
export function rowGrid(ctx: GpuContext, T: number): { groups: [number]; defines: { RW: number } } {
  const RW = ctx.matmulVariant === 'rb' ? 1 : 64;
  return { groups: [Math.ceil(T / (64 / RW))], defines: { RW } };
}

/** y = rmsnorm(x) * w.  x, y: (T, C). */
export function rmsnorm(ctx: GpuContext, x: GPUBuffer, w: GpuTensor, y: GPUBuffer, T: number, C: number, eps: number): void {
  const g = rowGrid(ctx, T);
  ctx.dispatch('rmsnorm', params(T, C, { f: eps }, 0), [x, w.chunks[0].buffer, y], g.groups, g.defines);
}

/** y = layernorm(x) * w + b.  x, y: (T, C). */
export function layernorm(
  ctx: GpuContext, x: GPUBuffer, w: GpuTensor, b: GpuTensor | undefined, y: GPUBuffer, T: number, C: number, eps: number,
): void {
  const g = rowGrid(ctx, T);
  ctx.dispatch('layernorm', params(T, C, { f: eps }, b ? 1 : 0), [x, w.chunks[0].buffer, b ? b.chunks[0].buffer : ctx.empty, y], g.groups, g.defines);
}

/** In-place rotary embedding on x: (T, nHeads, headDim); cs: (T, rot/2, 2) cos/sin table. */
export function rope(ctx: GpuContext, x: GPUBuffer, cs: GPUBuffer, T: number, nHeads: number, headDim: number, rot: number): void {
  if (rot === 0) return;
  ctx.dispatch('rope', params(T, nHeads, headDim, rot), [x, cs], grid1d((T * nHeads * rot) / 2));
}

/** Causal attention. q, o: (T, H, D); k, v: (pos0 + T, Hkv, D). */
export function attention(
  ctx: GpuContext, q: GPUBuffer, k: GPUBuffer, v: GPUBuffer, o: GPUBuffer,
  T: number, H: number, Hkv: number, D: number, scale: number, pos0 = 0,
): void {
  if (D > 256) throw new Error(`attention: head_dim ${D} > 256 is not supported`);
  // Keys per tile: K and V tiles take KT·D·8 bytes of workgroup memory; keep it within 16 KiB.
  const KT = Math.max(1, Math.min(64, Math.floor(2048 / D)));
  ctx.dispatch('attention', params(T, H, Hkv, D, pos0, { f: scale }, 0, 0), [q, k, v, o], [Math.ceil(T / 64), H], { HD: D, KT });
}

export const ACT_MODE = { gelu_new: 0, gelu: 1, relu: 2, silu: 3 } as const;

/** In place: x = act(x) (* u). x, u: (n). */
export function activation(ctx: GpuContext, x: GPUBuffer, n: number, act: keyof typeof ACT_MODE, gate?: GPUBuffer): void {
  ctx.dispatch('activation', params(n, ACT_MODE[act], gate ? 1 : 0, 0), [x, gate ?? ctx.empty], grid1d(n));
}

/** nll[row0 + t] = logsumexp(L[t]) - L[t, tgt[row0 + t]] for t < rows.  L: (rows, V). */
export function nll(ctx: GpuContext, logits: GPUBuffer, targets: GPUBuffer, out: GPUBuffer, rows: number, V: number, row0: number): void {
  // No teacher: its bindings take the targets (read) and the placeholder (written), never read.
  ctx.dispatch('nll', params(rows, V, row0, { f: 0 }, 0, 0, 0, 0), [logits, targets, out, targets, ctx.empty], [rows]);
}

/** H = a·H + b·XᵀX.  x: (T, C), h: (C, C). */
export function hessian(ctx: GpuContext, x: GPUBuffer | Binding, h: GPUBuffer, T: number, C: number, a: number, b: number): void {
  // H = a·H + b·XᵀX is the cross-Gram AᵀB with A = B = X (both bindings read-only, so one buffer may
  // be bound twice): one kernel serves SparseGPT's statistics and SparseLLM's cross-covariances.
  crossGramDispatch(ctx, params(T, C, C, { f: a }, { f: b }, 0, 0, 0), [x, x, h], C, C);
}

/**
 * SparseGPT's column sweep over the block [i1, i1 + B) of w: (R, C), in place; errors of the block
 * go to e: (R, B), per-row losses accumulate in loss: (R). nm = [N, M] chooses N:M masks in the
 * kernel; otherwise `mask` (R, B) (1 = prune) is used.
 */
export function obsSweep(
  ctx: GpuContext, w: GPUBuffer, hinv: GPUBuffer, mask: GPUBuffer, e: GPUBuffer, loss: GPUBuffer,
  R: number, C: number, i1: number, B: number, nm?: [number, number],
): void {
  ctx.dispatch('obs_sweep', params(R, C, i1, B, nm ? nm[0] : 0, nm ? nm[1] : 0, 0, 0), [w, hinv, mask, e, loss], grid1d(R, 64));
}
