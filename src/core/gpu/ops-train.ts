// Host side of the training kernels (shaders/adamw.wgsl, sumsq.wgsl, nll_backward.wgsl,
// rmsnorm_backward*.wgsl, and cross_gram.wgsl for the linear gradients): one function per kernel
// role, recording dispatches on the context (nothing is submitted here).
import { type Binding, type GpuContext, grid1d, params } from './context';
import type { GpuTensor } from './ops';

export interface AdamWStep {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The optimizer step t ≥ 1 (bias corrections 1 − β^t). */
  t: number;
  /** Global-norm clip factor applied to the gradient (1: none). */
  gradScale: number;
}

/** One AdamW step in place on w, m, v: (n); mask: (ceil(n/32)) u32 bits (1 = kept) or none. */
export function adamw(ctx: GpuContext, w: GPUBuffer, g: GPUBuffer, m: GPUBuffer, v: GPUBuffer, n: number, s: AdamWStep, mask?: GPUBuffer): void {
  const bc1 = 1 - s.beta1 ** s.t;
  const bc2 = 1 - s.beta2 ** s.t;
  ctx.dispatch(
    'adamw',
    params(n, mask ? 1 : 0, { f: s.lr }, { f: s.weightDecay }, { f: s.beta1 }, { f: s.beta2 }, { f: s.eps }, { f: bc1 }, { f: bc2 }, { f: s.gradScale }, 0, 0),
    [w, g, m, v, mask ?? ctx.empty],
    grid1d(n),
  );
}

/** Elements each sumsq workgroup reduces: partial sums stay few (≤ 1024 per tensor). */
export function sumsqGroups(n: number): { groups: number; per: number } {
  const per = Math.max(256, Math.ceil(n / 1024 / 256) * 256);
  return { groups: Math.max(1, Math.ceil(n / per)), per };
}

/** out[out0 + g] = Σ x² over group g's slice of x: (n); sumsqGroups(n).groups partials. */
export function sumsq(ctx: GpuContext, x: GPUBuffer, n: number, out: GPUBuffer, out0: number): void {
  const { groups, per } = sumsqGroups(n);
  ctx.dispatch('sumsq', params(n, per, out0, 0), [x, out], [groups]);
}

/**
 * The fused training head loss: nll[row0 + t] for each row and, in place, dL = scale · (softmax(L) −
 * onehot(target)).  logits: (rows, V); targets, nll: (row0 + rows).
 */
export function nllBackward(ctx: GpuContext, logits: GPUBuffer, targets: GPUBuffer, nll: GPUBuffer, rows: number, V: number, row0: number, scale: number): void {
  ctx.dispatch('nll_backward', params(rows, V, row0, { f: scale }), [logits, targets, nll], [rows]);
}

/** dX (+)= ∂/∂X of RMSNorm; dw += its weight gradient.  x, dy, dx: (T, C); w, dw: (C); rs: (T) scratch. */
export function rmsnormBackward(
  ctx: GpuContext, x: GPUBuffer, w: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, dw: GPUBuffer, rs: GPUBuffer,
  T: number, C: number, eps: number, accumulate = false,
): void {
  ctx.dispatch('rmsnorm_backward', params(T, C, { f: eps }, accumulate ? 1 : 0), [x, w, dy, dx, rs], [T]);
  ctx.dispatch('rmsnorm_backward_w', params(T, C, 0, 0), [x, dy, rs, dw], [Math.ceil(C / 256)]);
}

/**
 * The gradients of Y = X Wᵀ (+ b) for W: (N, K) paged by rows: dX (+)= dY · W, dW += dYᵀ X, db += Σ_t dY.
 * x: (T, K), dy: (T, N), dx: (T, K) or none (the first layer's input needs none); dw chunks as w's;
 * ones: (T) of 1 for the bias sum.
 */
export function linearBackward(
  ctx: GpuContext,
  x: GPUBuffer | Binding,
  w: GpuTensor,
  dy: GPUBuffer,
  g: { dx?: GPUBuffer; accumulateDx?: boolean; dw: GpuTensor; db?: GpuTensor; ones?: GPUBuffer },
  T: number,
): void {
  const [N, K] = w.shape;
  w.chunks.forEach((c, ci) => {
    const dwc = g.dw.chunks[ci];
    // dW[rows of the chunk] += dY[:, row0 : row0 + rows]ᵀ · X
    ctx.dispatch('cross_gram', params(T, c.rows, K, { f: 1 }, { f: 1 }, 0, N, c.row0), [dy, x, dwc.buffer], [Math.ceil(K / 64), Math.ceil(c.rows / 64)]);
    if (g.dx) {
      // dX (T, K) (+)= Σ_{n in chunk} dY[t, n] · W[n, :]: A = dY read transposed from column row0.
      const first = ci === 0 && !g.accumulateDx;
      ctx.dispatch('cross_gram', params(c.rows, T, K, { f: first ? 0 : 1 }, { f: 1 }, 1, N, c.row0), [dy, c.buffer, g.dx], [Math.ceil(K / 64), Math.ceil(T / 64)]);
    }
  });
  if (g.db) {
    if (!g.ones) throw new Error('internal: linearBackward needs a ones buffer for the bias gradient');
    ctx.dispatch('cross_gram', params(T, 1, N, { f: 1 }, { f: 1 }, 0, 0, 0), [g.ones, dy, g.db.chunks[0].buffer], [Math.ceil(N / 64), 1]);
  }
}
