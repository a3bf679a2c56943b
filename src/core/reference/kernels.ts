// Float64 CPU reference kernels. They follow PyTorch / Hugging Face semantics literally and favour
// clarity over speed: hf-model.ts builds its forward passes from them, and the GPU kernel tests
// compare WGSL output against them. Every function allocates and returns a fresh Float64Array
// (inputs are never modified). All tensors are dense and row-major; shapes are given in comments
// as (rows, cols) or (T, heads, headDim), T = number of tokens.

/** Anything indexable as numbers: f32 weights straight from a checkpoint, f64 activations, lists. */
export type Vec = ArrayLike<number>;

// ---------------------------------------------------------------------------------------------
// Linear algebra

/**
 * torch.nn.Linear: y = x W^T + b.
 * x: (T, K), W: (N, K) row-major (as nn.Linear stores it), bias: (N) -> y: (T, N).
 */
export function linearRef(x: Vec, T: number, K: number, W: Vec, N: number, bias?: Vec | null): Float64Array {
  if (x.length < T * K) throw new Error(`linearRef: x has ${x.length} values, expected ${T}x${K}`);
  if (W.length !== N * K) throw new Error(`linearRef: W has ${W.length} values, expected ${N}x${K}`);
  if (bias && bias.length !== N) throw new Error(`linearRef: bias has ${bias.length} values, expected ${N}`);
  const y = new Float64Array(T * N);
  // Copy each input row to f64 once so the inner loop reads a dense f64 array.
  const row = new Float64Array(K);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) row[k] = x[t * K + k];
    for (let n = 0; n < N; n++) {
      let s = 0;
      const w0 = n * K;
      for (let k = 0; k < K; k++) s += row[k] * W[w0 + k];
      y[t * N + n] = bias ? s + bias[n] : s;
    }
  }
  return y;
}

/**
 * GPT-2's Conv1D: y = x W + b with W stored (in, out), i.e. transposed relative to nn.Linear.
 * x: (T, K), W: (K, N), bias: (N) -> y: (T, N).
 */
export function conv1dRef(x: Vec, T: number, K: number, W: Vec, N: number, bias?: Vec | null): Float64Array {
  return linearRef(x, T, K, transposeRef(W, K, N), N, bias);
}

/** A: (R, C) -> A^T: (C, R). */
export function transposeRef(A: Vec, R: number, C: number): Float64Array {
  if (A.length !== R * C) throw new Error(`transposeRef: ${A.length} values, expected ${R}x${C}`);
  const out = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = A[r * C + c];
  return out;
}

/** Element-wise a + b (same length). */
export function addRef(a: Vec, b: Vec): Float64Array {
  if (a.length !== b.length) throw new Error(`addRef: lengths ${a.length} and ${b.length} differ`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Element-wise a * b (same length). */
export function mulRef(a: Vec, b: Vec): Float64Array {
  if (a.length !== b.length) throw new Error(`mulRef: lengths ${a.length} and ${b.length} differ`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

/** Embedding lookup: table (V, C), ids (T) -> (T, C). */
export function embeddingRef(table: Vec, V: number, C: number, ids: readonly number[]): Float64Array {
  const out = new Float64Array(ids.length * C);
  ids.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`embeddingRef: id ${id} outside [0, ${V})`);
    for (let c = 0; c < C; c++) out[t * C + c] = table[id * C + c];
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Mean and 1/sqrt(biased variance + eps) of the C values of x from offset o (LayerNorm's statistics). */
export function rowMeanRstd(x: Vec, o: number, C: number, eps: number): { mean: number; rstd: number } {
  let mean = 0;
  for (let c = 0; c < C; c++) mean += x[o + c];
  mean /= C;
  let v = 0;
  for (let c = 0; c < C; c++) v += (x[o + c] - mean) ** 2;
  return { mean, rstd: 1 / Math.sqrt(v / C + eps) };
}

/**
 * torch.nn.LayerNorm over the last dim: (x - mean) / sqrt(var + eps) * w + b, var biased (1/C).
 * x: (T, C), w: (C) or null (= ones), b: (C) or null (= zeros) -> (T, C).
 */
export function layerNormRef(x: Vec, T: number, C: number, w: Vec | null, b: Vec | null, eps: number): Float64Array {
  const out = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    const { mean, rstd: inv } = rowMeanRstd(x, o, C, eps);
    for (let c = 0; c < C; c++) {
      const n = (x[o + c] - mean) * inv;
      out[o + c] = n * (w ? w[c] : 1) + (b ? b[c] : 0);
    }
  }
  return out;
}

/**
 * Llama RMSNorm: x * rsqrt(mean(x^2) + eps) * w.
 * x: (T, C), w: (C) -> (T, C).
 */
export function rmsNormRef(x: Vec, T: number, C: number, w: Vec, eps: number): Float64Array {
  const out = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c] * x[o + c];
    const inv = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = x[o + c] * inv * w[c];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rotary position embedding

/**
 * Rotary embedding, Hugging Face rotate_half convention (GPT-NeoX style, not GPT-J interleaved).
 * x: (T, nHeads, headDim); only the first rotaryDim dims of each head rotate, the rest pass through.
 * Token t sits at absolute position pos0 + t. invFreq has rotaryDim / 2 entries; dims i and
 * i + rotaryDim/2 form a pair rotated by angle (pos0 + t) * invFreq[i]:
 *   out[i]        = x[i] cos - x[i + half] sin
 *   out[i + half] = x[i + half] cos + x[i] sin
 * (this is q*cos + rotate_half(q)*sin with cos/sin = cat(freqs, freqs)). Returns a copy.
 */
export function ropeRef(
  x: Vec,
  T: number,
  nHeads: number,
  headDim: number,
  rotaryDim: number,
  invFreq: readonly number[],
  pos0: number,
): Float64Array {
  if (rotaryDim % 2 !== 0 || rotaryDim > headDim) throw new Error(`ropeRef: bad rotaryDim ${rotaryDim} for headDim ${headDim}`);
  const half = rotaryDim / 2;
  if (invFreq.length !== half) throw new Error(`ropeRef: invFreq has ${invFreq.length} entries, expected ${half}`);
  const out = Float64Array.from({ length: T * nHeads * headDim }, (_, i) => x[i]);
  for (let t = 0; t < T; t++) {
    const p = pos0 + t;
    for (let i = 0; i < half; i++) {
      const a = p * invFreq[i];
      const cos = Math.cos(a);
      const sin = Math.sin(a);
      for (let h = 0; h < nHeads; h++) {
        const o = (t * nHeads + h) * headDim;
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        out[o + i] = x1 * cos - x2 * sin;
        out[o + i + half] = x2 * cos + x1 * sin;
      }
    }
  }
  return out;
}

/** Default RoPE inverse frequencies: base^(-2i/dim), i < dim/2 (HF _compute_default_rope_parameters). */
export function ropeInvFreqRef(dim: number, base: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < dim; i += 2) out.push(1 / Math.pow(base, i / dim));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Attention

/**
 * Causal multi-head attention with grouped KV heads (HF repeat_kv: query head h reads KV head
 * floor(h / (H / Hkv))). Query t sits at absolute position pos0 + t and sees keys 0 .. pos0 + t.
 * q: (T, H, D), k: (S, Hkv, D), v: (S, Hkv, D) with S = pos0 + T -> out: (T, H, D).
 * scores = q.k * scale, softmax in float64 (max-subtracted), out = sum_s p_s v_s.
 */
export function attentionRef(
  q: Vec,
  k: Vec,
  v: Vec,
  T: number,
  S: number,
  H: number,
  Hkv: number,
  D: number,
  scale: number,
  pos0: number,
): Float64Array {
  if (S !== pos0 + T) throw new Error(`attentionRef: S (${S}) must equal pos0 + T (${pos0 + T})`);
  if (H % Hkv !== 0) throw new Error(`attentionRef: ${H} query heads do not divide into ${Hkv} KV heads`);
  const group = H / Hkv;
  const out = new Float64Array(T * H * D);
  const p = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    const last = pos0 + t; // inclusive
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      const qo = (t * H + h) * D;
      let max = -Infinity;
      for (let s = 0; s <= last; s++) {
        const ko = (s * Hkv + hk) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
        p[s] = dot * scale;
        if (p[s] > max) max = p[s];
      }
      let sum = 0;
      for (let s = 0; s <= last; s++) {
        p[s] = Math.exp(p[s] - max);
        sum += p[s];
      }
      for (let s = 0; s <= last; s++) {
        const w = p[s] / sum;
        const vo = (s * Hkv + hk) * D;
        for (let d = 0; d < D; d++) out[qo + d] += w * v[vo + d];
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Activations (element-wise; scalar forms first)

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** HF NewGELUActivation ("gelu_new", also gelu_pytorch_tanh / gelu_fast): tanh approximation. */
export function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (torch.nn.functional.gelu, HF "gelu"). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function relu(x: number): number {
  return x > 0 ? x : 0;
}

/** SiLU / swish: x * sigmoid(x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

function mapRef(x: Vec, f: (v: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

export const geluNewRef = (x: Vec): Float64Array => mapRef(x, geluNew);
export const geluErfRef = (x: Vec): Float64Array => mapRef(x, geluErf);
export const reluRef = (x: Vec): Float64Array => mapRef(x, relu);
export const siluRef = (x: Vec): Float64Array => mapRef(x, silu);

/**
 * Error function to ~1e-16 relative accuracy.
 * |x| < 2.5: the all-positive series erf(x) = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (1*3*...*(2n+1))
 * (no cancellation). |x| >= 2.5: erfc(x) from its continued fraction
 *   erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
 * evaluated bottom-up with a fixed depth that converges for x >= 2.5.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  }
  if (ax > 6) return x > 0 ? 1 : -1; // erfc(6) ~ 2e-17
  let f = ax;
  for (let n = 120; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** Scalar activation by Hugging Face ACT2FN name. */
export function activationByName(name: string): (x: number) => number {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluNew;
    case 'gelu':
      return geluErf;
    case 'relu':
      return relu;
    case 'silu':
    case 'swish':
      return silu;
    case 'quick_gelu':
      return (x) => x / (1 + Math.exp(-1.702 * x));
    default:
      throw new Error(`reference: unsupported activation "${name}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// Loss

/**
 * Per-row negative log-likelihood: logsumexp(logits[t]) - logits[t][targets[t]].
 * logits: (T, V) with T = targets.length -> (T).
 */
export function logSoftmaxNllRef(logits: Vec, targets: readonly number[]): Float64Array {
  const T = targets.length;
  if (T === 0 || logits.length % T !== 0) throw new Error(`logSoftmaxNllRef: ${logits.length} logits for ${T} targets`);
  const V = logits.length / T;
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const o = t * V;
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (logits[o + i] > max) max = logits[o + i];
    let s = 0;
    for (let i = 0; i < V; i++) s += Math.exp(logits[o + i] - max);
    const tgt = targets[t];
    if (!Number.isInteger(tgt) || tgt < 0 || tgt >= V) throw new Error(`logSoftmaxNllRef: target ${tgt} outside [0, ${V})`);
    out[t] = max + Math.log(s) - logits[o + tgt];
  }
  return out;
}
