// Wanda (Sun et al. 2023): score |W_ij| · ||X_j||₂ (the input feature's norm over all calibration
// tokens) and prune the lowest fraction in each output row; N:M per group. No weight update.
// ||X_j||² over the calibration set is diag(H) · n / 2, so ranking by |W_ij| · sqrt(H_jj) within a
// row gives the same mask as wanda's scaler_row. On the GPU (a hardware adapter's default) the mask
// is chosen and applied in place (gpu/ops-select.ts) from f32 scores, as the published code's
// torch.abs(W) * torch.sqrt(scaler_row) are; on the CPU from float64 scores.
import * as sel from '../gpu/ops-select';
import { type MethodInput, type MethodResult, applyMask, selectsOnGpu } from './method';
import { nmMask, rowwiseMask } from './select';

export async function wanda(m: MethodInput): Promise<MethodResult> {
  const { ctx, R, C, dense, stats } = m;
  const norm = new Float64Array(C);
  for (let j = 0; j < C; j++) norm[j] = Math.sqrt(Math.max(0, stats.hCpu[j * C + j]));
  if (selectsOnGpu(m)) {
    ctx.device.queue.writeBuffer(m.w, 0, Float32Array.from(dense));
    const scale = ctx.upload(Float32Array.from(norm), 'wanda.scale');
    try {
      if (m.target.kind === 'nm') sel.nmSelect(ctx, m.w, scale, R, C, m.target.n, m.target.m);
      else sel.rowSelect(ctx, m.w, scale, R, C, Math.floor(C * m.target.sparsity));
      await ctx.finish();
    } finally {
      ctx.destroy(scale);
    }
    return {};
  }
  const scores = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) scores[r * C + j] = Math.abs(dense[r * C + j]) * norm[j];
  const mask = new Uint8Array(R * C);
  if (m.target.kind === 'nm') nmMask(scores, R, C, m.target.n, m.target.m, mask);
  else rowwiseMask(scores, R, C, m.target.sparsity, mask);
  applyMask(m, mask);
  return {};
}
