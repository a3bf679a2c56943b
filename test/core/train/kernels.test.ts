// The training kernels against their float64 references (src/core/reference/train.ts), over odd
// shapes, on real WebGPU (Dawn; SwiftShader where no GPU); and each backward reference against
// central finite differences of the forward reference it differentiates.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as op from '../../../src/core/gpu/ops';
import * as top from '../../../src/core/gpu/ops-train';
import { ropeTable } from '../../../src/core/nn/model';
import {
  activationByName, attentionRef, embeddingRef, layerNormRef, linearRef, logSoftmaxNllRef, ropeInvFreqRef, ropeRef, rmsNormRef,
} from '../../../src/core/reference/kernels';
import {
  activationGradRef, adamwRef, attentionBackwardRef, clipScaleRef, dot, embeddingBackwardRef, finiteDiff, layerNormBackwardRef,
  linearBackwardRef, nllBackwardRef, rmsNormBackwardRef, squareHeadRef,
} from '../../../src/core/reference/train';
import { VARIANTS, maxRelErr, onVariant, randn, testContext, tolFor } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});
afterAll(() => ctx?.dispose());

const read = (b: GPUBuffer, n: number) => ctx.read(b, 0, n * 4);
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
type Vec = ArrayLike<number>;

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

  test('with a teacher: KL(q ‖ p) added, its gradient p − q', () => {
    const T = 4, V = 6;
    const logits = f64(randn(T * V, 11, 2)), teacher = f64(randn(T * V, 12, 2));
    const targets = [1, -1, 5, 0];
    const { loss, kl, nll } = nllBackwardRef(logits, targets, 1 / 3, teacher);
    const { dlogits } = nllBackwardRef(logits, targets, 1 / 3, teacher);
    expect(scaledErr(dlogits, finiteDiff((l) => nllBackwardRef(l, targets, 1 / 3, teacher).loss, logits))).toBeLessThan(1e-6);
    expect(kl[1]).toBe(0);
    expect(kl.every((k) => k >= 0)).toBe(true);
    // The teacher itself as the model: no divergence.
    expect(Math.max(...nllBackwardRef(teacher, targets, 1, teacher).kl)).toBeLessThan(1e-12);
    expect(loss).toBeCloseTo((nll[0] + nll[2] + nll[3] + kl[0] + kl[2] + kl[3]) / 3, 12);
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

describe('more backward references against finite differences', () => {
  test('LayerNorm: dX, dw and db', () => {
    const T = 3, C = 8, eps = 1e-5;
    const x = f64(randn(T * C, 61)), w = f64(randn(C, 62)), b = f64(randn(C, 63)), R = f64(randn(T * C, 64));
    const g = layerNormBackwardRef(x, T, C, w, eps, R);
    expect(scaledErr(g.dx, finiteDiff((xx) => dot(layerNormRef(xx, T, C, w, b, eps), R), x))).toBeLessThan(1e-6);
    expect(scaledErr(g.dw, finiteDiff((ww) => dot(layerNormRef(x, T, C, ww, b, eps), R), w))).toBeLessThan(1e-6);
    expect(scaledErr(g.db, finiteDiff((bb) => dot(layerNormRef(x, T, C, w, bb, eps), R), b))).toBeLessThan(1e-6);
  });

  test.each(['gelu_new', 'gelu', 'relu', 'silu'] as const)('%s derivative', (name) => {
    const f = activationByName(name), df = activationGradRef(name);
    // Away from relu's kink at 0.
    const xs = [-6, -2.5, -1, -0.3, 0.05, 0.7, 1.9, 4.2];
    for (const x of xs) expect(Math.abs(df(x) - (f(x + 1e-6) - f(x - 1e-6)) / 2e-6)).toBeLessThan(1e-7);
  });

  test('embedding: repeated ids add up', () => {
    const V = 6, C = 4, ids = [2, 5, 2, 0, 2];
    const E = f64(randn(V * C, 65)), R = f64(randn(ids.length * C, 66));
    expect(scaledErr(embeddingBackwardRef(ids, R, V, C), finiteDiff((ee) => dot(embeddingRef(ee, V, C, ids), R), E))).toBeLessThan(1e-6);
  });

  test('rotary: the gradient is the rotation by −θ', () => {
    const T = 4, H = 2, D = 6, rot = 4;
    const inv = ropeInvFreqRef(rot, 10000);
    const x = f64(randn(T * H * D, 67)), R = f64(randn(T * H * D, 68));
    const fd = finiteDiff((xx) => dot(ropeRef(xx, T, H, D, rot, inv, 0), R), x);
    expect(scaledErr(ropeRef(R, T, H, D, rot, inv.map((f) => -f), 0), fd)).toBeLessThan(1e-6);
  });

  test('causal GQA attention: dQ, dK, dV', () => {
    const T = 5, H = 4, Hkv = 2, D = 3, scale = 1 / Math.sqrt(D);
    const q = f64(randn(T * H * D, 71)), k = f64(randn(T * Hkv * D, 72)), v = f64(randn(T * Hkv * D, 73)), R = f64(randn(T * H * D, 74));
    const g = attentionBackwardRef(q, k, v, R, T, H, Hkv, D, scale);
    const L = (qq: Vec, kk: Vec, vv: Vec) => dot(attentionRef(qq, kk, vv, T, T, H, Hkv, D, scale, 0), R);
    expect(scaledErr(g.dq, finiteDiff((qq) => L(qq, k, v), q))).toBeLessThan(1e-6);
    expect(scaledErr(g.dk, finiteDiff((kk) => L(q, kk, v), k))).toBeLessThan(1e-6);
    expect(scaledErr(g.dv, finiteDiff((vv) => L(q, k, vv), v))).toBeLessThan(1e-6);
  });
});

describe('nll with its gradient (the fused training head)', () => {
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

describe('nll with a teacher (distillation)', () => {
  test.each([[3, 5], [9, 513], [4, 1000]])('rows=%i V=%i: nll, KL and the gradient', async (rows, V) => {
    const logits = randn(rows * V, rows + V + 1, 3), teacher = randn(rows * V, rows + V + 2, 3);
    const targets = Array.from({ length: rows }, (_, t) => (t % 3 === 1 ? -1 : (t * 31) % V));
    const scale = 0.25;
    const L = ctx.upload(logits, 'logits'), Q = ctx.upload(teacher, 'teacher');
    const tg = ctx.upload(Uint32Array.from(targets, (y) => (y < 0 ? 0xffffffff : y)), 'targets');
    const nll = ctx.storage(rows * 4, 'nll'), kl = ctx.storage(rows * 4, 'kl');
    top.nllBackward(ctx, L, tg, nll, rows, V, 0, scale, { logits: Q, kl });
    const ref = nllBackwardRef(logits, targets, scale, teacher);
    expect(maxRelErr(await read(nll, rows), ref.nll).err).toBeLessThan(tolFor(V));
    expect(scaledErr(await read(kl, rows), ref.kl, 1e-3)).toBeLessThan(tolFor(V));
    expect(scaledErr(await read(L, rows * V), ref.dlogits, 1e-6)).toBeLessThan(tolFor(V));
    [L, Q, tg, nll, kl].forEach((b) => ctx.destroy(b));
  });
});

describe.each(VARIANTS)('norm_backward (RMSNorm; %s: a row per workgroup, or per thread)', (variant) => {
  onVariant(() => ctx, variant);
  test.each([[1, 1], [3, 7], [5, 64], [2, 65], [9, 300], [70, 5]])('T=%i C=%i, dX accumulated and dw added', async (T, C) => {
    const eps = 1e-5;
    const x = randn(T * C, 11), w = randn(C, 12), dy = randn(T * C, 13), dx0 = randn(T * C, 14), dw0 = randn(C, 15);
    const X = ctx.upload(x, 'x'), Wb = ctx.upload(w, 'w'), DY = ctx.upload(dy, 'dy'), DX = ctx.upload(dx0, 'dx'), DW = ctx.upload(dw0, 'dw');
    const rs = ctx.storage(T * 8, 'stats');
    top.rmsnormBackward(ctx, X, Wb, DY, DX, DW, rs, T, C, eps, true);
    const ref = rmsNormBackwardRef(x, T, C, w, eps, dy);
    expect(scaledErr(await read(DX, T * C), ref.dx.map((v, i) => v + dx0[i]))).toBeLessThan(tolFor(C));
    expect(scaledErr(await read(DW, C), ref.dw.map((v, i) => v + dw0[i]))).toBeLessThan(tolFor(T));
    [X, Wb, DY, DX, DW, rs].forEach((b) => ctx.destroy(b));
  });
});

describe.each(VARIANTS)('linear backward, cross_gram %s (dW = dYᵀX, dX = dY·W, db = Σ dY)', (variant) => {
  onVariant(() => ctx, variant);
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
      small.matmulVariant = variant;
      top.linearBackward(small, X, W, DY, { dx: DX, dw: DW }, T);
      const ref = linearBackwardRef(x, T, K, w, N, dy);
      expect(scaledErr(await small.read(DX, 0, T * K * 4), ref.dx)).toBeLessThan(tolFor(N));
      expect(scaledErr(await op.readTensor(small, DW), ref.dw)).toBeLessThan(tolFor(T));
    } finally {
      small.dispose();
    }
  });
});

test('the two cross_gram variants sum in the same order: gradients equal bit for bit', async () => {
  const T = 37, N = 70, K = 45;
  const x = randn(T * K, 41), w = randn(N * K, 42), dy = randn(T * N, 43);
  const X = ctx.upload(x, 'x'), W = op.uploadTensor(ctx, w, [N, K], 'w'), DY = ctx.upload(dy, 'dy');
  const out: Float32Array[] = [];
  for (const variant of ['tiled', 'rb'] as const) {
    ctx.matmulVariant = variant;
    const DW = op.uploadTensor(ctx, new Float32Array(N * K), [N, K], 'dw'), DX = ctx.storage(T * K * 4, 'dx');
    top.linearBackward(ctx, X, W, DY, { dx: DX, dw: DW }, T);
    out.push(await op.readTensor(ctx, DW), await read(DX, T * K));
    ctx.destroy(DX);
    op.destroyTensor(ctx, DW);
  }
  ctx.matmulVariant = ctx.adapter.isSoftware ? 'rb' : 'tiled';
  expect(out[2]).toEqual(out[0]);
  expect(out[3]).toEqual(out[1]);
  [X, DY].forEach((b) => ctx.destroy(b));
  op.destroyTensor(ctx, W);
});

describe('adamw and the global gradient norm', () => {
  const opts = { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  test.each([1, 31, 257, 4099])('n=%i: 20 steps with a mask, clipped; masked weights exactly 0 after every step, the gradient zeroed', async (n) => {
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
      // The step consumed the gradient: the next one accumulates from 0.
      expect((await read(G, n)).every((x) => x === 0)).toBe(true);
      ctx.destroy(G);
    }
    [W, M, Vb, MB].forEach((b) => ctx.destroy(b));
  });
});

describe.each(VARIANTS)('sumsq (%s: a tree per partial, or a thread)', (variant) => {
  onVariant(() => ctx, variant);
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

describe('squarehead (hidden-state distillation)', () => {
  test('the reference gradient = central finite differences; the teacher itself costs 0', () => {
    const s = f64(randn(23, 61, 2)), t = f64(randn(23, 62, 2));
    const { ds } = squareHeadRef(s, t, 0.7, 1e-6);
    expect(scaledErr(ds, finiteDiff((x) => squareHeadRef(x, t, 0.7, 1e-6).loss, s))).toBeLessThan(1e-6);
    expect(squareHeadRef(t, t, 1, 1e-6).loss).toBe(0);
  });

  test.each([1, 255, 256, 1000, 70_001])('n=%i: the two sums, and dS added with the weight', async (n) => {
    const s = randn(n, 63 + n, 2), t = randn(n, 64 + n, 3), d0 = randn(n, 65);
    const S = ctx.upload(s, 's'), Tt = ctx.upload(t, 't'), D = ctx.upload(d0, 'd'), st = ctx.storage(8 * 4, 'stats');
    top.squareHead(ctx, S, Tt, st, 4, n, 0.25, 1e-6, D);
    const sums = await ctx.read(st, 16, 8);
    let diff = 0, norm = 0;
    for (let i = 0; i < n; i++) {
      diff += (s[i] - t[i]) ** 2;
      norm += t[i] ** 2;
    }
    expect(Math.abs(sums[0] - diff) / diff).toBeLessThan(tolFor(n));
    expect(Math.abs(sums[1] - norm) / norm).toBeLessThan(tolFor(n));
    const ref = squareHeadRef(s, t, 0.25, 1e-6);
    expect(maxRelErr(await read(D, n), ref.ds.map((v, i) => v + d0[i])).err).toBeLessThan(tolFor(n));
    // Sums only (no gradient buffer): the same figures, nothing else written.
    top.squareHead(ctx, S, Tt, st, 0, n, 0.25, 1e-6);
    const again = await ctx.read(st, 0, 8);
    expect([...again]).toEqual([...sums]);
    [S, Tt, D, st].forEach((b) => ctx.destroy(b));
  });
});

describe.each(VARIANTS)('norm_backward (LayerNorm; %s: a row per workgroup, or per thread)', (variant) => {
  onVariant(() => ctx, variant);
  test.each([[1, 1], [3, 7], [4, 64], [2, 129], [70, 5]])('T=%i C=%i, dX overwritten, dw and db added', async (T, C) => {
    const eps = 1e-5;
    const x = randn(T * C, 81, 2), w = randn(C, 82), dy = randn(T * C, 83), dw0 = randn(C, 84), db0 = randn(C, 85);
    const X = ctx.upload(x, 'x'), Wb = ctx.upload(w, 'w'), DY = ctx.upload(dy, 'dy'), DX = ctx.storage(T * C * 4, 'dx');
    const DW = ctx.upload(dw0, 'dw'), DB = ctx.upload(db0, 'db'), st = ctx.storage(T * 8, 'stats');
    top.layernormBackward(ctx, X, Wb, DY, DX, DW, DB, st, T, C, eps);
    const ref = layerNormBackwardRef(x, T, C, w, eps, dy);
    // C = 1: x̂ = 0 and dX = 0 exactly; compare in the scale of dY.
    expect(scaledErr(await read(DX, T * C), ref.dx, C === 1 ? 1 : 1e-3)).toBeLessThan(tolFor(C));
    expect(scaledErr(await read(DW, C), ref.dw.map((v, i) => v + dw0[i]))).toBeLessThan(tolFor(T));
    expect(scaledErr(await read(DB, C), ref.db.map((v, i) => v + db0[i]))).toBeLessThan(tolFor(T));
    [X, Wb, DY, DX, DW, DB, st].forEach((b) => ctx.destroy(b));
  });
});

describe('activation_backward', () => {
  test.each(['gelu_new', 'gelu', 'relu', 'silu'] as const)('%s, plain and gated', async (act) => {
    const n = 1031;
    const x = randn(n, 91, 3), u = randn(n, 92), dy = randn(n, 93);
    const X = ctx.upload(x, 'x'), U = ctx.upload(u, 'u'), DY = ctx.upload(dy, 'dy'), DX = ctx.storage(n * 4, 'dx'), DU = ctx.storage(n * 4, 'du');
    const f = activationByName(act), df = activationGradRef(act);
    top.activationBackward(ctx, X, DY, DX, n, act);
    expect(scaledErr(await read(DX, n), Array.from(x, (xi, i) => dy[i] * df(xi)))).toBeLessThan(1e-5);
    top.activationBackward(ctx, X, DY, DX, n, act, { u: U, du: DU });
    expect(scaledErr(await read(DX, n), Array.from(x, (xi, i) => dy[i] * df(xi) * u[i]))).toBeLessThan(1e-5);
    expect(scaledErr(await read(DU, n), Array.from(x, (xi, i) => dy[i] * f(xi)))).toBeLessThan(1e-5);
    [X, U, DY, DX, DU].forEach((b) => ctx.destroy(b));
  });
});

describe('embed_backward', () => {
  test('repeated ids add up; a table paged into row chunks', async () => {
    const small = await testContext(1024); // 1 KiB pages: 37 rows of 19 floats → 3 rows per chunk
    try {
      const V = 37, C = 19, T = 23;
      const ids = Array.from({ length: T }, (_, t) => (t * 7) % 11 + (t % 3 === 0 ? 25 : 0));
      const dy = randn(T * C, 95), e0 = randn(V * C, 96);
      const dE = op.uploadTensor(small, e0, [V, C], 'dE');
      expect(dE.chunks.length).toBeGreaterThan(1);
      const IDS = small.upload(Uint32Array.from(ids), 'ids'), DY = small.upload(dy, 'dy');
      top.embedBackward(small, IDS, DY, dE, T);
      const ref = embeddingBackwardRef(ids, dy, V, C).map((v, i) => v + e0[i]);
      expect(scaledErr(await op.readTensor(small, dE), ref)).toBeLessThan(tolFor(T));
    } finally {
      small.dispose();
    }
  });
});

describe('rope backward (the forward kernel with the inverse table)', () => {
  test.each([[3, 2, 8, 8], [5, 3, 10, 4]])('T=%i H=%i D=%i rot=%i', async (T, H, D, rot) => {
    const inv = ropeInvFreqRef(rot, 10000);
    const g = randn(T * H * D, 97);
    const G = ctx.upload(g, 'g'), CS = ctx.upload(top.inverseRopeTable(ropeTable(inv, 0, T)), 'cs');
    op.rope(ctx, G, CS, T, H, D, rot);
    const ref = ropeRef(g, T, H, D, rot, inv.map((f) => -f), 0);
    expect(maxRelErr(await read(G, T * H * D), ref).err).toBeLessThan(1e-5);
    [G, CS].forEach((b) => ctx.destroy(b));
  });
});

describe('attention backward', () => {
  test.each([[1, 1, 1, 4], [5, 4, 2, 3], [17, 4, 1, 8], [70, 6, 3, 16], [9, 2, 2, 64]])('T=%i H=%i Hkv=%i D=%i', async (T, H, Hkv, D) => {
    const scale = 1 / Math.sqrt(D);
    const q = randn(T * H * D, 101), k = randn(T * Hkv * D, 102), v = randn(T * Hkv * D, 103), dO = randn(T * H * D, 104);
    const o = Float32Array.from(attentionRef(q, k, v, T, T, H, Hkv, D, scale, 0));
    const [Q, K, V, O, DO] = [q, k, v, o, dO].map((a, i) => ctx.upload(a, `in${i}`));
    const dQ = ctx.storage(T * H * D * 4, 'dq'), dK = ctx.storage(T * Hkv * D * 4, 'dk'), dV = ctx.storage(T * Hkv * D * 4, 'dv');
    const stats = ctx.storage(T * H * 8, 'stats');
    top.attentionBackward(ctx, { q: Q, k: K, v: V, o: O, dO: DO }, { dQ, dK, dV, stats }, T, H, Hkv, D, scale);
    const ref = attentionBackwardRef(q, k, v, dO, T, H, Hkv, D, scale);
    const tol = tolFor(T * D);
    expect(scaledErr(await read(dQ, T * H * D), ref.dq)).toBeLessThan(tol);
    expect(scaledErr(await read(dK, T * Hkv * D), ref.dk)).toBeLessThan(tol);
    expect(scaledErr(await read(dV, T * Hkv * D), ref.dv)).toBeLessThan(tol);
    [Q, K, V, O, DO, dQ, dK, dV, stats].forEach((b) => ctx.destroy(b));
  });
});
