// Contextual pruning through the Engine (the wiring of src/core/prune/contextual.ts): the prune
// state, the job with two perplexities (dense and pruned), Restore dense undoing every tensor it
// zeroed (paged embeddings included), cancellation, the smaller export, and what the other users
// of the prune state see (dense generation, sparse kernels, a later run of another method).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { BadOption, Cancelled } from '../../../src/core/errors';
import { bytesSource } from '../../../src/core/io/file-source';
import { runContextualJob, type ContextualRunOptions } from '../../../src/core/jobs/contextual';
import type { GpuModel } from '../../../src/core/nn/model';

const readTensor = (model: GpuModel, name: string) => model.read(name);
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText, ROOT } from '../../helpers/fixtures';

const general = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const small: ContextualRunOptions = { fraction: 0.3, calibSamples: 4, seqlen: 64 };
const evalOpts = { seqlen: 64, maxWindows: 2 };
const sources = (files: Array<{ name: string; bytes: Uint8Array }>) => files.map((f) => bytesSource(f.bytes, f.name));
let engine: Engine;

beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

test('the job: dense and pruned perplexities on both texts, the prune state, a smaller export with the same perplexity', async () => {
  const stages: string[] = [];
  const evaluate = { domain: evalText, general, ...evalOpts, dense: true };
  const r = await runContextualJob(engine, { calibText: calib, options: small, evaluate }, {
    onProgress: (p) => {
      const s = `${p.point}/${p.points} ${p.detail?.split(' · ').slice(0, 2).join(' · ')}`;
      if (stages[stages.length - 1] !== s) stages.push(s);
    },
  });
  // Stages in order, each announced in its progress events.
  expect([...new Set(stages.map((s) => s.split(' ')[0]))]).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
  expect(stages[0]).toBe('1/5 dense · domain text');
  expect(stages.some((s) => s.startsWith('3/5 contextual pruning'))).toBe(true);
  expect(stages[stages.length - 1]).toBe('5/5 pruned · general text');

  const { report } = r;
  expect(r.dense!.domain!.ppl).toBeLessThan(r.pruned.domain!.ppl);
  expect(r.dense!.general!.ppl).toBeLessThan(r.pruned.general!.ppl);
  expect(report).toMatchObject({ method: 'contextual', mode: 'fraction', neuronTarget: 0.3, headTarget: 0.3, uniform: true, target: { kind: 'unstructured', sparsity: 0.3 } });
  expect(report.exported).toEqual({ ffn: 120, heads: 6, kvHeads: 3 });
  expect(report.layers.find((l) => l.name === 'layers.0.mlp.down')!.hf).toBe('model.layers.0.mlp.down_proj');
  expect(report.windows).toBe(4);
  expect(engine.pruneState).toBe(report);
  // The weights as they are now give the pruned figure.
  expect((await engine.perplexity(evalText, evalOpts)).ppl).toBe(r.pruned.domain!.ppl);

  // Dense generation on the contextual-pruned model equals generation on the dense model.
  const g = { maxNewTokens: 48, temperature: 0 };
  const denseSide = await engine.generate('Once upon a time', { ...g, weights: 'dense' });
  const prunedSide = await engine.generate('Once upon a time', { ...g, weights: 'pruned' });
  // Sparse kernels take only the zeroed linear weights (not the biases/embeddings the backup may hold).
  const choices = await engine.useSparse('csr');
  expect(choices.length).toBeGreaterThan(0);
  expect((await engine.perplexity(evalText, evalOpts)).ppl / r.pruned.domain!.ppl - 1).toBeLessThan(1e-5);
  await engine.useSparse('dense');

  const ex = await engine.exportSmaller();
  expect(ex.counts.after.params).toBe(report.counts.after.params);
  expect(ex.warnings).toEqual([]);

  engine.restoreDense();
  expect(engine.pruneState).toBeNull();
  expect((await engine.perplexity(evalText, evalOpts)).ppl).toBe(r.dense!.domain!.ppl);
  expect((await engine.generate('Once upon a time', { ...g, weights: 'dense' })).text).toBe(denseSide.text);
  expect(prunedSide.text).not.toBe(denseSide.text);
  await expect(engine.exportSmaller()).rejects.toThrow(/The weights are dense: run contextual pruning first/);

  const other = await createNodeEngine();
  try {
    const m = await other.loadModel(sources(ex.files));
    expect(m).toMatchObject({ ffn: 120, heads: 6, kvHeads: 3, parameters: report.counts.after.params, prunedBy: { method: 'contextual' } });
    expect(Math.abs((await other.perplexity(evalText, evalOpts)).ppl / r.pruned.domain!.ppl - 1)).toBeLessThan(1e-5);
  } finally {
    other.dispose();
  }
});

test('restore dense undoes zeroed token rows of a paged embedding; another method afterwards sees only its own weights', async () => {
  // 64 KiB pages: the embedding (512 × 64 f32 = 128 KiB) is 2 chunks of 256 rows; the linear
  // weights (at most 172 × 64 f32 = 43 KiB) stay whole, as the sequential driver needs them.
  const paged = await createNodeEngine({ pageBytesOverride: 65536 });
  try {
    await loadNodeModel(paged, DEMO_MODEL);
    const model = paged.gpuModel!;
    expect(model.weights.get('embed.tokens')!.chunks.length).toBe(2);
    const emb0 = await readTensor(model, 'embed.tokens');
    const dense = (await paged.perplexity(evalText, evalOpts)).ppl;
    // A short domain text uses few of the 512 tokens: the others' rows are zeroed, in every chunk.
    const r = await paged.pruneContextual(calib.slice(0, 3000), { ...small, zeroUnusedTokens: true });
    expect(r.summary.tokens.removed).toBeGreaterThan(100);
    expect(r.warnings.join(' ')).toMatch(/token\(s\) the domain text never uses/);
    const emb1 = await readTensor(model, 'embed.tokens');
    const zeroRows = (e: Float32Array) => Array.from({ length: 512 }, (_, v) => e.subarray(v * 64, (v + 1) * 64).every((x) => x === 0)).filter(Boolean).length;
    expect(zeroRows(emb1)).toBe(r.summary.tokens.removed);
    // Zeroed rows lie in the second chunk too (which driver.restoreDense, writing chunk 0 only, missed).
    const lastZero = Array.from({ length: 512 }, (_, v) => v).filter((v) => emb1.subarray(v * 64, (v + 1) * 64).every((x) => x === 0)).pop()!;
    expect(lastZero).toBeGreaterThanOrEqual(256);
    paged.restoreDense();
    expect(Array.from(await readTensor(model, 'embed.tokens'))).toEqual(Array.from(emb0));
    expect((await paged.perplexity(evalText, evalOpts)).ppl).toBe(dense);

    // Wanda after a contextual run: its state, export and sparse kernels know only its linear weights.
    await paged.pruneContextual(calib, { ...small, zeroUnusedTokens: true });
    const w = await paged.prune(calib, { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: 4, seqlen: 64 });
    expect(paged.pruneState).toBe(w);
    expect(Array.from(await readTensor(model, 'embed.tokens'))).toEqual(Array.from(emb0));
    expect((await paged.useSparse('csr')).length).toBeGreaterThan(0);
    await expect(paged.exportSmaller()).rejects.toThrow(/pruned by wanda, not by contextual pruning/);
    paged.restoreDense();
    expect((await paged.perplexity(evalText, evalOpts)).ppl).toBe(dense);
  } finally {
    paged.dispose();
  }
});

test('bad options are refused before scoring; a cancelled run leaves the dense model', async () => {
  engine.restoreDense();
  const dense = (await engine.perplexity(evalText, evalOpts)).ppl;
  await expect(engine.pruneContextual(calib, { ...small, threshold: 0.1 })).rejects.toThrow(BadOption);
  await expect(engine.pruneContextual(calib, { fraction: 1, calibSamples: 4, seqlen: 64 })).rejects.toThrow(/fraction in \[0, 1\)/);
  const ac = new AbortController();
  const run = engine.pruneContextual(calib, small, (p) => {
    if (p.done >= 2 && p.detail?.startsWith('scoring')) ac.abort();
  }, ac.signal);
  await expect(run).rejects.toThrow(Cancelled);
  expect(engine.pruneState).toBeNull();
  expect((await engine.perplexity(evalText, evalOpts)).ppl).toBe(dense);
});
