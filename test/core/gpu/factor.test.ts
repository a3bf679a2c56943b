// The GPU factorisation (shaders/cholesky_*.wgsl, trtri_*.wgsl) against the float64 CPU path of
// src/core/prune/linalg.ts, over sizes below, at and across the 32-row block (odd ones included).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GpuContext } from '../../../src/core/gpu/context';
import * as fop from '../../../src/core/gpu/ops-factor';
import { choleskyLower, inverseCholeskyUpper, invertLower } from '../../../src/core/prune/linalg';
import { randn, testContext } from '../../helpers/gpu';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});
afterAll(() => ctx?.dispose());

/** A symmetric positive definite n × n: XᵀX / T + δI from T random rows (condition number grows as δ → 0). */
function spd(n: number, seed: number, delta = 0.1): Float64Array {
  const T = 2 * n + 3, x = randn(T * n, seed);
  const a = new Float64Array(n * n);
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += (x[t * n + i] * x[t * n + j]) / T;
  for (let i = 0; i < n; i++) a[i * n + i] += delta;
  return a;
}

/** Largest |a − b| over the lower (or upper) triangle, relative to the largest |b| there. */
function triErr(a: ArrayLike<number>, b: ArrayLike<number>, n: number, lower: boolean): number {
  let e = 0, m = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (lower ? j > i : j < i) continue;
    e = Math.max(e, Math.abs(a[i * n + j] - b[i * n + j]));
    m = Math.max(m, Math.abs(b[i * n + j]));
  }
  return e / m;
}

const SIZES = [1, 5, 32, 33, 70, 131];

describe('GPU factorisation (f32) against float64', () => {
  test.each(SIZES)('cholesky n=%i: the lower factor', async (n) => {
    const a = spd(n, n);
    const A = ctx.upload(Float32Array.from(a), 'a'), status = ctx.upload(new Uint32Array(1), 'status');
    fop.choleskyLower(ctx, A, status, n);
    const got = await ctx.read(A, 0, n * n * 4);
    choleskyLower(a, n);
    expect(triErr(got, a, n, true)).toBeLessThan(1e-5 * Math.sqrt(n) + 1e-6);
    expect(new Uint32Array((await ctx.read(status, 0, 4)).buffer)[0]).toBe(0);
    [A, status].forEach((b) => ctx.destroy(b));
  });

  test.each(SIZES)('triangular inverse n=%i', async (n) => {
    const l = spd(n, 100 + n, 1);
    choleskyLower(l, n);
    const L = ctx.upload(Float32Array.from(l), 'l'), X = ctx.storage(n * n * 4, 'x'), S = ctx.storage(fop.invertLowerScratchBytes(n), 's');
    fop.invertLower(ctx, L, X, S, n);
    const got = await ctx.read(X, 0, n * n * 4);
    invertLower(l, n);
    expect(triErr(got, l, n, true)).toBeLessThan(1e-5 * Math.sqrt(n) + 1e-6);
    // The strict upper part stays 0.
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(got[i * n + j]).toBe(0);
    [L, X, S].forEach((b) => ctx.destroy(b));
  });

  test.each(SIZES)('SparseGPT\'s U (H⁻¹ = UᵀU) n=%i: U, Uᵀ and its diagonal', async (n) => {
    const h = spd(n, 200 + n, 0.01);
    const a = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
    const A = ctx.upload(a, 'a'), status = ctx.upload(new Uint32Array(1), 'status'), X = ctx.storage(n * n * 4, 'x');
    const S = ctx.storage(fop.invertLowerScratchBytes(n), 's'), U = ctx.storage(n * n * 4, 'u'), UT = ctx.storage(n * n * 4, 'ut'), D = ctx.storage(n * 4, 'd');
    fop.choleskyLower(ctx, A, status, n);
    fop.invertLower(ctx, A, X, S, n);
    fop.reverseFactor(ctx, X, U, UT, D, n);
    const u = await ctx.read(U, 0, n * n * 4), ut = await ctx.read(UT, 0, n * n * 4), d = await ctx.read(D, 0, n * 4);
    const ref = inverseCholeskyUpper(h, n);
    expect(triErr(u, ref, n, false)).toBeLessThan(1e-4 * Math.sqrt(n));
    for (let i = 0; i < n; i++) {
      expect(d[i]).toBe(u[i * n + i]);
      for (let j = 0; j < n; j++) expect(ut[j * n + i]).toBe(u[i * n + j]);
    }
    [A, status, X, S, U, UT, D].forEach((b) => ctx.destroy(b));
  });

  test.each([[40, 70], [0, 5], [64, 97]])('a pivot that is not positive (index %i of %i) is reported, the first one', async (bad, n) => {
    const a = spd(n, 300 + n, 1);
    // Row/column `bad` made dependent on the others far beyond rounding: its pivot goes negative.
    for (let j = 0; j < n; j++) if (j !== bad) { a[bad * n + j] *= 0; a[j * n + bad] *= 0; }
    a[bad * n + bad] = -1;
    a[(n - 1) * n + n - 1] = -1; // a later one too: only the first is reported
    const A = ctx.upload(Float32Array.from(a), 'a'), status = ctx.upload(new Uint32Array(1), 'status');
    fop.choleskyLower(ctx, A, status, n);
    expect(new Uint32Array((await ctx.read(status, 0, 4)).buffer)[0]).toBe(bad + 1);
    [A, status].forEach((b) => ctx.destroy(b));
  });
});
