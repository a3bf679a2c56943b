// SparseGPT (Frantar & Alistarh 2023), row-wise OBS exactly as sparsegpt.py's fasterprune:
//   dead inputs (H_ii = 0): H_ii = 1 and W[:, i] = 0;  λ = percdamp · mean(diag H);  H += λI;
//   U = upper Cholesky factor of H⁻¹ (float64 on the CPU, see cholesky.ts);
//   columns in blocks of `blocksize`: the unstructured mask of a block is chosen over the whole
//   block (all rows × block columns) by w² / U_jj², N:M masks per row and group inside the sweep;
//   the error of each pruned column is pushed onto the block's remaining columns (obs_sweep.wgsl),
//   then one strided matmul updates every column right of the block.
// If H + λI is not positive definite, λ is multiplied by 10 and the factorisation retried (and the
// report says so); an identity matrix is never substituted.
import { NumericalError } from '../errors';
import * as op from '../gpu/ops';
import { inverseCholeskyUpper } from './linalg';
import type { MethodInput, MethodResult } from './method';
import { thresholdMask } from './select';
import { now } from '../units';

const MAX_RETRIES = 4;

export async function sparsegpt(m: MethodInput): Promise<MethodResult> {
  const { ctx, w, R, C, stats, target } = m;
  const t0 = now();
  // H in float64 with SparseGPT's dead-input handling.
  const H = Float64Array.from(stats.hCpu);
  const dead: number[] = [];
  for (let i = 0; i < C; i++) {
    if (H[i * C + i] === 0) {
      H[i * C + i] = 1;
      dead.push(i);
    }
  }
  if (dead.length) {
    const W0 = Float32Array.from(m.dense);
    for (let r = 0; r < R; r++) for (const i of dead) W0[r * C + i] = 0;
    ctx.device.queue.writeBuffer(w, 0, W0);
  }
  let meanDiag = 0;
  for (let i = 0; i < C; i++) meanDiag += H[i * C + i];
  meanDiag /= C;
  let damp = m.percdamp * meanDiag;
  let U: Float64Array | null = null;
  let note: string | undefined;
  for (let attempt = 0; attempt <= MAX_RETRIES && !U; attempt++) {
    const Hd = Float64Array.from(H);
    for (let i = 0; i < C; i++) Hd[i * C + i] += damp;
    try {
      U = inverseCholeskyUpper(Hd, C);
    } catch (e) {
      if (!(e instanceof NumericalError) || attempt === MAX_RETRIES) {
        throw new NumericalError(
          `SparseGPT: H + λI is not positive definite even with λ = ${damp.toExponential(3)} (${MAX_RETRIES} retries at 10× dampening): ${(e as Error).message}. The calibration inputs of this sublayer may contain NaN/Inf or be degenerate.`,
        );
      }
      damp *= 10;
      note = `Cholesky failed; retried with 10× dampening (λ = ${damp.toExponential(3)})`;
    }
  }
  const u = U!;
  const ut = new Float32Array(C * C); // Uᵀ, for the lazy block update
  for (let i = 0; i < C; i++) for (let j = i; j < C; j++) ut[j * C + i] = u[i * C + j];
  const t1 = now();

  const hinv = ctx.upload(Float32Array.from(u), 'sparsegpt.hinv');
  const hinvT = ctx.upload(ut, 'sparsegpt.hinvT');
  const B = Math.max(1, Math.min(m.blocksize, C));
  const E = ctx.storage(R * B * 4, 'sparsegpt.err');
  const loss = ctx.storage(R * 4, 'sparsegpt.loss');
  const maskBuf = ctx.storage(R * B * 4, 'sparsegpt.mask');
  try {
    for (let i1 = 0; i1 < C; i1 += B) {
      const b = Math.min(B, C - i1);
      if (target.kind === 'unstructured') {
        // The block's mask over all rows × b columns, from the current (already updated) weights.
        const cur = await ctx.read(w, 0, R * C * 4);
        const scores = new Float64Array(R * b);
        for (let r = 0; r < R; r++) {
          for (let j = 0; j < b; j++) {
            const d = u[(i1 + j) * C + i1 + j];
            const x = cur[r * C + i1 + j];
            scores[r * b + j] = (x * x) / (d * d);
          }
        }
        const mask = new Uint8Array(R * b);
        thresholdMask(scores, target.sparsity, mask);
        ctx.device.queue.writeBuffer(maskBuf, 0, Uint32Array.from(mask));
      }
      op.obsSweep(ctx, w, hinv, maskBuf, E, loss, R, C, i1, b, target.kind === 'nm' ? [target.n, target.m] : undefined);
      if (i1 + b < C) {
        // W[:, i1+b:] -= E · U[i1:i1+b, i1+b:]  (as X Wᵀ with W = Uᵀ[i1+b:, i1:i1+b]).
        op.gemmStrided(ctx, E, hinvT, w, {
          T: R, N: C - i1 - b, K: b, ldw: C, wOff: (i1 + b) * C + i1, ldy: C, yCol0: i1 + b, accumulate: true, subtract: true,
        });
      }
      ctx.submit();
    }
    await ctx.finish();
  } finally {
    for (const b of [hinv, hinvT, E, loss, maskBuf]) ctx.destroy(b);
  }
  return { damp, note, factorisation: (t1 - t0) / 1000, sweep: (now() - t1) / 1000 };
}
