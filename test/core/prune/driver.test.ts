// The sequential pruning driver on the demo model (small calibration to stay fast on SwiftShader):
// achieved sparsity, reconstruction errors, restore/cancel semantics, bad options, export round trip.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { BadOption, BadText, Cancelled, NumericalError } from '../../../src/core/errors';
import { bytesSource } from '../../../src/core/io/file-source';
import { errorForm, errorFormOverride } from '../../../src/core/prune/driver';
import { sparsegpt } from '../../../src/core/prune/sparsegpt';
import type { PruneOptions } from '../../../src/core/prune/types';
import { runSweep, sweepPoints } from '../../../src/core/jobs/sweep';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText } from '../../helpers/fixtures';

const small = { calibSamples: 4, seqlen: 64 };
const evalOpts = { seqlen: 64, maxWindows: 2 };
let engine: Engine;
let densePpl: number;

beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
  densePpl = (await engine.perplexity(evalText, evalOpts)).ppl;
});
afterAll(() => engine?.dispose());

const meanErr = (r: { layers: { rel_error: number }[] }) => r.layers.reduce((s, l) => s + l.rel_error, 0) / r.layers.length;

describe('methods on stories260K', () => {
  const errs: Record<string, number> = {};
  test.each(['magnitude', 'wanda', 'sparsegpt'] as const)('%s 50%%', async (method) => {
    const r = await engine.prune(calib, { method, target: { kind: 'unstructured', sparsity: 0.5 }, ...small });
    expect(r.layers.length).toBe(35);
    for (const l of r.layers) {
      expect(l.sparsity).toBeGreaterThanOrEqual(0.5);
      expect(l.sparsity).toBeLessThan(0.51);
      expect(l.rel_error).toBeGreaterThan(0);
      expect(l.rel_error).toBeLessThan(1);
    }
    if (method === 'wanda') for (const l of r.layers) expect(l.sparsity).toBe(0.5); // exactly half of each row
    // One factorisation per distinct H: q/k/v share one, gate/up one (4 per llama layer, not 7).
    expect(r.factorisations).toBe(method === 'sparsegpt' ? 5 * 4 : 0);
    errs[method] = meanErr(r);
    const ppl = (await engine.perplexity(evalText, evalOpts)).ppl;
    expect(ppl).toBeGreaterThan(densePpl);
    expect(Number.isFinite(ppl)).toBe(true);
  });
  test('SparseGPT reconstructs best, magnitude worst', () => {
    expect(errs.sparsegpt).toBeLessThan(errs.wanda);
    expect(errs.wanda).toBeLessThan(errs.magnitude);
  });
  test('2:4 gives exactly half, two zeros in every group of four', async () => {
    const r = await engine.prune(calib, { method: 'sparsegpt', target: { kind: 'nm', n: 2, m: 4 }, ...small });
    for (const l of r.layers) expect(l.sparsity).toBe(0.5);
    const w = await engine.ctx.read(engine.gpuModel!.weights.get('layers.2.mlp.down.weight')!.chunks[0].buffer);
    for (let g = 0; g < w.length; g += 4) expect([w[g], w[g + 1], w[g + 2], w[g + 3]].filter((v) => v === 0).length).toBeGreaterThanOrEqual(2);
  });
});

test('per-sublayer overrides: a suffix for every layer, a full name for one', async () => {
  const r = await engine.prune(calib, {
    method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, ...small,
    overrides: { 'mlp.down': { kind: 'unstructured', sparsity: 0.2 }, 'layers.1.attn.q': { kind: 'nm', n: 2, m: 4 } },
  });
  for (const l of r.layers) {
    if (l.name.endsWith('mlp.down')) expect(Math.abs(l.sparsity - 0.2)).toBeLessThan(0.01);
    else if (l.name === 'layers.1.attn.q') expect(l.sparsity).toBe(0.5);
    else expect(Math.abs(l.sparsity - 0.5)).toBeLessThan(0.01);
  }
  // A typo would silently prune at the default target: it is refused instead.
  await expect(engine.prune(calib, { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, ...small, overrides: { 'mlp.dwn': { kind: 'unstructured', sparsity: 0.2 } } }))
    .rejects.toThrow(/"mlp.dwn" matches no pruned sublayer/);
  expect(engine.pruneState).toBeNull();
});

test('restoreDense gives back the dense model exactly', async () => {
  await engine.prune(calib, { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.7 }, ...small });
  expect(engine.pruneState).not.toBeNull();
  engine.restoreDense();
  expect(engine.pruneState).toBeNull();
  expect((await engine.perplexity(evalText, evalOpts)).ppl).toBe(densePpl);
});

test('cancelling mid-run leaves the model fully dense', async () => {
  const ac = new AbortController();
  let calls = 0;
  const run = engine.prune(calib, { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, ...small }, () => {
    if (++calls === 10) ac.abort();
  }, ac.signal);
  await expect(run).rejects.toThrow(Cancelled);
  await expect(run).rejects.toThrow(/back to its dense weights/);
  expect(calls).toBe(10);
  expect(engine.pruneState).toBeNull();
  expect((await engine.perplexity(evalText, evalOpts)).ppl).toBe(densePpl);
});

describe('bad options are refused before any work', () => {
  const base: PruneOptions = { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, ...small };
  test.each([
    [{ target: { kind: 'unstructured', sparsity: 1 } }, BadOption, /Sparsity must be in \[0, 1\); got 1/],
    [{ target: { kind: 'unstructured', sparsity: -0.1 } }, BadOption, /Sparsity must be in \[0, 1\)/],
    [{ target: { kind: 'nm', n: 4, m: 4 } }, BadOption, /N:M needs N < M/],
    [{ target: { kind: 'nm', n: 2, m: 8 } }, BadOption, /needs input widths divisible by 8, but layers.0.mlp.down has 172 inputs/],
    [{ calibSamples: 1000 }, BadText, /gives \d+ windows of 64 tokens, fewer than the 1000 samples/],
  ] as const)('%o', async (patch, Err, msg) => {
    const run = engine.prune(calib, { ...base, ...(patch as Partial<PruneOptions>) });
    await expect(run).rejects.toThrow(Err);
    await expect(engine.prune(calib, { ...base, ...(patch as Partial<PruneOptions>) })).rejects.toThrow(msg);
    expect(engine.pruneState).toBeNull();
  });
  test('a sweep with one impossible point is refused before its first point', async () => {
    const seen: string[] = [];
    const spec = { points: sweepPoints(['magnitude'], [0.5], [[4, 8]]), includeDense: true, calibSamples: 2, seqlen: 32, maxWindows: 1 };
    await expect(runSweep(engine, { calibText: calib, evalText, spec }, { onPoint: (p) => seen.push(p.label) })).rejects.toThrow(/4:8 needs input widths divisible by 8/);
    expect(seen).toEqual([]);
  });
  test('a calibration text shorter than one window', async () => {
    await expect(engine.prune('Once upon a time.', { ...base, seqlen: 256 })).rejects.toThrow(/fewer than one window of 256/);
  });
});

describe('a Hessian that is not positive definite', () => {
  const C = 2, R = 3;
  const dense = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const run = async (off: number) => {
    const hCpu = Float32Array.from([1, off, off, 1]);
    const w = engine.ctx.upload(dense, 'w');
    const h = engine.ctx.upload(hCpu, 'h');
    try {
      return await sparsegpt({ ctx: engine.ctx, w, R, C, dense, stats: { h, hCpu, C }, target: { kind: 'unstructured', sparsity: 0.5 }, percdamp: 0.01, blocksize: 128 });
    } finally {
      engine.ctx.destroy(w);
      engine.ctx.destroy(h);
    }
  };
  test('is retried with 10× dampening, and says so', async () => {
    const r = await run(1.015); // eigenvalue −0.015: fails at λ = 0.01, passes at λ = 0.1
    expect(r.note).toMatch(/Cholesky failed; retried with 10× dampening/);
    expect(r.damp).toBeCloseTo(0.1, 10);
  });
  test('gives a clear error when dampening cannot fix it', async () => {
    await expect(run(1e4)).rejects.toThrow(NumericalError);
    await expect(run(1e4)).rejects.toThrow(/not positive definite even with λ/);
  });
});

test('export: the pruned folder loads back and gives the same perplexity', async () => {
  await engine.prune(calib, { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, ...small });
  const pruned = await engine.perplexity(evalText, evalOpts);
  const files = await engine.exportModel();
  expect(files.map((f) => f.name).sort()).toEqual(
    ['config.json', 'generation_config.json', 'model.safetensors', 'prune_studio.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'],
  );
  const other = await createNodeEngine();
  try {
    await other.loadModel(files.map((f) => bytesSource(f.bytes, f.name)));
    const again = await other.perplexity(evalText, evalOpts);
    expect(again.ppl).toBe(pruned.ppl);
    const info = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'prune_studio.json')!.bytes));
    expect(info.pruned.method).toBe('sparsegpt');
  } finally {
    other.dispose();
  }
});

test('skipped layers stay dense, and the layers after the last pruned one are not run (no phase time)', async () => {
  const base = { method: 'sparsegpt' as const, target: { kind: 'unstructured' as const, sparsity: 0.5 }, ...small };
  const all = await engine.prune(calib, base);
  const r = await engine.prune(calib, { ...base, skipLayers: [1, 3, 4] });
  expect(r.layers.map((l) => l.name.split('.')[1])).toEqual([...Array(7).fill('0'), ...Array(7).fill('2')]);
  // Layers 0 and 2 see the same inputs as in the full run up to layer 1's (dense here) outputs: layer 0 equal.
  expect(r.layers.slice(0, 7).map((l) => l.rel_error)).toEqual(all.layers.slice(0, 7).map((l) => l.rel_error));
  expect(r.phases).toHaveLength(5);
  for (const p of r.phases.slice(3)) expect(p).toEqual({ statistics: 0, factorisation: 0, sweep: 0, reforward: 0 });
  expect(r.phases[2].reforward).toBeGreaterThan(0);
  const w = await engine.gpuModel!.read('layers.4.mlp.down.weight');
  expect(w.filter((v) => v === 0).length).toBe(0);
});

test('progress: the work-weighted fraction only grows and ends at 1; one event per sublayer', async () => {
  const events: Array<{ done: number; fraction?: number; detail?: string }> = [];
  await engine.prune(calib, { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, ...small }, (p) => {
    // The engine's own first event (tokenizing) comes before the driver's.
    if (p.detail !== 'tokenizing the calibration text') events.push(p);
  });
  const f = events.map((e) => e.fraction!);
  expect(f.every((x) => typeof x === 'number')).toBe(true);
  for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThanOrEqual(f[i - 1]);
  expect(f.at(-1)).toBeCloseTo(1, 12);
  expect(events.at(-1)!.done).toBe(35);
  // The MLP's down projection (the widest input) weighs more than a key projection.
  const jump = (name: string) => {
    const i = events.findIndex((e) => e.detail === `layer 1/5 · ${name}`);
    return f[i] - f[i - 1];
  };
  expect(jump('mlp.down')).toBeGreaterThan(jump('attn.k'));
});

test.each(['magnitude', 'sparsegpt'] as const)('%s: with fewer calibration tokens than inputs, the error comes from the kept inputs and equals the one from H', async (method) => {
  // 1 window of 32 tokens: n·T = 32 < every width of the demo model (64, 172).
  const opts = { method, target: { kind: 'unstructured' as const, sparsity: 0.5 }, calibSamples: 1, seqlen: 32 };
  expect(errorForm(32, 64)).toBe('inputs');
  expect(errorForm(256, 64)).toBe('hessian');
  let fromH;
  try {
    errorFormOverride.form = 'hessian';
    fromH = await engine.prune(calib, opts);
  } finally {
    errorFormOverride.form = null;
  }
  const fromX = await engine.prune(calib, opts);
  expect(fromX.sparsity).toBe(fromH.sparsity);
  let worst = 0;
  fromX.layers.forEach((l, i) => {
    expect(l.name).toBe(fromH.layers[i].name);
    worst = Math.max(worst, Math.abs(l.rel_error / fromH.layers[i].rel_error - 1));
  });
  console.log(`${method}: the two forms of the error differ by at most ${worst.toExponential(2)} relative`);
  expect(worst).toBeLessThan(1e-3);
});
