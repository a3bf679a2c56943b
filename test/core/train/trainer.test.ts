// The optimizer loop (src/core/train/trainer.ts) against a float64 loop of the same protocol:
// 20 AdamW steps of two windows each, with warm-up + cosine, clipping and weight decay, on a tiny
// fixture whose decoder linears are half zeros (recovery): every weight within 1e-4 of the
// reference, masked weights exactly 0 after every step. Gradual magnitude pruning reaches each
// scheduled sparsity exactly and keeps it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { NumericalError } from '../../../src/core/errors';
import { adamwRef, clipScaleRef } from '../../../src/core/reference/train';
import { referenceTrainStep } from '../../../src/core/reference/train-model';
import { gmpPlan, lrAt, prunedCount, windowsOfStep } from '../../../src/core/train/schedule';
import { Trainer } from '../../../src/core/train/trainer';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { FIXTURE_MODELS, json } from '../../helpers/fixtures';
import { canonicalParams } from '../../helpers/train';

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

const DIR = path.join(FIXTURE_MODELS, 'tiny-llama');
const T = 8, B = 2;

/** Windows of T ids from the fixture's text ids (cycled to have enough). */
function textWindows(): number[][] {
  const ids: number[] = json(path.join(DIR, 'expected.json')).ids;
  const all = Array.from({ length: 6 * T }, (_, i) => ids[i % ids.length]);
  return Array.from({ length: 6 }, (_, w) => all.slice(w * T, (w + 1) * T));
}

function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, m = 1e-30;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

describe('recovery: 20 steps with fixed masks', () => {
  test('weights within 1e-4 of the float64 loop; masked weights exactly 0 after every step', async () => {
    await loadNodeModel(engine, DIR);
    const model = engine.gpuModel!;
    // Half the weights of every decoder linear to 0 (every other one), as a pruned model has.
    for (const name of model.weights.keys()) {
      if (!/^layers\.\d+\.(attn|mlp)\.\w+\.weight$/.test(name)) continue;
      const w = await model.read(name);
      model.write(name, w.map((x, i) => (i % 2 ? 0 : x)));
    }
    const ref = await canonicalParams(model);
    const sched = { lr: 3e-3, warmup: 4, steps: 20 };
    const opts = { seqlen: T, weightDecay: 0.01, clip: 0.5 };
    const trainer = await Trainer.create(model, { ...opts, maskZeros: true });
    try {
      const masked = trainer.maskedNames;
      expect(masked.length).toBe(2 * 7);
      const masks = new Map(masked.map((n) => [n, ref.get(n)!.map((x) => (x !== 0 ? 1 : 0))]));
      const m = new Map([...ref].map(([k, v]) => [k, new Float64Array(v.length)]));
      const v = new Map([...ref].map(([k, x]) => [k, new Float64Array(x.length)]));
      const windows = textWindows();
      for (let t = 0; t < sched.steps; t++) {
        const batch = windowsOfStep(t, B, windows.length).map((j) => windows[j]);
        const lr = lrAt(t, sched);
        const got = await trainer.step(batch, lr);
        // The float64 step: mean of the windows' gradients, clipped, AdamW, masks.
        const grads = new Map<string, Float64Array>();
        let loss = 0;
        for (const ids of batch) {
          const r = referenceTrainStep(model.spec, ref, ids);
          loss += r.loss / B;
          for (const [k, g] of r.grads) grads.set(k, (grads.get(k) ?? new Float64Array(g.length)).map((x, i) => x + g[i] / B));
        }
        expect(Math.abs(got.loss - loss)).toBeLessThan(1e-4 * loss);
        const { norm, scale } = clipScaleRef([...grads.values()], opts.clip);
        expect(Math.abs(got.gradNorm - norm)).toBeLessThan(1e-4 * norm);
        for (const [k, w] of ref) adamwRef(w, grads.get(k)!, m.get(k)!, v.get(k)!, t + 1, { lr, weightDecay: opts.weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, scale, masks.get(k));
        for (const name of masked) {
          const w = await model.read(name);
          const mk = masks.get(name)!;
          expect(w.every((x, i) => mk[i] === 1 || x === 0), `${name} after step ${t + 1}`).toBe(true);
        }
      }
      const bad: string[] = [];
      for (const [k, w] of ref) {
        const err = scaledErr(await model.read(k), w);
        if (!(err < 1e-4)) bad.push(`${k}: ${err.toExponential(2)}`);
      }
      expect(bad).toEqual([]);
    } finally {
      trainer.dispose();
    }
  });
});

describe('gradual magnitude pruning', () => {
  test('each pruning step reaches ⌊s·numel⌋ zeros per matrix exactly, and they stay', async () => {
    await loadNodeModel(engine, DIR);
    const model = engine.gpuModel!;
    const trainer = await Trainer.create(model, { seqlen: T, weightDecay: 0, clip: 0 });
    try {
      const plan = gmpPlan({ final: 0.5, t0: 1, dt: 2, n: 3 }, 10);
      expect(plan.map((p) => p.step)).toEqual([1, 3, 5, 7]);
      const windows = textWindows();
      for (let t = 0; t < 10; t++) {
        const at = plan.find((p) => p.step === t);
        if (at) {
          const reached = await trainer.gmpPrune(at.sparsity);
          for (const name of trainer.maskedNames) {
            const w = await model.read(name);
            const want = prunedCount(at.sparsity, w.length);
            expect(reached.get(name)).toBe(want / w.length);
            expect(w.filter((x) => x === 0).length, `${name} at step ${t}`).toBe(want);
          }
        }
        await trainer.step(windowsOfStep(t, B, windows.length).map((j) => windows[j]), 1e-3);
      }
      // After the last pruning step and two more updates: still exactly half zeros.
      for (const name of trainer.maskedNames) {
        const w = await model.read(name);
        expect(w.filter((x) => x === 0).length).toBe(prunedCount(0.5, w.length));
      }
    } finally {
      trainer.dispose();
    }
  });

  test('a non-finite loss is refused with its step, before any update', async () => {
    await loadNodeModel(engine, DIR);
    const model = engine.gpuModel!;
    const before = await model.read('layers.0.mlp.up.weight');
    model.write('final_norm.weight', new Float32Array(model.spec.hidden).fill(Number.POSITIVE_INFINITY));
    const trainer = await Trainer.create(model, { seqlen: T, weightDecay: 0, clip: 0 });
    try {
      await expect(trainer.step([textWindows()[0]], 1e-3)).rejects.toThrow(NumericalError);
      await expect(trainer.step([textWindows()[0]], 1e-3)).rejects.toThrow(/not finite at step 1/);
      expect(await model.read('layers.0.mlp.up.weight')).toEqual(before);
    } finally {
      trainer.dispose();
    }
  });
});
