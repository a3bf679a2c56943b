// The Speed & size view's pure parts: grouping the report by shape, the fastest format per regime,
// and why the button is disabled.
import { describe, expect, it } from 'vitest';
import type { SpeedRow } from '../../src/core/sparse/speed';
import { groupByShape, speedBlocker } from '../../src/store/speed';

function row(shape: string, format: SpeedRow['format'], gemv: number, gemm: number): SpeedRow {
  const [N, K] = shape.split('x').map(Number);
  return {
    shape, N, K, count: 2, sparsity: 0.5, format, bytes: { disk: N * K * 4, gpu: N * K * 4 },
    gemv_ms: gemv, gemm_ms: gemm, gemv_gbps: 1, gemm_gflops: 1, speedup_gemv: 1, speedup_gemm: 1,
  };
}

describe('speed report', () => {
  it('groups rows by shape in order and finds the fastest format per regime', () => {
    const g = groupByShape([row('64x64', 'dense', 1, 5), row('64x64', 'bitmask', 0.5, 6), row('64x64', 'csr', 0.7, 4), row('32x64', 'dense', 1, 1)]);
    expect(g.map((x) => x.shape)).toEqual(['64x64', '32x64']);
    expect(g[0].rows.map((r) => r.format)).toEqual(['dense', 'bitmask', 'csr']);
    expect(g[0].dense?.format).toBe('dense');
    expect(g[0].fastestGemv).toBe('bitmask');
    expect(g[0].fastestGemm).toBe('csr');
    expect(g[1].fastestGemv).toBe('dense');
  });

  it('says why it cannot run', () => {
    const ok = { engineReady: true, hasModel: true, dense: false, pruneJob: false, measuringPpl: false, exporting: false };
    expect(speedBlocker(ok)).toBeNull();
    expect(speedBlocker({ ...ok, dense: true })).toMatch(/dense/);
    expect(speedBlocker({ ...ok, pruneJob: true })).toMatch(/prune job/);
    expect(speedBlocker({ ...ok, hasModel: false })).toMatch(/Load a model/);
  });
});
