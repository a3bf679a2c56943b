// Magnitude pruning: per weight matrix, remove the smallest |w| (one threshold over the whole
// matrix, as wanda's prune_magnitude); N:M: the N smallest |w| of every M consecutive inputs of a row.
// No statistics are used and no weights are updated. The unstructured mask is chosen on the GPU
// (gpu/ops-select.ts, the same mask) on a hardware adapter, from the dense copy on the CPU otherwise.
import * as sel from '../gpu/ops-select';
import { defaultFactorisation } from '../options';
import { type MethodInput, type MethodResult, applyMask } from './method';
import { nmMask, thresholdMask } from './select';

export async function magnitude(m: MethodInput): Promise<MethodResult> {
  const { ctx } = m;
  if (m.target.kind === 'unstructured' && (m.selectOn ?? defaultFactorisation(ctx.adapter.isSoftware)) === 'gpu') {
    // On the GPU: |w| of the dense weight, its threshold by radix select, the pruned entries zeroed.
    const n = m.R * m.C;
    ctx.device.queue.writeBuffer(m.w, 0, Float32Array.from(m.dense));
    if (m.target.sparsity <= 0) return {};
    const scores = ctx.storage(n * 4, 'magnitude.scores'), scratch = sel.selectScratch(ctx);
    try {
      sel.magnitudeScores(ctx, m.w, scores, n);
      sel.thresholdSelect(ctx, scores, n, sel.thresholdRank(n, m.target.sparsity), m.w, scratch, { zeroWeight: true });
      await ctx.finish();
    } finally {
      for (const b of [scores, scratch.state, scratch.hist]) ctx.destroy(b);
    }
    return {};
  }
  const scores = Float64Array.from(m.dense, Math.abs);
  const mask = new Uint8Array(m.R * m.C);
  if (m.target.kind === 'nm') nmMask(scores, m.R, m.C, m.target.n, m.target.m, mask);
  else thresholdMask(scores, m.target.sparsity, mask);
  applyMask(m, mask);
  return {};
}
