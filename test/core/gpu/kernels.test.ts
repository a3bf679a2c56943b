// Every kernel in shaders/ against its float64 CPU reference (src/core/reference/kernels.ts),
// over several shapes including odd ones, on real WebGPU (Dawn; SwiftShader where no GPU).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as op from '../../../src/core/gpu/ops';
import { ropeTable } from '../../../src/core/nn/model';
import {
  attentionRef, embeddingRef, geluErfRef, geluNewRef, layerNormRef, linearRef, logSoftmaxNllRef,
  reluRef, rmsNormRef, ropeInvFreqRef, ropeRef, siluRef,
} from '../../../src/core/reference/kernels';
import { VARIANTS, maxRelErr, onVariant, randn, testContext, tolFor } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});
afterAll(() => ctx?.dispose());

const read = (b: GPUBuffer, n: number) => ctx.read(b, 0, n * 4);

describe.each(VARIANTS)('matmul %s (Y = X Wᵀ + b)', (variant) => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1], [3, 5, 7], [64, 64, 16], [65, 100, 33], [130, 37, 200], [7, 300, 64],
  ];
  onVariant(() => ctx, variant);
  test.each(shapes)('T=%i N=%i K=%i, with bias and accumulate', async (T, N, K) => {
    const x = randn(T * K, 1), w = randn(N * K, 2), b = randn(N, 3), y0 = randn(T * N, 4);
    const X = ctx.upload(x, 'x'), W = op.uploadTensor(ctx, w, [N, K], 'w'), B = op.uploadTensor(ctx, b, [N], 'b');
    const Y = ctx.upload(y0, 'y');
    op.matmul(ctx, X, W, B, Y, T, { accumulate: true });
    const got = await read(Y, T * N);
    const ref = linearRef(x, T, K, w, N, b).map((v, i) => v + y0[i]);
    expect(maxRelErr(got, ref).err).toBeLessThan(tolFor(K));
    const Y2 = ctx.storage(T * N * 4, 'y2');
    op.matmul(ctx, X, W, undefined, Y2, T);
    expect(maxRelErr(await read(Y2, T * N), linearRef(x, T, K, w, N)).err).toBeLessThan(tolFor(K));
    [X, Y, Y2].forEach((t) => ctx.destroy(t));
    op.destroyTensor(ctx, W);
    op.destroyTensor(ctx, B);
  });

  test('strided sub-block, subtract (SparseGPT lazy update)', async () => {
    // Y[:, 3:3+N] -= X · M[2:2+N, 5:5+K]ᵀ with M (20, 30) row-major.
    const T = 9, N = 11, K = 13, ldw = 30, ldy = 20;
    const x = randn(T * K, 31), m = randn(20 * ldw, 32), y0 = randn(T * ldy, 33);
    const X = ctx.upload(x, 'x'), M = ctx.upload(m, 'm'), Y = ctx.upload(y0, 'y');
    op.gemmStrided(ctx, X, M, Y, { T, N, K, ldw, wOff: 2 * ldw + 5, ldy, yCol0: 3, accumulate: true, subtract: true });
    const got = await read(Y, T * ldy);
    const ref = Float64Array.from(y0);
    for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[t * K + k] * m[(2 + n) * ldw + 5 + k];
      ref[t * ldy + 3 + n] -= s;
    }
    expect(maxRelErr(got, ref).err).toBeLessThan(tolFor(K));
  });

  test('weights paged into row chunks give the same result', async () => {
    const small = await testContext(1024); // 1 KiB pages: a 50×40 weight needs 10 chunks
    small.matmulVariant = variant;
    try {
      const T = 9, N = 50, K = 40;
      const x = randn(T * K, 5), w = randn(N * K, 6), b = randn(N, 7);
      const W = op.uploadTensor(small, w, [N, K], 'w');
      expect(W.chunks.length).toBeGreaterThan(1);
      const X = small.upload(x, 'x'), B = op.uploadTensor(small, b, [N], 'b'), Y = small.storage(T * N * 4, 'y');
      op.matmul(small, X, W, B, Y, T);
      const got = await small.read(Y, 0, T * N * 4);
      expect(maxRelErr(got, linearRef(x, T, K, w, N, b)).err).toBeLessThan(tolFor(K));
    } finally {
      small.dispose();
    }
  });
});

describe('embed', () => {
  test.each([[1, 4, 3], [17, 10, 33], [64, 300, 8]])('T=%i V=%i C=%i, paged and accumulated', async (T, V, C) => {
    const e = randn(V * C, 8), base = randn(T * C, 9);
    const ids = Array.from({ length: T }, (_, t) => (t * 7919) % V);
    const small = await testContext(256); // 256-byte pages force several chunks
    try {
      const E = op.uploadTensor(small, e, [V, C], 'E');
      const I = small.upload(Uint32Array.from(ids), 'ids'), Y = small.upload(base, 'y');
      op.embed(small, I, E, Y, T, true);
      const ref = embeddingRef(e, V, C, ids).map((v, i) => v + base[i]);
      expect(maxRelErr(await small.read(Y, 0, T * C * 4), ref).err).toBeLessThan(1e-6);
    } finally {
      small.dispose();
    }
  });
});

describe.each(VARIANTS)('norms (%s: a row per workgroup, or per thread)', (variant) => {
  onVariant(() => ctx, variant);
  test.each([[1, 1], [3, 64], [5, 100], [2, 1000], [70, 5]])('rmsnorm T=%i C=%i', async (T, C) => {
    const x = randn(T * C, 10, 3), w = randn(C, 11);
    const X = ctx.upload(x, 'x'), Wt = op.uploadTensor(ctx, w, [C], 'w'), Y = ctx.storage(T * C * 4, 'y');
    op.rmsnorm(ctx, X, Wt, Y, T, C, 1e-5);
    expect(maxRelErr(await read(Y, T * C), rmsNormRef(x, T, C, w, 1e-5)).err).toBeLessThan(tolFor(C) * 4);
  });
  test.each([[1, 2], [3, 64], [5, 100], [2, 1000], [70, 5]])('layernorm T=%i C=%i', async (T, C) => {
    const x = randn(T * C, 12, 3).map((v) => v + 5), w = randn(C, 13), b = randn(C, 14);
    const X = ctx.upload(x, 'x'), Wt = op.uploadTensor(ctx, w, [C], 'w'), Bt = op.uploadTensor(ctx, b, [C], 'b');
    const Y = ctx.storage(T * C * 4, 'y');
    op.layernorm(ctx, X, Wt, Bt, Y, T, C, 1e-5);
    expect(maxRelErr(await read(Y, T * C), layerNormRef(x, T, C, w, b, 1e-5)).err).toBeLessThan(tolFor(C) * 4);
  });
});

describe('rope', () => {
  test.each([[1, 1, 8, 8], [7, 3, 16, 4], [33, 4, 64, 64], [5, 2, 80, 32]])(
    'T=%i heads=%i headDim=%i rot=%i',
    async (T, H, D, rot) => {
      const x = randn(T * H * D, 15);
      const inv = ropeInvFreqRef(rot, 10000);
      const X = ctx.upload(x, 'x'), CS = ctx.upload(ropeTable(inv, 0, T), 'cs');
      op.rope(ctx, X, CS, T, H, D, rot);
      expect(maxRelErr(await read(X, T * H * D), ropeRef(x, T, H, D, rot, inv, 0)).err).toBeLessThan(1e-6);
    },
  );
});

describe('attention', () => {
  test.each([
    [1, 1, 1, 8, 0], [5, 4, 2, 8, 0], [70, 2, 2, 16, 0], [9, 8, 2, 64, 0], [3, 2, 1, 80, 5], [130, 3, 3, 32, 0],
  ])('T=%i H=%i Hkv=%i D=%i pos0=%i', async (T, H, Hkv, D, pos0) => {
    const S = pos0 + T;
    const q = randn(T * H * D, 16), k = randn(S * Hkv * D, 17), v = randn(S * Hkv * D, 18);
    const Q = ctx.upload(q, 'q'), K = ctx.upload(k, 'k'), Vb = ctx.upload(v, 'v'), O = ctx.storage(T * H * D * 4, 'o');
    const scale = 1 / Math.sqrt(D);
    op.attention(ctx, Q, K, Vb, O, T, H, Hkv, D, scale, pos0);
    const ref = attentionRef(q, k, v, T, S, H, Hkv, D, scale, pos0);
    expect(maxRelErr(await read(O, T * H * D), ref).err).toBeLessThan(tolFor(D * S));
  });
});

describe('activation', () => {
  const n = 1000;
  const x = randn(n, 19, 12);
  test.each([
    ['gelu_new', geluNewRef], ['gelu', geluErfRef], ['relu', reluRef], ['silu', siluRef],
  ] as const)('%s', async (name, ref) => {
    const X = ctx.upload(x, 'x');
    op.activation(ctx, X, n, name);
    expect(maxRelErr(await read(X, n), ref(x)).err).toBeLessThan(2e-6);
  });
  test('silu gated (silu(g) * u)', async () => {
    const u = randn(n, 20, 3);
    const X = ctx.upload(x, 'x'), U = ctx.upload(u, 'u');
    op.activation(ctx, X, n, 'silu', U);
    expect(maxRelErr(await read(X, n), siluRef(x).map((v, i) => v * u[i])).err).toBeLessThan(2e-6);
  });
});

describe('nll (log-softmax + NLL)', () => {
  test.each([[1, 2], [5, 512], [3, 50257]])('rows=%i V=%i', async (T, V) => {
    const logits = randn(T * V, 21, 8);
    const targets = Array.from({ length: T }, (_, t) => (t * 104729) % V);
    const L = ctx.upload(logits, 'L'), G = ctx.upload(Uint32Array.from(targets), 'tg'), N = ctx.storage(T * 4, 'nll');
    op.nll(ctx, L, G, N, T, V, 0);
    expect(maxRelErr(await read(N, T), logSoftmaxNllRef(logits, targets)).err).toBeLessThan(tolFor(V));
  });
});
