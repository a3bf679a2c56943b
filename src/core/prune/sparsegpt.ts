// SparseGPT (Frantar & Alistarh 2023), row-wise OBS exactly as sparsegpt.py's fasterprune:
//   dead inputs (H_ii = 0): H_ii = 1 and W[:, i] = 0;  λ = percdamp · mean(diag H);  H += λI;
//   U = upper Cholesky factor of H⁻¹ (f32 on the GPU, gpu/ops-factor.ts, as the published code
//   on CUDA; or float64 on the CPU, linalg.ts; by default the GPU unless the adapter is software);
//   columns in blocks of `blocksize`: the unstructured mask of a block is chosen over the whole
//   block (all rows × block columns) by w² / U_jj², N:M masks per row and group inside the sweep;
//   the error of each pruned column is pushed onto the block's remaining columns (obs_sweep.wgsl),
//   then one strided matmul updates every column right of the block.
// If H + λI is not positive definite, λ is multiplied by 10 and the factorisation retried (and the
// report says so); an identity matrix is never substituted.
import { NumericalError } from '../errors';
import * as op from '../gpu/ops';
import * as fop from '../gpu/ops-factor';
import * as sel from '../gpu/ops-select';
import type { GpuContext } from '../gpu/context';
import { type Factorisation, defaultFactorisation } from '../options';
import { inverseCholeskyUpper } from './linalg';
import type { MethodInput, MethodResult, PreparedFactor } from './method';
import { thresholdMask } from './select';
import { now } from '../units';

const MAX_RETRIES = 4;

export async function sparsegpt(m: MethodInput): Promise<MethodResult> {
  const { ctx, w, R, C, stats, target } = m;
  const t0 = now();
  // Sublayers that read the same input share H, and so its dead inputs, dampening and factor.
  const cached = m.factors?.get(stats.h);
  const prep = cached ?? (await prepare(m));
  if (!cached) m.factors?.set(stats.h, prep);
  if (prep.dead.length) {
    const W0 = Float32Array.from(m.dense);
    for (let r = 0; r < R; r++) for (const i of prep.dead) W0[r * C + i] = 0;
    ctx.device.queue.writeBuffer(w, 0, W0);
  }
  const { hinv, hinvT, diag, damp, note } = prep;
  const where = m.factorisation ?? defaultFactorisation(ctx.adapter.isSoftware);
  const t1 = now();

  const B = Math.max(1, Math.min(m.blocksize, C));
  const E = ctx.storage(R * B * 4, 'sparsegpt.err');
  const loss = ctx.storage(R * 4, 'sparsegpt.loss');
  const maskBuf = ctx.storage(R * B * 4, 'sparsegpt.mask');
  // The GPU path chooses unstructured masks on the GPU too: no readback inside the sweep.
  const gpuSelect = where === 'gpu' && target.kind === 'unstructured' ? { scores: ctx.storage(R * B * 4, 'sparsegpt.scores'), ...sel.selectScratch(ctx) } : null;
  try {
    for (let i1 = 0; i1 < C; i1 += B) {
      const b = Math.min(B, C - i1);
      if (target.kind === 'unstructured' && gpuSelect) {
        if (target.sparsity > 0) {
          sel.obsScores(ctx, w, hinv, gpuSelect.scores, R, C, i1, b);
          sel.thresholdSelect(ctx, gpuSelect.scores, R * b, sel.thresholdRank(R * b, target.sparsity), maskBuf, gpuSelect);
        } else {
          ctx.clear(maskBuf);
        }
      } else if (target.kind === 'unstructured') {
        // The block's mask over all rows × b columns, from the current (already updated) weights.
        const cur = await ctx.read(w, 0, R * C * 4);
        const scores = new Float64Array(R * b);
        for (let r = 0; r < R; r++) {
          for (let j = 0; j < b; j++) {
            const d = diag[i1 + j];
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
    for (const b of [E, loss, maskBuf]) ctx.destroy(b);
    // Without a shared cache the factor is this call's own.
    if (!m.factors) for (const b of [hinv, hinvT]) ctx.destroy(b);
    if (gpuSelect) for (const b of [gpuSelect.scores, gpuSelect.state, gpuSelect.hist]) ctx.destroy(b);
  }
  return { damp, note, factorisation: (t1 - t0) / 1000, sweep: (now() - t1) / 1000, factorised: !cached };
}

/**
 * SparseGPT's preparation of H, as fasterprune: dead inputs (H_ii = 0) get H_ii = 1 (and W[:, i] = 0
 * in the caller); λ = percdamp · mean(diag H); the factor of H + λI, retried with 10× λ while it is
 * not positive definite (the report says so); an identity is never substituted.
 */
async function prepare(m: MethodInput): Promise<PreparedFactor> {
  const { ctx, C, stats } = m;
  // H in float64 with SparseGPT's dead-input handling.
  const H = Float64Array.from(stats.hCpu);
  const dead: number[] = [];
  for (let i = 0; i < C; i++) {
    if (H[i * C + i] === 0) {
      H[i * C + i] = 1;
      dead.push(i);
    }
  }
  let meanDiag = 0;
  for (let i = 0; i < C; i++) meanDiag += H[i * C + i];
  meanDiag /= C;
  let damp = m.percdamp * meanDiag;
  const where = m.factorisation ?? defaultFactorisation(ctx.adapter.isSoftware);
  let note: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const f = await factorise(ctx, H, C, damp, where);
      return { ...f, damp, note, dead };
    } catch (e) {
      // Only a failed factorisation is retried; anything else (a lost device, memory) goes up as it is.
      if (!(e instanceof NumericalError)) throw e;
      if (attempt === MAX_RETRIES) {
        throw new NumericalError(
          `SparseGPT: H + λI is not positive definite even with λ = ${damp.toExponential(3)} (${MAX_RETRIES} retries at 10× dampening): ${(e as Error).message}. The calibration inputs of this sublayer may contain NaN/Inf or be degenerate.`,
        );
      }
      damp *= 10;
      note = `Cholesky failed; retried with 10× dampening (λ = ${damp.toExponential(3)})`;
    }
  }
}

/** U (upper, H⁻¹ = UᵀU) and Uᵀ on the GPU, (C, C) each, and U's diagonal on the CPU. */
export interface Factor {
  hinv: GPUBuffer;
  hinvT: GPUBuffer;
  diag: ArrayLike<number>;
}

/**
 * SparseGPT's factor of H + λI (H: (C, C) in float64, dead inputs already handled) where asked;
 * NumericalError when it is not positive definite. The caller destroys the buffers.
 */
export function factorise(ctx: GpuContext, H: Float64Array, C: number, damp: number, where: Factorisation): Promise<Factor> {
  return where === 'gpu' ? factorGpu(ctx, H, C, damp) : factorCpu(ctx, H, C, damp);
}

/** In float64 on the CPU (linalg.ts), then uploaded. */
async function factorCpu(ctx: GpuContext, H: Float64Array, C: number, damp: number): Promise<Factor> {
  const Hd = Float64Array.from(H);
  for (let i = 0; i < C; i++) Hd[i * C + i] += damp;
  const u = inverseCholeskyUpper(Hd, C);
  const ut = new Float32Array(C * C); // Uᵀ, for the lazy block update
  for (let i = 0; i < C; i++) for (let j = i; j < C; j++) ut[j * C + i] = u[i * C + j];
  const diag = new Float64Array(C);
  for (let i = 0; i < C; i++) diag[i] = u[i * C + i];
  return { hinv: ctx.upload(Float32Array.from(u), 'sparsegpt.hinv'), hinvT: ctx.upload(ut, 'sparsegpt.hinvT'), diag };
}

/**
 * In f32 on the GPU (gpu/ops-factor.ts): J(H + λI)J uploaded, factorised and inverted there; one
 * read brings back the pivot status and U's diagonal.
 */
async function factorGpu(ctx: GpuContext, H: Float64Array, C: number, damp: number): Promise<Factor> {
  const a = new Float32Array(C * C);
  for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) a[i * C + j] = H[(C - 1 - i) * C + (C - 1 - j)] + (i === j ? damp : 0);
  const A = ctx.upload(a, 'sparsegpt.factor');
  const X = ctx.storage(C * C * 4, 'sparsegpt.inverse');
  const S = ctx.storage(fop.invertLowerScratchBytes(C), 'sparsegpt.factor.scratch');
  // aux: the status word, then U's diagonal from byte 256 (a storage binding's offset alignment).
  const aux = ctx.storage(256 + C * 4, 'sparsegpt.factor.aux');
  const made: GPUBuffer[] = [];
  try {
    fop.choleskyLower(ctx, A, aux, C);
    fop.invertLower(ctx, A, X, S, C);
    const hinv = ctx.storage(C * C * 4, 'sparsegpt.hinv');
    made.push(hinv);
    const hinvT = ctx.storage(C * C * 4, 'sparsegpt.hinvT');
    made.push(hinvT);
    fop.reverseFactor(ctx, X, hinv, hinvT, { buffer: aux, offset: 256, size: C * 4 }, C);
    const back = await ctx.read(aux, 0, 256 + C * 4);
    const bad = new Uint32Array(back.buffer, 0, 1)[0];
    if (bad) throw new NumericalError(`the matrix is not positive definite (pivot ${bad - 1} of ${C} in f32)`);
    return { hinv, hinvT, diag: back.subarray(64) };
  } catch (e) {
    for (const b of made) ctx.destroy(b);
    throw e;
  } finally {
    for (const b of [A, X, S, aux]) ctx.destroy(b);
  }
}
