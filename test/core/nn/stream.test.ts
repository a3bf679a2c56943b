// Layer streaming (src/core/nn/stream.ts): a model loaded with a GPU budget smaller than its
// weights keeps them on the host and uploads one layer at a time. The smallest budget there is
// (the largest group: one decoder layer, or the embeddings) gives the same perplexity, generation
// and SparseGPT run as the resident model, on the demo model and every family fixture; a budget
// below that is refused before any work, with the sizes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { TooLargeForDevice } from '../../../src/core/errors';
import { streamGroups } from '../../../src/core/nn/stream';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT, DEMO_MODEL, EVAL_TEXT, FIXTURE_MODELS } from '../../helpers/fixtures';

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

/** The smallest budget the model can stream in: its largest group's bytes. */
function smallestBudget(): { budget: number; total: number } {
  const m = engine.gpuModel!;
  const groups = streamGroups([...m.weights].map(([n, t]) => [n, t.shape] as const), engine.ctx.pageBytes);
  const sizes = [...groups.values()].map((g) => g.bytes);
  return { budget: Math.max(...sizes), total: sizes.reduce((a, b) => a + b, 0) };
}

const fixtures = fs.readdirSync(FIXTURE_MODELS).filter((n) => fs.existsSync(path.join(FIXTURE_MODELS, n, 'config.json')));

test.each([['stories260K', DEMO_MODEL], ...fixtures.map((n) => [n, path.join(FIXTURE_MODELS, n)])])(
  '%s: perplexity and greedy generation streamed at the smallest budget equal the resident model\'s',
  async (_name, dir) => {
    const opts = { seqlen: 16, maxWindows: 4 };
    const prompt = 'Once upon a time';
    const gen = { weights: 'dense' as const, maxNewTokens: 6, temperature: 0 };
    const resident = await loadNodeModel(engine, dir);
    expect(resident.streamed).toBe(false);
    const { budget, total } = smallestBudget();
    const ppl = (await engine.perplexity(EVAL_TEXT, opts)).ppl;
    const text = (await engine.generate(prompt, gen)).text;
    const streamed = await loadNodeModel(engine, dir, undefined, { gpuBudget: budget });
    expect(streamed.streamed).toBe(true);
    expect(streamed.gpuBudget).toBe(budget);
    expect(streamed.gpuBytes).toBe(total);
    const sppl = (await engine.perplexity(EVAL_TEXT, opts)).ppl;
    expect(Math.abs(sppl / ppl - 1)).toBeLessThanOrEqual(1e-5);
    expect((await engine.generate(prompt, gen)).text).toBe(text);
    const s = engine.gpuModel!.stream!;
    expect(s.peakResidentBytes).toBeLessThanOrEqual(budget);
    expect(s.uploadedBytes).toBeGreaterThan(total); // every window re-streams the layers
  },
);

test('SparseGPT on a streamed demo model: the same report, perplexity and weights as resident', async () => {
  const opts = { method: 'sparsegpt' as const, target: { kind: 'unstructured' as const, sparsity: 0.5 }, calibSamples: 8, seqlen: 64 };
  const evalOpts = { seqlen: 64, maxWindows: 4 };
  await loadNodeModel(engine, DEMO_MODEL);
  const { budget } = smallestBudget();
  const a = await engine.prune(CALIB_TEXT, opts);
  const pplA = (await engine.perplexity(EVAL_TEXT, evalOpts)).ppl;
  const wA = await engine.gpuModel!.read('layers.0.mlp.down.weight');
  await loadNodeModel(engine, DEMO_MODEL, undefined, { gpuBudget: budget });
  const b = await engine.prune(CALIB_TEXT, opts);
  const model = engine.gpuModel!;
  // Layer 0 left the GPU long ago: its pruned weights come from the host copy.
  expect(model.stream!.isResident('layers.0.mlp.down.weight')).toBe(false);
  expect(Array.from(await model.read('layers.0.mlp.down.weight'))).toEqual(Array.from(wA));
  expect(b.layers.map((l) => l.rel_error)).toEqual(a.layers.map((l) => l.rel_error));
  expect(b.sparsity).toBe(a.sparsity);
  expect((await engine.perplexity(EVAL_TEXT, evalOpts)).ppl).toBe(pplA);
  expect(model.stream!.peakResidentBytes).toBeLessThanOrEqual(budget);
  // Back to dense: the host copies hold the dense weights again.
  engine.restoreDense();
  const dense = await model.read('layers.0.mlp.down.weight');
  await loadNodeModel(engine, DEMO_MODEL);
  expect(Array.from(dense)).toEqual(Array.from(await engine.gpuModel!.read('layers.0.mlp.down.weight')));
});

test('a budget below one layer is refused before anything is read, with the sizes; training a streamed model is refused by name', async () => {
  await loadNodeModel(engine, DEMO_MODEL);
  const { budget } = smallestBudget();
  const before = engine.model;
  const err = await loadNodeModel(engine, DEMO_MODEL, undefined, { gpuBudget: budget - 1 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TooLargeForDevice);
  expect((err as Error).message).toMatch(/^The GPU budget of .* is smaller than .*\(.* in f32\), the most of the model's weights that must be on the GPU at once\. Give a budget of at least .* \(the whole model: .*\)\.$/);
  expect(engine.model).toBe(before); // the loaded model is kept
  await loadNodeModel(engine, DEMO_MODEL, undefined, { gpuBudget: budget });
  expect(() => engine.beginTraining()).toThrow(/^Training needs the whole model on the GPU .*--gpu-budget/);
  await expect(engine.speedReport()).rejects.toThrow(/^The speed report needs the whole model on the GPU/);
});
