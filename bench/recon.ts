// SparseGPT's reconstruction error on a synthetic, ill-conditioned sublayer, with the factorisation
// on the GPU (f32) and on the CPU (float64): the check that f32 is enough at real widths.
// The inputs are what makes real Hessians hard: fewer calibration tokens than inputs (H = 2/n XᵀX
// has rank n < d, so only the dampening λ = percdamp · mean(diag H) keeps it invertible), outlier
// channels 100× larger than the rest (as LLM activations have; they dominate mean(diag H), so the
// other directions sit near λ and the condition number is ~10⁶), and dead channels (H_jj = 0).
// The error is ‖XWᵀ − XŴᵀ‖² / ‖XWᵀ‖² over the same inputs, in float64.
import type { GpuContext } from '../src/core/gpu/context';
import { createHessianState, hessianAccumulate, relativeErrorFromInputs } from '../src/core/reference/prune';
import { sparsegpt } from '../src/core/prune/sparsegpt';
import type { Target } from '../src/core/options';
import { rand } from './util';

export interface ReconCheck {
  d: number;
  rows: number;
  tokens: number;
  target: string;
  gpu_rel_error: number;
  cpu_rel_error: number;
  /** (GPU − CPU) / CPU. */
  relative_difference: number;
  gpu_s: number;
  cpu_s: number;
}

export async function reconCheck(ctx: GpuContext, d: number, opts: { rows?: number; tokens?: number; target?: Target; seed?: number } = {}): Promise<ReconCheck> {
  const R = opts.rows ?? 64, n = opts.tokens ?? 256, seed = opts.seed ?? 1;
  const target: Target = opts.target ?? { kind: 'unstructured', sparsity: 0.5 };
  // X: (n, d); every 97th channel ×100, every 211th (from 5) dead.
  const X = Float64Array.from(rand(n * d, seed, 1), (v, i) => {
    const j = i % d;
    return j % 211 === 5 ? 0 : j % 97 === 0 ? 100 * v : v;
  });
  // H = 2/n XᵀX as the driver accumulates it (one sequence per row of 1 token would give the same).
  const st = createHessianState(d);
  hessianAccumulate(st, X, n);
  const hCpu = Float32Array.from(st.H);
  const dense = rand(R * d, seed + 1, 0.1);
  const h = ctx.upload(hCpu, 'recon.h');
  const run = async (where: 'gpu' | 'cpu') => {
    const w = ctx.upload(new Float32Array(R * d), 'recon.w');
    try {
      const t0 = performance.now();
      await sparsegpt({ ctx, w, R, C: d, dense, stats: { h, hCpu, C: d }, target, percdamp: 0.01, blocksize: 128, factorisation: where, selectOn: where });
      const s = (performance.now() - t0) / 1000;
      const pruned = await ctx.read(w, 0, R * d * 4);
      return { s, err: relativeErrorFromInputs(dense, pruned, R, d, [{ X, T: n }]) };
    } finally {
      ctx.destroy(w);
    }
  };
  try {
    const g = await run('gpu');
    const c = await run('cpu');
    return {
      d, rows: R, tokens: n, target: target.kind === 'nm' ? `${target.n}:${target.m}` : `${target.sparsity}`,
      gpu_rel_error: g.err, cpu_rel_error: c.err, relative_difference: (g.err - c.err) / c.err, gpu_s: g.s, cpu_s: c.s,
    };
  } finally {
    ctx.destroy(h);
  }
}
