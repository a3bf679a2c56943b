// The GPU forward pass over a ModelSpec: embeddings -> decoder layers -> head. The same layer
// code serves perplexity, calibration capture (through `capture`) and generation. Activations live in a
// Workspace sized for T tokens; the residual stream x is updated in place (the out-projections
// accumulate into it).
import { TooLargeForDevice } from '../errors';
import type { GpuContext } from '../gpu/context';
import * as op from '../gpu/ops';
import type { GpuTensor } from '../gpu/ops';
import type { ModelSpec } from '../model/spec';
import type { WeightStream } from './stream';

/** cos/sin table (T, rot/2, 2) for positions pos0..pos0+T-1, computed in float64. */
export function ropeTable(invFreq: number[], pos0: number, T: number): Float32Array<ArrayBuffer> {
  const half = invFreq.length;
  const out = new Float32Array(T * half * 2);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = (pos0 + t) * Math.fround(invFreq[i]);
      out[(t * half + i) * 2] = Math.cos(a);
      out[(t * half + i) * 2 + 1] = Math.sin(a);
    }
  }
  return out;
}

export interface Workspace {
  T: number;
  ids: GPUBuffer;
  pos: GPUBuffer | null;
  cs: GPUBuffer | null;
  x: GPUBuffer;
  hn: GPUBuffer;
  hn2: GPUBuffer | null;
  e: GPUBuffer | null;
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  att: GPUBuffer;
  up: GPUBuffer;
  gate: GPUBuffer | null;
  /** Logits for `logitRows` tokens at a time: (logitRows, V). */
  logits: GPUBuffer;
  logitRows: number;
  targets: GPUBuffer;
  nll: GPUBuffer;
}

/** Per-layer key/value cache for incremental decoding: k, v: (capacity, nKvHeads × headDim). */
export interface KvCache {
  capacity: number;
  k: GPUBuffer[];
  v: GPUBuffer[];
}

/** Where a linear sublayer's input can be observed (calibration statistics). */
export type CapturePoint = 'attn_in' | 'o_in' | 'mlp_in' | 'down_in';
/** Called with the (T, C) buffer that feeds the sublayers of `point`, before they read it. */
export type CaptureFn = (point: CapturePoint, input: GPUBuffer, C: number) => void;

export interface LayerOptions {
  cache?: KvCache;
  pos0?: number;
  capture?: CaptureFn;
}

/** The capture point each linear sublayer reads from. */
export function capturePointOf(sublayer: string): CapturePoint {
  const short = sublayer.replace(/^layers\.\d+\./, '');
  if (short === 'attn.o') return 'o_in';
  if (short.startsWith('attn.')) return 'attn_in';
  if (short === 'mlp.down') return 'down_in';
  return 'mlp_in';
}

/**
 * A linear layer's kernel other than the dense GEMM: y (+)= x·Wᵀ + b for T tokens; false leaves
 * this T to the dense GEMM. x: (T, in), y: (T, out).
 */
export type LinearKernel = (x: GPUBuffer, bias: GpuTensor | undefined, y: GPUBuffer, T: number, accumulate: boolean) => boolean;

export class GpuModel {
  constructor(
    readonly ctx: GpuContext,
    readonly spec: ModelSpec,
    readonly weights: Map<string, GpuTensor>,
    /** Storage dtype of each canonical weight in the source file (F32, F16, BF16). */
    readonly dtypes: Map<string, string> = new Map(),
  ) {}

  /**
   * Other kernels for linear layers, by canonical weight name: sparse/select.ts installs the sparse
   * kernels of pruned weights here. A layer without one, or whose kernel declines T, runs the
   * dense GEMM.
   */
  readonly linearKernels = new Map<string, LinearKernel>();

  /**
   * Layer streaming (nn/stream.ts): set when the weights do not all fit the GPU budget. Then
   * `weights` holds the resident tensors only, and every access goes through w() / tensor().
   */
  stream: WeightStream | null = null;

  /** A canonical tensor's current values, every chunk (read back from the GPU, or the host copy of a streamed tensor that is not on the GPU). */
  read(name: string): Promise<Float32Array<ArrayBuffer>> {
    if (this.stream && !this.stream.isResident(name)) return Promise.resolve(this.stream.hostValues(name));
    return op.readTensor(this.ctx, this.w(name));
  }

  /** Replace a canonical tensor's values, every chunk. */
  write(name: string, data: Float32Array<ArrayBuffer>): void {
    if (this.stream) {
      this.stream.setHost(name, data);
      if (!this.stream.isResident(name)) return;
    }
    op.writeTensor(this.ctx, this.w(name), data, name);
  }

  /** Whether the model has this canonical tensor (resident or streamed). */
  has(name: string): boolean {
    return this.weights.has(name) || (this.stream?.has(name) ?? false);
  }

  /** A canonical tensor's shape (resident or streamed). */
  shapeOf(name: string): number[] | undefined {
    return this.weights.get(name)?.shape ?? this.stream?.shape(name);
  }

  /** The tensor on the GPU (uploaded first when streamed and not resident); only read from it. */
  tensor(name: string): GpuTensor {
    return this.w(name);
  }

  /**
   * The tensor on the GPU for a method to change in place (a pruned weight): when streamed, it is
   * uploaded if needed and marked for read-back (stream.flush) before its layer may leave the GPU.
   */
  mutable(name: string): GpuTensor {
    const t = this.w(name);
    this.stream?.markDirty(name);
    return t;
  }

  private w(name: string): GpuTensor {
    const t = this.weights.get(name);
    if (t && !this.stream) return t;
    if (this.stream?.has(name)) return this.stream.ensure(name);
    if (!t) throw new Error(`internal: weight ${name} not loaded`);
    return t;
  }

  private b(name: string): GpuTensor | undefined {
    return this.has(name) ? this.w(name) : undefined;
  }

  /** Bytes of activations a workspace for T tokens needs (for up-front checks and the UI). */
  workspaceBytes(T: number): number {
    const s = this.spec;
    const qd = s.nHeads * s.headDim, kd = s.nKvHeads * s.headDim;
    const floats = T * (s.hidden * 3 + s.embedDim + qd * 2 + kd * 2 + s.ffn * 2 + 4 + (s.rotaryDim / 2) * 2);
    return floats * 4 + this.logitRowsFor(T) * s.vocabSize * 4;
  }

  /**
   * Rows of logits per chunk: fits one binding and keeps row offsets 256-byte aligned. `with`: a
   * second head that reads the same rows (a distillation teacher): its binding and width too.
   */
  logitRowsFor(T: number, withModel?: GpuModel): number {
    const V = this.spec.vocabSize;
    const maxRows = Math.floor(this.ctx.pageBytes / (V * 4));
    if (maxRows < 1) {
      throw new TooLargeForDevice(`One row of logits (${V} × 4 bytes) exceeds this adapter's ${this.ctx.pageBytes}-byte storage binding.`);
    }
    if (maxRows >= T) return T;
    // Rows whose (rows × E × 4) bytes are a multiple of 256, for every head input read.
    const widths = [this.spec.embedDim, ...(withModel ? [withModel.spec.embedDim] : [])];
    const g = widths.map((E) => 64 / gcd(E, 64)).reduce((a, b) => (a * b) / gcd(a, b), 1);
    if (maxRows < g) throw new TooLargeForDevice(`Logit chunks of ${maxRows} rows cannot be aligned for this model's width ${widths.join(' and ')}.`);
    return Math.floor(maxRows / g) * g;
  }

  allocate(T: number): Workspace {
    const s = this.spec, c = this.ctx;
    const f = (n: number, label: string) => c.storage(n * 4, label);
    const qd = s.nHeads * s.headDim, kd = s.nKvHeads * s.headDim;
    const logitRows = this.logitRowsFor(T);
    return {
      T,
      ids: f(T, 'ids'),
      pos: s.position === 'learned' ? f(T, 'positions') : null,
      cs: s.rotaryDim > 0 ? f(T * s.rotaryDim, 'rope.cs') : null,
      x: f(T * s.hidden, 'x'),
      hn: f(T * s.hidden, 'hn'),
      hn2: s.parallelResidual && !s.sharedNorm ? f(T * s.hidden, 'hn2') : null,
      e: s.embedDim !== s.hidden ? f(T * s.embedDim, 'e') : null,
      q: f(T * qd, 'q'),
      k: f(T * kd, 'k'),
      v: f(T * kd, 'v'),
      att: f(T * qd, 'att'),
      up: f(T * s.ffn, 'up'),
      gate: s.gatedMlp ? f(T * s.ffn, 'gate') : null,
      logits: f(logitRows * s.vocabSize, 'logits'),
      logitRows,
      targets: f(T, 'targets'),
      nll: f(T, 'nll'),
    };
  }

  release(ws: Workspace): void {
    for (const b of Object.values(ws)) if (b && typeof b === 'object') this.ctx.destroy(b as GPUBuffer);
  }

  /** Token (+ position) embeddings of ids into ws.x; token t sits at position pos0 + t. */
  embed(ws: Pick<Workspace, 'T' | 'ids' | 'pos' | 'cs' | 'x' | 'e'>, ids: ArrayLike<number>, pos0 = 0): void {
    const s = this.spec, c = this.ctx, T = ws.T;
    c.device.queue.writeBuffer(ws.ids, 0, Uint32Array.from(ids));
    if (ws.e) {
      op.embed(c, ws.ids, this.w('embed.tokens'), ws.e, T);
      op.matmul(c, ws.e, this.w('embed.project_in'), undefined, ws.x, T);
    } else {
      op.embed(c, ws.ids, this.w('embed.tokens'), ws.x, T);
    }
    if (ws.pos) {
      const pos = new Uint32Array(T);
      for (let t = 0; t < T; t++) pos[t] = pos0 + t + s.positionOffset;
      c.device.queue.writeBuffer(ws.pos, 0, pos);
      op.embed(c, ws.pos, this.w('embed.positions'), ws.x, T, true);
    }
    if (ws.cs) c.device.queue.writeBuffer(ws.cs, 0, ropeTable(s.ropeInvFreq, pos0, T));
  }

  private norm(name: string, x: GPUBuffer, y: GPUBuffer, T: number): void {
    const s = this.spec;
    if (s.norm === 'rms') op.rmsnorm(this.ctx, x, this.w(`${name}.weight`), y, T, s.hidden, s.normEps);
    else op.layernorm(this.ctx, x, this.w(`${name}.weight`), this.b(`${name}.bias`), y, T, s.hidden, s.normEps);
  }

  private linear(name: string, x: GPUBuffer, y: GPUBuffer, T: number, accumulate = false): void {
    const kernel = this.linearKernels.get(`${name}.weight`);
    if (kernel?.(x, this.b(`${name}.bias`), y, T, accumulate)) return;
    op.matmul(this.ctx, x, this.w(`${name}.weight`), this.b(`${name}.bias`), y, T, { accumulate });
  }

  /**
   * Attention of layer i on normalised input h, accumulated into the residual x. With a cache,
   * this call's keys/values are appended at positions pos0.. and attention reads the whole cache.
   */
  private attention(ws: Workspace, i: number, h: GPUBuffer, o: LayerOptions): void {
    const s = this.spec, c = this.ctx, T = ws.T, p = `layers.${i}.attn.`;
    const { cache, pos0 = 0 } = o;
    o.capture?.('attn_in', h, s.hidden);
    this.linear(p + 'q', h, ws.q, T);
    this.linear(p + 'k', h, ws.k, T);
    this.linear(p + 'v', h, ws.v, T);
    if (ws.cs) {
      op.rope(c, ws.q, ws.cs, T, s.nHeads, s.headDim, s.rotaryDim);
      op.rope(c, ws.k, ws.cs, T, s.nKvHeads, s.headDim, s.rotaryDim);
    }
    let k = ws.k, v = ws.v;
    if (cache) {
      const rowBytes = s.nKvHeads * s.headDim * 4;
      c.copy(ws.k, 0, cache.k[i], pos0 * rowBytes, T * rowBytes);
      c.copy(ws.v, 0, cache.v[i], pos0 * rowBytes, T * rowBytes);
      k = cache.k[i];
      v = cache.v[i];
    }
    op.attention(c, ws.q, k, v, ws.att, T, s.nHeads, s.nKvHeads, s.headDim, s.attnScale[i], cache ? pos0 : 0);
    o.capture?.('o_in', ws.att, s.nHeads * s.headDim);
    this.linear(p + 'o', ws.att, ws.x, T, true);
  }

  /** MLP of layer i on normalised input h, accumulated into the residual x. */
  private mlp(ws: Workspace, i: number, h: GPUBuffer, o: LayerOptions): void {
    const s = this.spec, c = this.ctx, T = ws.T, p = `layers.${i}.mlp.`;
    o.capture?.('mlp_in', h, s.hidden);
    this.linear(p + 'up', h, ws.up, T);
    let inner = ws.up;
    if (ws.gate) {
      this.linear(p + 'gate', h, ws.gate, T);
      op.activation(c, ws.gate, T * s.ffn, s.act, ws.up);
      inner = ws.gate;
    } else {
      op.activation(c, ws.up, T * s.ffn, s.act);
    }
    o.capture?.('down_in', inner, s.ffn);
    this.linear(p + 'down', inner, ws.x, T, true);
  }

  /** Decoder layer i: ws.x -> ws.x (with a cache: tokens at positions pos0..). */
  layer(ws: Workspace, i: number, o: LayerOptions = {}): void {
    const s = this.spec, T = ws.T, p = `layers.${i}.`;
    const bytes = T * s.hidden * 4;
    if (!s.preNorm) {
      // Post-LN (OPT-350m): x = LN(x + attn(x)); x = LN(x + mlp(x)). The residual stream itself
      // feeds the sublayers; copy it so the out-projections can accumulate into x.
      this.ctx.copy(ws.x, 0, ws.hn, 0, bytes);
      this.attention(ws, i, ws.hn, o);
      this.norm(p + 'attn_norm', ws.x, ws.hn, T);
      this.ctx.copy(ws.hn, 0, ws.x, 0, bytes);
      this.mlp(ws, i, ws.hn, o);
      this.norm(p + 'mlp_norm', ws.x, ws.hn, T);
      this.ctx.copy(ws.hn, 0, ws.x, 0, bytes);
      return;
    }
    if (s.parallelResidual) {
      // x = x + attn(ln1(x)) + mlp(ln2(x)); phi shares one norm for both branches.
      this.norm(p + 'attn_norm', ws.x, ws.hn, T);
      const h2 = ws.hn2 ?? ws.hn;
      if (ws.hn2) this.norm(p + 'mlp_norm', ws.x, ws.hn2, T);
      this.attention(ws, i, ws.hn, o);
      this.mlp(ws, i, h2, o);
      return;
    }
    this.norm(p + 'attn_norm', ws.x, ws.hn, T);
    this.attention(ws, i, ws.hn, o);
    this.norm(p + 'mlp_norm', ws.x, ws.hn, T);
    this.mlp(ws, i, ws.hn, o);
  }

  /** Final norm and projection: returns the buffer holding the head's input (T, E). */
  headInput(ws: Workspace): GPUBuffer {
    const s = this.spec, T = ws.T;
    let h = ws.x;
    if (s.finalNorm) {
      this.norm('final_norm', ws.x, ws.hn, T);
      h = ws.hn;
    }
    if (ws.e) {
      op.matmul(this.ctx, h, this.w('head.project_out'), undefined, ws.e, T);
      h = ws.e;
    }
    return h;
  }

  /** Logits of rows [t0, t0 + rows) into ws.logits. */
  headChunk(ws: Workspace, h: GPUBuffer, t0: number, rows: number): void {
    const s = this.spec;
    const W = s.tiedEmbeddings ? this.w('embed.tokens') : this.w('head.weight');
    const E = s.embedDim;
    op.matmul(this.ctx, { buffer: h, offset: t0 * E * 4, size: rows * E * 4 }, W, this.b('head.bias'), ws.logits, rows);
  }

  /** Run the whole model on one window of ids (positions from 0). */
  forward(ws: Workspace, ids: ArrayLike<number>, onLayer?: (i: number) => void): GPUBuffer {
    this.embed(ws, ids);
    this.ctx.submit();
    for (let i = 0; i < this.spec.nLayers; i++) {
      this.layer(ws, i);
      this.ctx.submit();
      onLayer?.(i);
    }
    return this.headInput(ws);
  }

  /** Per-token NLL of ids[t + 1] given ids[..t], for t < T - 1 (float64 on return). */
  async windowNll(ws: Workspace, ids: ArrayLike<number>): Promise<Float64Array> {
    const T = ws.T, V = this.spec.vocabSize;
    const h = this.forward(ws, ids);
    const tg = new Uint32Array(T).fill(0xffffffff);
    for (let t = 0; t + 1 < T; t++) tg[t] = ids[t + 1];
    this.ctx.device.queue.writeBuffer(ws.targets, 0, tg);
    for (let t0 = 0; t0 < T; t0 += ws.logitRows) {
      const rows = Math.min(ws.logitRows, T - t0);
      this.headChunk(ws, h, t0, rows);
      op.nll(this.ctx, ws.logits, ws.targets, ws.nll, rows, V, t0);
      this.ctx.submit();
    }
    const out = await this.ctx.read(ws.nll, 0, (T - 1) * 4);
    return Float64Array.from(out);
  }

  createCache(capacity: number): KvCache {
    const s = this.spec;
    const bytes = capacity * s.nKvHeads * s.headDim * 4;
    const mk = (kind: string) => Array.from({ length: s.nLayers }, (_, i) => this.ctx.storage(bytes, `cache.${kind}.${i}`));
    return { capacity, k: mk('k'), v: mk('v') };
  }

  releaseCache(cache: KvCache): void {
    for (const b of [...cache.k, ...cache.v]) this.ctx.destroy(b);
  }

  /**
   * Run ws.T new tokens at positions pos0.. through the model with a KV cache and return the
   * logits (V) of the last one (generation: prefill with the prompt, then one token at a time).
   */
  async step(ws: Workspace, cache: KvCache, ids: ArrayLike<number>, pos0: number): Promise<Float32Array> {
    const s = this.spec, T = ws.T, E = s.embedDim;
    if (pos0 + T > cache.capacity) throw new Error(`KV cache holds ${cache.capacity} positions; ${pos0 + T} needed`);
    this.embed(ws, ids, pos0);
    this.ctx.submit();
    for (let i = 0; i < s.nLayers; i++) {
      this.layer(ws, i, { cache, pos0 });
      this.ctx.submit();
    }
    let h = this.headInput(ws);
    if (T > 1) {
      // The head needs only the last row: move it to the front of a scratch row.
      const scratch = h === ws.x ? ws.hn : ws.x; // both (T, H) with H >= E, and free here
      this.ctx.copy(h, (T - 1) * E * 4, scratch, 0, E * 4);
      h = scratch;
    }
    this.headChunk(ws, h, 0, 1);
    return this.ctx.read(ws.logits, 0, s.vocabSize * 4);
  }

  /** Full logits (T, V) of one window, read back (tests). */
  async logits(ids: ArrayLike<number>): Promise<Float32Array> {
    const T = ids.length, V = this.spec.vocabSize;
    const ws = this.allocate(T);
    try {
      const h = this.forward(ws, ids);
      const out = new Float32Array(T * V);
      for (let t0 = 0; t0 < T; t0 += ws.logitRows) {
        const rows = Math.min(ws.logitRows, T - t0);
        this.headChunk(ws, h, t0, rows);
        out.set(await this.ctx.read(ws.logits, 0, rows * V * 4), t0 * V);
      }
      return out;
    } finally {
      this.release(ws);
    }
  }
}

export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
