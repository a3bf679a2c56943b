// Mask selection on the GPU (shaders/select_*.wgsl, row_select.wgsl, nm_select.wgsl,
// obs_scores.wgsl) against thresholdMask, rowwiseMask and nmMask (src/core/prune/select.ts): the
// same masks, bit for bit, ties and zeros included.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as sel from '../../../src/core/gpu/ops-select';
import { magnitude } from '../../../src/core/prune/magnitude';
import type { MethodInput } from '../../../src/core/prune/method';
import { nmMask, rowwiseMask, thresholdMask } from '../../../src/core/prune/select';
import { wanda } from '../../../src/core/prune/wanda';
import { randn, testContext } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});
afterAll(() => ctx?.dispose());

test.each([
  [1, 0.5], [7, 0.3], [256, 0.5], [1000, 0.9], [1000, 1], [65_537, 0.5], [5000, 0.01],
])('n=%i sparsity %f: the threshold mask of thresholdMask, exactly', async (n, sparsity) => {
  // Scores with many ties (a coarse grid), exact zeros, and a wide range of magnitudes.
  const r = randn(n, n + 11);
  const scores = Float32Array.from(r, (v, i) => (i % 17 === 0 ? 0 : Math.round(Math.abs(v) * 50) / 50 * (i % 5 === 0 ? 1e-6 : 1)));
  const S = ctx.upload(scores, 'scores'), M = ctx.storage(n * 4, 'mask'), scratch = sel.selectScratch(ctx);
  sel.thresholdSelect(ctx, S, n, sel.thresholdRank(n, sparsity), M, scratch);
  const got = new Uint32Array((await ctx.read(M, 0, n * 4)).buffer);
  const ref = new Uint8Array(n);
  thresholdMask(Float64Array.from(scores), sparsity, ref);
  let diff = 0;
  for (let i = 0; i < n; i++) if (got[i] !== ref[i]) diff++;
  expect(diff).toBe(0);
  [S, M, scratch.state, scratch.hist].forEach((b) => ctx.destroy(b));
});

test('two selections in a row reuse the scratch (the histogram is left cleared)', async () => {
  const n = 3000, scratch = sel.selectScratch(ctx);
  for (const seed of [1, 2]) {
    const scores = Float32Array.from(randn(n, seed), Math.abs);
    const S = ctx.upload(scores, 'scores'), M = ctx.storage(n * 4, 'mask');
    sel.thresholdSelect(ctx, S, n, sel.thresholdRank(n, 0.6), M, scratch);
    const got = new Uint32Array((await ctx.read(M, 0, n * 4)).buffer);
    const ref = new Uint8Array(n);
    thresholdMask(Float64Array.from(scores), 0.6, ref);
    expect(Array.from(got)).toEqual(Array.from(ref));
    [S, M].forEach((b) => ctx.destroy(b));
  }
  [scratch.state, scratch.hist].forEach((b) => ctx.destroy(b));
});

test('obs_scores: W² / diag(Hinv)² of one block of columns', async () => {
  const R = 9, C = 40, i1 = 13, b = 20;
  const w = randn(R * C, 5), h = randn(C * C, 6).map((v) => v + 2);
  const W = ctx.upload(w, 'w'), Hb = ctx.upload(h, 'hinv'), S = ctx.storage(R * b * 4, 's');
  sel.obsScores(ctx, W, Hb, S, R, C, i1, b);
  const got = await ctx.read(S, 0, R * b * 4);
  for (let r = 0; r < R; r++) for (let j = 0; j < b; j++) {
    const d = h[(i1 + j) * C + i1 + j], x = w[r * C + i1 + j];
    expect(Math.abs(got[r * b + j] - (x * x) / (d * d))).toBeLessThanOrEqual(1e-6 * ((x * x) / (d * d)) + 1e-30);
  }
  [W, Hb, S].forEach((x) => ctx.destroy(x));
});

test('magnitude\'s unstructured mask chosen on the GPU equals the CPU\'s, entry for entry (bf16-like weights: many ties)', async () => {
  const R = 70, C = 130;
  // Weights rounded to 8 significant bits, as bf16 stores them: ties at the threshold are common.
  const dense = Float32Array.from(randn(R * C, 77), (v) => {
    const e = Math.floor(Math.log2(Math.abs(v) || 1));
    return Math.round(v / 2 ** (e - 7)) * 2 ** (e - 7);
  });
  const gpu = await runMethod(magnitude, dense, R, C, new Float32Array(0), 'gpu', { kind: 'unstructured', sparsity: 0.5 });
  const cpu = await runMethod(magnitude, dense, R, C, new Float32Array(0), 'cpu', { kind: 'unstructured', sparsity: 0.5 });
  expect(Array.from(gpu)).toEqual(Array.from(cpu));
  expect(gpu.filter((v) => v === 0).length).toBeGreaterThanOrEqual(R * C * 0.5);
});

/** Weights rounded to 8 significant bits (as bf16 stores them), so equal scores are common. */
function bf16Like(n: number, seed: number): Float32Array<ArrayBuffer> {
  return Float32Array.from(randn(n, seed), (v, i) => {
    if (i % 13 === 0) return 0;
    const e = Math.floor(Math.log2(Math.abs(v) || 1));
    return Math.round(v / 2 ** (e - 7)) * 2 ** (e - 7);
  });
}

/** The f32 scores the kernels compute: fround(|w| · scale_j). */
function f32Scores(w: Float32Array, scale: Float32Array, R: number, C: number): Float64Array {
  const s = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) s[r * C + j] = Math.fround(Math.abs(w[r * C + j]) * scale[j]);
  return s;
}

function maskOf(w: Float32Array, ref: Float32Array): Uint8Array {
  return Uint8Array.from(w, (v, i) => (v === 0 && ref[i] !== 0 ? 1 : 0));
}

test.each([
  [1, 1, 0.5], [3, 7, 0.5], [5, 256, 0.3], [4, 300, 0.9], [9, 1000, 0.5], [2, 257, 1], [3, 513, 0.01], [2, 4, 0.75],
])('row_select R=%i C=%i sparsity %f: rowwiseMask on f32 scores, ties by column', async (R, C, sparsity) => {
  // Coarse scales make many equal products: the tie-break by column decides.
  const w = bf16Like(R * C, R * 31 + C), scale = Float32Array.from({ length: C }, (_, j) => [1, 0.5, 2, 0][j % 4]);
  const W = ctx.upload(w, 'w'), S = ctx.upload(scale, 'scale');
  sel.rowSelect(ctx, W, S, R, C, Math.floor(C * sparsity));
  const got = await ctx.read(W, 0, R * C * 4);
  const scores = f32Scores(w, scale, R, C);
  const ref = new Uint8Array(R * C);
  rowwiseMask(scores, R, C, sparsity, ref);
  for (let i = 0; i < R * C; i++) expect(got[i]).toBe(ref[i] ? 0 : w[i]);
  [W, S].forEach((b) => ctx.destroy(b));
});

test.each([
  [1, 4, 2, 4], [3, 7, 2, 4], [5, 64, 4, 8], [2, 70, 1, 32], [3, 33, 31, 32], [7, 100, 3, 5],
])('nm_select R=%i C=%i %i:%i: nmMask on f32 scores (a narrower last group; lower column first on ties)', async (R, C, n, m) => {
  const w = bf16Like(R * C, R * 7 + C + n), scale = Float32Array.from({ length: C }, (_, j) => [1, 0.5, 2, 0, 1][j % 5]);
  const W = ctx.upload(w, 'w'), S = ctx.upload(scale, 'scale');
  sel.nmSelect(ctx, W, S, R, C, n, m);
  const got = await ctx.read(W, 0, R * C * 4);
  const ref = new Uint8Array(R * C);
  nmMask(f32Scores(w, scale, R, C), R, C, n, m, ref);
  for (let i = 0; i < R * C; i++) expect(got[i]).toBe(ref[i] ? 0 : w[i]);
  [W, S].forEach((b) => ctx.destroy(b));
});

async function runMethod(
  fn: (m: MethodInput) => Promise<unknown>, dense: Float32Array, R: number, C: number, hCpu: Float32Array, selectOn: 'gpu' | 'cpu', target: MethodInput['target'],
): Promise<Float32Array> {
  const w = ctx.upload(new Float32Array(R * C), 'w');
  await fn({ ctx, w, R, C, dense, stats: { h: w, hCpu, C }, target, percdamp: 0.01, blocksize: 128, selectOn });
  const out = await ctx.read(w, 0, R * C * 4);
  ctx.destroy(w);
  return out;
}

test.each([
  ['wanda', 0.5], ['wanda', '2:4'], ['magnitude', '2:4'], ['wanda', 0.7],
] as const)('%s %s: the mask chosen on the GPU equals the CPU path\'s, entry for entry', async (method, t) => {
  const R = 37, C = 300;
  const dense = bf16Like(R * C, 5);
  // A diagonal of powers of two keeps the f32 and float64 products equal (the CPU path's scores are float64).
  const hCpu = new Float32Array(C * C);
  for (let j = 0; j < C; j++) hCpu[j * C + j] = [1, 4, 0.25, 0, 16][j % 5];
  const target: MethodInput['target'] = typeof t === 'number' ? { kind: 'unstructured', sparsity: t } : { kind: 'nm', n: 2, m: 4 };
  const fn = method === 'wanda' ? wanda : magnitude;
  const gpu = await runMethod(fn, dense, R, C, hCpu, 'gpu', target), cpu = await runMethod(fn, dense, R, C, hCpu, 'cpu', target);
  expect(Array.from(maskOf(gpu, dense))).toEqual(Array.from(maskOf(cpu, dense)));
  expect(Array.from(gpu)).toEqual(Array.from(cpu));
});
