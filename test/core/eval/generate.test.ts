// Generation through the engine on real WebGPU (Dawn): greedy text of the demo model against the
// independent reference continuation, streaming updates, tokens/s, reproducible sampling, the
// KV-cache loop against the float64 reference model on tiny fixtures (byte-level GPT-2 and llama),
// and 'dense' generation on a pruned model, which must leave the prune state bit-identical (with and
// without sparse kernels).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { BadOption, BadText, Cancelled } from '../../../src/core/errors';
import { type GenerateOptions, type GenerateUpdate, argmax, generateGreedy } from '../../../src/core/eval/generate';
import { referenceLogits } from '../../../src/core/reference/hf-model';
import { parseSafetensorsRef } from '../../../src/core/reference/safetensors-ref';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText, FIXTURE_MODELS, json, ROOT } from '../../helpers/fixtures';
import { sparseCopies } from '../../../src/core/sparse/select';

const ref = json(path.join(ROOT, 'test/fixtures/stories260K/reference_outputs.json'));
const evalOpts = { seqlen: 64, maxWindows: 2 };
const PROMPT = 'Once upon a time';
const greedy = (maxNewTokens: number, weights: GenerateOptions['weights'] = 'dense'): GenerateOptions => ({ weights, maxNewTokens, temperature: 0 });

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

/** The reference greedy continuation of "Once upon a time" after `n` new tokens (BOS + 4 prompt ids). */
function referenceContinuation(n: number): string {
  const promptIds: number[] = ref.tokenize[0].ids;
  expect(ref.greedy_from_bos.ids.slice(0, promptIds.length)).toEqual(promptIds);
  const full = engine.tokenizer!.decode(ref.greedy_from_bos.ids.slice(0, promptIds.length + n));
  return full.slice(PROMPT.length);
}

/** Every pruned weight and sparse copy's identity, read back bit for bit. */
async function pruneSnapshot(e: Engine) {
  const m = e.gpuModel!;
  const weights: Record<string, Uint32Array> = {};
  for (const name of [...m.weights.keys()].filter((n) => /^layers\.\d+\.(attn|mlp)\.\w+\.weight$/.test(n))) {
    const t = m.weights.get(name)!;
    weights[name] = new Uint32Array((await e.ctx.read(t.chunks[0].buffer)).buffer);
  }
  return { weights, tensors: new Map(m.weights), decode: new Map(sparseCopies(m).decode), prefill: new Map(sparseCopies(m).prefill), state: e.pruneState };
}

describe('stories260K, dense', () => {
  test('greedy continuation of "Once upon a time" equals the reference text; updates stream it', async () => {
    const n = ref.greedy_from_bos.ids.length - ref.tokenize[0].ids.length; // 56
    const updates: GenerateUpdate[] = [];
    const r = await engine.generate(PROMPT, greedy(n), (u) => updates.push(u));
    expect(r.text).toBe(ref.greedy_from_bos.text.slice(PROMPT.length));
    expect(r.text).toBe(referenceContinuation(n));
    expect(r).toMatchObject({ weights: 'dense', tokens: n, promptTokens: 5, stopped: 'length', sparseKernels: false, temperature: 0 });
    // One update per token, each a prefix of the next, the last one the whole text.
    expect(updates.map((u) => u.tokens)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (let i = 1; i < updates.length; i++) expect(updates[i].text.startsWith(updates[i - 1].text)).toBe(true);
    expect(updates.at(-1)!.text).toBe(r.text);
    expect(updates[0].text.length).toBeGreaterThan(0);
    expect(r.prefillMs).toBeGreaterThan(0);
    expect(r.decodeTokensPerS).toBeGreaterThan(0);
    expect(r.decodeTokensPerS! * (r.decodeMs / 1000)).toBeCloseTo(n - 1, 6);
  });

  test('the engine loop is the model-level greedy loop', async () => {
    const ids = engine.encode(PROMPT);
    const out = await generateGreedy(engine.gpuModel!, ids, 16, null);
    const r = await engine.generate(PROMPT, greedy(16));
    expect(r.text).toBe(engine.tokenizer!.decode(out).slice(PROMPT.length));
  });

  test('sampling: reproducible per seed, top-1 equals greedy, temperature changes the text', async () => {
    const opts: GenerateOptions = { weights: 'dense', maxNewTokens: 12, temperature: 1, seed: 1234 };
    const a = await engine.generate(PROMPT, opts);
    const b = await engine.generate(PROMPT, opts);
    expect(b.text).toBe(a.text);
    expect(a).toMatchObject({ temperature: 1, topK: 0, seed: 1234 });
    const others = await Promise.all([1, 2, 3].map((seed) => engine.generate(PROMPT, { ...opts, seed, temperature: 2 })));
    expect(others.some((o) => o.text !== a.text)).toBe(true);
    const g = await engine.generate(PROMPT, greedy(12));
    const top1 = await engine.generate(PROMPT, { ...opts, topK: 1, temperature: 3 });
    expect(top1.text).toBe(g.text);
  });

  test('refuses: pruned weights of a dense model, empty prompt, bad lengths, beyond max positions', async () => {
    await expect(engine.generate(PROMPT, greedy(4, 'pruned'))).rejects.toThrow(BadOption);
    await expect(engine.generate(PROMPT, greedy(4, 'pruned'))).rejects.toThrow(/dense/);
    await expect(engine.generate('   ', greedy(4))).rejects.toThrow(BadText);
    await expect(engine.generate(PROMPT, greedy(0))).rejects.toThrow(BadOption);
    await expect(engine.generate(PROMPT, greedy(5000))).rejects.toThrow(BadOption);
    // 507 + 5 prompt positions fit the model's 512; one more does not.
    await expect(engine.generate(PROMPT, greedy(508))).rejects.toThrow(/513 positions, beyond this model's 512/);
    const long = 'Once upon a time there was a cat. '.repeat(60);
    expect(engine.encode(long).length).toBeGreaterThan(512);
    await expect(engine.generate(long, greedy(1))).rejects.toThrow(BadOption);
  });

  test('cancel stops the run with Cancelled', async () => {
    const c = new AbortController();
    const p = engine.generate(PROMPT, greedy(40), (u) => {
      if (u.tokens === 3) c.abort();
    }, c.signal);
    await expect(p).rejects.toThrow(Cancelled);
  });
});

describe('stories260K, pruned (magnitude 50 %, calibration 4 × 64)', () => {
  test('dense generation while pruned: dense text, prune state and perplexity bit-identical afterwards', async () => {
    const dense16 = (await engine.generate(PROMPT, greedy(16))).text;
    expect(dense16).toBe(referenceContinuation(16));
    await engine.prune(calib, { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: 4, seqlen: 64 });
    const before = await pruneSnapshot(engine);
    const pplBefore = await engine.perplexity(evalText, evalOpts);
    const pruned16 = await engine.generate(PROMPT, greedy(16, 'pruned'));
    expect(pruned16.text).not.toBe(dense16);

    const d = await engine.generate(PROMPT, greedy(16, 'dense'));
    expect(d.text).toBe(dense16);
    expect(d.weights).toBe('dense');
    const after = await pruneSnapshot(engine);
    expect(after.state).toBe(before.state);
    expect([...after.tensors.entries()].every(([k, t]) => before.tensors.get(k) === t)).toBe(true);
    for (const [name, w] of Object.entries(before.weights)) expect(after.weights[name], name).toEqual(w);
    const pplAfter = await engine.perplexity(evalText, evalOpts);
    expect(pplAfter.ppl).toBe(pplBefore.ppl);
    expect(pplAfter.nll).toBe(pplBefore.nll);
    expect((await engine.generate(PROMPT, greedy(16, 'pruned'))).text).toBe(pruned16.text);

    // A cancelled dense run puts the pruned weights back too.
    const c = new AbortController();
    await expect(engine.generate(PROMPT, greedy(30), (u) => u.tokens === 2 && c.abort(), c.signal)).rejects.toThrow(Cancelled);
    expect((await engine.perplexity(evalText, evalOpts)).ppl).toBe(pplBefore.ppl);
  });

  test('with sparse kernels: pruned generation uses them (same tokens), dense generation bypasses them, both kept', async () => {
    const prunedText = (await engine.generate(PROMPT, greedy(16, 'pruned'))).text;
    const denseText = (await engine.generate(PROMPT, greedy(16, 'dense'))).text;
    const pplBefore = await engine.perplexity(evalText, evalOpts);
    await engine.useSparse('csr');
    const before = await pruneSnapshot(engine);
    expect(before.decode.size).toBe(35);
    const p = await engine.generate(PROMPT, greedy(16, 'pruned'));
    expect(p.sparseKernels).toBe(true);
    expect(p.text).toBe(prunedText);
    const d = await engine.generate(PROMPT, greedy(16, 'dense'));
    expect(d.sparseKernels).toBe(false);
    expect(d.text).toBe(denseText);
    const after = await pruneSnapshot(engine);
    expect([...after.decode.entries()].every(([k, g]) => before.decode.get(k) === g)).toBe(true);
    expect([...after.prefill.entries()].every(([k, g]) => before.prefill.get(k) === g)).toBe(true);
    expect(after.decode.size).toBe(before.decode.size);
    for (const [name, w] of Object.entries(before.weights)) expect(after.weights[name], name).toEqual(w);
    expect(Math.abs((await engine.perplexity(evalText, evalOpts)).ppl / pplBefore.ppl - 1)).toBeLessThan(1e-5);
    await engine.useSparse('dense');
    engine.restoreDense();
  });
});

describe.each(['tiny-gpt2', 'tiny-llama'])('%s fixture', (name) => {
  const dir = path.join(FIXTURE_MODELS, name);
  test('KV-cache greedy tokens equal argmax of the float64 reference, step by step', async () => {
    await loadNodeModel(engine, dir);
    const config = json(path.join(dir, 'config.json'));
    const tensors = new Map();
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
      for (const [k, v] of parseSafetensorsRef(new Uint8Array(fs.readFileSync(path.join(dir, f)))).tensors) tensors.set(k, v);
    }
    const V = engine.model!.vocabSize;
    const eos = engine.gpuModel!.spec.eosTokenId;
    const prompt = 'Once upon a time';
    const ids = engine.encode(prompt);
    const n = 8;
    const want = [...ids];
    for (let i = 0; i < n; i++) {
      const logits = referenceLogits(config, tensors, want);
      const next = argmax(logits.subarray((want.length - 1) * V));
      want.push(next);
      if (next === eos) break;
    }
    const updates: GenerateUpdate[] = [];
    const r = await engine.generate(prompt, greedy(n), (u) => updates.push(u));
    expect(r.tokens).toBe(want.length - ids.length);
    expect(r.stopped).toBe(want.at(-1) === eos ? 'eos' : 'length');
    const tok = engine.tokenizer!;
    const full = tok.decode(want);
    const promptText = tok.decode(ids);
    expect(full.startsWith(promptText)).toBe(true);
    expect(r.text).toBe(full.slice(promptText.length));
    for (const u of updates) expect(r.text.startsWith(u.text)).toBe(true);
    // Context: the model's own limit is enforced.
    const maxPos = engine.gpuModel!.spec.maxPositions;
    await expect(engine.generate(prompt, greedy(maxPos - ids.length + 1))).rejects.toThrow(/beyond this model's/);
  });
});
