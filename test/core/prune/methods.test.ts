// The GPU pruning methods against the float64 references of the published algorithms
// (src/core/reference/prune.ts) on tiny synthetic layers: same masks (except exact ties), weights
// within f32 tolerance; and the Hessian kernel against SparseGPT's add_batch.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as op from '../../../src/core/gpu/ops';
import { inverseCholeskyUpper } from '../../../src/core/prune/linalg';
import { magnitude } from '../../../src/core/prune/magnitude';
import type { MethodInput } from '../../../src/core/prune/method';
import { sparsegpt } from '../../../src/core/prune/sparsegpt';
import type { Target } from '../../../src/core/prune/types';
import { wanda } from '../../../src/core/prune/wanda';
import {
  createHessianState, hessianAccumulate, magnitudeRef, sparsegptRef, wandaRef, type PrunePattern,
} from '../../../src/core/reference/prune';
import { correlatedInputs as calib, maxRelErr, randn, testContext, tolFor } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});
afterAll(() => ctx?.dispose());

async function gpuHessian(xs: Float32Array[], T: number, C: number): Promise<{ h: GPUBuffer; hCpu: Float32Array }> {
  const h = ctx.storage(C * C * 4, 'H');
  xs.forEach((x, s) => {
    const X = ctx.upload(x, 'x');
    op.hessian(ctx, X, h, T, C, s / (s + 1), 2 / (s + 1));
    ctx.submit();
  });
  return { h, hCpu: await ctx.read(h, 0, C * C * 4) };
}

const asPattern = (t: Target): PrunePattern => (t.kind === 'nm' ? { n: t.n, m: t.m } : { sparsity: t.sparsity });

function compareMasks(got: Float32Array, refMask: Uint8Array): number {
  let diff = 0;
  for (let i = 0; i < got.length; i++) if ((got[i] === 0 ? 1 : 0) !== refMask[i]) diff++;
  return diff;
}

test.each([[3, 20, 40], [2, 70, 130], [4, 33, 1]])('hessian kernel = SparseGPT add_batch (n=%i, T=%i, C=%i)', async (n, T, C) => {
  const xs = calib(n, T, C, 5);
  const { h, hCpu } = await gpuHessian(xs, T, C);
  const st = createHessianState(C);
  for (const x of xs) hessianAccumulate(st, x, T);
  expect(maxRelErr(hCpu, st.H).err).toBeLessThan(tolFor(T * n) * 4);
  ctx.destroy(h);
});

test('inverse Cholesky: UᵀU = H⁻¹ with U upper', () => {
  const C = 9;
  const A = randn(C * C, 3);
  const H = new Float64Array(C * C);
  for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) {
    let s = i === j ? 0.5 : 0;
    for (let k = 0; k < C; k++) s += A[i * C + k] * A[j * C + k];
    H[i * C + j] = s;
  }
  const U = inverseCholeskyUpper(H, C);
  for (let i = 0; i < C; i++) for (let j = 0; j < i; j++) expect(U[i * C + j]).toBe(0);
  // (UᵀU) H = I
  for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) {
    let s = 0;
    for (let k = 0; k < C; k++) {
      let uu = 0;
      for (let l = 0; l < C; l++) uu += U[l * C + i] * U[l * C + k];
      s += uu * H[k * C + j];
    }
    expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-9);
  }
});

const shapes: Array<[number, number]> = [[24, 40], [7, 136]];
const targets: Target[] = [
  { kind: 'unstructured', sparsity: 0.5 },
  { kind: 'unstructured', sparsity: 0.9 },
  { kind: 'nm', n: 2, m: 4 },
  { kind: 'nm', n: 4, m: 8 },
];

describe.each(shapes)('R=%i C=%i', (R, C) => {
  const T = 32;
  const dense = randn(R * C, 11, 0.5);

  async function run(fn: (m: MethodInput) => Promise<unknown>, target: Target, blocksize = 128) {
    const xs = calib(3, T, C, 7);
    const { h, hCpu } = await gpuHessian(xs, T, C);
    const w = ctx.upload(dense, 'w');
    await fn({ ctx, w, R, C, dense, stats: { h, hCpu, C }, target, percdamp: 0.01, blocksize });
    const got = await ctx.read(w, 0, R * C * 4);
    ctx.destroy(w);
    ctx.destroy(h);
    return { got, hCpu };
  }

  test.each(targets)('magnitude %o', async (target) => {
    const { got } = await run(magnitude, target);
    const ref = magnitudeRef(dense, R, C, asPattern(target));
    expect(compareMasks(got, ref.mask)).toBe(0);
    expect(maxRelErr(got, ref.W).err).toBe(0);
  });

  test.each(targets)('wanda %o', async (target) => {
    const { got, hCpu } = await run(wanda, target);
    // scaler_row = Σ||x_j||²/n = diag(H)/2 (same ranking as the reference's running mean).
    const scaler = Array.from({ length: C }, (_, j) => hCpu[j * C + j] / 2);
    const ref = wandaRef(dense, R, C, scaler, asPattern(target));
    expect(compareMasks(got, ref.mask)).toBe(0);
    expect(maxRelErr(got, ref.W).err).toBe(0);
  });

  test.each(targets)('sparsegpt %o', async (target) => {
    for (const blocksize of [128, 16]) {
      const { got, hCpu } = await run(sparsegpt, target, blocksize);
      const ref = sparsegptRef(dense, R, C, Float64Array.from(hCpu), asPattern(target), { blocksize, percdamp: 0.01 });
      // Masks follow the updated weights, so an f32 rounding can flip a near-tie: allow 1 in 200.
      expect(compareMasks(got, ref.mask)).toBeLessThanOrEqual(Math.ceil(R * C * 0.005));
      let worst = 0;
      for (let i = 0; i < got.length; i++) if ((got[i] === 0) === (ref.mask[i] === 1)) worst = Math.max(worst, Math.abs(got[i] - ref.W[i]));
      expect(worst).toBeLessThan(2e-4);
    }
  });
});
