// Every supported family: a tiny synthetic checkpoint (scripts/make-fixtures.ts, HF tensor names
// and config fields) run on the GPU agrees with the float64 CPU reference that follows the HF
// modeling code (src/core/reference/hf-model.ts) within 1e-4.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { referenceLogits } from '../../../src/core/reference/hf-model';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { FIXTURE_MODELS, json, refTensors } from '../../helpers/fixtures';

const names = fs.readdirSync(FIXTURE_MODELS).filter((n) => fs.existsSync(path.join(FIXTURE_MODELS, n, 'expected.json')));

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

test('there is a fixture for every family', () => {
  const families = new Set(names.map((n) => json(path.join(FIXTURE_MODELS, n, 'config.json')).model_type));
  expect([...families].sort()).toEqual(['gpt2', 'gpt_neox', 'llama', 'opt', 'phi', 'qwen2']);
});

describe.each(names)('%s', (name) => {
  const dir = path.join(FIXTURE_MODELS, name);
  const expected = json(path.join(dir, 'expected.json'));

  test('GPU logits match the float64 reference within 1e-4', async () => {
    await loadNodeModel(engine, dir);
    const ids: number[] = expected.ids;
    expect(engine.encode(expected.text).slice(0, ids.length)).toEqual(ids);
    const V = engine.model!.vocabSize;
    const got = await engine.gpuModel!.logits(ids);
    const ref = referenceLogits(json(path.join(dir, 'config.json')), refTensors(dir), ids);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
    expect(worst).toBeLessThan(1e-4);
    // The checked-in golden logits (7 significant digits) agree too.
    const golden: number[][] = expected.logits;
    golden.forEach((row, t) => row.forEach((v, j) => expect(Math.abs(got[t * V + j] - v)).toBeLessThan(1e-4 + 1e-6 * Math.abs(v))));
  });
});

test('paged weights and logits (tiny pages) give the same logits', async () => {
  const dir = path.join(FIXTURE_MODELS, 'tiny-llama');
  const expected = json(path.join(dir, 'expected.json'));
  const paged = await createNodeEngine({ pageBytesOverride: 4096 });
  try {
    await loadNodeModel(paged, dir);
    const V = paged.model!.vocabSize;
    const got = await paged.gpuModel!.logits(expected.ids);
    const golden: number[][] = expected.logits;
    golden.forEach((row, t) => row.forEach((v, j) => expect(Math.abs(got[t * V + j] - v)).toBeLessThan(1e-4)));
  } finally {
    paged.dispose();
  }
});

test('KV-cache decoding gives the same next-token logits as a full forward', async () => {
  for (const name of ['tiny-gpt2', 'tiny-opt-350m-style', 'tiny-gpt-neox', 'tiny-llama-tied-bf16']) {
    const dir = path.join(FIXTURE_MODELS, name);
    await loadNodeModel(engine, dir);
    const m = engine.gpuModel!;
    const ids: number[] = json(path.join(dir, 'expected.json')).ids;
    const V = m.spec.vocabSize;
    const full = await m.logits(ids);
    const cache = m.createCache(ids.length);
    const pre = m.allocate(5), one = m.allocate(1);
    try {
      const afterPrefill = await m.step(pre, cache, ids.slice(0, 5), 0);
      for (let j = 0; j < V; j++) expect(Math.abs(afterPrefill[j] - full[4 * V + j])).toBeLessThan(1e-4);
      for (let t = 5; t < ids.length; t++) {
        const l = await m.step(one, cache, [ids[t]], t);
        for (let j = 0; j < V; j++) expect(Math.abs(l[j] - full[t * V + j])).toBeLessThan(1e-4);
      }
    } finally {
      m.release(pre);
      m.release(one);
      m.releaseCache(cache);
    }
  }
});
