// Magnitude pruning: per weight matrix, remove the smallest |w| (one threshold over the whole
// matrix, as wanda's prune_magnitude); N:M: the N smallest |w| of every M consecutive inputs of a row.
// No statistics are used and no weights are updated. On a hardware adapter (by default) the mask
// is chosen and applied on the GPU (gpu/ops-select.ts: the radix-select threshold, or the N:M
// kernel), the same mask; from the dense copy on the CPU otherwise.
import * as sel from '../gpu/ops-select';
import { type MethodInput, type MethodResult, applyMask, selectsOnGpu } from './method';
import { nmMask, thresholdMask } from './select';

export async function magnitude(m: MethodInput): Promise<MethodResult> {
  const { ctx, R, C } = m;
  if (selectsOnGpu(m)) {
    const n = R * C;
    ctx.device.queue.writeBuffer(m.w, 0, Float32Array.from(m.dense));
    if (m.target.kind === 'unstructured' && m.target.sparsity <= 0) return {};
    const made: GPUBuffer[] = [];
    try {
      if (m.target.kind === 'nm') {
        const ones = ctx.upload(new Float32Array(C).fill(1), 'magnitude.ones');
        made.push(ones);
        sel.nmSelect(ctx, m.w, ones, R, C, m.target.n, m.target.m);
      } else {
        // |w| of the dense weight, its threshold by radix select, the pruned entries zeroed.
        const scores = ctx.storage(n * 4, 'magnitude.scores'), scratch = sel.selectScratch(ctx);
        made.push(scores, scratch.state, scratch.hist);
        sel.magnitudeScores(ctx, m.w, scores, n);
        sel.thresholdSelect(ctx, scores, n, sel.thresholdRank(n, m.target.sparsity), m.w, scratch, { zeroWeight: true });
      }
      await ctx.finish();
    } finally {
      made.forEach((b) => ctx.destroy(b));
    }
    return {};
  }
  const scores = Float64Array.from(m.dense, Math.abs);
  const mask = new Uint8Array(R * C);
  if (m.target.kind === 'nm') nmMask(scores, R, C, m.target.n, m.target.m, mask);
  else thresholdMask(scores, m.target.sparsity, mask);
  applyMask(m, mask);
  return {};
}
