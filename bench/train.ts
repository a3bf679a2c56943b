// Training benchmark: tokens/s of training steps, the time of a step split into forward + backward
// (one window through TrainPass) and the optimizer (clip + AdamW over every parameter), the
// ratio of a step to a forward pass on the same tokens, and the GPU bytes the training state
// holds against the prediction (weights + gradients + two moments + activations), and a step's
// time by kernel. Models: the demo model, and random models with OPT-125M's and SmolLM2-135M's
// shapes (`layers` decoder layers: a software adapter affords 1–2, a real GPU the full depth).
import type { Engine } from '../src/core/engine';
import type { GpuContext } from '../src/core/gpu/context';
import * as op from '../src/core/gpu/ops';
import type { GpuModel } from '../src/core/nn/model';
import { trainPassBytes } from '../src/core/train/backward';
import { Trainer } from '../src/core/train/trainer';
import { loadNodeModel } from '../src/node/engine';
import { OPT125M_CONFIG, forwardFlops, randomModel } from './forward';
import { kernelProfile, timeGpu } from './util';

export const SMOLLM2_135M_CONFIG = {
  model_type: 'llama', hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, intermediate_size: 1536,
  vocab_size: 49152, max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 100000, tie_word_embeddings: true, hidden_act: 'silu',
};

async function benchTrain(ctx: GpuContext, model: GpuModel, label: string, T: number, reps: number) {
  const spec = model.spec;
  const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 3) % spec.vocabSize);
  const params = [...model.weights.values()].reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  // Forward alone (the perplexity pass: logits in chunks, NLL on the GPU).
  const ws = model.allocate(T);
  const forwardMs = await timeGpu(ctx, async () => {
    await model.windowNll(ws, ids);
  }, reps, 1);
  model.release(ws);
  const before = ctx.stats().bytes;
  const trainer = await Trainer.create(model, { seqlen: T, weightDecay: 0, clip: 1 });
  const held = ctx.stats().bytes - before;
  try {
    const windowMs = await timeGpu(ctx, async () => {
      await trainer.pass.window(ids, 1 / (T - 1));
    }, reps, 1);
    const stepMs = await timeGpu(ctx, async () => {
      await trainer.step([ids], 1e-4);
    }, reps, 1);
    const predicted = trainPassBytes(spec, params, T, trainer.pass.logitRows) + 2 * 4 * params;
    const f = forwardFlops(spec, T);
    return {
      model: label,
      layers: spec.nLayers,
      params,
      seqlen: T,
      forward_ms: forwardMs,
      step_ms: stepMs,
      forward_backward_ms: windowMs,
      backward_ms: windowMs - forwardMs,
      optimizer_ms: stepMs - windowMs,
      step_over_forward: stepMs / forwardMs,
      tokens_per_s: (T / stepMs) * 1000,
      // A training step does about 3× the forward's FLOPs (forward, then dX and dW).
      train_gflops: (3 * f.total) / stepMs / 1e6,
      training_state_bytes: held,
      predicted_bytes: predicted,
      weights_bytes: 4 * params,
      // One more step with every dispatch timed alone: the step's time by kernel.
      kernels: await kernelProfile(ctx, () => trainer.step([ids], 1e-4)),
      ...(await recomputed(ctx, model, T, reps, ids, params)),
    };
  } finally {
    trainer.dispose();
  }
}

/** The same step with activation recomputation: its time and the state it holds (and the prediction). */
async function recomputed(ctx: GpuContext, model: GpuModel, T: number, reps: number, ids: number[], params: number) {
  const before = ctx.stats().bytes;
  const trainer = await Trainer.create(model, { seqlen: T, weightDecay: 0, clip: 1, recompute: true });
  const held = ctx.stats().bytes - before;
  try {
    const stepMs = await timeGpu(ctx, async () => {
      await trainer.step([ids], 1e-4);
    }, reps, 1);
    return { recompute_step_ms: stepMs, recompute_state_bytes: held, recompute_predicted_bytes: trainPassBytes(model.spec, params, T, trainer.pass.logitRows, true) + 2 * 4 * params };
  } finally {
    trainer.dispose();
  }
}

export async function trainBench(engine: Engine, opts: { reps: number; demoDir: string; seqlen: number; layers: number; skipOpt: boolean; log: (s: string) => void }) {
  const ctx = engine.ctx;
  const results = [];
  await loadNodeModel(engine, opts.demoDir);
  results.push(await benchTrain(ctx, engine.gpuModel!, 'stories260K', opts.seqlen, opts.reps));
  opts.log(JSON.stringify(results.at(-1)));
  engine.unload();
  const depth = (c: Record<string, unknown>) => (opts.layers > 0 ? { ...c, num_hidden_layers: opts.layers } : c);
  const shaped: Array<[string, Record<string, unknown>]> = [['random SmolLM2-135M shapes', depth(SMOLLM2_135M_CONFIG)]];
  if (!opts.skipOpt) shaped.unshift(['random OPT-125M shapes', depth(OPT125M_CONFIG)]);
  for (const [label, config] of shaped) {
    const m = randomModel(ctx, config);
    try {
      results.push(await benchTrain(ctx, m, `${label} (${m.spec.nLayers} layers)`, opts.seqlen, opts.reps));
      opts.log(JSON.stringify(results.at(-1)));
    } finally {
      for (const t of m.weights.values()) op.destroyTensor(ctx, t);
    }
  }
  return results;
}
