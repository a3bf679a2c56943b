// Mask selection on the GPU (shaders/select_*.wgsl, obs_scores.wgsl) against thresholdMask
// (src/core/prune/select.ts): the same masks, bit for bit, ties and zeros included.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as sel from '../../../src/core/gpu/ops-select';
import { magnitude } from '../../../src/core/prune/magnitude';
import { thresholdMask } from '../../../src/core/prune/select';
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
  const run = async (selectOn: 'gpu' | 'cpu') => {
    const w = ctx.upload(new Float32Array(R * C), 'w');
    const input = { ctx, w, R, C, dense, stats: { h: w, hCpu: new Float32Array(0), C }, target: { kind: 'unstructured' as const, sparsity: 0.5 }, percdamp: 0.01, blocksize: 128, selectOn };
    await magnitude(input);
    const out = await ctx.read(w, 0, R * C * 4);
    ctx.destroy(w);
    return out;
  };
  const gpu = await run('gpu'), cpu = await run('cpu');
  expect(Array.from(gpu)).toEqual(Array.from(cpu));
  expect(gpu.filter((v) => v === 0).length).toBeGreaterThanOrEqual(R * C * 0.5);
});
