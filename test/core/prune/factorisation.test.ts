// SparseGPT with its factorisation on the GPU (f32, gpu/ops-factor.ts) against the float64 CPU
// path on the demo model: the masks agree on ≥ 99.9 % of the decoder linears' entries and the
// perplexities within 0.1 % (SparseGPT's masks flip on perturbations of ~1e-7, so not exactly).
// Magnitude and Wanda with their masks chosen on the GPU (`factorisation: 'gpu'`) against the CPU.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import * as op from '../../../src/core/gpu/ops';
import type { PruneMethod, Target } from '../../../src/core/prune/types';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText } from '../../helpers/fixtures';

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

/** Which entries of every decoder linear are 0, concatenated. */
async function zeros(): Promise<Uint8Array> {
  const m = engine.gpuModel!;
  const flags: number[] = [];
  for (const [name, t] of m.weights) {
    if (/^layers\.\d+\.(attn|mlp)\.\w+\.weight$/.test(name)) for (const v of await op.readTensor(m.ctx, t)) flags.push(v === 0 ? 1 : 0);
  }
  return Uint8Array.from(flags);
}

test.each<[PruneMethod, string, Target]>([
  ['sparsegpt', '50 %', { kind: 'unstructured', sparsity: 0.5 }],
  ['sparsegpt', '2:4', { kind: 'nm', n: 2, m: 4 }],
  ['wanda', '50 %', { kind: 'unstructured', sparsity: 0.5 }],
  ['wanda', '2:4', { kind: 'nm', n: 2, m: 4 }],
  ['magnitude', '2:4', { kind: 'nm', n: 2, m: 4 }],
])('%s %s: the masks agree on ≥ 0.999 of the entries, the perplexities within 1e-3 relative', async (method, label, target) => {
  const run = async (factorisation: 'cpu' | 'gpu') => {
    engine.restoreDense();
    const report = await engine.prune(calib, { method, target, calibSamples: 16, seqlen: 128, factorisation });
    return { report, mask: await zeros(), ppl: (await engine.perplexity(evalText, { seqlen: 128, maxWindows: 8 })).ppl };
  };
  const cpu = await run('cpu');
  const gpu = await run('gpu');
  let same = 0;
  for (let i = 0; i < cpu.mask.length; i++) if (cpu.mask[i] === gpu.mask[i]) same++;
  console.log(`${method} ${label}: masks agree on ${same} of ${cpu.mask.length} entries; perplexity GPU ${gpu.ppl}, CPU ${cpu.ppl}`);
  expect(same / cpu.mask.length).toBeGreaterThanOrEqual(0.999);
  expect(Math.abs(gpu.ppl / cpu.ppl - 1)).toBeLessThan(1e-3);
  expect(gpu.report.sparsity).toBeCloseTo(cpu.report.sparsity, 6);
});
