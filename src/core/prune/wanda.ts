// Wanda (Sun et al. 2023): score |W_ij| · ||X_j||₂ (the input feature's norm over all calibration
// tokens) and prune the lowest fraction in each output row; N:M per group. No weight update.
// ||X_j||² over the calibration set is diag(H) · n / 2, so ranking by |W_ij| · sqrt(H_jj) within a
// row gives the same mask as wanda's scaler_row.
import { type MethodInput, type MethodResult, applyMask } from './method';
import { nmMask, rowwiseMask } from './select';

export async function wanda(m: MethodInput): Promise<MethodResult> {
  const { R, C, dense, stats } = m;
  const norm = new Float64Array(C);
  for (let j = 0; j < C; j++) norm[j] = Math.sqrt(Math.max(0, stats.hCpu[j * C + j]));
  const scores = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) scores[r * C + j] = Math.abs(dense[r * C + j]) * norm[j];
  const mask = new Uint8Array(R * C);
  if (m.target.kind === 'nm') nmMask(scores, R, C, m.target.n, m.target.m, mask);
  else rowwiseMask(scores, R, C, m.target.sparsity, mask);
  applyMask(m, mask);
  return {};
}
