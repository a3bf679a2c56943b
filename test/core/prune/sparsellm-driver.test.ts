// SparseLLM through the driver (method 'sparsellm'): attention by SparseGPT, each MLP by
// sparsellmMlp, on a SiLU-gated model (tiny-llama) and a ReLU model (tiny-opt); GELU MLPs are
// refused before any work; a restore gives the dense model back exactly.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { BadOption } from '../../../src/core/errors';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, EVAL_TEXT as evalText, FIXTURE_MODELS } from '../../helpers/fixtures';

const small = { calibSamples: 4, seqlen: 32 };
let engine: Engine;

beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

describe.each(['tiny-llama', 'tiny-opt'])('%s', (dir) => {
  test('prunes every sublayer to the target, reports the MLP error per alternation, restores exactly', async () => {
    await loadNodeModel(engine, path.join(FIXTURE_MODELS, dir));
    const dense = (await engine.perplexity(evalText, { seqlen: 32, maxWindows: 2 })).ppl;
    const r = await engine.prune(calib, { method: 'sparsellm', target: { kind: 'unstructured', sparsity: 0.7 }, ...small });
    expect(r.method).toBe('sparsellm');
    for (const l of r.layers) {
      expect(Math.abs(l.sparsity - 0.7), l.name).toBeLessThan(0.02);
      expect(Number.isFinite(l.rel_error), l.name).toBe(true);
    }
    const downs = r.layers.filter((l) => l.name.endsWith('mlp.down'));
    expect(downs.length).toBe(engine.model!.layers);
    for (const d of downs) {
      // Four alternations, the first being plain SparseGPT; the kept one is the last (the authors').
      expect(d.history).toHaveLength(4);
      expect(d.history!.every((e) => Number.isFinite(e) && e >= 0)).toBe(true);
      expect(d.kept).toBe(3);
    }
    // (The fixtures are random models: pruning changes their perplexity, in either direction.)
    const pruned = (await engine.perplexity(evalText, { seqlen: 32, maxWindows: 2 })).ppl;
    expect(Number.isFinite(pruned) && pruned !== dense).toBe(true);
    engine.restoreDense();
    expect((await engine.perplexity(evalText, { seqlen: 32, maxWindows: 2 })).ppl).toBe(dense);
  });
});

test("keep 'best' keeps the alternation with the lowest MLP error", async () => {
  await loadNodeModel(engine, path.join(FIXTURE_MODELS, 'tiny-llama'));
  const r = await engine.prune(calib, { method: 'sparsellm', target: { kind: 'unstructured', sparsity: 0.8 }, ...small, sparsellm: { keep: 'best' } });
  for (const d of r.layers.filter((l) => l.name.endsWith('mlp.down'))) {
    const h = d.history!;
    expect(h[d.kept!]).toBe(Math.min(...h));
  }
  engine.restoreDense();
});

test('a GELU MLP (gpt2) is refused before any work', async () => {
  await loadNodeModel(engine, path.join(FIXTURE_MODELS, 'tiny-gpt2'));
  const progress: string[] = [];
  const run = engine.prune(calib, { method: 'sparsellm', target: { kind: 'unstructured', sparsity: 0.5 }, ...small }, (p) => progress.push(p.detail ?? ''));
  await expect(run).rejects.toThrow(BadOption);
  await expect(engine.prune(calib, { method: 'sparsellm', target: { kind: 'unstructured', sparsity: 0.5 }, ...small })).rejects.toThrow(/ReLU MLPs \(OPT\) and SiLU-gated MLPs.*gelu/);
  expect(progress.filter((p) => /layer/.test(p))).toEqual([]);
  expect(engine.pruneState).toBeNull();
});
