// Contextual pruning (src/core/prune/contextual.ts, src/core/model/export-structured.ts) against the
// float64 reference (src/core/reference/contextual.ts, HF names and layouts, independent of the
// engine's canonical mapping): the statistics kernel; scores, selection and the zeroed model on
// every tiny fixture family; the smaller export loading back with the smaller config and the
// zeroed model's logits; non-uniform removal exported as zeros; token rows; the demo model end to
// end with two perplexities and the parameter counts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { BadOption, Cancelled } from '../../../src/core/errors';
import { colAbsStats } from '../../../src/core/gpu/ops-contextual';
import { bytesSource } from '../../../src/core/io/file-source';
import { openModelFolder, type ModelFolder } from '../../../src/core/model/folder';
import {
  type ContextualScores, type ContextualSelection, applyContextual, restoreContextual,
  scoreContextual, selectContextual, specialTokenIds, sublayerSparsity,
} from '../../../src/core/prune/contextual';
import type { DenseBackup } from '../../../src/core/prune/driver';
import { exportStructured, paramCounts } from '../../../src/core/export/structured';
import type { GpuModel } from '../../../src/core/nn/model';
import { referenceContextualScores, referenceSelectFraction, referenceZeroed } from '../../../src/core/reference/contextual';
import { referenceLogits } from '../../../src/core/reference/hf-model';
import { parseSafetensorsRef } from '../../../src/core/reference/safetensors-ref';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { folderSources } from '../../../src/node/files';

const readTensor = (model: GpuModel, name: string) => model.read(name);
import { CALIB_TEXT as calibText, DEMO_MODEL, EVAL_TEXT as evalText, FIXTURE_MODELS, json, refTensors, ROOT } from '../../helpers/fixtures';
import { randn, testContext } from '../../helpers/gpu';

const fixtures = fs.readdirSync(FIXTURE_MODELS).filter((n) => fs.existsSync(path.join(FIXTURE_MODELS, n, 'config.json'))).sort();

/** max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

/** Mean NLL of ids[t + 1] under logits (T, V) rows t < T − 1, in float64. */
function meanNll(logits: ArrayLike<number>, ids: number[], V: number): number {
  let s = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[t * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v] - mx);
    s += mx + Math.log(z) - logits[t * V + ids[t + 1]];
  }
  return s / (ids.length - 1);
}

const sources = (files: Array<{ name: string; bytes: Uint8Array }>) => files.map((f) => bytesSource(f.bytes, f.name));
const fileOf = (files: Array<{ name: string; bytes: Uint8Array }>, name: string) => files.find((f) => f.name === name)!.bytes;

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

test('col_abs_stats: Σ|x| and Σx² per column, accumulated over calls, match float64', async () => {
  const ctx = await testContext();
  try {
    for (const [T, C] of [[7, 70], [33, 5], [1, 257]]) {
      const a = randn(T * C, 11 + C), b = randn(T * C, 12 + C, 3);
      const s = ctx.storage(2 * C * 4, 'S');
      for (const x of [a, b]) {
        const X = ctx.upload(x, 'X');
        colAbsStats(ctx, X, s, T, C);
        ctx.submit();
        await ctx.finish();
        ctx.destroy(X);
      }
      const got = await ctx.read(s, 0, 2 * C * 4);
      const want = new Float64Array(2 * C);
      for (const x of [a, b]) {
        for (let t = 0; t < T; t++) {
          for (let c = 0; c < C; c++) {
            want[c] += Math.abs(x[t * C + c]);
            want[C + c] += x[t * C + c] ** 2;
          }
        }
      }
      expect(relErr(got, want)).toBeLessThan(1e-6);
      ctx.destroy(s);
    }
  } finally {
    ctx.dispose();
    ctx.device.destroy();
  }
});

describe('selection (no GPU)', () => {
  // 2 layers, F = 10, 4 query heads in 2 KV groups, V = 6.
  const dims = { nLayers: 2, ffn: 10, nHeads: 4, nKvHeads: 2, headDim: 2, vocabSize: 6 };
  const layer = (ns: number[], hs: number[]) => ({
    neuronMeanAbs: Float64Array.from(ns), neuronWanda: Float64Array.from(ns.map((v, j) => v * (10 - j))),
    headMeanAbs: Float64Array.from(hs), headWanda: Float64Array.from(hs.map((v) => 1 / (v + 1))),
  });
  const scores: ContextualScores = {
    dims, specialIds: [0], windows: 1, tokens: 8,
    layers: [
      layer([5, 1, 9, 2, 2, 7, 0.5, 3, 8, 6], [0.1, 0.9, 0.3, 0.2]),
      layer([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [0.5, 0.6, 0.05, 0.7]),
    ],
    tokenCounts: Uint32Array.from([0, 3, 0, 1, 0, 2]),
  };

  test('a fraction removes round(f · n) per layer, the least used first, ties by index', () => {
    const s = selectContextual(scores, { fraction: 0.3 });
    expect(s.layers[0].neurons).toEqual([1, 3, 6]); // 0.5, 1, 2 (index 3 before 4 at score 2)
    expect(s.layers[1].neurons).toEqual([0, 1, 2]);
    // Whole KV groups: group scores (0.5, 0.25) and (0.55, 0.375); round(0.3 · 2) = 1 group.
    expect(s.layers[0]).toMatchObject({ heads: [2, 3], kvHeads: [1] });
    expect(s.layers[1]).toMatchObject({ heads: [2, 3], kvHeads: [1] });
    expect(s.structure).toEqual({ ffn: 7, heads: { nHeads: 2, nKvHeads: 1 } });
    expect(s.summary.neurons).toEqual({ removed: 6, total: 20 });
    // Within groups: the weaker query head of each group; KV heads stay.
    const w = selectContextual(scores, { fraction: 0.5, gqa: 'within-groups' });
    expect(w.layers[0]).toMatchObject({ heads: [0, 3], kvHeads: [] });
    expect(w.layers[1]).toMatchObject({ heads: [0, 2], kvHeads: [] });
    expect(w.structure.heads).toEqual({ nHeads: 2, nKvHeads: 2 });
    // headFraction 0 keeps every head; wanda scores order differently.
    expect(selectContextual(scores, { fraction: 0.3, headFraction: 0 }).summary.heads.removed).toBe(0);
    expect(selectContextual(scores, { fraction: 0.3, scoring: 'wanda' }).layers[1].neurons).toEqual([0, 1, 9]);
  });

  test('a threshold is non-uniform, and never removes every neuron or head of a layer', () => {
    const s = selectContextual(scores, { threshold: 2.5 });
    expect(s.layers[0].neurons).toEqual([1, 3, 4, 6]);
    expect(s.layers[1].neurons).toEqual([0, 1]);
    expect(s.structure.ffn).toBeNull();
    const all = selectContextual(scores, { threshold: 100 });
    for (const l of all.layers) {
      expect(l.neurons.length).toBe(9);
      expect(l.heads.length).toBe(2); // one KV group of two heads stays
    }
    expect(all.layers[0].neurons).not.toContain(2); // the best neuron (9) stays
    const q = selectContextual(scores, { threshold: 0.25, gqa: 'within-groups' });
    expect(q.layers[0]).toMatchObject({ heads: [0, 3], kvHeads: [] });
    expect(q.layers[1]).toMatchObject({ heads: [2], kvHeads: [] });
    expect(q.structure.heads).toBeNull();
  });

  test('unused tokens, never the special ones', () => {
    const s = selectContextual(scores, { fraction: 0.3, zeroUnusedTokens: true, keepTokens: [4] });
    expect(s.tokens).toEqual([2]); // 0 is BOS/EOS, 4 is kept, 1, 3, 5 are used
    expect(selectContextual(scores, { fraction: 0.3 }).tokens).toEqual([]);
  });

  test('refused options', () => {
    expect(() => selectContextual(scores, {})).toThrow(BadOption);
    expect(() => selectContextual(scores, { fraction: 0.3, threshold: 1 })).toThrow(/either a fraction .* or a threshold/);
    expect(() => selectContextual(scores, { fraction: 1 })).toThrow(/\[0, 1\)/);
    expect(() => selectContextual(scores, { threshold: -1 })).toThrow(BadOption);
    expect(() => selectContextual(scores, { fraction: 0.3, headThreshold: 1 })).toThrow(BadOption);
  });
});

describe.each(fixtures)('%s', (name) => {
  const dir = path.join(FIXTURE_MODELS, name);
  const config = json(path.join(dir, 'config.json'));
  const fraction = 0.3;

  test('scores, selection and zeroing match float64; the smaller export loads back with the zeroed logits', async () => {
    await loadNodeModel(engine, dir);
    const model = engine.gpuModel!;
    const spec = model.spec;
    const folder = await openModelFolder(folderSources(dir));
    const ids = engine.encode(calibText.slice(0, 2000));
    const T = 16;
    const windows = [0, 1, 2].map((s) => ids.slice(s * T, (s + 1) * T));
    const evalIds = ids.slice(3 * T, 4 * T);
    const tensors = refTensors(dir);

    // Scores on the dense model against the float64 reference.
    const scores = await scoreContextual(model, windows);
    const ref = referenceContextualScores(config, tensors, windows);
    expect(scores.tokens).toBe(3 * T);
    for (let i = 0; i < spec.nLayers; i++) {
      for (const k of ['neuronMeanAbs', 'neuronWanda', 'headMeanAbs', 'headWanda'] as const) {
        expect(relErr(scores.layers[i][k], ref[i][k]), `layer ${i} ${k}`).toBeLessThan(1e-4);
      }
    }

    // The same removal from the engine's selection and from the reference's.
    const sel = selectContextual(scores, { fraction });
    const refSel = referenceSelectFraction(config, ref, fraction);
    expect(sel.layers).toEqual(refSel.layers);
    const F2 = spec.ffn - Math.round(fraction * spec.ffn);
    expect(sel.structure.ffn).toBe(F2);

    // Zeroed on the GPU = the float64 reference of the same removal in HF layout.
    const dense = await model.logits(evalIds);
    const backup: DenseBackup = new Map();
    const changed = await applyContextual(model, sel, backup);
    expect(changed).toContain('layers.0.mlp.down.weight');
    const zeroed = await model.logits(evalIds);
    const refZeroed = referenceLogits(config, referenceZeroed(config, tensors, sel), evalIds);
    let worst = 0;
    for (let i = 0; i < refZeroed.length; i++) worst = Math.max(worst, Math.abs(zeroed[i] - refZeroed[i]));
    expect(worst).toBeLessThan(1e-4);
    expect(relErr(zeroed, dense)).toBeGreaterThan(1e-3); // the removal changed something
    const down = sublayerSparsity(spec, sel).find((l) => l.name === 'layers.1.mlp.down')!;
    expect(down.sparsity).toBeCloseTo((spec.ffn - F2) / spec.ffn, 12);

    // Restore gives the dense logits back exactly; the export re-applies the removal itself.
    restoreContextual(model, backup);
    expect(Array.from(await model.logits(evalIds))).toEqual(Array.from(dense));
    await applyContextual(model, sel, backup);
    const ex = await exportStructured(folder, model, sel, { source: name });

    // The smaller config.
    const gqaFamily = spec.family === 'llama' || spec.family === 'qwen2';
    const ffnKey = { llama: 'intermediate_size', qwen2: 'intermediate_size', gpt2: 'n_inner', opt: 'ffn_dim', gpt_neox: 'intermediate_size', phi: 'intermediate_size' }[spec.family];
    expect(ex.config[ffnKey]).toBe(F2);
    expect(ex.counts.smaller).toEqual({ mlp: true, heads: gqaFamily });
    if (gqaFamily) {
      expect(ex.config.num_attention_heads).toBe(sel.structure.heads!.nHeads);
      expect(ex.config.num_key_value_heads).toBe(sel.structure.heads!.nKvHeads);
      expect(ex.config.head_dim).toBe(spec.headDim);
      expect(sel.structure.heads!.nHeads).toBeLessThan(spec.nHeads);
    } else {
      expect(ex.config).toEqual({ ...config, [ffnKey]: F2 });
      expect(ex.warnings.join(' ')).toMatch(/heads are exported as zeros/);
    }
    const cfgFile = JSON.parse(new TextDecoder().decode(fileOf(ex.files, 'config.json')));
    expect(cfgFile).toEqual(ex.config);

    // The HF checkpoint as written, read by the reference (independent of the engine's names):
    // the smaller model computes the zeroed model's logits.
    const written = parseSafetensorsRef(fileOf(ex.files, 'model.safetensors')).tensors;
    expect(relErr(referenceLogits(ex.config, written, evalIds), refZeroed)).toBeLessThan(1e-9);

    // Loaded back by the engine: the smaller spec, the zeroed logits and perplexity.
    await engine.loadModel(sources(ex.files));
    const small = engine.gpuModel!;
    expect(small.spec.ffn).toBe(F2);
    if (gqaFamily) expect([small.spec.nHeads, small.spec.nKvHeads, small.spec.headDim]).toEqual([sel.structure.heads!.nHeads, sel.structure.heads!.nKvHeads, spec.headDim]);
    const got = await small.logits(evalIds);
    expect(relErr(got, zeroed)).toBeLessThan(1e-5);
    const V = spec.vocabSize;
    expect(Math.abs(meanNll(got, evalIds, V) / meanNll(zeroed, evalIds, V) - 1)).toBeLessThan(1e-5);

    // Parameter counts: before = the source's parameters, after = the export's.
    const back = await openModelFolder(sources(ex.files));
    const params = (f: ModelFolder) => f.plans.reduce((s, p) => s + f.tensors.get(p.hf)!.shape.reduce((a, b) => a * b, 1), 0);
    const bytes = (f: ModelFolder) => f.plans.reduce((s, p) => s + f.tensors.get(p.hf)!.end - f.tensors.get(p.hf)!.begin, 0);
    expect(ex.counts.before).toEqual({ params: params(folder), bytes: bytes(folder) });
    expect(ex.counts.after.params).toBe(params(back));
    expect(ex.counts.after.bytes).toBe(bytes(back));
    expect(ex.counts.after.params).toBeLessThan(ex.counts.before.params);
    expect(ex.counts.after.nonzero).toBeLessThan(ex.counts.after.params + (gqaFamily ? 1 : 0));
  });
});

describe('tiny-llama: non-uniform removal, tokens, wanda', () => {
  const dir = path.join(FIXTURE_MODELS, 'tiny-llama');
  const config = json(path.join(dir, 'config.json'));
  let folder: ModelFolder;
  let scores: ContextualScores;
  let windows: number[][];
  let evalIds: number[];
  beforeAll(async () => {
    await loadNodeModel(engine, dir);
    folder = await openModelFolder(folderSources(dir));
    const ids = engine.encode(calibText.slice(0, 2000));
    windows = [0, 1].map((s) => ids.slice(s * 16, (s + 1) * 16));
    evalIds = ids.slice(32, 48);
    scores = await scoreContextual(engine.gpuModel!, windows);
  });

  async function roundTrip(sel: ContextualSelection) {
    const model = engine.gpuModel!;
    const backup: DenseBackup = new Map();
    await applyContextual(model, sel, backup);
    const zeroed = await model.logits(evalIds);
    const refZeroed = referenceLogits(config, referenceZeroed(config, refTensors(dir), sel), evalIds);
    let worst = 0;
    for (let i = 0; i < refZeroed.length; i++) worst = Math.max(worst, Math.abs(zeroed[i] - refZeroed[i]));
    const ex = await exportStructured(folder, model, sel);
    restoreContextual(model, backup);
    const other = await createNodeEngine();
    try {
      await other.loadModel(sources(ex.files));
      const got = await other.gpuModel!.logits(evalIds);
      return { worst, ex, rel: relErr(got, zeroed), spec: other.gpuModel!.spec };
    } finally {
      other.dispose();
    }
  }

  test('a threshold removes unevenly: exported as zeros in the original shapes, same logits', async () => {
    const all = scores.layers.flatMap((l) => Array.from(l.neuronMeanAbs)).sort((a, b) => a - b);
    const sel = selectContextual(scores, { threshold: all[Math.floor(all.length / 2)], headThreshold: 0 });
    const counts = sel.layers.map((l) => l.neurons.length);
    expect(new Set(counts).size).toBeGreaterThan(1);
    expect(sel.structure.ffn).toBeNull();
    const r = await roundTrip(sel);
    expect(r.worst).toBeLessThan(1e-4);
    expect(r.rel).toBeLessThan(1e-5);
    expect(r.spec.ffn).toBe(64);
    expect(r.ex.config.intermediate_size).toBe(64);
    expect(r.ex.warnings.join(' ')).toMatch(/different numbers of MLP neurons \(\d+, \d+\).*zeros/);
    expect(r.ex.counts.after.params).toBe(r.ex.counts.before.params);
    const zeros = counts.reduce((s, c) => s + c, 0) * 3 * 32; // gate row + up row + down column
    expect(r.ex.counts.after.nonzero).toBe(r.ex.counts.after.params - zeros);
  });

  test('unused tokens: embedding and untied head rows zeroed, specials kept', async () => {
    const keep = await specialTokenIds(folder);
    expect(keep).toEqual(expect.arrayContaining([0, 1, 2]));
    const sel = selectContextual(scores, { fraction: 0.25, gqa: 'within-groups', zeroUnusedTokens: true, keepTokens: keep });
    const used = new Set(windows.flat());
    expect(sel.tokens.length).toBe(512 - new Set([...used, ...keep]).size);
    expect(sel.tokens.some((t) => keep.includes(t) || used.has(t))).toBe(false);
    // Within groups at 25 %: round(0.25 · 2) = 1 of the 2 query heads of every group, KV heads
    // kept (exportable as 2 query heads over 2 KV heads); round(0.25 · 64) = 16 neurons.
    expect(sel.summary.heads.removed).toBe(4);
    expect(sel.summary.kvHeads.removed).toBe(0);
    expect(sel.structure).toEqual({ ffn: 48, heads: { nHeads: 2, nKvHeads: 2 } });
    const model = engine.gpuModel!;
    const backup: DenseBackup = new Map();
    await applyContextual(model, sel, backup);
    const emb = await readTensor(model, 'embed.tokens');
    const head = await readTensor(model, 'head.weight');
    for (const t of [sel.tokens[0], sel.tokens[sel.tokens.length - 1]]) {
      expect(emb.subarray(t * 32, (t + 1) * 32).every((v) => v === 0)).toBe(true);
      expect(head.subarray(t * 32, (t + 1) * 32).every((v) => v === 0)).toBe(true);
    }
    expect(emb.subarray(32, 64).some((v) => v !== 0)).toBe(true); // BOS row stays
    restoreContextual(model, backup);
    const r = await roundTrip(sel);
    expect(r.worst).toBeLessThan(1e-4);
    expect(r.rel).toBeLessThan(1e-5);
    expect(r.ex.warnings.join(' ')).toMatch(/token\(s\) the domain text never uses/);
    expect([r.spec.ffn, r.spec.nHeads, r.spec.nKvHeads]).toEqual([48, 2, 2]);
  });

  test('wanda scoring gives another, equally exportable removal', async () => {
    const ref = referenceContextualScores(config, refTensors(dir), windows);
    const sel = selectContextual(scores, { fraction: 0.4, scoring: 'wanda' });
    expect(sel.layers).toEqual(referenceSelectFraction(config, ref, 0.4, 'wanda').layers);
    expect(sel.layers).not.toEqual(selectContextual(scores, { fraction: 0.4 }).layers);
    const r = await roundTrip(sel);
    expect(r.spec.ffn).toBe(64 - 26);
    expect(r.rel).toBeLessThan(1e-5);
  });

  test('cancelled scoring frees its buffers; weights paged into chunks are zeroed and restored whole', async () => {
    const before = engine.ctx.stats().buffers;
    const ac = new AbortController();
    ac.abort();
    await expect(scoreContextual(engine.gpuModel!, windows, {}, undefined, ac.signal)).rejects.toThrow(Cancelled);
    expect(engine.ctx.stats().buffers).toBe(before);

    // 4 KiB pages: the embedding (512 × 32 f32) is 16 chunks, every linear weight 2 or more.
    const paged = await createNodeEngine({ pageBytesOverride: 4096 });
    try {
      await loadNodeModel(paged, dir);
      const model = paged.gpuModel!;
      expect(model.weights.get('embed.tokens')!.chunks.length).toBe(16);
      const dense = await model.logits(evalIds);
      const s = await scoreContextual(model, windows);
      const sel = selectContextual(s, { fraction: 0.3, zeroUnusedTokens: true, keepTokens: await specialTokenIds(folder) });
      expect(sel.layers).toEqual(selectContextual(scores, { fraction: 0.3 }).layers);
      const backup: DenseBackup = new Map();
      await applyContextual(model, sel, backup);
      const refZeroed = referenceLogits(config, referenceZeroed(config, refTensors(dir), sel), evalIds);
      const got = await model.logits(evalIds);
      let worst = 0;
      for (let i = 0; i < refZeroed.length; i++) worst = Math.max(worst, Math.abs(got[i] - refZeroed[i]));
      expect(worst).toBeLessThan(1e-4);
      const emb = await readTensor(model, 'embed.tokens');
      const last = sel.tokens[sel.tokens.length - 1];
      expect(last).toBeGreaterThan(256); // a row in a later chunk
      expect(emb.subarray(last * 32, (last + 1) * 32).every((v) => v === 0)).toBe(true);
      restoreContextual(model, backup);
      expect(Array.from(await model.logits(evalIds))).toEqual(Array.from(dense));
    } finally {
      paged.dispose();
    }
  });

  test('a selection for other dimensions is refused', async () => {
    const sel = selectContextual(scores, { fraction: 0.3 });
    await expect(applyContextual(engine.gpuModel!, { ...sel, layers: sel.layers.slice(1) }, new Map())).rejects.toThrow(/does not fit the loaded model/);
  });
});

test('stories260K: contextual 30 % on the domain text, two perplexities, smaller export with the same perplexity', async () => {
  await loadNodeModel(engine, DEMO_MODEL);
  const folder = await openModelFolder(folderSources(DEMO_MODEL));
  const model = engine.gpuModel!;
  const ids = engine.encode(calibText.slice(0, 20000));
  const windows = Array.from({ length: 8 }, (_, s) => ids.slice(s * 64, (s + 1) * 64));
  const domain = { seqlen: 64, maxWindows: 4 };
  const general = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const dense = { domain: (await engine.perplexity(evalText, domain)).ppl, general: (await engine.perplexity(general, domain)).ppl };

  const scores = await scoreContextual(model, windows, { countIds: ids });
  const sel = selectContextual(scores, { fraction: 0.3, keepTokens: await specialTokenIds(folder) });
  expect(sel.structure).toEqual({ ffn: 172 - 52, heads: { nHeads: 6, nKvHeads: 3 } });
  const backup: DenseBackup = new Map();
  await applyContextual(model, sel, backup);
  const pruned = { domain: (await engine.perplexity(evalText, domain)).ppl, general: (await engine.perplexity(general, domain)).ppl };
  expect(pruned.domain).toBeGreaterThan(dense.domain);
  expect(Number.isFinite(pruned.general)).toBe(true);

  const counts = paramCounts(folder, sel);
  const ex = await exportStructured(folder, model, sel, { pruned: { method: 'contextual', fraction: 0.3 } });
  expect(ex.counts).toEqual(counts);
  expect(counts.after.params).toBeLessThan(counts.before.params);
  // 5 layers × (52 neurons × 3 × 64 + 1 group: 2 q heads × 8 × 64 × 2 (q rows, o columns) + k, v rows 2 × 8 × 64).
  expect(counts.before.params - counts.after.params).toBe(5 * (52 * 3 * 64 + 2 * 8 * 64 * 2 + 2 * 8 * 64));
  expect(counts.after.nonzero).toBe(counts.after.params);
  expect(counts.after.bytes).toBe(counts.after.params * 4);
  expect(ex.warnings).toEqual([]);
  expect(ex.config).toMatchObject({ intermediate_size: 120, num_attention_heads: 6, num_key_value_heads: 3, head_dim: 8, hidden_size: 64 });

  await engine.loadModel(sources(ex.files));
  expect(engine.model).toMatchObject({ ffn: 120, heads: 6, kvHeads: 3, prunedBy: { method: 'contextual' } });
  const back = (await engine.perplexity(evalText, domain)).ppl;
  expect(Math.abs(back / pruned.domain - 1)).toBeLessThan(1e-5);
  console.log(
    `stories260K contextual 30%: domain ppl ${dense.domain.toFixed(4)} -> ${pruned.domain.toFixed(4)} (export ${back.toFixed(4)}), general ppl ${dense.general.toFixed(2)} -> ${pruned.general.toFixed(2)}, params ${counts.before.params} -> ${counts.after.params}, bytes ${counts.before.bytes} -> ${counts.after.bytes}`,
  );
});
