// The optimizer loop on the GPU: gradient accumulation over the windows of a step, global-norm
// clipping, AdamW (f32 weights, gradients and both moments), and sparsity masks on the decoder
// linears, applied after every update so pruned weights stay exactly 0. The masks are the exact
// zeros at the start (recovery of a pruned model) or set by gradual magnitude pruning (gmpPrune).
import { BadOption, NumericalError } from '../errors';
import * as op from '../gpu/ops';
import * as top from '../gpu/ops-train';
import type { GpuTensor } from '../gpu/ops';
import type { GpuModel } from '../nn/model';
import { linearNames } from '../model/spec';
import { type PassTeacher, TrainPass } from './backward';
import { prunedCount } from './schedule';

export interface TrainerOptions {
  /** Tokens per window T. */
  seqlen: number;
  weightDecay: number;
  /** Global-norm clip (0: none). */
  clip: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Parameters left as they are (e.g. "embed.tokens"). */
  frozen?: Iterable<string>;
  /** Keep the exact zeros of the decoder linears at the start as their masks (recovery). */
  maskZeros?: boolean;
  /** Knowledge distillation: KL(teacher ‖ model) per predicted token and/or SquareHead on the layers' outputs. */
  teacher?: PassTeacher;
  /** Activation recomputation per decoder layer (TrainPass): less memory, one more forward per step. */
  recompute?: boolean;
}

export interface StepResult {
  /** Mean next-token cross-entropy over the step's predicted tokens. */
  loss: number;
  /** With KL distillation: the mean KL(teacher ‖ model) per predicted token (the step minimised loss + kl + features). */
  kl: number | null;
  /** With SquareHead: Σ over layers of the normalised MSE to the teacher's output, the mean over the step's windows. */
  features: number | null;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

interface Param {
  name: string;
  w: GpuTensor;
  m: GpuTensor;
  v: GpuTensor;
  /** Per chunk: the chunk's mask bits (1 = kept), for masked decoder linears. */
  mask: GPUBuffer[] | null;
  /** The same mask, one byte per weight (1 = kept), for checkpoints. */
  keep: Uint8Array | null;
}

/**
 * Everything a training run needs to continue exactly where it was: the optimizer steps taken,
 * every weight of the model (trainable or frozen), and per trainable parameter its two AdamW
 * moments (null before the first step: zeros) and its mask (1 = kept). Restored into a trainer over the same architecture, the next
 * step computes what it would have in the uninterrupted run, bit for bit.
 */
export interface TrainState {
  step: number;
  tensors: Array<{ name: string; w: Float32Array<ArrayBuffer>; m: Float32Array<ArrayBuffer> | null; v: Float32Array<ArrayBuffer> | null; mask: Uint8Array<ArrayBuffer> | null }>;
}

export class Trainer {
  readonly pass: TrainPass;
  private readonly params: Param[] = [];
  /** The names of `params`. */
  private readonly trainable = new Set<string>();
  /** What a step reads back, once: the gradient-norm partial sums, then every window's per-token NLL (and KL). */
  private readback: GPUBuffer;
  private readonly nPartials: number;
  /** Optimizer steps taken (AdamW's t). */
  t = 0;

  private constructor(
    readonly model: GpuModel,
    readonly opts: TrainerOptions,
  ) {
    const c = model.ctx;
    this.pass = new TrainPass(model, opts.seqlen, opts.teacher, opts.recompute);
    const frozen = new Set(opts.frozen ?? []);
    let n = 0;
    for (const [name, w] of model.weights) {
      if (frozen.has(name)) continue;
      const zeros = () => op.zeroTensor(c, w.shape, `adam.${name}`);
      this.params.push({ name, w, m: zeros(), v: zeros(), mask: null, keep: null });
      this.trainable.add(name);
      for (const ch of this.pass.grads.get(name)!.chunks) n += top.sumsqGroups(ch.buffer.size / 4).groups;
    }
    this.nPartials = n;
    this.readback = c.storage(Math.max(16, n * 4), 'train.readback');
  }

  /** A trainer over the model's current weights; with maskZeros, their zeros become the masks. */
  static async create(model: GpuModel, opts: TrainerOptions): Promise<Trainer> {
    const t = new Trainer(model, opts);
    if (opts.maskZeros) {
      for (const p of t.params) if (t.isDecoderLinear(p.name)) await t.setMaskFrom(p, (w) => w.map((x) => (x !== 0 ? 1 : 0)));
    }
    return t;
  }

  private isDecoderLinear(name: string): boolean {
    const m = /^layers\.(\d+)\.(.+)\.weight$/.exec(name);
    return !!m && linearNames(this.model.spec, Number(m[1])).includes(`layers.${m[1]}.${m[2]}`);
  }

  /** The decoder linear weights a mask applies to. */
  get maskedNames(): string[] {
    return this.params.filter((p) => this.isDecoderLinear(p.name)).map((p) => p.name);
  }

  private async setMaskFrom(p: Param, keep: (w: Float32Array) => ArrayLike<number>): Promise<void> {
    const c = this.model.ctx;
    const w = await op.readTensor(c, p.w);
    const k = keep(w);
    const rowLen = w.length / p.w.shape[0];
    for (const b of p.mask ?? []) c.destroy(b);
    p.keep = Uint8Array.from(k, (x) => (x ? 1 : 0));
    p.mask = p.w.chunks.map((ch) => {
      const n = ch.rows * rowLen;
      const bits = new Uint32Array(Math.max(4, Math.ceil(n / 32)));
      for (let i = 0; i < n; i++) if (k[ch.row0 * rowLen + i]) bits[i >> 5] |= 1 << (i & 31);
      return c.upload(bits, `mask.${p.name}[${ch.row0}:]`);
    });
    // Pruned weights (and their moments) to 0 now, not at the next update.
    const masked = Float32Array.from(w, (x, i) => (k[i] ? x : 0));
    op.writeTensor(c, p.w, masked, p.name);
  }

  /**
   * Gradual magnitude pruning to `sparsity` in every decoder linear: the ⌊s·numel⌋ smallest |w| of
   * each matrix (ties: lower index first) are pruned and masked from now on. Returns the sparsity
   * reached per matrix (exactly ⌊s·numel⌋ / numel).
   */
  async gmpPrune(sparsity: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const p of this.params) {
      if (!this.isDecoderLinear(p.name)) continue;
      await this.setMaskFrom(p, (w) => {
        const k = prunedCount(sparsity, w.length);
        const order = Array.from(w.keys()).sort((a, b) => Math.abs(w[a]) - Math.abs(w[b]) || a - b);
        const keep = new Uint8Array(w.length).fill(1);
        for (let i = 0; i < k; i++) keep[order[i]] = 0;
        out.set(p.name, k / w.length);
        return keep;
      });
    }
    return out;
  }

  /**
   * One optimizer step over `windows` (each `seqlen` ids) at learning rate lr: gradients averaged
   * over every predicted token of the step, clipped to the global norm, one AdamW update, masks.
   */
  async step(windows: ArrayLike<number>[], lr: number): Promise<StepResult> {
    const c = this.model.ctx, T = this.opts.seqlen;
    this.pass.zeroGrads();
    const scale = 1 / (windows.length * (T - 1));
    // The step's windows, then the gradient norm's partial sums, recorded without a readback; the
    // losses and the partials come back together in one read.
    const per = this.pass.lossFloats;
    const bytes = (this.nPartials + windows.length * per) * 4;
    if (this.readback.size < bytes) {
      c.destroy(this.readback);
      this.readback = c.storage(bytes, 'train.readback');
    }
    windows.forEach((ids, w) => this.pass.record(ids, scale, { buffer: this.readback, offset: (this.nPartials + w * per) * 4 }));
    let o = 0;
    for (const p of this.params) {
      for (const ch of this.pass.grads.get(p.name)!.chunks) {
        const n = ch.buffer.size / 4;
        top.sumsq(c, ch.buffer, n, this.readback, o);
        o += top.sumsqGroups(n).groups;
      }
    }
    const back = await c.read(this.readback, 0, bytes);
    let ss = 0;
    for (let i = 0; i < this.nPartials; i++) ss += back[i];
    let sum = 0;
    let klSum = 0;
    let featSum = 0;
    const tc = this.opts.teacher;
    for (let w = 0; w < windows.length; w++) {
      const at = this.nPartials + w * per;
      for (let i = 0; i < T - 1; i++) sum += back[at + i];
      if (tc?.kl) for (let i = T - 1; i < 2 * (T - 1); i++) klSum += back[at + i];
      if (tc?.squareHead) featSum += this.pass.featureLoss(back, at);
    }
    const loss = sum * scale;
    const kl = tc?.kl ? klSum * scale : null;
    const features = tc?.squareHead ? featSum / windows.length : null;
    if (!Number.isFinite(loss + (kl ?? 0) + (features ?? 0))) {
      throw new NumericalError(`The loss is not finite at step ${this.t + 1} (${loss}${kl !== null ? `, KL ${kl}` : ''}${features !== null ? `, SquareHead ${features}` : ''}); no update was made.`);
    }
    const gradNorm = Math.sqrt(ss);
    if (!Number.isFinite(gradNorm)) throw new NumericalError(`The gradient is not finite at step ${this.t + 1}; no update was made.`);
    const gradScale = this.opts.clip > 0 ? Math.min(1, this.opts.clip / (gradNorm + 1e-6)) : 1;
    this.t++;
    const s: top.AdamWStep = {
      lr, weightDecay: this.opts.weightDecay, beta1: this.opts.beta1 ?? 0.9, beta2: this.opts.beta2 ?? 0.999, eps: this.opts.eps ?? 1e-8, t: this.t, gradScale,
    };
    for (const p of this.params) {
      const g = this.pass.grads.get(p.name)!;
      p.w.chunks.forEach((ch, i) => top.adamw(c, ch.buffer, g.chunks[i].buffer, p.m.chunks[i].buffer, p.v.chunks[i].buffer, ch.buffer.size / 4, s, p.mask?.[i]));
    }
    this.pass.consumed(this.trainable);
    c.submit();
    return { loss, kl, features, gradNorm };
  }

  /** The run's state now (read back from the GPU): see TrainState. */
  async snapshot(): Promise<TrainState> {
    const c = this.model.ctx;
    const trainable = new Map(this.params.map((p) => [p.name, p]));
    const tensors: TrainState['tensors'] = [];
    for (const [name, w] of this.model.weights) {
      const p = trainable.get(name);
      tensors.push({
        name,
        w: await op.readTensor(c, w),
        m: p && this.t ? await op.readTensor(c, p.m) : null,
        v: p && this.t ? await op.readTensor(c, p.v) : null,
        mask: p?.keep ? p.keep.slice() : null,
      });
    }
    return { step: this.t, tensors };
  }

  /** Put the run back to `s` (a snapshot of a trainer over the same architecture and frozen set). */
  async restore(s: TrainState): Promise<void> {
    const c = this.model.ctx;
    const byName = new Map(s.tensors.map((x) => [x.name, x]));
    for (const [name, w] of this.model.weights) {
      const x = byName.get(name);
      if (!x) throw new BadOption(`The checkpoint has no tensor ${name}: it was saved from another model.`);
      if (x.w.length !== w.shape.reduce((a, b) => a * b, 1)) throw new BadOption(`The checkpoint's ${name} has ${x.w.length} values, the model's ${w.shape.join(' × ')}: it was saved from another model.`);
      op.writeTensor(c, w, x.w, name);
    }
    for (const p of this.params) {
      const x = byName.get(p.name)!;
      for (const [t, x1] of [[p.m, x.m], [p.v, x.v]] as const) {
        if (x1) op.writeTensor(c, t, x1, `adam.${p.name}`);
        else if (s.step === 0) for (const ch of t.chunks) c.clear(ch.buffer);
        else throw new BadOption(`The checkpoint has no optimizer state for ${p.name}: it was saved with another frozen set.`);
      }
      if (x.mask) {
        const keep = x.mask;
        await this.setMaskFrom(p, () => keep);
      } else {
        for (const b of p.mask ?? []) c.destroy(b);
        p.mask = null;
        p.keep = null;
      }
    }
    this.t = s.step;
    c.submit();
  }

  dispose(): void {
    const c = this.model.ctx;
    this.pass.dispose();
    c.destroy(this.readback);
    for (const p of this.params) {
      op.destroyTensor(c, p.m);
      op.destroyTensor(c, p.v);
      for (const b of p.mask ?? []) c.destroy(b);
    }
  }
}
