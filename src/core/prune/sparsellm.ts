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
// Measured against SparseGPT on the demo model: the README (scripts/sparsellm-stories.ts). At
// high sparsity (90 %) the MLP output error of most layers rises after the 2nd alternation (e.g. layer 1:
// 0.958 → 0.957 → 0.978 → 1.012): with α = β = γ fixed, the auxiliaries drift from activations the
// pruned weights can produce, and each refit + re-pruning follows them. 'best' keeps the
// alternation with the lowest calibration error of each layer (alternation 0 = SparseGPT).
// Precision: the authors cast X⁺, the refitted weights and (βW2ᵀW2 + γI)⁻¹ to fp16 on fp16 models;
// here they stay f32/f64 and only the final weights are rounded to the checkpoint dtype (driver).
//
// The driver (driver.ts) calls sparsellmMlp for each pruned layer's MLP with the MLP inputs of the
// dense layer (calib/hessian.ts keeps them) and reports each sublayer as for SparseGPT.
import { BadOption, NumericalError, throwIfCancelled } from '../errors';
import type { GpuContext } from '../gpu/context';
import * as op from '../gpu/ops';
import type { GpuTensor } from '../gpu/ops';
import * as sop from '../gpu/ops-sparsellm';
import type { ModelSpec } from '../model/spec';
import { solveLstsq, spdInverse } from './linalg';
import type { MethodResult } from './method';
import { sparsegpt } from './sparsegpt';
import type { Target } from '../options';
import { OPTIONS, checkOption } from '../options';
import { now } from '../units';

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
    iterations: OPTIONS.sparsellmIterations.default, alpha: 0.1, beta: 0.1, gamma: 0.1, downUpdate: 'gd', downGdSteps: 10, downGdLr: 0.01, sSteps: 0, sLr: 0, compoundDamp: true, keep: 'last',
  },
  'silu-gated': {
    iterations: OPTIONS.sparsellmIterations.default, alpha: 5, beta: 5, gamma: 5, downUpdate: 'lstsq', downGdSteps: 0, downGdLr: 0, sSteps: 2, sLr: 0.01, compoundDamp: true, keep: 'last',
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
  checkOption(OPTIONS.sparsellmIterations, r.iterations);
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


/** Shape and kind checks of the input (refused before any GPU work). */
function checkMlpInput(input: SparseLlmMlpInput): void {
  const { kind, C, F, up, down, xs } = input;
  const gated = kind === 'silu-gated';
  if (gated && !input.gate) throw new BadOption('SparseLLM on a SiLU-gated MLP needs its gate weights.');
  if (!gated && input.gate) throw new BadOption('SparseLLM on a ReLU MLP takes no gate weights.');
  if (xs.length === 0) throw new BadOption('SparseLLM needs at least one calibration window.');
  for (const [name, l, R, K] of [['up', up, F, C], ['gate', input.gate, F, C], ['down', down, C, F]] as const) {
    if (!l) continue;
    if (l.w.shape[0] !== R || l.w.shape[1] !== K || l.dense.length !== R * K) throw new Error(`sparsellmMlp: ${name} weight is [${l.w.shape}], expected [${R}, ${K}]`);
    if (l.w.chunks.length !== 1) throw new Error(`sparsellmMlp: ${name} weight must be one GPU chunk`);
  }
}

const w2s = (s: number) => [s / (s + 1), 2 / (s + 1)] as const; // SparseGPT's running mean

/**
 * One MLP's SparseLLM state on the GPU: the dense auxiliaries of every window (z, s, p and the
 * target output Y), their statistics, and the scratch buffers; the stages of an alternation are
 * its methods. release() frees everything it allocated.
 */
class MlpAlternation {
  readonly gated: boolean;
  readonly gate?: MlpSublayer;
  readonly n: number;
  private readonly TF: number;
  private readonly TC: number;
  private readonly owned: GPUBuffer[] = [];
  private readonly temps: GpuTensor[] = [];
  // Dense auxiliaries per window: z (T, F), s (T, F), p = act (T, F), Y (T, C).
  readonly Z: GPUBuffer[];
  readonly S: GPUBuffer[];
  readonly P: GPUBuffer[];
  readonly Y: GPUBuffer[];
  private readonly tmp: { a: GPUBuffer; b: GPUBuffer; c: GPUBuffer; d: GPUBuffer };
  readonly hX: GPUBuffer;
  readonly hP: GPUBuffer;
  private readonly gFC: GPUBuffer;
  private readonly gCF: GPUBuffer;
  private readonly ones: GPUBuffer;
  private readonly sumC: GPUBuffer;
  private readonly sumF: GPUBuffer;
  // Read back by prepare().
  hXCpu = new Float32Array(0);
  hPCpu = new Float32Array(0);
  /** up/gate prune with H_X; each keeps its own copy because fasterprune dampens it in place. */
  hUp = new Float32Array(0);
  hGate = new Float32Array(0);
  yCpu = new Float32Array(0);
  yNorm = 0;
  /** Σ_t x_t (2/n-weighted, as H_X), for the biases of up/gate in the refits. */
  xSum: Float32Array | null = null;
  bUp: Float32Array | null = null;
  bGate: Float32Array | null = null;
  bDown: Float32Array | null = null;

  constructor(private readonly input: SparseLlmMlpInput, private readonly o: SparseLlmOptions) {
    const { ctx, T, C, F, xs } = input;
    this.gated = input.kind === 'silu-gated';
    this.gate = this.gated ? input.gate : undefined;
    this.n = xs.length;
    this.TF = T * F * 4;
    this.TC = T * C * 4;
    const buf = (bytes: number, label: string) => {
      const b = ctx.storage(bytes, label);
      this.owned.push(b);
      return b;
    };
    this.Z = xs.map((_, s) => buf(this.TF, `sparsellm.z.${s}`));
    this.S = this.gated ? xs.map((_, s) => buf(this.TF, `sparsellm.s.${s}`)) : [];
    this.P = xs.map((_, s) => buf(this.TF, `sparsellm.p.${s}`));
    this.Y = xs.map((_, s) => buf(this.TC, `sparsellm.y.${s}`));
    this.tmp = { a: buf(this.TF, 'sparsellm.tmpA'), b: buf(this.TF, 'sparsellm.tmpB'), c: buf(this.TC, 'sparsellm.tmpC'), d: buf(this.TF, 'sparsellm.tmpD') };
    this.hX = buf(C * C * 4, 'sparsellm.hX');
    this.hP = buf(F * F * 4, 'sparsellm.hP');
    this.gFC = buf(F * C * 4, 'sparsellm.crossFC');
    this.gCF = buf(C * F * 4, 'sparsellm.crossCF');
    this.ones = buf(T * 4, 'sparsellm.ones');
    ctx.device.queue.writeBuffer(this.ones, 0, new Float32Array(T).fill(1));
    this.sumC = buf(C * 4, 'sparsellm.sumC');
    this.sumF = buf(F * 4, 'sparsellm.sumF');
  }

  private get ctx() {
    return this.input.ctx;
  }

  tensor(data: Float32Array<ArrayBuffer>, shape: number[], label: string): GpuTensor {
    const t = op.uploadTensor(this.ctx, data, shape, label);
    this.temps.push(t);
    return t;
  }

  dropTensors(): void {
    while (this.temps.length) op.destroyTensor(this.ctx, this.temps.pop());
  }

  release(): void {
    this.dropTensors();
    this.owned.forEach((b) => this.ctx.destroy(b));
  }

  /** act(z, s) of window s into `out`. */
  actInto(out: GPUBuffer, s: number): void {
    const { ctx, T, F } = this.input;
    if (this.gated) {
      ctx.copy(this.S[s], 0, out, 0, this.TF);
      op.activation(ctx, out, T * F, 'silu', this.Z[s]);
    } else {
      ctx.copy(this.Z[s], 0, out, 0, this.TF);
      op.activation(ctx, out, T * F, 'relu');
    }
  }

  /** The dense MLP on every window: the auxiliaries, H_X and H_p, the target Y and its norm, the biases. */
  async prepare(): Promise<void> {
    const { ctx, T, C, F, xs, up, down } = this.input;
    const gate = this.gate;
    for (let s = 0; s < this.n; s++) {
      op.matmul(ctx, xs[s], up.w, up.bias, this.Z[s], T);
      if (gate) op.matmul(ctx, xs[s], gate.w, gate.bias, this.S[s], T);
      this.actInto(this.P[s], s);
      op.matmul(ctx, this.P[s], down.w, down.bias, this.Y[s], T);
      const [a, b] = w2s(s);
      op.hessian(ctx, xs[s], this.hX, T, C, a, b);
      op.hessian(ctx, this.P[s], this.hP, T, F, a, b);
      ctx.submit();
    }
    this.hXCpu = await ctx.read(this.hX, 0, C * C * 4);
    this.hPCpu = await ctx.read(this.hP, 0, F * F * 4);
    if (!this.hXCpu.every(Number.isFinite) || !this.hPCpu.every(Number.isFinite)) {
      throw new NumericalError('SparseLLM: the MLP calibration statistics contain NaN or Inf.');
    }
    this.hUp = Float32Array.from(this.hXCpu);
    this.hGate = Float32Array.from(this.hXCpu);
    this.yCpu = new Float32Array(this.n * T * C);
    for (let s = 0; s < this.n; s++) {
      const y = await ctx.read(this.Y[s], 0, this.TC);
      this.yCpu.set(y, s * T * C);
      for (const v of y) this.yNorm += v * v;
    }
    if (up.bias || gate?.bias) {
      xs.forEach((x, s) => {
        sop.crossGram(ctx, this.ones, x, this.sumC, T, 1, C, ...w2s(s));
        ctx.submit();
      });
      this.xSum = await ctx.read(this.sumC, 0, C * 4);
    }
    const readBias = async (t: GpuTensor | undefined, len: number) => (t ? ctx.read(t.chunks[0].buffer, 0, len * 4) : null);
    this.bUp = await readBias(up.bias, F);
    this.bGate = await readBias(gate?.bias, F);
    this.bDown = await readBias(down.bias, C);
  }

  /** 2/n Σ Aᵀ B over windows, minus bias ⊗ sumB when the target has a bias. */
  private async cross(as: GPUBuffer[], bs: GPUBuffer[], M: number, K: number, out: GPUBuffer, bias: Float32Array | null, sumB: Float32Array | null): Promise<Float64Array> {
    const { ctx, T } = this.input;
    as.forEach((a, s) => {
      sop.crossGram(ctx, a, bs[s], out, T, M, K, ...w2s(s));
      ctx.submit();
    });
    const g = Float64Array.from(await ctx.read(out, 0, M * K * 4));
    if (bias && sumB) for (let i = 0; i < M; i++) for (let j = 0; j < K; j++) g[i * K + j] -= bias[i] * sumB[j];
    return g;
  }

  /**
   * 1. Least-squares refits of up/gate on the auxiliaries z/s, and of down on p (or the authors'
   * gradient steps): cross-covariances on the GPU, solves on the CPU. Updates H_p (down's H).
   */
  async refit(k: number, wDown: Float32Array<ArrayBuffer>, notes: string[]): Promise<{ up: Float32Array<ArrayBuffer>; gate?: Float32Array<ArrayBuffer>; down: Float32Array<ArrayBuffer> }> {
    const { ctx, T, C, F, xs } = this.input;
    const o = this.o;
    const fit = (B: Float64Array, G: ArrayLike<number>, M: number, K: number, what: string) => {
      const r = solveLstsq(B, G, M, K);
      if (r.note) notes.push(`${what} (alternation ${k + 1}): ${r.note}`);
      return Float32Array.from(r.W);
    };
    const up = fit(await this.cross(this.Z, xs, F, C, this.gFC, this.bUp, this.xSum), this.hXCpu, F, C, 'up');
    const gate = this.gate ? fit(await this.cross(this.S, xs, F, C, this.gFC, this.bGate, this.xSum), this.hXCpu, F, C, 'gate') : undefined;
    // H_p of the current p (also SparseGPT's H for down), and Σ p for down's bias.
    this.P.forEach((p, s) => {
      op.hessian(ctx, p, this.hP, T, F, ...w2s(s));
      ctx.submit();
    });
    this.hPCpu = await ctx.read(this.hP, 0, F * F * 4);
    let pSum: Float32Array | null = null;
    if (this.bDown) {
      this.P.forEach((p, s) => {
        sop.crossGram(ctx, this.ones, p, this.sumF, T, 1, F, ...w2s(s));
        ctx.submit();
      });
      pSum = await ctx.read(this.sumF, 0, F * 4);
    }
    const cyp = await this.cross(this.Y, this.P, C, F, this.gCF, this.bDown, pSum); // 2/n Σ (Y − b2)ᵀ p: (C, F)
    if (o.downUpdate === 'lstsq') return { up, gate, down: fit(cyp, this.hPCpu, C, F, 'down') };
    // Gradient of mean((W2p + b2 − Y)²) over the C × nT entries: (W2 H_p − cyp) / (C·T).
    const Wd = Float64Array.from(wDown);
    const g = new Float64Array(C * F);
    for (let it = 0; it < o.downGdSteps; it++) {
      for (let i = 0; i < C; i++) {
        for (let j = 0; j < F; j++) {
          let v = -cyp[i * F + j];
          for (let l = 0; l < F; l++) v += Wd[i * F + l] * this.hPCpu[l * F + j];
          g[i * F + j] = v / (C * T);
        }
      }
      for (let i = 0; i < Wd.length; i++) Wd[i] -= o.downGdLr * g[i];
    }
    return { up, gate, down: Float32Array.from(Wd) };
  }

  /** 2. SparseGPT of one MLP weight, from W (written to the GPU first). */
  async prune(k: number, name: string, l: MlpSublayer, W: Float32Array<ArrayBuffer>, R: number, K: number, h: GPUBuffer, hCpu: Float32Array, compound: boolean, notes: string[]): Promise<MethodResult> {
    const { ctx } = this.input;
    const w = l.w.chunks[0].buffer;
    ctx.device.queue.writeBuffer(w, 0, W);
    const res = await sparsegpt({ ctx, w, R, C: K, dense: W, stats: { h, hCpu, C: K }, target: l.target, percdamp: this.input.percdamp, blocksize: this.input.blocksize });
    if (compound && this.o.compoundDamp && res.damp !== undefined) {
      for (let i = 0; i < K; i++) {
        if (hCpu[i * K + i] === 0) hCpu[i * K + i] = 1;
        hCpu[i * K + i] += res.damp;
      }
    }
    if (res.note) notes.push(`${name} (alternation ${k + 1}): ${res.note}`);
    return res;
  }

  /**
   * The closed-form p update's matrices for the pruned down weight: p = M1 (y − b2) + M2 act,
   * M2 = γ(βW2ᵀW2 + γI)⁻¹ (F, F), M1 = β(βW2ᵀW2 + γI)⁻¹W2ᵀ (F, C), and BP = −M1 b2.
   */
  pUpdate(wDown: Float32Array): { M1: GpuTensor; M2: GpuTensor; BP?: GpuTensor } {
    const { C, F } = this.input;
    const o = this.o;
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
    const out: { M1: GpuTensor; M2: GpuTensor; BP?: GpuTensor } = { M1: this.tensor(m1, [F, C], 'sparsellm.m1'), M2: this.tensor(m2, [F, F], 'sparsellm.m2') };
    if (this.bDown) {
      const bp = new Float32Array(F);
      for (let i = 0; i < F; i++) {
        let v = 0;
        for (let c = 0; c < C; c++) v += m1[i * C + c] * this.bDown[c];
        bp[i] = -v;
      }
      out.BP = this.tensor(bp, [F], 'sparsellm.bp');
    }
    return out;
  }

  /**
   * 3–5 and the error, in one pass over the windows: mu = WupX (+b), mg = WgX (+b) with the
   * pruned weights serve both Ŷ = down(act(mg, mu)) and the z/s updates (skipped with `update`
   * null, the last alternation). Returns ‖Y − Ŷ‖².
   */
  async pass(update: { M1: GpuTensor; M2: GpuTensor; BP?: GpuTensor } | null): Promise<number> {
    const { ctx, T, C, F, xs, up, down } = this.input;
    const o = this.o;
    const gate = this.gate;
    const { a: tmpA, b: tmpB, c: tmpC, d: tmpD } = this.tmp;
    let e = 0;
    for (let s = 0; s < this.n; s++) {
      op.matmul(ctx, xs[s], up.w, up.bias, tmpA, T); // mu (ReLU: m)
      if (gate) {
        op.matmul(ctx, xs[s], gate.w, gate.bias, tmpB, T); // mg
        ctx.copy(tmpB, 0, tmpD, 0, this.TF);
        op.activation(ctx, tmpD, T * F, 'silu', tmpA);
      } else {
        ctx.copy(tmpA, 0, tmpD, 0, this.TF);
        op.activation(ctx, tmpD, T * F, 'relu');
      }
      op.matmul(ctx, tmpD, down.w, down.bias, tmpC, T);
      const yh = await ctx.read(tmpC, 0, this.TC);
      const o0 = s * T * C;
      for (let i = 0; i < yh.length; i++) e += (yh[i] - this.yCpu[o0 + i]) ** 2;
      if (!update) continue;
      this.actInto(tmpD, s); // act(z, s) of the auxiliaries
      op.matmul(ctx, this.Y[s], update.M1, update.BP, this.P[s], T);
      op.matmul(ctx, tmpD, update.M2, undefined, this.P[s], T, { accumulate: true });
      if (gate) sop.zsUpdateGated(ctx, this.Z[s], this.S[s], tmpA, tmpB, this.P[s], T * F, o.alpha, o.gamma, o.sLr, o.sSteps);
      else sop.zUpdateRelu(ctx, this.Z[s], tmpA, this.P[s], T * F, o.alpha, o.gamma);
      ctx.submit();
    }
    await ctx.finish();
    this.dropTensors();
    return e;
  }
}

/**
 * SparseLLM on the MLP of one decoder layer: prunes input.up / gate / down in place on the GPU
 * (see the header for the algorithm and the wiring). Throws BadOption for bad options,
 * NumericalError when SparseGPT's factorisation fails, Cancelled through `signal`.
 */
export async function sparsellmMlp(input: SparseLlmMlpInput): Promise<SparseLlmMlpResult> {
  const { ctx, C, F, up, down, signal } = input;
  checkMlpInput(input);
  const o = resolveSparseLlmOptions(input.kind, input.options);
  const notes: string[] = [];
  const phases = { prepare: 0, refit: 0, prune: 0, update: 0 };
  const m = new MlpAlternation(input, o);
  const gate = m.gate;
  const wbuf = (l: MlpSublayer) => l.w.chunks[0].buffer;
  try {
    let t0 = now();
    await m.prepare();
    phases.prepare += (now() - t0) / 1000;

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
        // 1. Least-squares refits on the auxiliaries.
        input.onProgress?.(`${step} · refit`);
        t0 = now();
        const w = await m.refit(k, wDown, notes);
        wUp = w.up;
        wGate = w.gate;
        wDown = w.down;
        phases.refit += (now() - t0) / 1000;
      }
      // 2. SparseGPT of every MLP weight (writes the refitted weights first).
      input.onProgress?.(`${step} · SparseGPT`);
      t0 = now();
      results.up = await m.prune(k, 'up', up, wUp, F, C, m.hX, m.hUp, true, notes);
      if (gate) results.gate = await m.prune(k, 'gate', gate, wGate!, F, C, m.hX, m.hGate, true, notes);
      results.down = await m.prune(k, 'down', down, wDown, C, F, m.hP, m.hPCpu, false, notes);
      phases.prune += (now() - t0) / 1000;

      // 3–5 and the error.
      const last = k === o.iterations - 1;
      input.onProgress?.(`${step} · ${last ? 'error' : 'auxiliaries'}`);
      t0 = now();
      let update: ReturnType<MlpAlternation['pUpdate']> | null = null;
      if (!last) {
        wDown = await ctx.read(wbuf(down), 0, C * F * 4);
        update = m.pUpdate(wDown);
      }
      const e = await m.pass(update);
      phases.update += (now() - t0) / 1000;
      const err = m.yNorm > 0 ? e / m.yNorm : 0;
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
    m.release();
  }
}
