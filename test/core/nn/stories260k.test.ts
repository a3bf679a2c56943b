// The demo model (stories260K, real pretrained Llama) on the GPU against independent reference
// outputs (numpy float64, see test/fixtures/stories260K/reference_outputs.json).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { generateGreedy } from '../../../src/core/eval/generate';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { DEMO_MODEL, ROOT, json } from '../../helpers/fixtures';

const ref = json(path.join(ROOT, 'test/fixtures/stories260K/reference_outputs.json'));
let engine: Engine;

beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

test('model card', () => {
  const m = engine.model!;
  expect(m).toMatchObject({ family: 'llama', parameters: 260032, layers: 5, hidden: 64, heads: 8, kvHeads: 4, ffn: 172, vocabSize: 512, dtype: 'F32' });
});

test('tokenizer matches the reference ids', () => {
  for (const { text, ids } of ref.tokenize) expect(engine.encode(text)).toEqual(ids);
});

test('logits for "Once upon a time" match the reference within 1e-4', async () => {
  const r = ref.last_logits_once_upon_a_time;
  const V = 512;
  const logits = await engine.gpuModel!.logits(r.ids);
  const last = logits.subarray((r.ids.length - 1) * V);
  r.logits_first8.forEach((v: number, i: number) => expect(Math.abs(last[i] - v)).toBeLessThan(1e-4));
  r.top5_ids.forEach((id: number, i: number) => expect(Math.abs(last[id] - r.top5_logits[i])).toBeLessThan(1e-4));
  const top5 = [...last.keys()].sort((a, b) => last[b] - last[a]).slice(0, 5);
  expect(top5).toEqual(r.top5_ids);
});

test('mean NLL of the sample document matches the reference', async () => {
  const r = ref.nll_doc_sample;
  const ids = engine.encode(r.text);
  expect(ids.length - 1).toBe(r.n_predicted);
  const m = engine.gpuModel!;
  const ws = m.allocate(ids.length);
  try {
    const nll = await m.windowNll(ws, ids);
    const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
    expect(Math.abs(mean - r.mean_nll)).toBeLessThan(1e-5);
  } finally {
    m.release(ws);
  }
});

test('greedy decoding from BOS reproduces the reference text exactly', async () => {
  const r = ref.greedy_from_bos;
  const out = await generateGreedy(engine.gpuModel!, [1], r.ids.length - 1, null);
  expect(out).toEqual(r.ids);
  expect(engine.tokenizer!.decode(out)).toBe(r.text);
});

test('perplexity follows the protocol: windows, tokens, and the CLI figure', async () => {
  const text = fs.readFileSync(path.join(ROOT, 'public/data/sample-eval.txt'), 'utf8');
  const r = await engine.perplexity(text, { seqlen: 128, maxWindows: 2 });
  expect(r.windows).toBe(2);
  expect(r.tokens).toBe(2 * 127);
  expect(r.ppl).toBeCloseTo(Math.exp(r.nll), 10);
  expect(r.ppl).toBeGreaterThan(2);
  expect(r.ppl).toBeLessThan(20);
});
