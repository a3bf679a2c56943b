// stories260K on the published protocol (calibration: the first 32 windows of 256 tokens of the
// calibration sample; evaluation: seqlen 256, first 8 windows of the evaluation sample) against
// the independent float64 implementation's figures (scripts/golden-prune.ts →
// test/fixtures/stories260K/prune_golden.json): every run within 1.5%, and the published order of
// quality: SparseGPT ≤ Wanda < magnitude at 50% and at 2:4. The all-windows figures are checked by
// the same comparison in the README's reproduction command (too slow for CI on SwiftShader).
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import type { PruneMethod, Target } from '../../../src/core/prune/types';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText, json, ROOT } from '../../helpers/fixtures';

const golden = json(path.join(ROOT, 'test/fixtures/stories260K/prune_golden.json'));
const evalOpts = { seqlen: 256, maxWindows: 8 };

function goldenPpl(method: string, target: Target | null): number {
  const r = golden.runs.find((g: any) =>
    g.method === method &&
    (target === null || (target.kind === 'nm' ? g.pattern === `${target.n}:${target.m}` : g.pattern === 'unstructured' && g.sparsity === target.sparsity)),
  );
  if (!r) throw new Error(`no golden run for ${method} ${JSON.stringify(target)}`);
  return r.ppl_first8;
}

let engine: Engine;
const ppl: Record<string, number> = {};
beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

test('dense', async () => {
  ppl.dense = (await engine.perplexity(evalText, evalOpts)).ppl;
  expect(Math.abs(ppl.dense / goldenPpl('dense', null) - 1)).toBeLessThan(0.015);
});

const runs: Array<[PruneMethod, Target]> = [
  ['magnitude', { kind: 'unstructured', sparsity: 0.5 }],
  ['wanda', { kind: 'unstructured', sparsity: 0.5 }],
  ['sparsegpt', { kind: 'unstructured', sparsity: 0.5 }],
  ['magnitude', { kind: 'nm', n: 2, m: 4 }],
  ['wanda', { kind: 'nm', n: 2, m: 4 }],
  ['sparsegpt', { kind: 'nm', n: 2, m: 4 }],
];

test.each(runs)('%s %o within 1.5%% of the float64 implementation', async (method, target) => {
  await engine.prune(calib, { method, target, calibSamples: 32, seqlen: 256 });
  const p = (await engine.perplexity(evalText, evalOpts)).ppl;
  ppl[`${method} ${target.kind}`] = p;
  expect(Math.abs(p / goldenPpl(method, target) - 1)).toBeLessThan(0.015);
});

test('order of quality as published: SparseGPT ≤ Wanda < magnitude, at 50% and at 2:4', () => {
  for (const k of ['unstructured', 'nm']) {
    expect(ppl[`sparsegpt ${k}`]).toBeLessThanOrEqual(ppl[`wanda ${k}`]);
    expect(ppl[`wanda ${k}`]).toBeLessThan(ppl[`magnitude ${k}`]);
  }
});
