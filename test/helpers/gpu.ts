// Shared test helpers: a GPU context on Dawn (Node), seeded random data, tolerance checks.
import { afterAll, beforeAll } from 'vitest';
import { acquireDevice } from '../../src/core/gpu/device';
import { GpuContext, type MatmulVariant } from '../../src/core/gpu/context';
import { mulberry32 } from '../../src/core/random';
import { nodeShaders } from '../../src/node/files';
import { nodeGpu } from '../../src/node/gpu';

export async function testContext(pageBytesOverride?: number): Promise<GpuContext> {
  const { device, summary } = await acquireDevice(await nodeGpu());
  return new GpuContext(device, summary, nodeShaders, pageBytesOverride);
}

/** The two kernel variants a context runs (shared tiles and trees; barrier-free): for `describe.each`. */
export const VARIANTS = ['tiled', 'rb'] as const;

/** Run the enclosing describe's tests on `variant`, then give the context its adapter's own back. */
export function onVariant(ctx: () => GpuContext, variant: MatmulVariant): void {
  beforeAll(() => {
    ctx().matmulVariant = variant;
  });
  afterAll(() => {
    ctx().matmulVariant = ctx().adapter.isSoftware ? 'rb' : 'tiled';
  });
}

/** Uniform values in [-scale, scale). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** Largest |a - b| relative to (1 + |b|), and where. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; at: number } {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let err = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!(e <= err)) {
      err = e;
      at = i;
    }
  }
  return { err, at };
}

/** f32 accumulation error bound for a reduction of length n (values O(1)). */
export function tolFor(n: number): number {
  return 2e-6 * Math.sqrt(n) + 1e-6;
}

/** Calibration inputs with correlated features (as real activations have): X = Z · M, (T, C) each. */
export function correlatedInputs(nseq: number, T: number, C: number, seed: number): Float32Array[] {
  const M = randn(C * C, seed, 1 / Math.sqrt(C));
  for (let i = 0; i < C; i++) M[i * C + i] += 1;
  return Array.from({ length: nseq }, (_, s) => {
    const Z = randn(T * C, seed + 100 + s);
    const X = new Float32Array(T * C);
    for (let t = 0; t < T; t++) for (let j = 0; j < C; j++) {
      let v = 0;
      for (let k = 0; k < C; k++) v += Z[t * C + k] * M[k * C + j];
      X[t * C + j] = v;
    }
    return X;
  });
}
