// The pruned demo model run with sparse kernels gives the same perplexity as dense-with-zeros
// (within 1e-5 relative) for every format, and the same greedy tokens; 'auto' measures and picks.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { generateGreedy } from '../../../src/core/eval/generate';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText } from '../../helpers/fixtures';

const evalOpts = { seqlen: 64, maxWindows: 2 };
let engine: Engine;

beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

test.each([
  ['unstructured 70%', { kind: 'unstructured', sparsity: 0.7 } as const, ['bitmask', 'csr', 'auto'] as const],
  ['2:4', { kind: 'nm', n: 2, m: 4 } as const, ['2:4', 'bitmask', 'auto'] as const],
])('%s: sparse kernels = dense with zeros', async (_label, target, modes) => {
  await engine.prune(calib, { method: 'sparsegpt', target, calibSamples: 4, seqlen: 64 });
  const dense = await engine.perplexity(evalText, evalOpts);
  const denseTokens = await generateGreedy(engine.gpuModel!, [1], 12, null);
  for (const mode of modes) {
    const choices = await engine.useSparse(mode);
    expect(choices.length).toBe(35);
    if (mode !== 'auto') for (const c of choices) expect([c.decode, c.prefill]).toEqual([mode, mode]);
    else for (const c of choices) expect(c.timings && Object.keys(c.timings)).toContain('dense');
    const sparse = await engine.perplexity(evalText, evalOpts);
    expect(Math.abs(sparse.ppl / dense.ppl - 1)).toBeLessThan(1e-5);
    expect(await generateGreedy(engine.gpuModel!, [1], 12, null)).toEqual(denseTokens);
  }
  await engine.useSparse('dense');
});

test('speed report: every shape, dense and each format, measured; decode dense vs sparse', async () => {
  await engine.prune(calib, { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: 4, seqlen: 64 });
  const r = await engine.speedReport();
  const shapes = new Set(r.rows.map((x) => x.shape));
  expect([...shapes].sort()).toEqual(['172x64', '32x64', '64x172', '64x64']);
  for (const s of shapes) {
    const formats = r.rows.filter((x) => x.shape === s).map((x) => x.format);
    expect(formats).toEqual(['dense', 'bitmask', 'csr']);
  }
  for (const row of r.rows) {
    expect(row.gemv_ms).toBeGreaterThan(0);
    expect(row.gemm_ms).toBeGreaterThan(0);
    expect(row.bytes.gpu).toBeGreaterThan(0);
  }
  expect(r.decode.same_tokens).toBe(true);
  expect(r.decode.dense_tokens_per_s).toBeGreaterThan(0);
  engine.restoreDense();
});
