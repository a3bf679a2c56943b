// Host side of SparseLLM's kernels (shaders/cross_gram.wgsl, sparsellm_z_relu.wgsl,
// sparsellm_zs_gated.wgsl): one function per kernel role, recording a dispatch on the context
// (nothing is submitted here). The algorithm itself is in src/core/prune/sparsellm.ts.
import { type Binding, type GpuContext, grid1d, params } from './context';
import { crossGramDispatch } from './ops';

/** G = a·G + b·AᵀB.  a: (T, M), b: (T, K), g: (M, K). */
export function crossGram(
  ctx: GpuContext, a: GPUBuffer | Binding, b: GPUBuffer | Binding, g: GPUBuffer, T: number, M: number, K: number, wa: number, wb: number,
): void {
  crossGramDispatch(ctx, params(T, M, K, { f: wa }, { f: wb }, 0, 0, 0), [a, b, g], M, K);
}

/** ReLU MLP: z ← argmin γ(p − relu(z))² + α(z − m)², elementwise.  z, m, p: (n). */
export function zUpdateRelu(ctx: GpuContext, z: GPUBuffer, m: GPUBuffer, p: GPUBuffer, n: number, alpha: number, gamma: number): void {
  ctx.dispatch('sparsellm_z_relu', params(n, { f: alpha }, { f: gamma }, 0), [z, m, p], grid1d(n));
}

/**
 * SiLU-gated MLP: z ← (α mu + γ silu(s) p)/(α + γ silu(s)²), then `steps` gradient steps of size
 * lr on s.  z, s: (n) in place; mu, mg, p: (n).
 */
export function zsUpdateGated(
  ctx: GpuContext, z: GPUBuffer, s: GPUBuffer, mu: GPUBuffer, mg: GPUBuffer, p: GPUBuffer,
  n: number, alpha: number, gamma: number, lr: number, steps: number,
): void {
  ctx.dispatch('sparsellm_zs_gated', params(n, { f: alpha }, { f: gamma }, { f: lr }, steps, 0, 0, 0), [z, s, mu, mg, p], grid1d(n));
}
