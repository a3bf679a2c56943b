// Host side of mask selection on the GPU (shaders/select_*.wgsl, obs_scores.wgsl): the threshold
// of thresholdMask (src/core/prune/select.ts) by a radix select over the scores' bits, four
// passes of an 8-bit histogram, with no readback; then the mask. SparseGPT's unstructured blocks
// use it on the GPU path, so the sweep never reads the weights back. Per-row masks (Wanda's, with
// its column-order tie-break) and N:M masks are chosen and applied in place by one kernel each.
import { type GpuContext, grid1d, params } from './context';

/** The buffers a selection needs: the state (k left, prefix) and a 256-bin histogram. */
export interface SelectScratch {
  state: GPUBuffer;
  hist: GPUBuffer;
}

export function selectScratch(ctx: GpuContext): SelectScratch {
  return { state: ctx.storage(16, 'select.state'), hist: ctx.storage(256 * 4, 'select.hist') };
}

/**
 * mask (n u32) = 1 where scores[i] ≤ the k-th smallest of scores (0-based; scores ≥ 0, n > 0,
 * k < n): thresholdMask's rule, ties at the threshold all pruned; with zeroWeight, `mask` is the
 * weight (f32, n) and its pruned entries are set to 0 instead. Submits what was recorded before
 * (the state goes through a queue write), then records the passes.
 */
export function thresholdSelect(ctx: GpuContext, scores: GPUBuffer, n: number, k: number, mask: GPUBuffer, s: SelectScratch, opts: { zeroWeight?: boolean } = {}): void {
  // The state is written through the queue: what was recorded before it must be submitted first.
  ctx.submit();
  ctx.device.queue.writeBuffer(s.state, 0, Uint32Array.of(k, 0, 0, 0));
  const groups = Math.min(Math.ceil(n / 256), 1024);
  for (let pass = 0; pass < 4; pass++) {
    ctx.dispatch('select_hist', params(n, pass, 0, 0), [scores, s.state, s.hist], [groups]);
    ctx.dispatch('select_pick', params(256, 0, 0, 0), [s.state, s.hist], [1]);
  }
  ctx.dispatch('select_mask', params(n, opts.zeroWeight ? 1 : 0, 0, 0), [scores, s.state, mask], grid1d(n));
}

/** SparseGPT's scores of block [i1, i1 + b) of w (R, C): W² / diag(Hinv)², into scores (R, b). */
export function obsScores(ctx: GpuContext, w: GPUBuffer, hinv: GPUBuffer, scores: GPUBuffer, R: number, C: number, i1: number, b: number): void {
  ctx.dispatch('obs_scores', params(R, C, i1, b), [w, hinv, scores], grid1d(R * b));
}

/** The k of thresholdMask for n scores at `sparsity` (> 0). */
export function thresholdRank(n: number, sparsity: number): number {
  return Math.min(n - 1, Math.floor(n * sparsity));
}

/** Magnitude pruning's scores |w| of a weight w (n) into scores (n). */
export function magnitudeScores(ctx: GpuContext, w: GPUBuffer, scores: GPUBuffer, n: number): void {
  ctx.dispatch('magnitude_scores', params(n, 0, 0, 0), [w, scores], grid1d(n));
}

/**
 * rowwiseMask in place: in each row of w (R, C) the k lowest |w_rj| · scale_j set to 0, ties by
 * column (scale: (C), ≥ 0). k = 0 leaves w as it is.
 */
export function rowSelect(ctx: GpuContext, w: GPUBuffer, scale: GPUBuffer, R: number, C: number, k: number): void {
  if (k <= 0) return;
  ctx.dispatch('row_select', params(R, C, Math.min(k, C), 0), [scale, w], grid1d(R, 1));
}

/** nmMask in place: the N lowest |w_rj| · scale_j of every M consecutive inputs of a row of w (R, C) set to 0. */
export function nmSelect(ctx: GpuContext, w: GPUBuffer, scale: GPUBuffer, R: number, C: number, n: number, m: number): void {
  ctx.dispatch('nm_select', params(R, C, n, m), [scale, w], grid1d(R * Math.ceil(C / m)));
}
