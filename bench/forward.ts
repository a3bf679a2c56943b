// Forward-pass benchmark: tokens/s of the whole model at seqlen 128, and the GFLOP/s and GB/s
// the matmul kernel reaches at each linear shape of the model. Models: the demo model
// (stories260K) and a randomly initialised model with OPT-125M's shapes (12 layers, d 768,
// ffn 3072, vocab 50272).
import type { Engine } from '../src/core/engine';
import type { GpuContext } from '../src/core/gpu/context';
import * as op from '../src/core/gpu/ops';
import { ConfigFields } from '../src/core/model/config';
import { familyFor } from '../src/core/model/families';
import { anyTensorNames } from '../src/core/model/folder';
import { linearNames, linearShape, type ModelSpec } from '../src/core/model/spec';
import { GpuModel } from '../src/core/nn/model';
import { loadNodeModel } from '../src/node/engine';
import { rand, timeGpu } from './util';

export const OPT125M_CONFIG = {
  model_type: 'opt', hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, ffn_dim: 3072,
  vocab_size: 50272, max_position_embeddings: 2048, word_embed_proj_dim: 768, do_layer_norm_before: true,
  activation_function: 'relu',
};

/** A GpuModel with random weights for a config (no files): every tensor the family would load. */
export function randomModel(ctx: GpuContext, config: Record<string, unknown>): GpuModel {
  const fam = familyFor(config);
  // No checkpoint: every tensor name the family probes for is taken as present.
  const names = anyTensorNames();
  const spec = fam.spec(new ConfigFields(config, fam.fields.aliases), names);
  const probe = fam.plan(spec, names);
  const weights = new Map<string, op.GpuTensor>();
  let seed = 1;
  for (const p of probe) {
    for (const o of p.outputs) {
      const n = o.shape.reduce((a, b) => a * b, 1);
      const isNormW = /norm\.weight$/.test(o.name);
      const data = isNormW ? new Float32Array(n).fill(1) : rand(n, seed++, o.shape.length > 1 ? 1 / Math.sqrt(o.shape[1]) : 0.02);
      weights.set(o.name, op.uploadTensor(ctx, data, o.shape, o.name));
    }
  }
  return new GpuModel(ctx, spec, weights);
}

/** FLOPs of one forward over T tokens: linears, attention (QKᵀ and PV, causal), head. */
export function forwardFlops(spec: ModelSpec, T: number) {
  let linear = 0;
  for (const n of linearNames(spec, 0)) {
    const [N, K] = linearShape(spec, n);
    linear += 2 * T * N * K;
  }
  linear *= spec.nLayers;
  const attention = spec.nLayers * spec.nHeads * 2 * 2 * spec.headDim * ((T * (T + 1)) / 2);
  const head = 2 * T * spec.embedDim * spec.vocabSize;
  return { linear, attention, head, total: linear + attention + head };
}

export async function benchModel(ctx: GpuContext, model: GpuModel, label: string, T: number, reps: number) {
  const spec = model.spec;
  const ws = model.allocate(T);
  const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 3) % spec.vocabSize);
  const ms = await timeGpu(ctx, async () => {
    await model.windowNll(ws, ids);
  }, reps, 1);
  // Per-shape matmul figures: distinct (N, K) of the linear layers and the head.
  const shapes = new Map<string, [number, number]>();
  for (const n of linearNames(spec, 0)) {
    const s = linearShape(spec, n);
    shapes.set(s.join('x'), s);
  }
  shapes.set(`${spec.vocabSize}x${spec.embedDim} (head)`, [spec.vocabSize, spec.embedDim]);
  const matmul = [];
  for (const [key, [N, K]] of shapes) {
    const W = op.uploadTensor(ctx, rand(N * K, 7, 0.05), [N, K], 'w');
    const X = ctx.upload(rand(T * K, 8, 1), 'x');
    const Y = ctx.storage(T * N * 4, 'y');
    const t = await timeGpu(ctx, () => op.matmul(ctx, X, W, undefined, Y, T), reps, 1);
    const flops = 2 * T * N * K;
    const bytes = 4 * (N * K + T * K + T * N);
    matmul.push({ shape: key, T, ms: t, gflops: flops / t / 1e6, gbps: bytes / t / 1e6 });
    op.destroyTensor(ctx, W);
    ctx.destroy(X);
    ctx.destroy(Y);
  }
  model.release(ws);
  const f = forwardFlops(spec, T);
  return {
    model: label,
    seqlen: T,
    forward_ms: ms,
    tokens_per_s: (T / ms) * 1000,
    forward_gflops: f.total / ms / 1e6,
    flops: f,
    matmul,
  };
}

export async function forwardBench(engine: Engine, opts: { reps: number; demoDir: string; skipOpt: boolean }) {
  const ctx = engine.ctx;
  const results = [];
  await loadNodeModel(engine, opts.demoDir);
  results.push(await benchModel(ctx, engine.gpuModel!, 'stories260K', 128, opts.reps));
  engine.unload();
  if (!opts.skipOpt) {
    const m = randomModel(ctx, OPT125M_CONFIG);
    try {
      results.push(await benchModel(ctx, m, 'random OPT-125M shapes', 128, opts.reps));
    } finally {
      for (const t of m.weights.values()) op.destroyTensor(ctx, t);
    }
  }
  return results;
}
