// Host side of the GPU factorisation (shaders/cholesky_*.wgsl, trtri_*.wgsl): SparseGPT's upper
// factor U of (H + λI)⁻¹ in f32, as the published code computes it on CUDA, by the route
// src/core/prune/linalg.ts takes in float64: the lower Cholesky factor L' of J(H + λI)J (J the
// reversal), its inverse, and U = J L'⁻¹ J. Blocked in NB = 32: per block column, the diagonal
// block, the panel below it and the trailing update (3 dispatches); then the diagonal blocks'
// inverses and, per block diagonal, two passes (2 dispatches each). About n³/3 flops for the
// factor and n³/6 for the inverse.
import { type Binding, type GpuContext, params } from './context';

/** Rows of a factorisation block (the NB of the shaders). */
export const FACTOR_BLOCK = 32;

/**
 * In place: a (n, n) symmetric positive definite → its lower Cholesky factor (the strict upper part
 * keeps stale values; nothing reads it). status (1 u32, 0 before) gets the first pivot that was
 * not positive, + 1.
 */
export function choleskyLower(ctx: GpuContext, a: GPUBuffer, status: GPUBuffer, n: number): void {
  const NB = FACTOR_BLOCK;
  for (let k0 = 0; k0 < n; k0 += NB) {
    const kb = Math.min(NB, n - k0);
    const words = params(n, k0, kb, 0);
    ctx.dispatch('cholesky_block', words, [a, status], [1]);
    const m = n - k0 - kb;
    if (m > 0) {
      ctx.dispatch('cholesky_panel', words, [a], [Math.ceil(m / 64)]);
      const q = Math.ceil(m / 4);
      ctx.dispatch('cholesky_update', words, [a], [Math.ceil(q / 16), Math.ceil(q / 4)]);
    }
    ctx.submit();
  }
}

/** Bytes of the scratch `invertLower` needs for n. */
export function invertLowerScratchBytes(n: number): number {
  return Math.ceil(n / FACTOR_BLOCK) * FACTOR_BLOCK * FACTOR_BLOCK * 4;
}

/** x (n, n), zero on entry ← l⁻¹ for l (n, n) lower (its strict upper part is not read). */
export function invertLower(ctx: GpuContext, l: GPUBuffer, x: GPUBuffer, scratch: GPUBuffer, n: number): void {
  const blocks = Math.ceil(n / FACTOR_BLOCK);
  ctx.dispatch('trtri_diag', params(n, 0, 0, 0), [l, x], [blocks]);
  for (let d = 1; d < blocks; d++) {
    ctx.dispatch('trtri_offdiag', params(n, d, 0, 0), [l, x, scratch], [1, blocks - d]);
    ctx.dispatch('trtri_offdiag', params(n, d, 0, 1), [l, x, scratch], [1, blocks - d]);
    ctx.submit();
  }
}

/** U (upper), Uᵀ and diag U from x = L'⁻¹: U = J x J (see shaders/cholesky_reverse.wgsl). */
export function reverseFactor(ctx: GpuContext, x: GPUBuffer, u: GPUBuffer, ut: GPUBuffer, diag: GPUBuffer | Binding, n: number): void {
  ctx.dispatch('cholesky_reverse', params(n, 0, 0, 0), [x, u, ut, diag], [Math.ceil(n / 16), Math.ceil(n / 16)]);
}
