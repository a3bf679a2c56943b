// The training kernels against their float64 references (src/core/reference/train.ts), over odd
// shapes, on real WebGPU (Dawn; SwiftShader where no GPU); and each backward reference against
// central finite differences of the forward reference it differentiates.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as op from '../../../src/core/gpu/ops';
import * as top from '../../../src/core/gpu/ops-train';
import { linearRef, logSoftmaxNllRef, rmsNormRef } from '../../../src/core/reference/kernels';
import {
  adamwRef, clipScaleRef, dot, finiteDiff, linearBackwardRef, nllBackwardRef, rmsNormBackwardRef,
} from '../../../src/core/reference/train';
import { maxRelErr, randn, testContext, tolFor } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});
afterAll(() => ctx?.dispose());

const read = (b: GPUBuffer, n: number) => ctx.read(b, 0, n * 4);
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/** max |a − b| / max(max |b|, floor): finite differences are compared in scale, not per element. */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  let e = 0;
  let m = floor;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

describe('backward references against central finite differences', () => {
  test('log-softmax cross-entropy: dL/dlogits, rows without a target get none', () => {
    const T = 5, V = 7;
    const logits = f64(randn(T * V, 1, 2));
    const targets = [3, 0, -1, 6, 2];
    const scale = 1 / 4;
    const { loss, dlogits, nll } = nllBackwardRef(logits, targets, scale);
    const f = (l: Float64Array) => nllBackwardRef(l, targets, scale).loss;
    expect(scaledErr(dlogits, finiteDiff(f, logits))).toBeLessThan(1e-6);
    // The forward agrees with the perplexity reference on rows with a target.
    const ref = logSoftmaxNllRef(logits.subarray(0, 2 * V), [3, 0]);
    expect(nll[0]).toBeCloseTo(ref[0], 12);
    expect(loss).toBeCloseTo(scale * (nll[0] + nll[1] + nll[3] + nll[4]), 12);
    expect(dlogits.subarray(2 * V, 3 * V).every((v) => v === 0)).toBe(true);
  });

  test('RMSNorm: dX and dw of ⟨rmsnorm(X)·w, R⟩', () => {
    const T = 3, C = 9, eps = 1e-5;
    const x = f64(randn(T * C, 2)), w = f64(randn(C, 3)), R = f64(randn(T * C, 4));
    const { dx, dw } = rmsNormBackwardRef(x, T, C, w, eps, R);
    expect(scaledErr(dx, finiteDiff((xx) => dot(rmsNormRef(xx, T, C, w, eps), R), x))).toBeLessThan(1e-6);
    expect(scaledErr(dw, finiteDiff((ww) => dot(rmsNormRef(x, T, C, ww, eps), R), w))).toBeLessThan(1e-6);
  });

  test('linear: dX, dW and db of ⟨X Wᵀ + b, R⟩', () => {
    const T = 4, K = 5, N = 3;
    const x = f64(randn(T * K, 5)), W = f64(randn(N * K, 6)), b = f64(randn(N, 7)), R = f64(randn(T * N, 8));
    const g = linearBackwardRef(x, T, K, W, N, R);
    expect(scaledErr(g.dx, finiteDiff((xx) => dot(linearRef(xx, T, K, W, N, b), R), x))).toBeLessThan(1e-6);
    expect(scaledErr(g.dw, finiteDiff((ww) => dot(linearRef(x, T, K, ww, N, b), R), W))).toBeLessThan(1e-6);
    expect(scaledErr(g.db, finiteDiff((bb) => dot(linearRef(x, T, K, W, N, bb), R), b))).toBeLessThan(1e-6);
  });
});

describe('nll_backward (fused head loss)', () => {
  test.each([[1, 1], [3, 5], [17, 64], [9, 513], [4, 1000]])('rows=%i V=%i', async (rows, V) => {
    const logits = randn(rows * V, rows + V, 3);
    const targets = Array.from({ length: rows }, (_, t) => (t % 4 === 3 ? -1 : (t * 7919) % V));
    const scale = 1 / Math.max(1, targets.filter((y) => y >= 0).length);
    const L = ctx.upload(logits, 'logits');
    const tg = ctx.upload(Uint32Array.from(targets, (y) => (y < 0 ? 0xffffffff : y)), 'targets');
    const nll = ctx.storage(rows * 4, 'nll');
    top.nllBackward(ctx, L, tg, nll, rows, V, 0, scale);
    const ref = nllBackwardRef(logits, targets, scale);
    expect(maxRelErr(await read(nll, rows), ref.nll).err).toBeLessThan(tolFor(V));
    expect(scaledErr(await read(L, rows * V), ref.dlogits, 1e-6)).toBeLessThan(tolFor(V));
    [L, tg, nll].forEach((b) => ctx.destroy(b));
  });
});

describe('rmsnorm_backward', () => {
  test.each([[1, 1], [3, 7], [5, 64], [2, 65], [9, 300]])('T=%i C=%i, dX accumulated and dw added', async (T, C) => {
    const eps = 1e-5;
    const x = randn(T * C, 11), w = randn(C, 12), dy = randn(T * C, 13), dx0 = randn(T * C, 14), dw0 = randn(C, 15);
    const X = ctx.upload(x, 'x'), Wb = ctx.upload(w, 'w'), DY = ctx.upload(dy, 'dy'), DX = ctx.upload(dx0, 'dx'), DW = ctx.upload(dw0, 'dw');
    const rs = ctx.storage(T * 4, 'rs');
    top.rmsnormBackward(ctx, X, Wb, DY, DX, DW, rs, T, C, eps, true);
    const ref = rmsNormBackwardRef(x, T, C, w, eps, dy);
    expect(scaledErr(await read(DX, T * C), ref.dx.map((v, i) => v + dx0[i]))).toBeLessThan(tolFor(C));
    expect(scaledErr(await read(DW, C), ref.dw.map((v, i) => v + dw0[i]))).toBeLessThan(tolFor(T));
    [X, Wb, DY, DX, DW, rs].forEach((b) => ctx.destroy(b));
  });
});

describe('linear backward (cross_gram: dW = dYᵀX, dX = dY·W, db = Σ dY)', () => {
  test.each([[1, 1, 1], [3, 5, 7], [64, 64, 16], [65, 33, 100], [7, 130, 37]])('T=%i N=%i K=%i', async (T, N, K) => {
    const x = randn(T * K, 21), w = randn(N * K, 22), dy = randn(T * N, 23), dw0 = randn(N * K, 24);
    const X = ctx.upload(x, 'x'), W = op.uploadTensor(ctx, w, [N, K], 'w'), DY = ctx.upload(dy, 'dy');
    const DW = op.uploadTensor(ctx, dw0, [N, K], 'dw'), DB = op.uploadTensor(ctx, new Float32Array(N), [N], 'db');
    // Stale NaNs in dX must not survive an overwrite.
    const DX = ctx.upload(new Float32Array(T * K).fill(NaN), 'dx');
    const ones = ctx.upload(new Float32Array(T).fill(1), 'ones');
    top.linearBackward(ctx, X, W, DY, { dx: DX, dw: DW, db: DB, ones }, T);
    const ref = linearBackwardRef(x, T, K, w, N, dy);
    expect(scaledErr(await read(DX, T * K), ref.dx)).toBeLessThan(tolFor(N));
    expect(scaledErr(await op.readTensor(ctx, DW), ref.dw.map((v, i) => v + dw0[i]))).toBeLessThan(tolFor(T));
    expect(scaledErr(await op.readTensor(ctx, DB), ref.db)).toBeLessThan(tolFor(T));
    [X, DY, DX, ones].forEach((b) => ctx.destroy(b));
    [W, DW, DB].forEach((t) => op.destroyTensor(ctx, t));
  });

  test('a weight paged into row chunks gives the same gradients', async () => {
    const small = await testContext(1024); // 1 KiB pages: a 50×40 weight needs 10 chunks
    try {
      const T = 9, N = 50, K = 40;
      const x = randn(T * K, 31), w = randn(N * K, 32), dy = randn(T * N, 33);
      const W = op.uploadTensor(small, w, [N, K], 'w');
      expect(W.chunks.length).toBeGreaterThan(1);
      const DW = op.uploadTensor(small, new Float32Array(N * K), [N, K], 'dw');
      const X = small.upload(x, 'x'), DY = small.upload(dy, 'dy'), DX = small.storage(T * K * 4, 'dx');
      top.linearBackward(small, X, W, DY, { dx: DX, dw: DW }, T);
      const ref = linearBackwardRef(x, T, K, w, N, dy);
      expect(scaledErr(await small.read(DX, 0, T * K * 4), ref.dx)).toBeLessThan(tolFor(N));
      expect(scaledErr(await op.readTensor(small, DW), ref.dw)).toBeLessThan(tolFor(T));
    } finally {
      small.dispose();
    }
  });
});

describe('adamw and the global gradient norm', () => {
  const opts = { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  test.each([1, 31, 257, 4099])('n=%i: 20 steps with a mask, clipped; masked weights exactly 0 after every step', async (n) => {
    const w0 = randn(n, 41);
    const mask = Array.from({ length: n }, (_, i) => ((i * 2654435761) >>> 0) % 3 !== 0 ? 1 : 0);
    const bits = new Uint32Array(Math.ceil(n / 32));
    mask.forEach((k, i) => (bits[i >> 5] |= k << (i & 31)));
    const W = ctx.upload(w0, 'w'), M = ctx.storage(n * 4, 'm'), Vb = ctx.storage(n * 4, 'v'), MB = ctx.upload(bits, 'mask');
    const w = f64(w0), m = new Float64Array(n), v = new Float64Array(n);
    for (let t = 1; t <= 20; t++) {
      const g = randn(n, 100 + t, 0.5);
      const G = ctx.upload(g, 'g');
      const { scale } = clipScaleRef([g], Math.sqrt(n) * 0.3);
      top.adamw(ctx, W, G, M, Vb, n, { ...opts, t, gradScale: scale }, MB);
      adamwRef(w, g, m, v, t, opts, scale, mask);
      const got = await read(W, n);
      expect(maxRelErr(got, w).err).toBeLessThan(1e-4);
      expect(mask.every((k, i) => k === 1 || got[i] === 0)).toBe(true);
      ctx.destroy(G);
    }
    [W, M, Vb, MB].forEach((b) => ctx.destroy(b));
  });

  test.each([1, 255, 256, 1000, 300_001])('sumsq partials of n=%i add up to ‖x‖²', async (n) => {
    const x = randn(n, 51);
    const { groups } = top.sumsqGroups(n);
    const X = ctx.upload(x, 'x'), out = ctx.storage((groups + 3) * 4, 'out');
    top.sumsq(ctx, X, n, out, 3);
    const parts = await ctx.read(out, 12, groups * 4);
    const got = parts.reduce((s, v) => s + v, 0);
    const ref = clipScaleRef([x], 0).norm ** 2;
    expect(Math.abs(got - ref) / ref).toBeLessThan(tolFor(n));
    [X, out].forEach((b) => ctx.destroy(b));
  });
});
