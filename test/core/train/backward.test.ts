// The GPU training pass (src/core/train/backward.ts) against the float64 reference
// (src/core/reference/train-model.ts) on every family's tiny fixture: the loss, and the gradient of
// every parameter (whole tensors) within 1e-4 of the reference's scale; gradients add up over
// windows and are zeroed on request.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { destroyTensor, readTensor, uploadTensor } from '../../../src/core/gpu/ops';
import { GpuModel } from '../../../src/core/nn/model';
import { referenceTrainStep } from '../../../src/core/reference/train-model';
import { SQUAREHEAD_EPS, SQUAREHEAD_WEIGHT, TrainPass, trainPassBytes } from '../../../src/core/train/backward';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { FIXTURE_MODELS, json } from '../../helpers/fixtures';
import { canonicalParams } from '../../helpers/train';

/** The parameters whose pass gradient is not within 1e-4 of the reference's scale, with the error. */
async function gradientErrors(model: GpuModel, pass: TrainPass, grads: Map<string, Float64Array>): Promise<string[]> {
  const bad: string[] = [];
  for (const [k, g] of grads) {
    const got = await readTensor(model.ctx, pass.grads.get(k)!);
    if (model.spec.position === 'learned' && /attn\.k\.bias$/.test(k)) {
      // Without rotary, exactly 0 in exact arithmetic (softmax ignores a shift shared by every key): the
      // reference gives rounding noise, f32 a sum of cancelling terms; both must be tiny.
      const worst = Math.max(...Array.from(got, Math.abs), ...Array.from(g, Math.abs));
      if (!(worst < 1e-6)) bad.push(`${k}: ${worst.toExponential(2)} (should be 0)`);
      continue;
    }
    const err = scaledErr(got, g);
    if (!(err < 1e-4)) bad.push(`${k}: ${err.toExponential(2)}`);
  }
  return bad;
}

const NAMES = ['tiny-llama', 'tiny-qwen2', 'tiny-gpt2', 'tiny-opt', 'tiny-opt-350m-style', 'tiny-gpt-neox', 'tiny-gpt-neox-seq', 'tiny-phi', 'tiny-llama-tied-bf16'];

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => engine?.dispose());

/** max |a − b| / max |b| over a whole tensor. */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  let m = 1e-30;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

/** A fixture loaded, with the first 9 ids of its reference text (one window of T = 9). */
async function fixture(name: string) {
  const dir = path.join(FIXTURE_MODELS, name);
  await loadNodeModel(engine, dir);
  const ids: number[] = json(path.join(dir, 'expected.json')).ids.slice(0, 9);
  return { model: engine.gpuModel!, ids, T: ids.length };
}

describe.each(NAMES)('%s', (name) => {
  test('loss and every parameter gradient = the float64 reference (1e-4); recomputing activations gives them bit for bit', async () => {
    const { model, ids, T } = await fixture(name);
    const ref = referenceTrainStep(model.spec, await canonicalParams(model), ids);
    const pass = new TrainPass(model, T);
    try {
      // The memory prediction is the allocation, byte for byte.
      const params = [...model.weights.values()].reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
      expect(pass.bytes).toBe(trainPassBytes(model.spec, params, T, pass.logitRows));
      const { nll: sum, kl } = await pass.window(ids, 1 / (T - 1));
      expect(kl).toBe(0);
      expect(Math.abs(sum / (T - 1) - ref.loss)).toBeLessThan(1e-5 * Math.max(1, ref.loss));
      expect(await gradientErrors(model, pass, ref.grads)).toEqual([]);
      // A second window adds to the gradients; zeroGrads clears them.
      await pass.window(ids, 1 / (T - 1));
      const twice = await readTensor(model.ctx, pass.grads.get('embed.tokens')!);
      expect(scaledErr(twice, ref.grads.get('embed.tokens')!.map((v) => 2 * v))).toBeLessThan(1e-4);
      pass.zeroGrads();
      expect((await readTensor(model.ctx, pass.grads.get('embed.tokens')!)).every((v) => v === 0)).toBe(true);
      // Activation recomputation: the same gradients bit for bit, one layer's activations held.
      await pass.window(ids, 1 / (T - 1));
      const re = new TrainPass(model, T, undefined, true);
      try {
        expect(re.bytes).toBe(trainPassBytes(model.spec, params, T, re.logitRows, true));
        if (model.spec.nLayers > 1) expect(re.bytes).toBeLessThan(pass.bytes);
        await re.window(ids, 1 / (T - 1));
        const differ: string[] = [];
        for (const [k, g] of pass.grads) {
          const a = await readTensor(model.ctx, g), b = await readTensor(model.ctx, re.grads.get(k)!);
          if (!a.every((v, i) => v === b[i])) differ.push(k);
        }
        expect(differ).toEqual([]);
      } finally {
        re.dispose();
      }
    } finally {
      pass.dispose();
    }
  });
});

// Distillation on the three layer layouts (sequential pre-LN, post-LN with project_in/out, parallel
// residual): KL alone, SquareHead alone and both; the loss, the per-layer feature loss and every
// gradient against the float64 reference, the teacher being the same architecture with other weights.
describe.each([
  ['tiny-llama', true, false],
  ['tiny-llama', false, true],
  ['tiny-opt', true, true],
  ['tiny-gpt-neox', false, true],
] as const)('distillation on %s (KL: %s, SquareHead: %s)', (name, kl, squareHead) => {
  test('loss, KL, feature loss and every gradient = the float64 reference (1e-4)', async () => {
    const { model, ids, T } = await fixture(name);
    const tParams = await canonicalParams(model);
    for (const [k, w] of tParams) tParams.set(k, w.map((x, i) => x * 1.2 + 0.02 * Math.cos(i + k.length)));
    const teacher = new GpuModel(model.ctx, model.spec, new Map([...tParams].map(([k, w]) => [k, uploadTensor(model.ctx, Float32Array.from(w), model.weights.get(k)!.shape, `teacher.${k}`)])));
    const t = referenceTrainStep(model.spec, tParams, ids, false);
    const sq = squareHead ? { hidden: t.hidden, weight: SQUAREHEAD_WEIGHT, eps: SQUAREHEAD_EPS } : undefined;
    const ref = referenceTrainStep(model.spec, await canonicalParams(model), ids, true, kl ? t.logits : undefined, sq);
    const pass = new TrainPass(model, T, { model: teacher, kl, squareHead });
    try {
      const r = await pass.window(ids, 1 / (T - 1));
      if (kl) expect(r.kl).toBeGreaterThan(0);
      else expect(r.kl).toBe(0);
      if (squareHead) {
        expect(ref.features).toBeGreaterThan(0);
        expect(Math.abs(r.features - ref.features)).toBeLessThan(1e-5 * ref.features);
      } else expect(r.features).toBe(0);
      expect(Math.abs((r.nll + r.kl) / (T - 1) + r.features - ref.loss)).toBeLessThan(1e-5 * ref.loss);
      expect(await gradientErrors(model, pass, ref.grads)).toEqual([]);
      // Its held activations: the pass's own prediction plus the teacher's workspace (and layer outputs).
      const own = trainPassBytes(model.spec, [...tParams.values()].reduce((n, w) => n + w.length, 0), T, pass.logitRows);
      expect(pass.bytes).toBeGreaterThan(own + (squareHead ? model.spec.nLayers * T * model.spec.hidden * 4 : 0));
    } finally {
      pass.dispose();
      for (const w of teacher.weights.values()) destroyTensor(model.ctx, w);
    }
  });
});
