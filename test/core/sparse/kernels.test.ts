// Every sparse / dense-baseline linear kernel against the float64 reference
// (src/core/reference/sparse.ts) on real WebGPU (Dawn; SwiftShader where there is no GPU): each
// format × f32/f16 × GEMV (several lane counts, batched over T) and GEMM (staged and not), with
// bias and accumulate, over odd shapes, empty rows, 0% and 99% sparsity, T = 1 and T > 1.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GpuContext } from '../../../src/core/gpu/context';
import { linearRef } from '../../../src/core/reference/kernels';
import { sparseLinearRef } from '../../../src/core/reference/sparse';
import { ALL_FORMATS, type FormatName, type ValueType, decode, encode } from '../../../src/core/model/sparse-formats';
import { type GpuSparse, destroySparse, uploadSparse } from '../../../src/core/sparse/gpu';
import { type LinearOptions, hasSubgroups, sparseLinear, spmm, spmv } from '../../../src/core/sparse/kernels';
import { acquireDevice } from '../../../src/core/gpu/device';
import { prune24, pruneRandom, randomDense } from '../../../src/core/sparse/synth';
import { nodeShaders } from '../../../src/node/files';
import { nodeGpu } from '../../../src/node/gpu';
import { maxRelErr, randn, testContext, tolFor } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  // With the subgroups feature where the adapter has it (SwiftShader does), so gemv v2 is tested.
  const { device, summary } = await acquireDevice(await nodeGpu());
  ctx = new GpuContext(device, summary, nodeShaders);
});
afterAll(() => ctx?.dispose());

/** A pruned (N, K) matrix; rows 3, 10, 17, ... are empty. */
function pruned(N: number, K: number, sparsity: number, seed: number, twoFour: boolean): Float32Array {
  let W = randomDense(N * K, seed);
  if (twoFour) {
    W = prune24(W, N, K, seed + 1);
    if (sparsity > 0.5) W = pruneRandom(W, (sparsity - 0.5) * 2, seed + 2);
  } else {
    W = pruneRandom(W, sparsity, seed + 1);
  }
  for (let r = 3; r < N; r += 7) W.fill(0, r * K, (r + 1) * K);
  return W;
}

type Kernel = { name: string; run: (x: GPUBuffer, W: GpuSparse, b: GPUBuffer | undefined, y: GPUBuffer, T: number, o: LinearOptions) => void };

function kernels(format: FormatName): Kernel[] {
  const lanes = format === 'sell' ? [1, 2, 8] : [1, 4, 32];
  const out: Kernel[] = lanes.map((L) => ({ name: `gemv L=${L}`, run: (x, W, b, y, T, o) => spmv(ctx, x, W, b, y, T, { ...o, lanes: L, gemv: 'v1' }) }));
  if (format === 'dense') {
    if (hasSubgroups(ctx)) out.push({ name: 'gemv v2 (subgroups)', run: (x, W, b, y, T, o) => spmv(ctx, x, W, b, y, T, { ...o, gemv: 'v2' }) });
  }
  out.push({ name: 'gemm staged', run: (x, W, b, y, T, o) => spmm(ctx, x, W, b, y, T, { ...o, stage: true }) });
  out.push({ name: 'gemm unstaged', run: (x, W, b, y, T, o) => spmm(ctx, x, W, b, y, T, { ...o, stage: false }) });
  return out;
}

// [T, N, K, sparsity]: odd shapes (not multiples of any tile, K % 4 != 0), T = 1 and T > 64.
const CASES: Array<[number, number, number, number]> = [
  [1, 1, 1, 0],
  [1, 37, 50, 0.5],
  [3, 70, 33, 0.99],
  [2, 64, 64, 0],
  [1, 300, 130, 0.7],
  [5, 130, 100, 0.5],
  [67, 65, 70, 0.9],
];

const FORMATS_UNDER_TEST: FormatName[] = [...ALL_FORMATS];

for (const format of FORMATS_UNDER_TEST) {
  describe(`${format}`, () => {
    for (const dtype of ['f32', 'f16'] as ValueType[]) {
      test.each(CASES)(`${dtype} T=%i N=%i K=%i sparsity=%f`, async (T, N, K, s) => {
        const W = pruned(N, K, s, N * 7 + K, format === '2:4');
        const m = encode(format, W, N, K, dtype);
        const g = uploadSparse(ctx, m);
        const x = randn(T * K, 1), b = randn(N, 2), y0 = randn(T * N, 3);
        const X = ctx.upload(x, 'x'), Bb = ctx.upload(b, 'b');
        const withAll = sparseLinearRef(x, T, m, b, y0);
        const plain = sparseLinearRef(x, T, m);
        const tol = tolFor(K);
        try {
          for (const k of kernels(format)) {
            const Y = ctx.upload(y0, 'y');
            k.run(X, g, Bb, Y, T, { accumulate: true });
            const got = await ctx.read(Y, 0, T * N * 4);
            expect(maxRelErr(got, withAll).err, `${k.name}, bias + accumulate`).toBeLessThan(tol);
            const Y2 = ctx.upload(y0, 'y2');
            k.run(X, g, undefined, Y2, T, {});
            expect(maxRelErr(await ctx.read(Y2, 0, T * N * 4), plain).err, `${k.name}, plain`).toBeLessThan(tol);
            ctx.destroy(Y);
            ctx.destroy(Y2);
          }
        } finally {
          destroySparse(ctx, g);
          ctx.destroy(X);
          ctx.destroy(Bb);
        }
      });
    }
  });
}

describe('output placement and dispatch choice', () => {
  test('ldy / yCol0 write a column range of a wider y and leave the rest alone', async () => {
    const T = 3, N = 20, K = 40, ldy = 50, col0 = 17;
    const W = pruned(N, K, 0.6, 5, false);
    const m = encode('bitmask', W, N, K, 'f32');
    const g = uploadSparse(ctx, m);
    const x = randn(T * K, 6), y0 = randn(T * ldy, 7);
    const X = ctx.upload(x, 'x');
    const ref = sparseLinearRef(x, T, m);
    for (const run of [spmv, spmm]) {
      const Y = ctx.upload(y0, 'y');
      run(ctx, X, g, undefined, Y, T, { ldy, yCol0: col0 });
      const got = await ctx.read(Y, 0, T * ldy * 4);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < ldy; c++) {
          const n = c - col0;
          const want = n >= 0 && n < N ? ref[t * N + n] : y0[t * ldy + c];
          expect(Math.abs(got[t * ldy + c] - want)).toBeLessThan(1e-5 * (1 + Math.abs(want)));
        }
      }
    }
  });

  test('sparseLinear: GEMV for small T, GEMM for large T, same results', async () => {
    const N = 40, K = 48;
    const W = pruned(N, K, 0.5, 8, true);
    for (const format of ['2:4', 'csr'] as FormatName[]) {
      const m = encode(format, W, N, K, 'f16');
      const g = uploadSparse(ctx, m);
      for (const T of [1, 4, 5, 70]) {
        const x = randn(T * K, T);
        const X = ctx.upload(x, 'x'), Y = ctx.storage(T * N * 4, 'y');
        sparseLinear(ctx, X, g, undefined, Y, T);
        const ref = linearRef(x, T, K, decode(m), N);
        expect(maxRelErr(await ctx.read(Y, 0, T * N * 4), ref).err).toBeLessThan(tolFor(K));
      }
    }
  });
});

describe('weights paged into row blocks', () => {
  test.each(FORMATS_UNDER_TEST)('%s: 1 KiB pages give the same result', async (format) => {
    const small = await testContext(1024);
    try {
      const T = 5, N = 100, K = 70;
      const W = pruned(N, K, 0.5, 9, format === '2:4');
      const m = encode(format, W, N, K, 'f32');
      const g = uploadSparse(small, m);
      expect(g.blocks.length).toBeGreaterThan(2);
      const x = randn(T * K, 10), b = randn(N, 11);
      const X = small.upload(x, 'x'), Bb = small.upload(b, 'b');
      const ref = sparseLinearRef(x, T, m, b);
      for (const run of [spmv, spmm]) {
        const Y = small.storage(T * N * 4, 'y');
        run(small, X, g, Bb, Y, T, { lanes: 4, stage: true });
        expect(maxRelErr(await small.read(Y, 0, T * N * 4), ref).err).toBeLessThan(tolFor(K));
      }
    } finally {
      small.dispose();
    }
  });
});
