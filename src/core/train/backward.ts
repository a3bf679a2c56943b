// The training pass on the GPU: one window through the model saving what the backward reads,
// the fused cross-entropy head (logits never read back), and the backward through every layer of
// every family, adding each parameter's gradient into a gradient tensor of the same shape and
// paging. Mirrors src/core/reference/train-model.ts step for step (tests hold them together).
//
// Saved per decoder layer (T tokens, H hidden, F ffn, qd/kd query/key widths):
//   xin (T, H) residual entering; x1 (T, H) after attention (sequential) or LN input n1 (post-LN);
//   n2 (T, H) post-LN only; h1, h2 (T, H) norm outputs; q, k (roped), v, o (T, qd|kd);
//   pre, up, z (T, F): the MLP's pre-activation, up projection (gated), and down input.
import type { GpuContext } from '../gpu/context';
import * as op from '../gpu/ops';
import * as top from '../gpu/ops-train';
import type { GpuTensor } from '../gpu/ops';
import type { ModelSpec } from '../model/spec';
import { type GpuModel, type Workspace, ropeTable } from '../nn/model';

interface LayerSaved {
  xin: GPUBuffer;
  x1: GPUBuffer;
  n2: GPUBuffer | null;
  h1: GPUBuffer;
  h2: GPUBuffer | null;
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  o: GPUBuffer;
  pre: GPUBuffer;
  up: GPUBuffer | null;
  z: GPUBuffer;
}

/**
 * Bytes a training pass of T tokens holds on the GPU, predicted from the shapes: one gradient per
 * parameter, the saved activations of every layer, and the backward's scratch (logits in chunks
 * of at most `logitRows` rows). With the two AdamW moments (Trainer) add 2 × the parameter bytes.
 * With `recompute` each layer keeps only its input, and one layer's activations are shared.
 */
export function trainPassBytes(spec: ModelSpec, params: number, T: number, logitRows: number, recompute = false): number {
  const H = spec.hidden, E = spec.embedDim, F = spec.ffn, qd = spec.nHeads * spec.headDim, kd = spec.nKvHeads * spec.headDim;
  const perLayer = T * (H * (3 + (spec.preNorm ? 0 : 1) + (spec.parallelResidual && !spec.sharedNorm ? 1 : 0)) + 2 * qd + 2 * kd + F * (spec.gatedMlp ? 3 : 2));
  const scratch =
    T * (4 + (spec.position === 'learned' ? 1 : 0) + 2 * spec.rotaryDim + 7 * H + 4 * (E !== H ? E : 0) + 2 * qd + 2 * kd + F * (spec.gatedMlp ? 3 : 2) + 2 + 2 * spec.nHeads) +
    logitRows * spec.vocabSize;
  const saved = recompute ? spec.nLayers * T * H + (perLayer - T * H) : spec.nLayers * perLayer;
  return 4 * (params + saved + scratch);
}

/** SquareHead's weight beside the cross-entropy (and KL): 1, the equal weighting of Kurtic et al. 2023. */
export const SQUAREHEAD_WEIGHT = 1;
/** Mean-square floor of the teacher's layer output in SquareHead's denominator (as in llm-compressor's square_head). */
export const SQUAREHEAD_EPS = 1e-6;

/** A distillation teacher for the pass: KL to its next-token distributions and/or SquareHead on its layer outputs. */
export interface PassTeacher {
  model: GpuModel;
  kl: boolean;
  squareHead: boolean;
}

/** SquareHead's loss of one window from its per-layer sums (Σ (s − t)², Σ t²; 2 per layer from `at`): Σ_l the normalised MSE. */
export function squareHeadLoss(sums: ArrayLike<number>, at: number, nLayers: number, n: number): number {
  let f = 0;
  for (let l = 0; l < nLayers; l++) f += (SQUAREHEAD_WEIGHT * sums[at + 2 * l]) / (sums[at + 2 * l + 1] + n * SQUAREHEAD_EPS);
  return f;
}

export class TrainPass {
  readonly grads = new Map<string, GpuTensor>();
  private readonly ctx: GpuContext;
  private readonly bufs: GPUBuffer[] = [];
  private readonly saved: LayerSaved[] = [];
  // Forward scratch and the backward's buffers, (T, ·) each.
  private readonly ids: GPUBuffer;
  private readonly pos: GPUBuffer | null;
  private readonly cs: GPUBuffer | null;
  private readonly csInv: GPUBuffer | null;
  private readonly e: GPUBuffer | null;
  private readonly x: GPUBuffer;
  private readonly xf: GPUBuffer;
  private readonly hn: GPUBuffer;
  private readonly he: GPUBuffer | null;
  private readonly logits: GPUBuffer;
  readonly logitRows: number;
  private readonly targets: GPUBuffer;
  private readonly nll: GPUBuffer;
  private readonly ones: GPUBuffer;
  private readonly dres: GPUBuffer;
  private readonly dh: GPUBuffer;
  private readonly dh2: GPUBuffer;
  private readonly dn: GPUBuffer;
  private readonly dhe: GPUBuffer | null;
  private readonly de: GPUBuffer | null;
  private readonly dq: GPUBuffer;
  private readonly dk: GPUBuffer;
  private readonly dv: GPUBuffer;
  private readonly dO: GPUBuffer;
  private readonly dz: GPUBuffer;
  private readonly dpre: GPUBuffer;
  private readonly dup: GPUBuffer | null;
  private readonly stats: GPUBuffer;
  private readonly attStats: GPUBuffer;

  /**
   * Knowledge distillation: the teacher model and its workspace; with KL the per-row KL, with
   * SquareHead its decoder layers' outputs (T, H) each and the per-layer sums (2 per layer).
   */
  private readonly teacher: { model: GpuModel; ws: Workspace; kl: GPUBuffer | null; hidden: GPUBuffer[]; sums: GPUBuffer | null } | null;

  constructor(
    readonly model: GpuModel,
    /** Tokens per window. */
    readonly T: number,
    /** A teacher (same vocabulary; same layers and width for SquareHead) and the terms it adds to the loss. */
    teacher?: PassTeacher,
    /**
     * Activation recomputation: keep only each decoder layer's input and run the layer's forward
     * again just before its backward (one more forward per step; the saved activations of one
     * layer instead of all). The gradients are the same, bit for bit.
     */
    readonly recompute = false,
  ) {
    const s = model.spec, c = model.ctx;
    this.ctx = c;
    const f = (n: number, label: string) => {
      const b = c.storage(Math.max(16, n * 4), label);
      this.bufs.push(b);
      return b;
    };
    const H = s.hidden, E = s.embedDim, F = s.ffn, qd = s.nHeads * s.headDim, kd = s.nKvHeads * s.headDim;
    this.ids = f(T, 'train.ids');
    this.pos = s.position === 'learned' ? f(T, 'train.positions') : null;
    this.cs = s.rotaryDim > 0 ? f(T * s.rotaryDim, 'train.rope') : null;
    this.csInv = s.rotaryDim > 0 ? f(T * s.rotaryDim, 'train.rope.inverse') : null;
    // Positions are 0 … T−1 in every window: the backward's inverse rotary table is written once.
    if (this.csInv) c.device.queue.writeBuffer(this.csInv, 0, top.inverseRopeTable(ropeTable(s.ropeInvFreq, 0, T)));
    this.e = E !== H ? f(T * E, 'train.e') : null;
    this.x = f(T * H, 'train.x');
    this.xf = f(T * H, 'train.xf');
    this.hn = f(T * H, 'train.hn');
    this.he = E !== H ? f(T * E, 'train.he') : null;
    // Logits in row chunks that fit one binding, 256-byte aligned (as the forward's).
    // Logit rows per chunk: one binding, offsets 256-byte aligned for the model's head input and the
    // teacher's (whose own chunks, aligned for it alone, are at least as long).
    const tws = teacher ? teacher.model.allocate(T) : null;
    if (tws) this.bufs.push(...Object.values(tws).filter((b): b is GPUBuffer => !!b && typeof b === 'object'));
    this.logitRows = model.logitRowsFor(T, teacher?.kl ? teacher.model : undefined);
    this.teacher = teacher && tws
      ? {
          model: teacher.model,
          ws: tws,
          kl: teacher.kl ? f(T, 'train.kl') : null,
          hidden: teacher.squareHead ? Array.from({ length: s.nLayers }, (_, i) => f(T * H, `train.teacher.${i}`)) : [],
          sums: teacher.squareHead ? f(2 * s.nLayers, 'train.squarehead') : null,
        }
      : null;
    this.logits = f(this.logitRows * s.vocabSize, 'train.logits');
    this.targets = f(T, 'train.targets');
    this.nll = f(T, 'train.nll');
    this.ones = f(T, 'train.ones');
    c.device.queue.writeBuffer(this.ones, 0, new Float32Array(T).fill(1));
    this.dres = f(T * H, 'train.dres');
    this.dh = f(T * H, 'train.dh');
    this.dh2 = f(T * H, 'train.dh2');
    this.dn = f(T * H, 'train.dn');
    this.dhe = E !== H ? f(T * E, 'train.dhe') : null;
    this.de = E !== H ? f(T * E, 'train.de') : null;
    this.dq = f(T * qd, 'train.dq');
    this.dk = f(T * kd, 'train.dk');
    this.dv = f(T * kd, 'train.dv');
    this.dO = f(T * qd, 'train.do');
    this.dz = f(T * F, 'train.dz');
    this.dpre = f(T * F, 'train.dpre');
    this.dup = s.gatedMlp ? f(T * F, 'train.dup') : null;
    this.stats = f(T * 2, 'train.stats');
    this.attStats = f(T * s.nHeads * 2, 'train.attstats');
    // Each layer's activations (T, ·), or with recomputation one set shared by every layer.
    const activations = (L: string): Omit<LayerSaved, 'xin'> => ({
      x1: f(T * H, L + 'x1'),
      n2: s.preNorm ? null : f(T * H, L + 'n2'),
      h1: f(T * H, L + 'h1'),
      h2: s.parallelResidual && !s.sharedNorm ? f(T * H, L + 'h2') : null,
      q: f(T * qd, L + 'q'),
      k: f(T * kd, L + 'k'),
      v: f(T * kd, L + 'v'),
      o: f(T * qd, L + 'o'),
      pre: f(T * F, L + 'pre'),
      up: s.gatedMlp ? f(T * F, L + 'up') : null,
      z: f(T * F, L + 'z'),
    });
    const shared = recompute ? activations('train.layer.') : null;
    for (let i = 0; i < s.nLayers; i++) {
      const L = `train.${i}.`;
      this.saved.push({ xin: f(T * H, L + 'xin'), ...(shared ?? activations(L)) });
    }
    for (const [name, w] of model.weights) this.grads.set(name, op.zeroTensor(c, w.shape, `grad.${name}`));
  }

  /** Bytes this pass holds on the GPU: saved activations, scratch and one gradient per parameter. */
  get bytes(): number {
    return this.bufs.reduce((n, b) => n + b.size, 0) + [...this.grads.values()].reduce((n, g) => n + op.tensorBytes(g), 0);
  }

  dispose(): void {
    for (const b of this.bufs) this.ctx.destroy(b);
    for (const g of this.grads.values()) op.destroyTensor(this.ctx, g);
  }

  /** Whether every gradient is 0 (fresh, cleared, or consumed by the optimizer: see `consumed`). */
  gradsZero = true;

  /** Set every gradient to 0 (the start of an optimizer step), unless they are already. */
  zeroGrads(): void {
    if (this.gradsZero) return;
    for (const g of this.grads.values()) for (const c of g.chunks) this.ctx.clear(c.buffer);
    this.gradsZero = true;
  }

  /** The optimizer zeroed the gradients of `trainable` (adamw.wgsl does); the others are cleared here. */
  consumed(trainable: ReadonlySet<string>): void {
    for (const [name, g] of this.grads) if (!trainable.has(name)) for (const c of g.chunks) this.ctx.clear(c.buffer);
    this.gradsZero = true;
  }

  private w(name: string): GpuTensor {
    const t = this.model.weights.get(name);
    if (!t) throw new Error(`internal: weight ${name} not loaded`);
    return t;
  }

  private g(name: string): GpuTensor {
    return this.grads.get(name)!;
  }

  private linear(name: string, x: GPUBuffer, y: GPUBuffer, accumulate = false, weightName = `${name}.weight`): void {
    op.matmul(this.ctx, x, this.w(weightName), this.model.weights.get(`${name}.bias`), y, this.T, { accumulate });
  }

  private linearBack(name: string, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer | undefined, accumulateDx: boolean, weightName = `${name}.weight`): void {
    const bias = this.grads.get(`${name}.bias`);
    top.linearBackward(this.ctx, x, this.w(weightName), dy, { dx, accumulateDx, dw: this.g(weightName), db: bias, ones: this.ones }, this.T);
  }

  private norm(name: string, x: GPUBuffer, y: GPUBuffer): void {
    const s = this.model.spec;
    if (s.norm === 'rms') op.rmsnorm(this.ctx, x, this.w(`${name}.weight`), y, this.T, s.hidden, s.normEps);
    else op.layernorm(this.ctx, x, this.w(`${name}.weight`), this.model.weights.get(`${name}.bias`), y, this.T, s.hidden, s.normEps);
  }

  /** dx (+)= the norm's input gradient for output gradient dy; its weight (and bias) gradients added. */
  private normBack(name: string, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, accumulate: boolean): void {
    const s = this.model.spec, wb = this.w(`${name}.weight`).chunks[0].buffer, dw = this.g(`${name}.weight`).chunks[0].buffer;
    if (s.norm === 'rms') top.rmsnormBackward(this.ctx, x, wb, dy, dx, dw, this.stats, this.T, s.hidden, s.normEps, accumulate);
    else top.layernormBackward(this.ctx, x, wb, dy, dx, dw, this.grads.get(`${name}.bias`)?.chunks[0].buffer, this.stats, this.T, s.hidden, s.normEps, accumulate);
  }

  private attnForward(i: number, h: GPUBuffer, sv: LayerSaved, into: GPUBuffer): void {
    const s = this.model.spec, c = this.ctx, T = this.T, p = `layers.${i}.attn.`;
    this.linear(p + 'q', h, sv.q);
    this.linear(p + 'k', h, sv.k);
    this.linear(p + 'v', h, sv.v);
    if (this.cs) {
      op.rope(c, sv.q, this.cs, T, s.nHeads, s.headDim, s.rotaryDim);
      op.rope(c, sv.k, this.cs, T, s.nKvHeads, s.headDim, s.rotaryDim);
    }
    op.attention(c, sv.q, sv.k, sv.v, sv.o, T, s.nHeads, s.nKvHeads, s.headDim, s.attnScale[i], 0);
    this.linear(p + 'o', sv.o, into, true);
  }

  /** dh (+)= the attention block's input gradient for output gradient dy. */
  private attnBackward(i: number, sv: LayerSaved, h: GPUBuffer, dy: GPUBuffer, dh: GPUBuffer, accumulate: boolean): void {
    const s = this.model.spec, c = this.ctx, T = this.T, p = `layers.${i}.attn.`;
    this.linearBack(p + 'o', sv.o, dy, this.dO, false);
    top.attentionBackward(c, { q: sv.q, k: sv.k, v: sv.v, o: sv.o, dO: this.dO }, { dQ: this.dq, dK: this.dk, dV: this.dv, stats: this.attStats }, T, s.nHeads, s.nKvHeads, s.headDim, s.attnScale[i]);
    if (this.csInv) {
      op.rope(c, this.dq, this.csInv, T, s.nHeads, s.headDim, s.rotaryDim);
      op.rope(c, this.dk, this.csInv, T, s.nKvHeads, s.headDim, s.rotaryDim);
    }
    this.linearBack(p + 'q', h, this.dq, dh, accumulate);
    this.linearBack(p + 'k', h, this.dk, dh, true);
    this.linearBack(p + 'v', h, this.dv, dh, true);
  }

  private mlpForward(i: number, h: GPUBuffer, sv: LayerSaved, into: GPUBuffer): void {
    const s = this.model.spec, c = this.ctx, T = this.T, p = `layers.${i}.mlp.`, n = T * s.ffn;
    if (sv.up) {
      this.linear(p + 'up', h, sv.up);
      this.linear(p + 'gate', h, sv.pre);
      c.copy(sv.pre, 0, sv.z, 0, n * 4);
      op.activation(c, sv.z, n, s.act, sv.up);
    } else {
      this.linear(p + 'up', h, sv.pre);
      c.copy(sv.pre, 0, sv.z, 0, n * 4);
      op.activation(c, sv.z, n, s.act);
    }
    this.linear(p + 'down', sv.z, into, true);
  }

  private mlpBackward(i: number, sv: LayerSaved, h: GPUBuffer, dy: GPUBuffer, dh: GPUBuffer, accumulate: boolean): void {
    const s = this.model.spec, c = this.ctx, n = this.T * s.ffn, p = `layers.${i}.mlp.`;
    this.linearBack(p + 'down', sv.z, dy, this.dz, false);
    if (sv.up) {
      top.activationBackward(c, sv.pre, this.dz, this.dpre, n, s.act, { u: sv.up, du: this.dup! });
      this.linearBack(p + 'gate', h, this.dpre, dh, accumulate);
      this.linearBack(p + 'up', h, this.dup!, dh, true);
    } else {
      top.activationBackward(c, sv.pre, this.dz, this.dpre, n, s.act);
      this.linearBack(p + 'up', h, this.dpre, dh, accumulate);
    }
  }

  /** Decoder layer i's forward on x (its input, also in saved[i].xin), saving its activations; x becomes its output. */
  private layerForward(i: number): void {
    const s = this.model.spec, c = this.ctx, sv = this.saved[i], p = `layers.${i}.`, bytes = this.T * s.hidden * 4;
    if (!s.preNorm) {
      // x1 = LN(x + attn(x)); x = LN(x1 + mlp(x1)); sv.x1 holds the first LN's input n1.
      this.attnForward(i, sv.xin, sv, this.x);
      c.copy(this.x, 0, sv.x1, 0, bytes);
      this.norm(p + 'attn_norm', sv.x1, sv.h1);
      c.copy(sv.h1, 0, this.x, 0, bytes);
      this.mlpForward(i, sv.h1, sv, this.x);
      c.copy(this.x, 0, sv.n2!, 0, bytes);
      this.norm(p + 'mlp_norm', sv.n2!, this.x);
    } else if (s.parallelResidual) {
      this.norm(p + 'attn_norm', sv.xin, sv.h1);
      if (sv.h2) this.norm(p + 'mlp_norm', sv.xin, sv.h2);
      this.attnForward(i, sv.h1, sv, this.x);
      this.mlpForward(i, sv.h2 ?? sv.h1, sv, this.x);
    } else {
      this.norm(p + 'attn_norm', sv.xin, sv.h1);
      this.attnForward(i, sv.h1, sv, this.x);
      c.copy(this.x, 0, sv.x1, 0, bytes);
      this.norm(p + 'mlp_norm', sv.x1, this.hn);
      // h2 of a sequential layer lives in hn until the MLP has read it; the backward recomputes it.
      this.mlpForward(i, this.hn, sv, this.x);
    }
  }

  /**
   * One window (T ids, positions from 0): the forward, the loss scale · Σ_t nll(ids[t + 1] | ids[..t])
   * over t < T − 1 (+ the KL to a teacher), and its gradient added to every gradient tensor, all
   * recorded and submitted without a readback. The window's per-token NLL (then, with a teacher, its
   * per-token KL) are copied into `into` from byte `offset`: T − 1 floats each.
   */
  record(ids: ArrayLike<number>, scale: number, into?: { buffer: GPUBuffer; offset: number }): void {
    const s = this.model.spec, c = this.ctx, T = this.T, H = s.hidden, E = s.embedDim, V = s.vocabSize;
    if (ids.length !== T) throw new Error(`internal: a training window of ${ids.length} tokens for a pass of ${T}`);
    this.gradsZero = false;
    const bytes = T * H * 4;
    // The forward's embedding (tokens, project_in, learned positions, the rotary table).
    this.model.embed({ T, ids: this.ids, pos: this.pos, cs: this.cs, x: this.x, e: this.e }, ids);

    // The teacher's forward, keeping its layers' outputs for SquareHead (its head runs per logit chunk below).
    const tc = this.teacher;
    const th = tc ? tc.model.forward(tc.ws, ids, tc.hidden.length ? (i) => c.copy(tc.ws.x, 0, tc.hidden[i], 0, bytes) : undefined) : null;

    // Forward, saving.
    for (let i = 0; i < s.nLayers; i++) {
      c.copy(this.x, 0, this.saved[i].xin, 0, bytes);
      this.layerForward(i);
      c.submit();
    }

    // Head: final norm, projection, then per logit chunk the loss and dlogits, and their gradients.
    c.copy(this.x, 0, this.xf, 0, bytes);
    let hn = this.xf;
    if (s.finalNorm) {
      this.norm('final_norm', this.xf, this.hn);
      hn = this.hn;
    }
    let he = hn;
    if (this.he) {
      op.matmul(c, hn, this.w('head.project_out'), undefined, this.he, T);
      he = this.he;
    }
    const tg = new Uint32Array(T).fill(0xffffffff);
    for (let t = 0; t + 1 < T; t++) tg[t] = ids[t + 1];
    c.device.queue.writeBuffer(this.targets, 0, tg);
    const headW = s.tiedEmbeddings ? 'embed.tokens' : 'head.weight';
    const dHead = this.dhe ?? this.dres;
    for (let t0 = 0; t0 < T; t0 += this.logitRows) {
      const rows = Math.min(this.logitRows, T - t0);
      const x = { buffer: he, offset: t0 * E * 4, size: rows * E * 4 };
      op.matmul(c, x, this.w(headW), this.model.weights.get('head.bias'), this.logits, rows);
      const kl = tc?.kl && th ? tc.kl : null;
      if (kl) tc!.model.headChunk(tc!.ws, th!, t0, rows);
      top.nllBackward(c, this.logits, this.targets, this.nll, rows, V, t0, scale, kl ? { logits: tc!.ws.logits, kl } : undefined);
      // dHead rows [t0, t0 + rows) = dlogits · W; dW += dlogitsᵀ · (he rows); db += Σ dlogits.
      const dx = { buffer: dHead, offset: t0 * E * 4, size: rows * E * 4 };
      top.linearBackward(c, x, this.w(headW), this.logits, { dx, dw: this.g(headW), db: this.grads.get('head.bias'), ones: this.ones }, rows);
      c.submit();
    }
    if (into) {
      c.copy(this.nll, 0, into.buffer, into.offset, (T - 1) * 4);
      if (tc?.kl) c.copy(tc.kl, 0, into.buffer, into.offset + (T - 1) * 4, (T - 1) * 4);
    }

    // Backward.
    if (this.dhe) this.linearBack('head.project_out', hn, this.dhe, this.dres, false, 'head.project_out');
    if (s.finalNorm) {
      c.copy(this.dres, 0, this.dn, 0, bytes);
      this.normBack('final_norm', this.xf, this.dn, this.dres, false);
    }
    for (let i = s.nLayers - 1; i >= 0; i--) {
      const sv = this.saved[i], p = `layers.${i}.`;
      // SquareHead at this layer's output (the next layer's saved input, or the head's): the window
      // weighs scale · (T − 1), as its cross-entropy does.
      if (tc?.sums) top.squareHead(c, i + 1 < s.nLayers ? this.saved[i + 1].xin : this.xf, tc.hidden[i], tc.sums, 2 * i, T * H, SQUAREHEAD_WEIGHT * scale * (T - 1), SQUAREHEAD_EPS, this.dres);
      if (this.recompute) {
        // The layer's activations again, from its saved input (x is free during the backward).
        c.copy(sv.xin, 0, this.x, 0, bytes);
        this.layerForward(i);
      }
      if (!s.preNorm) {
        // dn2 → dx1 = dn2 + mlp'(dn2) → dn1 → dx = dn1 + attn'(dn1).
        this.normBack(p + 'mlp_norm', sv.n2!, this.dres, this.dn, false);
        c.copy(this.dn, 0, this.dh, 0, bytes);
        this.mlpBackward(i, sv, sv.h1, this.dn, this.dh, true);
        this.normBack(p + 'attn_norm', sv.x1, this.dh, this.dn, false);
        c.copy(this.dn, 0, this.dres, 0, bytes);
        this.attnBackward(i, sv, sv.xin, this.dn, this.dres, true);
      } else if (s.parallelResidual) {
        this.attnBackward(i, sv, sv.h1, this.dres, this.dh, false);
        if (sv.h2) {
          this.mlpBackward(i, sv, sv.h2, this.dres, this.dh2, false);
          this.normBack(p + 'attn_norm', sv.xin, this.dh, this.dres, true);
          this.normBack(p + 'mlp_norm', sv.xin, this.dh2, this.dres, true);
        } else {
          this.mlpBackward(i, sv, sv.h1, this.dres, this.dh, true);
          this.normBack(p + 'attn_norm', sv.xin, this.dh, this.dres, true);
        }
      } else {
        this.norm(p + 'mlp_norm', sv.x1, this.hn);
        this.mlpBackward(i, sv, this.hn, this.dres, this.dh, false);
        this.normBack(p + 'mlp_norm', sv.x1, this.dh, this.dres, true);
        this.attnBackward(i, sv, sv.h1, this.dres, this.dh, false);
        this.normBack(p + 'attn_norm', sv.xin, this.dh, this.dres, true);
      }
      c.submit();
    }
    if (this.pos) top.embedBackward(c, this.pos, this.dres, this.g('embed.positions'), T);
    if (this.e && this.de) {
      this.linearBack('embed.project_in', this.e, this.dres, this.de, false, 'embed.project_in');
      top.embedBackward(c, this.ids, this.de, this.g('embed.tokens'), T);
    } else {
      top.embedBackward(c, this.ids, this.dres, this.g('embed.tokens'), T);
    }
    if (into && tc?.sums) c.copy(tc.sums, 0, into.buffer, into.offset + (this.lossFloats - 2 * s.nLayers) * 4, 2 * s.nLayers * 4);
    c.submit();
  }

  /**
   * Floats `record` copies per window: the NLL of T − 1 tokens, as many KLs with KL distillation,
   * then SquareHead's two sums per layer.
   */
  get lossFloats(): number {
    const tc = this.teacher;
    return (this.T - 1) * (tc?.kl ? 2 : 1) + (tc?.sums ? 2 * this.model.spec.nLayers : 0);
  }

  /** The window's SquareHead loss (unweighted by the window) from the floats `record` copied from `at`. */
  featureLoss(floats: ArrayLike<number>, at: number): number {
    const s = this.model.spec;
    return squareHeadLoss(floats, at + this.lossFloats - 2 * s.nLayers, s.nLayers, this.T * s.hidden);
  }

  /** One window as `record`, then its summed NLL, KL and SquareHead loss read back (tests and benchmarks). */
  async window(ids: ArrayLike<number>, scale: number): Promise<{ nll: number; kl: number; features: number }> {
    const out = this.ctx.storage(Math.max(16, this.lossFloats * 4), 'train.window');
    try {
      this.record(ids, scale, { buffer: out, offset: 0 });
      const back = await this.ctx.read(out, 0, this.lossFloats * 4);
      const sum = (a: number, b: number) => { let x = 0; for (let i = a; i < b; i++) x += back[i]; return x; };
      const T1 = this.T - 1, tc = this.teacher;
      return { nll: sum(0, T1), kl: tc?.kl ? sum(T1, 2 * T1) : 0, features: tc?.sums ? this.featureLoss(back, 0) : 0 };
    } finally {
      this.ctx.destroy(out);
    }
  }
}
