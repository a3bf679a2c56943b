// Host side of the sparse (and dense baseline) linear kernels: y (+)= x Wᵀ + b with W uploaded by
// gpu.ts in any format of formats.ts. Same logical contract as ops.matmul: x (T, K) f32,
// y (T, ldy) f32 written at columns yCol0 .. yCol0 + N, optional bias (N) f32, optional accumulate.
// Functions record dispatches on the context (nothing is submitted here), one per row block.
//
//   spmv          decode kernels, one GEMV per token: gemv.wgsl (v1) / gemv_subgroup.wgsl (v2) for
//                 dense W, spmv_<format>.wgsl otherwise.
//   spmm          prefill kernels (64 × 64 tiles): spmm_<format>.wgsl; dense f32 W goes to the
//                 engine's GEMM (matmul.wgsl / matmul_rb.wgsl), dense f16 to batched GEMVs.
//   sparseLinear  picks spmv for T <= GEMV_MAX_T, spmm otherwise.
//
// Kernel geometry (each shader's header has the details): GEMVs use lane groups of L lanes per row
// (L from the work per row), GEMMs stage 32-column chunks of X in workgroup memory. On software
// adapters (SwiftShader), where a barrier is a fiber switch, L = 1 and no staging: the
// barrier-free variants of the same shaders (as ctx.matmulVariant does for the dense GEMM).
//
// Row format: CSR, chosen over sliced ELL (SELL-32, kept as 'sell' outside FORMATS so the bench
// can re-check on GPUs). Measured with bench/spmm.ts on SwiftShader (the only adapter here: 2 CPU
// cores shared with other jobs, so ±2× run-to-run noise), f16, random unstructured masks, OPT-125M
// shapes, the software variants (a thread per row / unstaged GEMM):
//   GEMV T=1 (ms, csr vs sell)   768×768  50% 53 vs 20, 70% 16 vs 14, 90% 4.2 vs 9.6
//                                3072×768 50% 98 vs 112, 70% 32 vs 32, 90% 10.6 vs 16.0
//                                768×3072 50% 68 vs 69, 70% 39 vs 40, 90% 12.3 vs 16.7
//   GEMM T=128 (ms)              each wins 6 of the 12 points (e.g. 768×3072 90%: 862 vs 1364,
//                                70%: 2969 vs 2092)
//   bytes vs dense f16           768×768 50% 100.4% vs 107.3%, 70% 60.3% vs 67.2%, 90% 20.3% vs 24.5%
// Time on SwiftShader does not separate them beyond the noise, except at 90% where CSR's GEMV won
// on all three shapes; bytes always favour CSR, and they decide decode time on GPUs (memory-bound):
// SELL pads every row of a slice to the slice's longest, 4–20% more bytes for unequal rows (random
// masks, magnitude pruning over a layer). SELL's advantage, coalesced reads for a thread-per-row
// kernel, does not apply here: spmv_csr reads a row with L lanes (coalesced too) because LLM rows
// are long (hundreds of nonzeros) and N is too small for one thread per row to fill a GPU. CSR also
// pages at any row (SELL only at slice boundaries) and is the simpler format to export.
import type { Binding, GpuContext } from '../gpu/context';
import { params } from '../gpu/context';
import type { GpuTensor } from '../gpu/ops';
import { type FormatName, wordsPerRow } from '../model/sparse-formats';
import { type GpuSparse, denseRowWords } from './gpu';

export interface LinearOptions {
  /** y += result instead of y = result. */
  accumulate?: boolean;
  /** Row stride of y (default N). */
  ldy?: number;
  /** First column of y written (default 0). */
  yCol0?: number;
  /** GEMV lanes per row (power of two; 1 = a thread per row). Default: from the work per row; 1 on software adapters. */
  lanes?: number;
  /** GEMM: stage X chunks in workgroup memory. Default: yes on GPUs, no on software adapters. */
  stage?: boolean;
  /** Dense GEMV: 'v1' workgroup-memory reduction, 'v2' subgroup adds. Default: v2 where the device has `subgroups` (GPUs). */
  gemv?: 'v1' | 'v2';
}

export type Bias = GPUBuffer | GpuTensor | undefined;

/** Largest T for which sparseLinear uses the GEMV kernels (one pass over W per token). */
export const GEMV_MAX_T = 4;

const SPMV: Record<Exclude<FormatName, 'dense'>, string> = {
  bitmask: 'spmv_bitmask', '2:4': 'spmv_24', csr: 'spmv_csr', sell: 'spmv_sell',
};
const SPMM: Record<Exclude<FormatName, 'dense'>, string> = {
  bitmask: 'spmm_bitmask', '2:4': 'spmm_24', csr: 'spmm_csr', sell: 'spmm_sell',
};

export function hasSubgroups(ctx: GpuContext): boolean {
  return ctx.device.features.has('subgroups' as GPUFeatureName);
}

function biasBuffer(ctx: GpuContext, bias: Bias): GPUBuffer {
  if (!bias) return ctx.empty;
  if ('chunks' in bias) {
    if (bias.chunks.length !== 1) throw new Error('sparse linear: a paged bias is not supported');
    return bias.chunks[0].buffer;
  }
  return bias;
}

const pow2floor = (v: number) => 2 ** Math.floor(Math.log2(Math.max(1, v)));

/** Lanes per row of a GEMV: about 4 units of work (16-byte chunks, mask words, entries) per lane. */
export function gemvLanes(ctx: GpuContext, W: GpuSparse, opts: LinearOptions = {}): number {
  const max = W.format === 'sell' ? 8 : 256;
  if (opts.lanes !== undefined) {
    if (!Number.isInteger(Math.log2(opts.lanes)) || opts.lanes < 1 || opts.lanes > max) throw new Error(`lanes must be a power of two in 1..${max}`);
    return opts.lanes;
  }
  if (ctx.adapter.isSoftware) return 1;
  let units: number;
  switch (W.format) {
    case 'dense': units = denseRowWords(W.K, W.dtype) / 4; break;
    case 'bitmask': case '2:4': units = wordsPerRow(W.K); break;
    default: units = W.nnz / Math.max(1, W.N);
  }
  return Math.min(max, pow2floor(Math.min(64, Math.max(4, units / 4))));
}

function flagsOf(bias: Bias, opts: LinearOptions): number {
  return (bias ? 1 : 0) | (opts.accumulate ? 2 : 0);
}

/** Decode: y[t] (+)= W x[t] + b for each of the T tokens (one GEMV each). */
export function spmv(
  ctx: GpuContext, x: GPUBuffer | Binding, W: GpuSparse, bias: Bias, y: GPUBuffer, T: number, opts: LinearOptions = {},
): void {
  const { K, format } = W;
  const ldy = opts.ldy ?? W.N;
  const col0 = opts.yCol0 ?? 0;
  const flags = flagsOf(bias, opts);
  const B = biasBuffer(ctx, bias);
  const F16 = W.dtype === 'f16' ? 1 : 0;
  const L = gemvLanes(ctx, W, opts);
  for (const blk of W.blocks) {
    const rows = blk.rows;
    if (format === 'dense') {
      const ldw = denseRowWords(K, W.dtype);
      const words = params(T, rows, K, ldy, col0 + blk.row0, blk.row0, flags, ldw);
      const v2 = (opts.gemv ?? (hasSubgroups(ctx) && !ctx.adapter.isSoftware ? 'v2' : 'v1')) === 'v2';
      if (v2) {
        if (!hasSubgroups(ctx)) throw new Error('gemv v2 needs the subgroups feature');
        const WG = Math.min(256, Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, ldw / 4)))));
        ctx.dispatch('gemv_subgroup', words, [x, ...blk.buffers, B, y], [Math.ceil(rows / 4), T], { F16, WG });
      } else {
        ctx.dispatch('gemv', words, [x, ...blk.buffers, B, y], [Math.ceil(rows / (256 / L)), T], { F16, L });
      }
      continue;
    }
    const ld = format === 'bitmask' || format === '2:4' ? wordsPerRow(K) : 0;
    const defines: Record<string, number> = { F16, L };
    if (format === 'csr' || format === 'sell') defines.IDX16 = W.idx16 ? 1 : 0;
    ctx.dispatch(
      SPMV[format],
      params(T, rows, K, ldy, col0 + blk.row0, blk.row0, flags, ld),
      [x, ...blk.buffers, B, y],
      [Math.ceil(rows / (256 / L)), T],
      defines,
    );
  }
}

/** Prefill: Y (+)= X Wᵀ + b for T tokens at once (64 × 64 output tiles). */
export function spmm(
  ctx: GpuContext, x: GPUBuffer | Binding, W: GpuSparse, bias: Bias, y: GPUBuffer, T: number, opts: LinearOptions = {},
): void {
  const { K, format } = W;
  if (format === 'dense' && W.dtype === 'f16') {
    // No dense f16 GEMM in the engine: one GEMV per token (correct, not fast).
    spmv(ctx, x, W, bias, y, T, opts);
    return;
  }
  const ldy = opts.ldy ?? W.N;
  const col0 = opts.yCol0 ?? 0;
  const flags = flagsOf(bias, opts);
  const B = biasBuffer(ctx, bias);
  const stage = opts.stage ?? !ctx.adapter.isSoftware;
  for (const blk of W.blocks) {
    const rows = blk.rows;
    if (format === 'dense') {
      // The engine's dense GEMM (contract in shaders/matmul.wgsl), rows padded to ldw floats.
      const words = params(T, rows, K, ldy, col0 + blk.row0, blk.row0, flags, denseRowWords(K, 'f32'), 0, 0, 0);
      if (ctx.matmulVariant === 'rb') {
        ctx.dispatch('matmul_rb', words, [x, ...blk.buffers, B, y], [Math.ceil(Math.ceil(rows / 4) / 64), Math.ceil(T / 4)]);
      } else {
        ctx.dispatch('matmul', words, [x, ...blk.buffers, B, y], [Math.ceil(rows / 64), Math.ceil(T / 64)]);
      }
      continue;
    }
    const ld = format === 'bitmask' || format === '2:4' ? wordsPerRow(K) : 0;
    const defines: Record<string, number> = { F16: W.dtype === 'f16' ? 1 : 0, STAGE: stage ? 1 : 0 };
    if (format === 'csr' || format === 'sell') defines.IDX16 = W.idx16 ? 1 : 0;
    ctx.dispatch(
      SPMM[format],
      params(T, rows, K, ldy, col0 + blk.row0, blk.row0, flags, ld),
      [x, ...blk.buffers, B, y],
      [Math.ceil(rows / 64), Math.ceil(T / 64)],
      defines,
    );
  }
}

/** y (+)= x Wᵀ + b: the GEMV kernels for T <= GEMV_MAX_T, the GEMM kernels otherwise. */
export function sparseLinear(
  ctx: GpuContext, x: GPUBuffer | Binding, W: GpuSparse, bias: Bias, y: GPUBuffer, T: number, opts: LinearOptions = {},
): void {
  if (T <= GEMV_MAX_T) spmv(ctx, x, W, bias, y, T, opts);
  else spmm(ctx, x, W, bias, y, T, opts);
}
