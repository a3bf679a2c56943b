// Magnitude pruning: per weight matrix, remove the smallest |w| (one threshold over the whole
// matrix, as wanda's prune_magnitude); N:M: the N smallest |w| of every M consecutive inputs of a row.
// No statistics are used and no weights are updated.
import { type MethodInput, type MethodResult, applyMask } from './method';
import { nmMask, thresholdMask } from './select';

export async function magnitude(m: MethodInput): Promise<MethodResult> {
  const scores = Float64Array.from(m.dense, Math.abs);
  const mask = new Uint8Array(m.R * m.C);
  if (m.target.kind === 'nm') nmMask(scores, m.R, m.C, m.target.n, m.target.m, mask);
  else thresholdMask(scores, m.target.sparsity, mask);
  applyMask(m, mask);
  return {};
}
