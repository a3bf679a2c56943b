// SparseLLM (Bai et al. 2024, "SparseLLM: Towards Global Pruning of Pre-trained Language Models",
// NeurIPS 2024; github.com/BaiTheBest/SparseLLM model_utils.py opt_sparsellm / llama_sparsellm):
// instead of pruning the two (three) linear layers of a decoder layer's MLP one by one, it couples
// them through auxiliary variables — the pre-activation z (and, gated, the gate pre-activation s)
// and the post-activation p — and alternates closed-form updates with SparseGPT pruning, fitting
// the pruned MLP to the dense MLP's output Y:
//   min α‖z − W1X‖² + β‖Y − W2p‖² + γ‖p − act(z)‖²   (gated: + α‖s − WgX‖², act = silu(s) ⊙ z)
// One alternation k = 0 .. iterations−1 (rows = calibration tokens; X, Y of the dense layer):
//   1. k > 0: refit the weights on the auxiliaries by least squares, W1 = (z − b1) X⁺,
//      Wgate = (s − bg) X⁺, W2 = (Y − b2) p⁺ (OPT: the authors' current code takes 10 gradient steps
//      of lr 0.01 on mean((W2p + b2 − Y)²) from the current W2 instead: downUpdate 'gd'), and
//      recompute H_p = 2/n Σ pᵀp for W2.
//   2. SparseGPT (sparsegpt.ts, unchanged) of each MLP weight: up/gate with H_X, down with H_p.
//      fasterprune adds λI to its stored H in place, so in the authors' code the H_X of up/gate
//      carries the dampening of every earlier alternation; compoundDamp reproduces that.
//   3. p = (βW2ᵀW2 + γI)⁻¹ (βW2ᵀ(Y − b2) + γ act(z, s))  with the pruned W2.
//   4. z: ReLU: the exact minimiser of γ(p − relu(z))² + α(z − m)², m = W1X + b1 (pruned);
//      gated: z = (α mu + γ silu(s) p)/(α + γ silu(s)²), mu = WupX (the authors' (mu + σp)/(σ² + 1)
//      is this at their α = γ).
//   5. gated: 2 gradient steps of lr 0.01 on α(s − WgX)² + γ(p − silu(s) z)² (the authors' s step).
// Steps 3–5 after the last pruning cannot change the weights and are skipped. Alternation 0 is
// plain SparseGPT (same H, same weights), so history[0] is SparseGPT's error. Defaults are the
// authors' (SPARSELLM_DEFAULTS). Attention is not touched here: it stays SparseGPT.
//
// Where the work runs. GPU (f32): every product over the N calibration tokens — the dense
// auxiliaries, the cross-covariances zᵀX, sᵀX, Yᵀp and H_p (cross_gram.wgsl), the p
// update (two matmuls per window), the z/s updates (sparsellm_z_relu.wgsl, sparsellm_zs_gated.wgsl),
// the SparseGPT sweeps and the MLP output of each alternation: about N·(2F² + 6F·C) flops per
// alternation. CPU (float64), what is cubic in the widths and independent of N (as SparseGPT's own
// factorisation): the least-squares solves (Cholesky of H_X, C³/3, and of H_p, F³/3, plus 2·F·C²
// per refit of up/gate and 2·C·F² for down) and M = (βW2ᵀW2 + γI)⁻¹ (C·F²/2 + F³ + F²·C), beside
// SparseGPT's own 2/3·F³ for down. Stories260K (C 64, F 172): under 10⁸ flops, negligible;
// OPT-125M (768, 3072): ~8·10¹⁰ flops per alternation, about a minute of JS on one core.
// Measured on SwiftShader (2 shared cores, ~0.2 GFLOP/s there) for stories260K with 32 × 256
// calibration tokens: ~30 s per decoder layer for 4 alternations, against ~10 s for SparseGPT.
// Memory: per calibration window z, p (gated: and s) (T, F) and Y (T, C) on the GPU in f32, i.e.
// 4·n·T·(2F + C) bytes (gated 4·n·T·(3F + C)): stories260K 32 × 256: 18 MiB; OPT-125M: 216 MiB;
// plus Y on the CPU (n·T·C floats) for the error of each alternation.
// Measured (scripts/sparsellm-stories.ts: stories260K, calibration 32 × 256 of sample-calib.txt, all
// layers, perplexity on all 202 windows × 256 of sample-eval.txt, dense 5.7370):
//   sparsity   SparseGPT   SparseLLM (authors: keep 'last')   SparseLLM keep 'best'
//   70 %       142.11      139.28                             139.40
//   80 %       286.18      271.49                             246.25
//   90 %       673.03      679.52 (+1.0 %)                    551.88
// At 90 % the MLP output error of most layers rises after the 2nd alternation (e.g. layer 1:
// 0.958 → 0.957 → 0.978 → 1.012): with α = β = γ fixed, the auxiliaries drift from activations the
// pruned weights can produce, and each refit + re-pruning follows them. 'best' keeps the
// alternation with the lowest calibration error of each layer (alternation 0 = SparseGPT).
// Precision: the authors cast X⁺, the refitted weights and (βW2ᵀW2 + γI)⁻¹ to fp16 on fp16 models;
// here they stay f32/f64 and only the final weights are rounded to the checkpoint dtype (driver).
//
// Wiring (the driver, src/core/prune/driver.ts, for method 'sparsellm'; nothing here is wired yet):
//   • Before the layer loop: `const kind = mlpKind(spec)` (BadOption for MLPs other than ReLU or
//     SiLU-gated: gpt2/neox/phi use GELU), and refuse N:M patterns whose M does not divide C and F
//     exactly as now (checkTargetFits). opts.layers (a range; the paper prunes the first half) or
//     skipLayers decide which decoder layers get SparseLLM; the others are left dense as today.
//   • Step 1 (statistics pass over the dense layer i): in the capture callback, for point
//     'mlp_in', besides the Hessian, copy the (T, hidden) input of every window into its own buffer:
//       xs[s] = ctx.storage(T·C·4); ctx.copy(input, 0, xs[s], 0, T·C·4)
//     (X of the dense layer with dense attention, as the authors' single hook pass). Y, z, s, p are
//     computed here from xs and the dense MLP weights, so no other capture is needed.
//   • Step 2: prune attn.q/k/v/o with sparsegpt() as now (their H from the same pass). Then, instead
//     of the per-sublayer loop for mlp.*, back up the dense MLP weights as now (`backup`), call
//       const r = await sparsellmMlp({ ctx, kind, C: spec.hidden, F: spec.ffn, T, xs,
//         up:   { w: weights.get(`layers.${i}.mlp.up.weight`),   bias: weights.get(`….mlp.up.bias`),
//                 dense: backup.get(`….mlp.up.weight`),   target: targetFor('….mlp.up') },
//         gate: (gated only, the same for mlp.gate), down: { … mlp.down … },
//         percdamp, blocksize, options: opts.sparsellm, signal,
//         onProgress: (d) => onProgress?.({ phase: 'prune', done, total, detail: `layer ${i + 1} · ${d}` }) });
//     and then for each of mlp.gate/up/down run the existing tail unchanged: read the pruned
//     weight, round it to F16/BF16 when the checkpoint is, count zeros, rel_error with the H of the
//     dense pass (the driver's `groups`: mlp_in for up/gate, down_in for down) and push the
//     SublayerReport (damp/note from r.up / r.gate / r.down; r.history can go into `note` or a new
//     report field: the MLP output error ‖Y − Ŷ‖²/‖Y‖² after each alternation). Destroy xs.
//   • Step 3 (re-forward of layer i with the pruned weights) is unchanged: the next layer's inputs
//     come from the pruned layer, as for SparseGPT. Nothing else needs re-running: Y and the
//     auxiliaries are per layer and are recomputed inside sparsellmMlp from xs.
//   • PruneOptions gets `sparsellm?: Partial<SparseLlmOptions>` (iterations, alpha, beta, gamma,
//     downUpdate, keep) and a layer range; METHODS gets 'sparsellm'; METHOD_FNS does not (the MLP
//     is not a per-sublayer PruneFn).

import { BadOption, NumericalError, throwIfCancelled } from '../errors';
import type { GpuContext } from '../gpu/context';
import * as op from '../gpu/ops';
import type { GpuTensor } from '../gpu/ops';
import * as sop from '../gpu/ops-sparsellm';
import type { ModelSpec } from '../model/spec';
import { choleskyLower, invertLower } from './cholesky';
import type { MethodResult } from './method';
import { sparsegpt } from './sparsegpt';
import type { Target } from '../options';

/** The two MLP forms SparseLLM has closed-form auxiliary updates for. */
export type MlpKind = 'relu' | 'silu-gated';

export interface SparseLlmOptions {
  /** Alternations; each ends with a SparseGPT pruning of every MLP weight (1 = SparseGPT). */
  iterations: number;
  /** Penalty weight of ‖z − W1X‖² (and ‖s − WgX‖²). */
  alpha: number;
  /** Penalty weight of ‖Y − W2p‖². */
  beta: number;
  /** Penalty weight of ‖p − act(z)‖². */
  gamma: number;
  /** Refit of W2 before each pruning after the first: least squares, or gradient steps (OPT code). */
  downUpdate: 'lstsq' | 'gd';
  downGdSteps: number;
  downGdLr: number;
  /** Gradient steps and step size of the s update (gated MLPs). */
  sSteps: number;
  sLr: number;
  /** up/gate's H_X keeps the dampening of earlier alternations, as fasterprune's in-place H += λI. */
  compoundDamp: boolean;
  /**
   * 'last': the weights of the last pruning (the authors). 'best': those of the alternation with
   * the lowest MLP output error on the calibration tokens (never worse than SparseGPT there).
   */
  keep: 'last' | 'best';
}

/**
 * The authors' settings (model_utils.py): OPT α = β = γ = 0.1, llama α = β = γ = 5; 4 alternations;
 * OPT refits fc2 by 10 gradient steps (lr 0.01), llama refits down_proj by least squares and takes
 * 2 gradient steps (lr 0.01) on s.
 */
export const SPARSELLM_DEFAULTS: Readonly<Record<MlpKind, Readonly<SparseLlmOptions>>> = {
  relu: {
    iterations: 4, alpha: 0.1, beta: 0.1, gamma: 0.1, downUpdate: 'gd', downGdSteps: 10, downGdLr: 0.01, sSteps: 0, sLr: 0, compoundDamp: true, keep: 'last',
  },
  'silu-gated': {
    iterations: 4, alpha: 5, beta: 5, gamma: 5, downUpdate: 'lstsq', downGdSteps: 0, downGdLr: 0, sSteps: 2, sLr: 0.01, compoundDamp: true, keep: 'last',
  },
};

/** The SparseLLM form of a model's MLP; BadOption for the MLPs it has no closed form for. */
export function mlpKind(spec: Pick<ModelSpec, 'gatedMlp' | 'act' | 'family'>): MlpKind {
  if (spec.gatedMlp && spec.act === 'silu') return 'silu-gated';
  if (!spec.gatedMlp && spec.act === 'relu') return 'relu';
  throw new BadOption(
    `SparseLLM has closed-form updates for ReLU MLPs (OPT) and SiLU-gated MLPs (llama, qwen2); this ${spec.family} model's MLP is ${spec.gatedMlp ? 'gated ' : ''}${spec.act}. Use SparseGPT for it.`,
  );
}

export function resolveSparseLlmOptions(kind: MlpKind, o: Partial<SparseLlmOptions> = {}): SparseLlmOptions {
  const r: SparseLlmOptions = { ...SPARSELLM_DEFAULTS[kind], ...o };
  if (!Number.isInteger(r.iterations) || r.iterations < 1) throw new BadOption(`SparseLLM needs a whole number of alternations ≥ 1; got ${r.iterations}.`);
  for (const k of ['alpha', 'beta', 'gamma'] as const) {
    if (!(r[k] > 0 && Number.isFinite(r[k]))) throw new BadOption(`SparseLLM's penalty weight ${k} must be a positive number; got ${r[k]}.`);
  }
  for (const k of ['downGdSteps', 'sSteps'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 0) throw new BadOption(`SparseLLM's ${k} must be a whole number ≥ 0; got ${r[k]}.`);
  }
  for (const k of ['downGdLr', 'sLr'] as const) {
    if (!(r[k] >= 0 && Number.isFinite(r[k]))) throw new BadOption(`SparseLLM's ${k} must be ≥ 0; got ${r[k]}.`);
  }
  if (r.downUpdate !== 'lstsq' && r.downUpdate !== 'gd') throw new BadOption(`SparseLLM's downUpdate is 'lstsq' or 'gd'; got ${String(r.downUpdate)}.`);
  if (r.keep !== 'last' && r.keep !== 'best') throw new BadOption(`SparseLLM's keep is 'last' or 'best'; got ${String(r.keep)}.`);
  return r;
}

/** One linear sublayer of the MLP: its weight on the GPU (pruned in place) and its target. */
export interface MlpSublayer {
  /** (out, in), one chunk: up/gate (F, C), down (C, F). */
  w: GpuTensor;
  bias?: GpuTensor;
  /** The dense weight (out, in), untouched. */
  dense: Float32Array<ArrayBuffer>;
  target: Target;
}

export interface SparseLlmMlpInput {
  ctx: GpuContext;
  kind: MlpKind;
  /** Hidden width (MLP input and output). */
  C: number;
  /** MLP inner width. */
  F: number;
  /** Tokens per calibration window. */
  T: number;
  /** The MLP input of every calibration window, (T, C) each, from the dense layer. Read only. */
  xs: GPUBuffer[];
  up: MlpSublayer;
  /** SiLU-gated MLPs only. */
  gate?: MlpSublayer;
  down: MlpSublayer;
  percdamp: number;
  blocksize: number;
  options?: Partial<SparseLlmOptions>;
  signal?: AbortSignal;
  onProgress?: (detail: string) => void;
}

export interface SparseLlmStep {
  /** ‖Y − Ŷ‖² / ‖Y‖² of the MLP with the weights of this alternation's pruning (calibration tokens). */
  relError: number;
}

export interface SparseLlmMlpResult {
  /** SparseGPT's report (dampening, retries) of the pruning that was kept. */
  up: MethodResult;
  gate?: MethodResult;
  down: MethodResult;
  /** One entry per alternation; history[0] is plain SparseGPT. */
  history: SparseLlmStep[];
  /** Index into history of the weights left on the GPU. */
  kept: number;
  options: SparseLlmOptions;
  notes: string[];
  /** Seconds: dense auxiliaries and statistics, weight refits, SparseGPT, auxiliary updates + error. */
  phases: { prepare: number; refit: number; prune: number; update: number };
}

const now = () => performance.now();

/** Largest relative eigenvalue a least-squares fallback treats as zero (the Gram matrices are f32 sums). */
const FALLBACK_RCOND = 1e-6;

/** Symmetric eigendecomposition by cyclic Jacobi rotations (only for a singular Gram matrix). */
function jacobiEigen(Ain: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(Ain);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  const rot = (M: Float64Array, i: number, j: number, c: number, s: number, stride: number, cols: boolean) => {
    for (let k = 0; k < n; k++) {
      const a = cols ? k * stride + i : i * stride + k;
      const b = cols ? k * stride + j : j * stride + k;
      const x = M[a];
      const y = M[b];
      M[a] = c * x - s * y;
      M[b] = s * x + c * y;
    }
  };
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += A[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += A[i * n + j] ** 2;
    }
    if (off === 0 || off <= 1e-30 * diag) break;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const aij = A[i * n + j];
        if (aij === 0) continue;
        const theta = (A[j * n + j] - A[i * n + i]) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        rot(A, i, j, c, s, n, true);
        rot(A, i, j, c, s, n, false);
        rot(V, i, j, c, s, n, true);
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i];
  return { values, vectors: V };
}

/**
 * W (M, K) = B G⁺ for a Gram matrix G (K, K) (any positive multiple of AᵀA) and B (M, K) (the
 * same multiple of TargetᵀA): the minimum-norm least-squares weights, i.e. the authors'
 * Target·pinv(A). Inputs with G_ii = 0 get zero weights (as the pseudo-inverse gives); the rest
 * is solved by Cholesky in float64, or, if that part of G is singular, by its eigendecomposition.
 */
export function solveLstsq(B: ArrayLike<number>, G: ArrayLike<number>, M: number, K: number): { W: Float64Array; note?: string } {
  const live: number[] = [];
  for (let i = 0; i < K; i++) if (G[i * K + i] !== 0) live.push(i);
  const k = live.length;
  const W = new Float64Array(M * K);
  if (k === 0) return { W, note: 'all inputs are zero' };
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) g[a * k + b] = G[live[a] * K + live[b]];
  let note: string | undefined;
  // Ginv_rows(b) solves g x = b for one right-hand side.
  let solve: (rhs: Float64Array, out: Float64Array) => void;
  try {
    const L = Float64Array.from(g);
    choleskyLower(L, k);
    solve = (rhs, out) => {
      for (let i = 0; i < k; i++) {
        let s = rhs[i];
        for (let j = 0; j < i; j++) s -= L[i * k + j] * out[j];
        out[i] = s / L[i * k + i];
      }
      for (let i = k - 1; i >= 0; i--) {
        let s = out[i];
        for (let j = i + 1; j < k; j++) s -= L[j * k + i] * out[j];
        out[i] = s / L[i * k + i];
      }
    };
  } catch (e) {
    if (!(e instanceof NumericalError)) throw e;
    const { values, vectors } = jacobiEigen(g, k);
    let max = 0;
    for (const v of values) max = Math.max(max, Math.abs(v));
    const pinv = new Float64Array(k * k);
    let rank = 0;
    for (let c = 0; c < k; c++) {
      if (!(values[c] > FALLBACK_RCOND * max)) continue;
      rank++;
      const inv = 1 / values[c];
      for (let i = 0; i < k; i++) {
        const a = vectors[i * k + c] * inv;
        for (let j = 0; j < k; j++) pinv[i * k + j] += a * vectors[j * k + c];
      }
    }
    note = `least squares on a rank-deficient Gram matrix (rank ${rank} of ${k}): pseudo-inverse by eigendecomposition`;
    solve = (rhs, out) => {
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += pinv[i * k + j] * rhs[j];
        out[i] = s;
      }
    };
  }
  const rhs = new Float64Array(k);
  const x = new Float64Array(k);
  for (let r = 0; r < M; r++) {
    for (let a = 0; a < k; a++) rhs[a] = B[r * K + live[a]];
    solve(rhs, x);
    for (let a = 0; a < k; a++) W[r * K + live[a]] = x[a];
  }
  return { W, note };
}

/** A⁻¹ of a symmetric positive definite A (n, n) in float64: L⁻ᵀ L⁻¹ with A = L Lᵀ. */
export function spdInverse(A: Float64Array, n: number): Float64Array {
  const L = Float64Array.from(A);
  choleskyLower(L, n);
  invertLower(L, n); // L ← L⁻¹ (lower)
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += L[k * n + i] * L[k * n + j];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * SparseLLM on the MLP of one decoder layer: prunes input.up / gate / down in place on the GPU
 * (see the header for the algorithm and the wiring). Throws BadOption for bad options,
 * NumericalError when SparseGPT's factorisation fails, Cancelled through `signal`.
 */
export async function sparsellmMlp(input: SparseLlmMlpInput): Promise<SparseLlmMlpResult> {
  const { ctx, kind, C, F, T, xs, up, down, signal } = input;
  const gated = kind === 'silu-gated';
  const gate = gated ? input.gate : undefined;
  if (gated && !gate) throw new BadOption('SparseLLM on a SiLU-gated MLP needs its gate weights.');
  if (!gated && input.gate) throw new BadOption('SparseLLM on a ReLU MLP takes no gate weights.');
  const o = resolveSparseLlmOptions(kind, input.options);
  const n = xs.length;
  if (n === 0) throw new BadOption('SparseLLM needs at least one calibration window.');
  for (const [name, l, R, K] of [['up', up, F, C], ['gate', gate, F, C], ['down', down, C, F]] as const) {
    if (!l) continue;
    if (l.w.shape[0] !== R || l.w.shape[1] !== K || l.dense.length !== R * K) throw new Error(`sparsellmMlp: ${name} weight is [${l.w.shape}], expected [${R}, ${K}]`);
    if (l.w.chunks.length !== 1) throw new Error(`sparsellmMlp: ${name} weight must be one GPU chunk`);
  }
  const notes: string[] = [];
  const phases = { prepare: 0, refit: 0, prune: 0, update: 0 };
  const TF = T * F * 4;
  const TC = T * C * 4;
  const owned: GPUBuffer[] = [];
  const buf = (bytes: number, label: string) => {
    const b = ctx.storage(bytes, label);
    owned.push(b);
    return b;
  };
  const temps: GpuTensor[] = [];
  const tensor = (data: Float32Array<ArrayBuffer>, shape: number[], label: string) => {
    const t = op.uploadTensor(ctx, data, shape, label);
    temps.push(t);
    return t;
  };
  const wbuf = (l: MlpSublayer) => l.w.chunks[0].buffer;
  const w2s = (s: number) => [s / (s + 1), 2 / (s + 1)] as const; // SparseGPT's running mean

  try {
    let t0 = now();
    // Dense auxiliaries per window: z (T, F), s (T, F), p = act (T, F), Y (T, C).
    const Z = xs.map((_, s) => buf(TF, `sparsellm.z.${s}`));
    const S = gated ? xs.map((_, s) => buf(TF, `sparsellm.s.${s}`)) : [];
    const P = xs.map((_, s) => buf(TF, `sparsellm.p.${s}`));
    const Y = xs.map((_, s) => buf(TC, `sparsellm.y.${s}`));
    const tmpA = buf(TF, 'sparsellm.tmpA');
    const tmpB = buf(TF, 'sparsellm.tmpB');
    const tmpC = buf(TC, 'sparsellm.tmpC');
    const tmpD = buf(TF, 'sparsellm.tmpD');
    const hX = buf(C * C * 4, 'sparsellm.hX');
    const hP = buf(F * F * 4, 'sparsellm.hP');
    const gFC = buf(F * C * 4, 'sparsellm.crossFC');
    const gCF = buf(C * F * 4, 'sparsellm.crossCF');
    const ones = buf(T * 4, 'sparsellm.ones');
    ctx.device.queue.writeBuffer(ones, 0, new Float32Array(T).fill(1));
    const sumC = buf(C * 4, 'sparsellm.sumC');
    const sumF = buf(F * 4, 'sparsellm.sumF');

    /** act(z, s) of window s into `out`. */
    const actInto = (out: GPUBuffer, s: number) => {
      if (gated) {
        ctx.copy(S[s], 0, out, 0, TF);
        op.activation(ctx, out, T * F, 'silu', Z[s]);
      } else {
        ctx.copy(Z[s], 0, out, 0, TF);
        op.activation(ctx, out, T * F, 'relu');
      }
    };
    for (let s = 0; s < n; s++) {
      op.matmul(ctx, xs[s], up.w, up.bias, Z[s], T);
      if (gate) op.matmul(ctx, xs[s], gate.w, gate.bias, S[s], T);
      actInto(P[s], s);
      op.matmul(ctx, P[s], down.w, down.bias, Y[s], T);
      const [a, b] = w2s(s);
      op.hessian(ctx, xs[s], hX, T, C, a, b);
      op.hessian(ctx, P[s], hP, T, F, a, b);
      ctx.submit();
    }
    const hXCpu = await ctx.read(hX, 0, C * C * 4);
    let hPCpu = await ctx.read(hP, 0, F * F * 4);
    if (!hXCpu.every(Number.isFinite) || !hPCpu.every(Number.isFinite)) {
      throw new NumericalError('SparseLLM: the MLP calibration statistics contain NaN or Inf.');
    }
    // up/gate prune with H_X; each keeps its own copy because fasterprune dampens it in place.
    const hUp = Float32Array.from(hXCpu);
    const hGate = Float32Array.from(hXCpu);
    const yCpu = new Float32Array(n * T * C);
    let yNorm = 0;
    for (let s = 0; s < n; s++) {
      const y = await ctx.read(Y[s], 0, TC);
      yCpu.set(y, s * T * C);
      for (const v of y) yNorm += v * v;
    }
    // Σ_t x_t (2/n-weighted, as H_X), for the biases of up/gate in the refits.
    let xSum: Float32Array | null = null;
    if (up.bias || gate?.bias) {
      xs.forEach((x, s) => {
        sop.crossGram(ctx, ones, x, sumC, T, 1, C, ...w2s(s));
        ctx.submit();
      });
      xSum = await ctx.read(sumC, 0, C * 4);
    }
    const readBias = async (t: GpuTensor | undefined, len: number) => (t ? ctx.read(t.chunks[0].buffer, 0, len * 4) : null);
    const bUp = await readBias(up.bias, F);
    const bGate = await readBias(gate?.bias, F);
    const bDown = await readBias(down.bias, C);
    phases.prepare += (now() - t0) / 1000;

    /** 2/n Σ Aᵀ B over windows, minus bias ⊗ sumB when the target has a bias. */
    const cross = async (as: GPUBuffer[], bs: GPUBuffer[], M: number, K: number, out: GPUBuffer, bias: Float32Array | null, sumB: Float32Array | null) => {
      as.forEach((a, s) => {
        sop.crossGram(ctx, a, bs[s], out, T, M, K, ...w2s(s));
        ctx.submit();
      });
      const g = Float64Array.from(await ctx.read(out, 0, M * K * 4));
      if (bias && sumB) for (let i = 0; i < M; i++) for (let j = 0; j < K; j++) g[i * K + j] -= bias[i] * sumB[j];
      return g;
    };

    const history: SparseLlmStep[] = [];
    const results: { up?: MethodResult; gate?: MethodResult; down?: MethodResult } = {};
    let best: { k: number; err: number; up: Float32Array<ArrayBuffer>; gate: Float32Array<ArrayBuffer> | null; down: Float32Array<ArrayBuffer>; res: typeof results } | null = null;
    let wDown = Float32Array.from(down.dense);

    for (let k = 0; k < o.iterations; k++) {
      throwIfCancelled(signal);
      const step = `SparseLLM ${k + 1}/${o.iterations}`;
      let wUp = up.dense;
      let wGate = gate?.dense;
      if (k > 0) {
        // 1. Least-squares refits on the auxiliaries (cross-covariances on the GPU, solves on the CPU).
        input.onProgress?.(`${step} · refit`);
        t0 = now();
        const fit = (B: Float64Array, G: ArrayLike<number>, M: number, K: number, what: string) => {
          const r = solveLstsq(B, G, M, K);
          if (r.note) notes.push(`${what} (alternation ${k + 1}): ${r.note}`);
          return Float32Array.from(r.W);
        };
        wUp = fit(await cross(Z, xs, F, C, gFC, bUp, xSum), hXCpu, F, C, 'up');
        if (gate) wGate = fit(await cross(S, xs, F, C, gFC, bGate, xSum), hXCpu, F, C, 'gate');
        // H_p of the current p (also SparseGPT's H for down), and Σ p for down's bias.
        P.forEach((p, s) => {
          op.hessian(ctx, p, hP, T, F, ...w2s(s));
          ctx.submit();
        });
        hPCpu = await ctx.read(hP, 0, F * F * 4);
        let pSum: Float32Array | null = null;
        if (bDown) {
          P.forEach((p, s) => {
            sop.crossGram(ctx, ones, p, sumF, T, 1, F, ...w2s(s));
            ctx.submit();
          });
          pSum = await ctx.read(sumF, 0, F * 4);
        }
        const cyp = await cross(Y, P, C, F, gCF, bDown, pSum); // 2/n Σ (Y − b2)ᵀ p: (C, F)
        if (o.downUpdate === 'lstsq') {
          wDown = fit(cyp, hPCpu, C, F, 'down');
        } else {
          // Gradient of mean((W2p + b2 − Y)²) over the C × nT entries: (W2 H_p − cyp) / (C·T).
          const Wd = Float64Array.from(wDown);
          const g = new Float64Array(C * F);
          for (let it = 0; it < o.downGdSteps; it++) {
            for (let i = 0; i < C; i++) {
              for (let j = 0; j < F; j++) {
                let v = -cyp[i * F + j];
                for (let l = 0; l < F; l++) v += Wd[i * F + l] * hPCpu[l * F + j];
                g[i * F + j] = v / (C * T);
              }
            }
            for (let i = 0; i < Wd.length; i++) Wd[i] -= o.downGdLr * g[i];
          }
          wDown = Float32Array.from(Wd);
        }
        phases.refit += (now() - t0) / 1000;
      }
      // 2. SparseGPT of every MLP weight (writes the refitted weights first).
      input.onProgress?.(`${step} · SparseGPT`);
      t0 = now();
      const prune = async (name: string, l: MlpSublayer, W: Float32Array<ArrayBuffer>, R: number, K: number, h: GPUBuffer, hCpu: Float32Array, compound: boolean) => {
        ctx.device.queue.writeBuffer(wbuf(l), 0, W);
        const res = await sparsegpt({ ctx, w: wbuf(l), R, C: K, dense: W, stats: { h, hCpu, C: K }, target: l.target, percdamp: input.percdamp, blocksize: input.blocksize });
        if (compound && o.compoundDamp && res.damp !== undefined) {
          for (let i = 0; i < K; i++) {
            if (hCpu[i * K + i] === 0) hCpu[i * K + i] = 1;
            hCpu[i * K + i] += res.damp;
          }
        }
        if (res.note) notes.push(`${name} (alternation ${k + 1}): ${res.note}`);
        return res;
      };
      results.up = await prune('up', up, wUp, F, C, hX, hUp, true);
      if (gate) results.gate = await prune('gate', gate, wGate!, F, C, hX, hGate, true);
      results.down = await prune('down', down, wDown, C, F, hP, hPCpu, false);
      phases.prune += (now() - t0) / 1000;

      // 3–5 and the error, in one pass over the windows: mu = WupX (+b), mg = WgX (+b) with the
      // pruned weights serve both Ŷ = down(act(mg, mu)) and the z/s updates.
      const last = k === o.iterations - 1;
      input.onProgress?.(`${step} · ${last ? 'error' : 'auxiliaries'}`);
      t0 = now();
      let M1: GpuTensor | undefined;
      let M2: GpuTensor | undefined;
      let BP: GpuTensor | undefined;
      if (!last) {
        wDown = await ctx.read(wbuf(down), 0, C * F * 4);
        // p = M1 (y − b2) + M2 act with M2 = γ(βW2ᵀW2 + γI)⁻¹ (F, F), M1 = β(βW2ᵀW2 + γI)⁻¹W2ᵀ (F, C).
        const A = new Float64Array(F * F);
        for (let c = 0; c < C; c++) {
          const r = c * F;
          for (let i = 0; i < F; i++) {
            const a = wDown[r + i];
            if (a === 0) continue;
            for (let j = 0; j <= i; j++) A[i * F + j] += a * wDown[r + j];
          }
        }
        for (let i = 0; i < F; i++) {
          for (let j = 0; j <= i; j++) {
            const v = o.beta * A[i * F + j] + (i === j ? o.gamma : 0);
            A[i * F + j] = v;
            A[j * F + i] = v;
          }
        }
        const Ainv = spdInverse(A, F);
        const m1 = new Float32Array(F * C);
        const m2 = new Float32Array(F * F);
        for (let i = 0; i < F; i++) {
          for (let c = 0; c < C; c++) {
            let v = 0;
            for (let j = 0; j < F; j++) v += Ainv[i * F + j] * wDown[c * F + j];
            m1[i * C + c] = o.beta * v;
          }
          for (let j = 0; j < F; j++) m2[i * F + j] = o.gamma * Ainv[i * F + j];
        }
        M1 = tensor(m1, [F, C], 'sparsellm.m1');
        M2 = tensor(m2, [F, F], 'sparsellm.m2');
        if (bDown) {
          const bp = new Float32Array(F);
          for (let i = 0; i < F; i++) {
            let v = 0;
            for (let c = 0; c < C; c++) v += m1[i * C + c] * bDown[c];
            bp[i] = -v;
          }
          BP = tensor(bp, [F], 'sparsellm.bp');
        }
      }
      let e = 0;
      for (let s = 0; s < n; s++) {
        op.matmul(ctx, xs[s], up.w, up.bias, tmpA, T); // mu (ReLU: m)
        if (gate) {
          op.matmul(ctx, xs[s], gate.w, gate.bias, tmpB, T); // mg
          ctx.copy(tmpB, 0, tmpD, 0, TF);
          op.activation(ctx, tmpD, T * F, 'silu', tmpA);
        } else {
          ctx.copy(tmpA, 0, tmpD, 0, TF);
          op.activation(ctx, tmpD, T * F, 'relu');
        }
        op.matmul(ctx, tmpD, down.w, down.bias, tmpC, T);
        const yh = await ctx.read(tmpC, 0, TC);
        const o0 = s * T * C;
        for (let i = 0; i < yh.length; i++) e += (yh[i] - yCpu[o0 + i]) ** 2;
        if (last) continue;
        actInto(tmpD, s); // act(z, s) of the auxiliaries
        op.matmul(ctx, Y[s], M1!, BP, P[s], T);
        op.matmul(ctx, tmpD, M2!, undefined, P[s], T, { accumulate: true });
        if (gate) sop.zsUpdateGated(ctx, Z[s], S[s], tmpA, tmpB, P[s], T * F, o.alpha, o.gamma, o.sLr, o.sSteps);
        else sop.zUpdateRelu(ctx, Z[s], tmpA, P[s], T * F, o.alpha, o.gamma);
        ctx.submit();
      }
      await ctx.finish();
      while (temps.length) op.destroyTensor(ctx, temps.pop());
      phases.update += (now() - t0) / 1000;
      const err = yNorm > 0 ? e / yNorm : 0;
      history.push({ relError: err });
      if (!Number.isFinite(err)) throw new NumericalError(`SparseLLM: the MLP output became NaN/Inf at alternation ${k + 1}.`);
      if (o.keep === 'best' && (!best || err < best.err)) {
        best = {
          k, err,
          up: await ctx.read(wbuf(up), 0, F * C * 4),
          gate: gate ? await ctx.read(wbuf(gate), 0, F * C * 4) : null,
          down: await ctx.read(wbuf(down), 0, C * F * 4),
          res: { ...results },
        };
      }
    }

    let kept = history.length - 1;
    if (best && best.k !== kept) {
      ctx.device.queue.writeBuffer(wbuf(up), 0, best.up);
      if (gate && best.gate) ctx.device.queue.writeBuffer(wbuf(gate), 0, best.gate);
      ctx.device.queue.writeBuffer(wbuf(down), 0, best.down);
      Object.assign(results, best.res);
      kept = best.k;
    }
    await ctx.finish();
    return { up: results.up!, gate: results.gate, down: results.down!, history, kept, options: o, notes, phases };
  } finally {
    while (temps.length) op.destroyTensor(ctx, temps.pop());
    owned.forEach((b) => ctx.destroy(b));
  }
}
