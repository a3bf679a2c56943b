// Float64 CPU references of training: the backward of each op the training kernels implement
// (the fused log-softmax cross-entropy head, RMSNorm, a linear layer), AdamW as PyTorch writes it,
// the global gradient norm, and central finite differences to check every backward against.
// Literal and slow by design; tests only.
import { type Vec, erf, rowMeanRstd } from './kernels';

/**
 * Central finite differences of a scalar function at x, one coordinate at a time (all of them, or
 * those in `at`); x is perturbed in place and restored.
 */
export function finiteDiff(f: (x: Float64Array) => number, x: Float64Array | Vec, h = 1e-6, at?: Iterable<number>): Float64Array {
  const v = x instanceof Float64Array ? x : Float64Array.from(x);
  const out = new Float64Array(v.length);
  for (const i of at ?? v.keys()) {
    const xi = v[i];
    v[i] = xi + h;
    const fp = f(v);
    v[i] = xi - h;
    const fm = f(v);
    v[i] = xi;
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
 * The head loss and its logits gradient: for rows with a target (−1: none),
 *   loss = scale · Σ_t (nll_t + KL_t),   dL[t, v] = scale · (p_t[v] − [v = y_t] + p_t[v] − q_t[v])
 * where p_t = softmax(L[t]) and, with a teacher's logits (knowledge distillation, temperature 1),
 * KL_t = KL(q_t ‖ p_t) with q_t = softmax(teacher[t]); without one the KL terms are 0.  logits: (T, V).
 */
export function nllBackwardRef(
  logits: Vec, targets: readonly number[], scale: number, teacher?: Vec,
): { nll: Float64Array; kl: Float64Array; loss: number; dlogits: Float64Array } {
  const T = targets.length;
  const V = logits.length / T;
  const nll = new Float64Array(T);
  const kl = new Float64Array(T);
  const d = new Float64Array(T * V);
  const lseOf = (z: Vec, o: number) => {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, z[o + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[o + v] - mx);
    return mx + Math.log(s);
  };
  let loss = 0;
  for (let t = 0; t < T; t++) {
    const y = targets[t];
    if (y < 0) continue;
    const o = t * V;
    const lse = lseOf(logits, o);
    nll[t] = lse - logits[o + y];
    const lseT = teacher ? lseOf(teacher, o) : 0;
    for (let v = 0; v < V; v++) {
      const p = Math.exp(logits[o + v] - lse);
      d[o + v] = scale * (p - (v === y ? 1 : 0));
      if (teacher) {
        const logq = teacher[o + v] - lseT;
        kl[t] += Math.exp(logq) * (logq - (logits[o + v] - lse));
        d[o + v] += scale * (p - Math.exp(logq));
      }
    }
    loss += scale * (nll[t] + kl[t]);
  }
  return { nll, kl, loss, dlogits: d };
}

/**
 * SquareHead's feature loss of one layer (Kurtic et al. 2023): the normalised MSE of the student's
 * output s against the teacher's t, weight · ‖s − t‖² / (‖t‖² + n·eps), and its gradient in s.
 * s, t: (n).
 */
export function squareHeadRef(s: Vec, t: Vec, weight: number, eps: number): { loss: number; ds: Float64Array } {
  let diff = 0, norm = 0;
  for (let i = 0; i < s.length; i++) {
    diff += (s[i] - t[i]) ** 2;
    norm += t[i] ** 2;
  }
  const den = norm + s.length * eps;
  return { loss: (weight * diff) / den, ds: Float64Array.from(s, (v, i) => (2 * weight * (v - t[i])) / den) };
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

/** LayerNorm's gradients for Y = x̂·w + b, x̂ = (X − μ)/sqrt(var + eps).  x, dy: (T, C). */
export function layerNormBackwardRef(x: Vec, T: number, C: number, w: Vec, eps: number, dy: Vec): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(T * C);
  const dw = new Float64Array(C);
  const db = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    const { mean: mu, rstd: r } = rowMeanRstd(x, o, C, eps);
    let mg = 0;
    let mgx = 0;
    for (let c = 0; c < C; c++) {
      const g = dy[o + c] * w[c];
      mg += g / C;
      mgx += (g * (x[o + c] - mu) * r) / C;
    }
    for (let c = 0; c < C; c++) {
      const xh = (x[o + c] - mu) * r;
      dx[o + c] = r * (dy[o + c] * w[c] - mg - xh * mgx);
      dw[c] += dy[o + c] * xh;
      db[c] += dy[o + c];
    }
  }
  return { dx, dw, db };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The derivative of an MLP activation (analytic, float64): gelu_new, gelu (erf), relu, silu. */
export function activationGradRef(name: 'gelu_new' | 'gelu' | 'relu' | 'silu'): (x: number) => number {
  switch (name) {
    case 'gelu_new':
      return (x) => {
        const th = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3));
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
      };
    case 'gelu':
      return (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    case 'relu':
      return (x) => (x > 0 ? 1 : 0);
    case 'silu':
      return (x) => {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 + x * (1 - s));
      };
  }
}

/** dE for Y[t] = E[ids[t]]: dE[ids[t]] += dY[t], repeated ids adding up.  dy: (T, C) → (V, C). */
export function embeddingBackwardRef(ids: readonly number[], dy: Vec, V: number, C: number): Float64Array {
  const dE = new Float64Array(V * C);
  ids.forEach((id, t) => {
    for (let c = 0; c < C; c++) dE[id * C + c] += dy[t * C + c];
  });
  return dE;
}

/**
 * Causal GQA attention's gradients (pos0 = 0), by the chain rule through the softmax:
 * dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = scale · dS K, dK = scale · dSᵀ Q,
 * summed over the query heads of each KV group.  q, dO: (T, H, D); k, v: (T, Hkv, D).
 */
export function attentionBackwardRef(
  q: Vec, k: Vec, v: Vec, dO: Vec, T: number, H: number, Hkv: number, D: number, scale: number,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const group = H / Hkv;
  const dq = new Float64Array(T * H * D);
  const dk = new Float64Array(T * Hkv * D);
  const dv = new Float64Array(T * Hkv * D);
  const P = new Float64Array(T);
  const dP = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const j = Math.floor(h / group);
      const qo = (t * H + h) * D;
      let mx = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qo + d] * k[(s * Hkv + j) * D + d];
        P[s] = dot * scale;
        mx = Math.max(mx, P[s]);
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) sum += (P[s] = Math.exp(P[s] - mx));
      let rowDot = 0;
      for (let s = 0; s <= t; s++) {
        P[s] /= sum;
        let g = 0;
        for (let d = 0; d < D; d++) g += dO[qo + d] * v[(s * Hkv + j) * D + d];
        dP[s] = g;
        rowDot += P[s] * g;
      }
      for (let s = 0; s <= t; s++) {
        const ko = (s * Hkv + j) * D;
        const ds = P[s] * (dP[s] - rowDot) * scale;
        for (let d = 0; d < D; d++) {
          dv[ko + d] += P[s] * dO[qo + d];
          dq[qo + d] += ds * k[ko + d];
          dk[ko + d] += ds * q[qo + d];
        }
      }
    }
  }
  return { dq, dk, dv };
}
