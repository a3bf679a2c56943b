// Float64 CPU references of training: the backward of each op the training kernels implement
// (the fused log-softmax cross-entropy head, RMSNorm, a linear layer), AdamW as PyTorch writes it,
// the global gradient norm, and central finite differences to check every backward against.
// Literal and slow by design; tests only.
import type { Vec } from './kernels';

/** Central finite differences of a scalar function at x, one coordinate at a time. */
export function finiteDiff(f: (x: Float64Array) => number, x: Vec, h = 1e-6): Float64Array {
  const at = Float64Array.from(x);
  const out = new Float64Array(at.length);
  for (let i = 0; i < at.length; i++) {
    const v = at[i];
    at[i] = v + h;
    const fp = f(at);
    at[i] = v - h;
    const fm = f(at);
    at[i] = v;
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}

/** Σ_i a[i]·b[i]: a scalar loss L = ⟨Y, R⟩ turns an op's output into a checkable function. */
export function dot(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Mean-free head loss and its logits gradient: for rows with a target (−1: none),
 * loss = scale · Σ_t nll_t and dL[t, v] = scale · (softmax(L[t])[v] − [v = y_t]).  logits: (T, V).
 */
export function nllBackwardRef(logits: Vec, targets: readonly number[], scale: number): { nll: Float64Array; loss: number; dlogits: Float64Array } {
  const T = targets.length;
  const V = logits.length / T;
  const nll = new Float64Array(T);
  const d = new Float64Array(T * V);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    const y = targets[t];
    if (y < 0) continue;
    const o = t * V;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[o + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - mx);
    const lse = mx + Math.log(s);
    nll[t] = lse - logits[o + y];
    loss += scale * nll[t];
    for (let v = 0; v < V; v++) d[o + v] = scale * (Math.exp(logits[o + v] - lse) - (v === y ? 1 : 0));
  }
  return { nll, loss, dlogits: d };
}

/** RMSNorm's gradients for Y = X·r·w, r = 1/sqrt(mean(X²) + eps).  x, dy: (T, C); w: (C). */
export function rmsNormBackwardRef(x: Vec, T: number, C: number, w: Vec, eps: number, dy: Vec): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(T * C);
  const dw = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c] * x[o + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    let gx = 0;
    for (let c = 0; c < C; c++) gx += dy[o + c] * w[c] * x[o + c];
    for (let c = 0; c < C; c++) {
      dx[o + c] = r * dy[o + c] * w[c] - ((r * r * r) / C) * x[o + c] * gx;
      dw[c] += dy[o + c] * x[o + c] * r;
    }
  }
  return { dx, dw };
}

/** A linear layer's gradients for Y = X Wᵀ + b.  x: (T, K), W: (N, K), dy: (T, N). */
export function linearBackwardRef(x: Vec, T: number, K: number, W: Vec, N: number, dy: Vec): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(T * K);
  const dw = new Float64Array(N * K);
  const db = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      const g = dy[t * N + n];
      db[n] += g;
      for (let k = 0; k < K; k++) {
        dx[t * K + k] += g * W[n * K + k];
        dw[n * K + k] += g * x[t * K + k];
      }
    }
  }
  return { dx, dw, db };
}

export interface AdamWRefOptions {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * One AdamW step (torch.optim.AdamW, decoupled decay) on float64 copies at step t ≥ 1, the
 * gradient scaled by gradScale first; masked weights (mask[i] = 0) and their moments are set to 0.
 */
export function adamwRef(
  w: Float64Array, g: Vec, m: Float64Array, v: Float64Array, t: number, o: AdamWRefOptions, gradScale = 1, mask?: ArrayLike<number>,
): void {
  const bc1 = 1 - o.beta1 ** t;
  const bc2 = 1 - o.beta2 ** t;
  for (let i = 0; i < w.length; i++) {
    if (mask && !mask[i]) {
      w[i] = m[i] = v[i] = 0;
      continue;
    }
    const gi = g[i] * gradScale;
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
    w[i] = w[i] * (1 - o.lr * o.weightDecay) - (o.lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + o.eps);
  }
}

/** The clip factor of global-norm clipping (torch.nn.utils.clip_grad_norm_): min(1, max / (‖g‖ + 1e-6)). */
export function clipScaleRef(grads: Vec[], maxNorm: number): { norm: number; scale: number } {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  const norm = Math.sqrt(ss);
  return { norm, scale: maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1 };
}
