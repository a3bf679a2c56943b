// The float64 training reference over canonical weights (src/core/reference/train-model.ts), for
// every family's tiny fixture: its forward gives the logits of the HF-following reference
// (hf-model.ts), and its gradient of every parameter agrees with central finite differences of
// its loss (sampled coordinates of every tensor).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { referenceLogits } from '../../../src/core/reference/hf-model';
import { finiteDiff } from '../../../src/core/reference/train';
import { referenceTrainStep } from '../../../src/core/reference/train-model';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { FIXTURE_MODELS, json, refTensors } from '../../helpers/fixtures';
import { canonicalParams } from '../../helpers/train';

// One fixture per family and layout: pre-LN, post-LN with project_in/out, parallel residual, shared norm, tied, GQA.
const NAMES = ['tiny-llama', 'tiny-qwen2', 'tiny-gpt2', 'tiny-opt', 'tiny-opt-350m-style', 'tiny-gpt-neox', 'tiny-gpt-neox-seq', 'tiny-phi', 'tiny-llama-tied-bf16'];

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

describe.each(NAMES)('%s', (name) => {
  const dir = path.join(FIXTURE_MODELS, name);
  const ids: number[] = json(path.join(dir, 'expected.json')).ids.slice(0, 7);

  test('forward over canonical weights = the HF-following reference; gradients = finite differences', async () => {
    await loadNodeModel(engine, dir);
    const spec = engine.gpuModel!.spec;
    const params = await canonicalParams(engine.gpuModel!);
    const { logits, loss, grads } = referenceTrainStep(spec, params, ids);
    const hf = referenceLogits(json(path.join(dir, 'config.json')), refTensors(dir), ids);
    let worst = 0;
    for (let i = 0; i < hf.length; i++) worst = Math.max(worst, Math.abs(logits[i] - hf[i]));
    expect(worst).toBeLessThan(1e-9);
    expect(Number.isFinite(loss)).toBe(true);
    // Every parameter has a gradient, of its shape.
    expect([...grads.keys()].sort()).toEqual([...params.keys()].sort());
    for (const [k, g] of grads) expect(g.length, k).toBe(params.get(k)!.length);
    // Central differences on 6 coordinates of every tensor (the largest gradients and spread ones).
    const lossOf = () => referenceTrainStep(spec, params, ids, false).loss;
    for (const [k, w] of params) {
      const g = grads.get(k)!;
      const byMagnitude = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      const picks = new Set([...byMagnitude.slice(0, 3), 0, Math.floor(w.length / 2), w.length - 1]);
      const fd = finiteDiff(lossOf, w, 1e-5, picks);
      for (const j of picks) expect(Math.abs(fd[j] - g[j]), `${k}[${j}]: fd ${fd[j]}, grad ${g[j]}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd[j])) + 1e-8);
    }
  });
});

test('with SquareHead (and KL) on a teacher: the gradient of the whole loss = finite differences', async () => {
  const dir = path.join(FIXTURE_MODELS, 'tiny-gpt-neox');
  const ids: number[] = json(path.join(dir, 'expected.json')).ids.slice(0, 7);
  await loadNodeModel(engine, dir);
  const spec = engine.gpuModel!.spec;
  const params = await canonicalParams(engine.gpuModel!);
  const tParams = new Map([...params].map(([k, w]) => [k, w.map((x, i) => x * 1.1 + 0.01 * Math.sin(i))]));
  const t = referenceTrainStep(spec, tParams, ids, false);
  const sq = { hidden: t.hidden, weight: 1, eps: 1e-6 };
  const { grads, features } = referenceTrainStep(spec, params, ids, true, t.logits, sq);
  expect(features).toBeGreaterThan(0);
  const lossOf = () => referenceTrainStep(spec, params, ids, false, t.logits, sq).loss;
  for (const [k, w] of params) {
    const g = grads.get(k)!;
    const picks = new Set([...Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, 2), w.length - 1]);
    const fd = finiteDiff(lossOf, w, 1e-5, picks);
    for (const j of picks) expect(Math.abs(fd[j] - g[j]), `${k}[${j}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd[j])) + 1e-8);
  }
  // The teacher against itself: no feature loss.
  expect(referenceTrainStep(spec, tParams, ids, false, undefined, sq).features).toBe(0);
});
