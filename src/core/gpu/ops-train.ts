// Host side of the training kernels (shaders/adamw.wgsl, sumsq.wgsl, the *_backward*.wgsl kernels,
// nll.wgsl with its gradient, and cross_gram.wgsl for the linear gradients): one function per kernel
// role, recording dispatches on the context (nothing is submitted here).
import { type Binding, type GpuContext, grid1d, params } from './context';
import { ACT_MODE, type GpuTensor, crossGramDispatch, rowGrid } from './ops';

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

/** One AdamW step in place on w, m, v: (n), g: (n) zeroed; mask: (ceil(n/32)) u32 bits (1 = kept) or none. */
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
  // RW threads per partial: a tree of 256 on GPUs, one thread (no barriers) on the barrier-free variant.
  const RW = ctx.matmulVariant === 'rb' ? 1 : 256;
  ctx.dispatch('sumsq', params(n, per, out0, groups), [x, out], [Math.ceil(groups / (256 / RW))], { RW });
}

/**
 * SquareHead distillation of one layer's output s against the teacher's t, both (n): stats[o],
 * stats[o + 1] = Σ (s − t)², Σ t² (one workgroup), then ds += weight · 2(s − t) / (Σ t² + n·eps).
 * Without ds only the sums are recorded (evaluation).
 */
export function squareHead(ctx: GpuContext, s: GPUBuffer, t: GPUBuffer, stats: GPUBuffer, o: number, n: number, weight: number, eps: number, ds?: GPUBuffer): void {
  ctx.dispatch('squarehead', params(n, 0, o, { f: weight }, { f: eps }, 0, 0, 0), [s, t, stats, ds ?? ctx.empty], [1]);
  if (ds) ctx.dispatch('squarehead', params(n, 1, o, { f: weight }, { f: eps }, 0, 0, 0), [s, t, stats, ds], grid1d(n));
}

/**
 * The fused training head loss: nll[row0 + t] for each row and, in place, dL = scale · (softmax(L) −
 * onehot(target)); with a teacher (its logits for the same rows), also kl[row0 + t] = KL(q ‖ p)
 * and its gradient scale · (p − q) added.  logits, teacher: (rows, V); targets, nll, kl: (row0 + rows).
 */
export function nllBackward(
  ctx: GpuContext, logits: GPUBuffer, targets: GPUBuffer, nll: GPUBuffer, rows: number, V: number, row0: number, scale: number,
  teacher?: { logits: GPUBuffer; kl: GPUBuffer },
): void {
  const bindings = [logits, targets, nll, teacher?.logits ?? targets, teacher?.kl ?? ctx.empty];
  ctx.dispatch('nll', params(rows, V, row0, { f: scale }, teacher ? 2 : 1, 0, 0, 0), bindings, [rows]);
}

/** dX (+)= ∂/∂X of RMSNorm; dw += its weight gradient.  x, dy, dx: (T, C); w, dw: (C); stats: (T, 2) scratch. */
export function rmsnormBackward(
  ctx: GpuContext, x: GPUBuffer, w: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, dw: GPUBuffer, stats: GPUBuffer,
  T: number, C: number, eps: number, accumulate = false,
): void {
  const g = rowGrid(ctx, T);
  ctx.dispatch('norm_backward', params(T, C, { f: eps }, accumulate ? 1 : 0), [x, w, dy, dx, stats], g.groups, g.defines);
  ctx.dispatch('norm_backward_w', params(T, C, 0, 0), [x, dy, stats, dw, ctx.empty], [Math.ceil(C / 256)]);
}

/** dX (+)= ∂/∂X of LayerNorm; dw (and db) += its weight (and bias) gradients.  stats: (T, 2) scratch. */
export function layernormBackward(
  ctx: GpuContext, x: GPUBuffer, w: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, dw: GPUBuffer, db: GPUBuffer | undefined, stats: GPUBuffer,
  T: number, C: number, eps: number, accumulate = false,
): void {
  const g = rowGrid(ctx, T);
  ctx.dispatch('norm_backward', params(T, C, { f: eps }, (accumulate ? 1 : 0) | 2), [x, w, dy, dx, stats], g.groups, g.defines);
  ctx.dispatch('norm_backward_w', params(T, C, db ? 1 : 0, 0), [x, dy, stats, dw, db ?? ctx.empty], [Math.ceil(C / 256)]);
}

/** dX = dY·act'(X) (·U), dU = dY·act(X) when gated.  x (pre-activation), u, dy, dx, du: (n). */
export function activationBackward(
  ctx: GpuContext, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, n: number, act: keyof typeof ACT_MODE, gate?: { u: GPUBuffer; du: GPUBuffer },
): void {
  // Unused when not gated: U bound to dY, dU to the placeholder (one buffer never both read and written).
  ctx.dispatch('activation_backward', params(n, ACT_MODE[act], gate ? 1 : 0, 0), [x, gate?.u ?? dy, dy, dx, gate?.du ?? ctx.empty], grid1d(n));
}

/** dE[ids[t]] += dY[t] for an embedding table E: (V, C) paged by rows.  ids: (T) u32, dy: (T, C). */
export function embedBackward(ctx: GpuContext, ids: GPUBuffer, dy: GPUBuffer, dE: GpuTensor, T: number): void {
  const C = dE.shape[1];
  for (const c of dE.chunks) ctx.dispatch('embed_backward', params(T, C, c.row0, c.rows), [ids, dy, c.buffer], [Math.ceil(C / 256)]);
}

/**
 * The gradient through rotary embedding is the rotation by −θ: the forward kernel with the sines of
 * the table negated.  cs: (T, rot/2, 2) cos, sin → the same with −sin.
 */
export function inverseRopeTable(cs: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(cs.length);
  for (let i = 0; i < cs.length; i += 2) {
    out[i] = cs[i];
    out[i + 1] = -cs[i + 1];
  }
  return out;
}

/**
 * Causal GQA attention's gradients (pos0 = 0): dQ, and dK, dV overwritten.  q, o, dO, dQ: (T, H, D);
 * k, v, dK, dV: (T, Hkv, D); stats: (T, H, 2) scratch (lse, Δ).
 */
export function attentionBackward(
  ctx: GpuContext,
  f: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer; dO: GPUBuffer },
  g: { dQ: GPUBuffer; dK: GPUBuffer; dV: GPUBuffer; stats: GPUBuffer },
  T: number, H: number, Hkv: number, D: number, scale: number,
): void {
  if (D > 256) throw new Error(`attention: head_dim ${D} > 256 is not supported`);
  const words = params(T, H, Hkv, { f: scale });
  ctx.dispatch('attention_backward_q', words, [f.q, f.k, f.v, f.o, f.dO, g.dQ, g.stats], grid1d(T * H, 64), { HD: D });
  ctx.dispatch('attention_backward_kv', words, [f.q, f.k, f.v, f.dO, g.stats, g.dK, g.dV], grid1d(T * Hkv, 64), { HD: D });
}

/**
 * The gradients of Y = X Wᵀ (+ b) for W: (N, K) paged by rows: dX (+)= dY · W, dW += dYᵀ X, db += Σ_t dY.
 * x: (T, K), dy: (T, N), dx: (T, K) or none (the first layer's input needs none); dw chunks as w's;
 * ones: (≥ T) of 1 for the bias sum.
 */
export function linearBackward(
  ctx: GpuContext,
  x: GPUBuffer | Binding,
  w: GpuTensor,
  dy: GPUBuffer,
  g: { dx?: GPUBuffer | Binding; accumulateDx?: boolean; dw: GpuTensor; db?: GpuTensor; ones?: GPUBuffer },
  T: number,
): void {
  const [N, K] = w.shape;
  w.chunks.forEach((c, ci) => {
    const dwc = g.dw.chunks[ci];
    // dW[rows of the chunk] += dY[:, row0 : row0 + rows]ᵀ · X
    crossGramDispatch(ctx, params(T, c.rows, K, { f: 1 }, { f: 1 }, 0, N, c.row0), [dy, x, dwc.buffer], c.rows, K);
    if (g.dx) {
      // dX (T, K) (+)= Σ_{n in chunk} dY[t, n] · W[n, :]: A = dY read transposed from column row0.
      const first = ci === 0 && !g.accumulateDx;
      crossGramDispatch(ctx, params(c.rows, T, K, { f: first ? 0 : 1 }, { f: 1 }, 1, N, c.row0), [dy, c.buffer, g.dx], T, K);
    }
  });
  if (g.db) {
    if (!g.ones) throw new Error('internal: linearBackward needs a ones buffer for the bias gradient');
    crossGramDispatch(ctx, params(T, 1, N, { f: 1 }, { f: 1 }, 0, 0, 0), [g.ones, dy, g.db.chunks[0].buffer], 1, N);
  }
}
