// Pruning benchmark: seconds per phase (statistics, factorisation, OBS sweep, re-forward) per
// decoder layer, for each method, on the demo model and on random models with OPT-125M's shapes
// (2 layers), and how SparseGPT's time grows with the hidden size d (ffn = 4d; O(d³) per layer).
import fs from 'node:fs';
import type { Engine } from '../src/core/engine';
import type { GpuContext } from '../src/core/gpu/context';
import * as op from '../src/core/gpu/ops';
import { calibrationWindows } from '../src/core/calib/windows';
import { pruneModel } from '../src/core/prune/driver';
import { factorise } from '../src/core/prune/sparsegpt';
import type { PruneMethod, PruneReport } from '../src/core/prune/types';
import type { GpuModel } from '../src/core/nn/model';
import { loadNodeModel } from '../src/node/engine';
import { OPT125M_CONFIG, randomModel } from './forward';
import { reconCheck } from './recon';
import { rand } from './util';

function summarise(r: PruneReport) {
  const sum = (k: keyof PruneReport['phases'][number]) => r.phases.reduce((s, p) => s + p[k], 0);
  return {
    method: r.method,
    sparsity: r.sparsity,
    seconds: r.seconds,
    totals: { statistics: sum('statistics'), factorisation: sum('factorisation'), sweep: sum('sweep'), reforward: sum('reforward') },
    per_layer: r.phases,
  };
}

async function pruneRandom(ctx: GpuContext, model: GpuModel, method: PruneMethod, nsamples: number, seqlen: number) {
  const ids = Array.from({ length: nsamples * seqlen }, (_, i) => (i * 7919 + 13) % model.spec.vocabSize);
  const windows = calibrationWindows(ids, nsamples, seqlen);
  const r = await pruneModel(model, windows, { method, target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: nsamples, seqlen }, new Map());
  return summarise(r);
}

function destroy(ctx: GpuContext, m: GpuModel) {
  for (const t of m.weights.values()) op.destroyTensor(ctx, t);
}

export async function pruneBench(
  engine: Engine,
  opts: { demoDir: string; calibText: string; samples: number; seqlen: number; dims: number[]; factorDims: number[]; reconDims: number[]; skipOpt: boolean; log: (s: string) => void },
) {
  const ctx = engine.ctx;
  const out: Record<string, unknown> = {};
  await loadNodeModel(engine, opts.demoDir);
  const calib = fs.readFileSync(opts.calibText, 'utf8');
  const demo = [];
  for (const method of ['magnitude', 'wanda', 'sparsegpt'] as const) {
    const r = await engine.prune(calib, { method, target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: opts.samples, seqlen: opts.seqlen });
    demo.push(summarise(r));
    opts.log(`stories260K ${method}: ${r.seconds.toFixed(2)} s`);
  }
  engine.unload();
  out.demo = { model: 'stories260K', samples: opts.samples, seqlen: opts.seqlen, runs: demo };
  if (!opts.skipOpt) {
    const m = randomModel(ctx, { ...OPT125M_CONFIG, num_hidden_layers: 2 });
    try {
      // The phases are SparseGPT's; magnitude and Wanda only add the statistics pass.
      const runs = [await pruneRandom(ctx, m, 'sparsegpt', opts.samples, opts.seqlen)];
      opts.log(`OPT-125M shapes (2 layers) sparsegpt: ${runs[0].seconds.toFixed(2)} s`);
      out.opt125m_2layers = { samples: opts.samples, seqlen: opts.seqlen, runs };
    } finally {
      destroy(ctx, m);
    }
  }
  const scaling: Array<{ d: number; ffn: number; statistics: number; factorisation: number; sweep: number; reforward: number; seconds: number }> = [];
  for (const d of opts.dims) {
    const cfg = { ...OPT125M_CONFIG, hidden_size: d, ffn_dim: 4 * d, word_embed_proj_dim: d, num_attention_heads: d / 64, num_hidden_layers: 1, vocab_size: 1024 };
    const m = randomModel(ctx, cfg);
    try {
      const r = await pruneRandom(ctx, m, 'sparsegpt', opts.samples, opts.seqlen);
      scaling.push({ d, ffn: 4 * d, ...r.totals, seconds: r.seconds });
      opts.log(`SparseGPT, one layer, d=${d}: ${r.seconds.toFixed(2)} s (factorisation ${r.totals.factorisation.toFixed(2)} s, sweep ${r.totals.sweep.toFixed(2)} s)`);
    } finally {
      destroy(ctx, m);
    }
  }
  // Growth exponent between consecutive sizes: log(t2/t1) / log(d2/d1).
  const exponents = scaling.slice(1).map((s, i) => ({
    from: scaling[i].d, to: s.d,
    total: Math.log(s.seconds / scaling[i].seconds) / Math.log(s.d / scaling[i].d),
    factorisation: Math.log(s.factorisation / scaling[i].factorisation) / Math.log(s.d / scaling[i].d),
    sweep: Math.log(s.sweep / scaling[i].sweep) / Math.log(s.d / scaling[i].d),
  }));
  out.sparsegpt_scaling = { samples: opts.samples, seqlen: opts.seqlen, layers: 1, runs: scaling, exponents };
  out.factorisation = [];
  for (const d of opts.factorDims) {
    const r = await factorTimes(ctx, d);
    (out.factorisation as unknown[]).push(r);
    opts.log(`factorisation d=${d}: GPU (f32) ${r.gpu_s.toFixed(3)} s, CPU (float64) ${r.cpu_s.toFixed(3)} s; diag(U) max relative difference ${r.diag_rel_diff.toExponential(2)}`);
  }
  // SparseGPT's reconstruction error on ill-conditioned synthetic Hessians (bench/recon.ts), both paths.
  out.reconstruction = [];
  for (const d of opts.reconDims) {
    for (const target of [{ kind: 'unstructured', sparsity: 0.5 }, { kind: 'nm', n: 2, m: 4 }] as const) {
      const r = await reconCheck(ctx, d, { target });
      (out.reconstruction as unknown[]).push(r);
      opts.log(`reconstruction d=${d} ${r.target} (${r.rows} rows, ${r.tokens} tokens): GPU ${r.gpu_rel_error.toPrecision(6)} (${r.gpu_s.toFixed(1)} s), CPU ${r.cpu_rel_error.toPrecision(6)} (${r.cpu_s.toFixed(1)} s): ${(100 * r.relative_difference).toFixed(3)} %`);
    }
  }
  return out;
}

/**
 * SparseGPT's factorisation alone at width d, on both paths (upload, factor, inverse and what the
 * sweep needs back included), on a symmetric H made positive definite by its diagonal
 * (Gershgorin): the time does not depend on the values. n³/2 flops (factor n³/3, inverse n³/6).
 */
export async function factorTimes(ctx: GpuContext, d: number) {
  const r = rand(d * d, d, 1);
  const H = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) H[i * d + j] = H[j * d + i] = r[i * d + j] / Math.sqrt(d);
    H[i * d + i] = Math.sqrt(d) + 1;
  }
  const timed = async (where: 'gpu' | 'cpu') => {
    const t0 = performance.now();
    const f = await factorise(ctx, H, d, 0, where);
    await ctx.finish();
    const s = (performance.now() - t0) / 1000;
    ctx.destroy(f.hinv);
    ctx.destroy(f.hinvT);
    return { s, diag: Float64Array.from(f.diag) };
  };
  await timed('gpu'); // compile the kernels
  const g = await timed('gpu');
  const c = await timed('cpu');
  let diff = 0;
  for (let i = 0; i < d; i++) diff = Math.max(diff, Math.abs(g.diag[i] - c.diag[i]) / Math.abs(c.diag[i]));
  const flops = d ** 3 / 2;
  return { d, gpu_s: g.s, cpu_s: c.s, gpu_gflops: flops / g.s / 1e9, cpu_gflops: flops / c.s / 1e9, diag_rel_diff: diff };
}
