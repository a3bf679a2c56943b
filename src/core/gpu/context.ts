// GpuContext: device + limits + buffer accounting + kernel cache + a command recorder.
// Kernels are WGSL files in shaders/ (one role per file). Every shader follows one binding
// convention: @binding(0) is a uniform `Params` struct, @binding(1..) are storage buffers in the
// order the host passes them. Blocks shared by several kernels live in shaders/common/*.wgsl and
// are pulled in by a line `#include "common/<name>.wgsl"` (WGSL has no preprocessor: pipeline()
// splices the snippet's text in before compiling; recursive, each file at most once per kernel).
import { GpuError, TooLargeForDevice } from '../errors';

/** The two dense GEMM variants, each with one contract (shaders/matmul*.wgsl, shaders/cross_gram*.wgsl). */
export type MatmulVariant = 'tiled' | 'rb';
import type { AdapterSummary } from '../types';
import { formatBytes } from '../units';

export type ShaderLoader = (name: string) => string;

export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export const WORKGROUP_1D = 256;

export class GpuContext {
  /** Largest byte size of one storage binding (and so of one buffer the engine makes). */
  readonly maxBinding: number;
  /**
   * Bytes per chunk when paging large tensors (weights by rows, logits by tokens): the binding
   * limit, or less when a test asks for it to exercise the paging paths on small models.
   */
  readonly pageBytes: number;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private live = new Map<GPUBuffer, number>();
  private liveBytes = 0;
  private peakBytes = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private temps: GPUBuffer[] = [];
  private dummy: GPUBuffer | null = null;
  private uncaptured: string | null = null;
  /**
   * Dense GEMM variant: 'rb' (register blocks, no barriers) on software adapters, where it
   * measured 2–6× faster (bench/forward.ts); 'tiled' (workgroup-memory tiles) on GPUs.
   */
  matmulVariant: MatmulVariant;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
    private readonly shaders: ShaderLoader,
    pageBytesOverride?: number,
  ) {
    // Errors outside an error scope would otherwise only be logged: keep the first and throw it
    // at the next readback, so a bad dispatch never produces silent garbage.
    device.addEventListener('uncapturederror', (ev) => {
      this.uncaptured ??= (ev as GPUUncapturedErrorEvent).error.message;
    });
    this.matmulVariant = adapter.isSoftware ? 'rb' : 'tiled';
    const lim = device.limits;
    const hw = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    // Round down to 256 bytes so chunk boundaries stay aligned for offsets.
    this.maxBinding = Math.floor(hw / 256) * 256;
    this.pageBytes = Math.floor(Math.min(hw, pageBytesOverride ?? hw) / 256) * 256;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Live buffers the engine made, their bytes, and the most bytes live at once since resetPeak(). */
  stats(): { buffers: number; bytes: number; peakBytes: number } {
    return { buffers: this.live.size, bytes: this.liveBytes, peakBytes: this.peakBytes };
  }

  /** Start a new high-water mark of live bytes from what is live now. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  createBuffer(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const bytes = Math.max(16, Math.ceil(size / 4) * 4);
    if (bytes > this.maxBinding && usage & GPUBufferUsage.STORAGE) {
      throw new TooLargeForDevice(
        `${label} needs one GPU buffer of ${formatBytes(bytes)}, but this adapter allows at most ${formatBytes(this.maxBinding)} per storage buffer. Use a shorter sequence length or fewer tokens per batch.`,
      );
    }
    const b = this.device.createBuffer({ size: bytes, usage, label });
    this.live.set(b, bytes);
    this.liveBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return b;
  }

  storage(size: number, label: string): GPUBuffer {
    return this.createBuffer(size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label);
  }

  upload(data: Float32Array | Uint32Array | Int32Array, label: string): GPUBuffer {
    const b = this.storage(data.byteLength, label);
    this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  }

  destroy(b: GPUBuffer | null | undefined): void {
    if (!b) return;
    const n = this.live.get(b);
    if (n !== undefined) {
      this.live.delete(b);
      this.liveBytes -= n;
    }
    b.destroy();
  }

  /** A 16-byte buffer bound where a shader's optional input is absent (e.g. no bias). */
  get empty(): GPUBuffer {
    if (!this.dummy) this.dummy = this.storage(16, 'empty');
    return this.dummy;
  }

  /** Run `fn` inside out-of-memory and validation error scopes; throw GpuError if either fires. */
  async checked<T>(what: string, fn: () => T): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const r = fn();
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom) throw new TooLargeForDevice(`Out of GPU memory while ${what}: ${oom.message}`);
    if (validation) throw new GpuError(`GPU validation error while ${what}: ${validation.message}`);
    return r;
  }

  /**
   * Replaces each `#include "<name>.wgsl"` line by the text of shaders/<name>.wgsl (itself
   * resolved). A file already in `seen` (included before, or the includer: a cycle) expands to
   * nothing, so shared snippets may include their own dependencies.
   */
  private resolveIncludes(code: string, seen: Set<string>): string {
    return code.replace(/^[ \t]*#include "([\w/-]+)\.wgsl"[ \t]*\r?$/gm, (_line, name: string) => {
      if (seen.has(name)) return '';
      seen.add(name);
      return this.resolveIncludes(this.shaders(name), seen);
    });
  }

  /**
   * The pipeline of shaders/<shader>.wgsl (includes resolved). `defines` replace the values of module-scope
   * `const NAME: u32 = ...u;` declarations: parametric shaders (array sizes that must be constant)
   * are specialised this way; everything else is a runtime parameter.
   */
  pipeline(shader: string, defines?: Record<string, number>): GPUComputePipeline {
    const key = defines ? `${shader}|${JSON.stringify(defines)}` : shader;
    let p = this.pipelines.get(key);
    if (!p) {
      let code = this.resolveIncludes(this.shaders(shader), new Set([shader]));
      for (const [name, value] of Object.entries(defines ?? {})) {
        const re = new RegExp(`const ${name}: u32 = \\d+u;`);
        if (!re.test(code)) throw new Error(`${shader}.wgsl has no "const ${name}: u32" to specialise`);
        code = code.replace(re, `const ${name}: u32 = ${value >>> 0}u;`);
      }
      const module = this.device.createShaderModule({ code, label: shader });
      p = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
        label: shader,
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Record one dispatch. `params` are the uniform words (u32 or f32, as the shader's Params says),
   * `bindings` the storage buffers for @binding(1...).
   */
  dispatch(
    shader: string,
    params: ArrayBuffer,
    bindings: Array<GPUBuffer | Binding>,
    groups: [number, number?, number?],
    defines?: Record<string, number>,
  ): void {
    const pipe = this.pipeline(shader, defines);
    const ub = this.device.createBuffer({
      size: Math.max(16, Math.ceil(params.byteLength / 16) * 16),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: `${shader}.params`,
    });
    this.device.queue.writeBuffer(ub, 0, params);
    this.temps.push(ub);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: ub } }];
    bindings.forEach((b, i) => {
      const r: Binding = 'buffer' in b ? b : { buffer: b };
      entries.push({ binding: i + 1, resource: r });
    });
    const bg = this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
    const [x, y = 1, z = 1] = groups;
    const maxG = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxG || y > maxG || z > maxG) {
      throw new TooLargeForDevice(`${shader}: a dispatch of ${x}×${y}×${z} workgroups exceeds this adapter's ${maxG} per dimension.`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const pass = this.beginPass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(x, y, z);
  }

  private beginPass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Record zeroing a whole buffer. */
  clear(b: GPUBuffer): void {
    this.endPass().clearBuffer(b);
  }

  /** Submit what was recorded. Keep submissions short: browsers kill long-running ones. */
  submit(): void {
    const enc = this.endPass();
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    const temps = this.temps;
    this.temps = [];
    if (temps.length) void this.device.queue.onSubmittedWorkDone().then(() => temps.forEach((t) => t.destroy()));
  }

  /** Submit, then read `size` bytes of `src` back as f32. */
  async read(src: GPUBuffer, offset = 0, size = src.size - offset): Promise<Float32Array<ArrayBuffer>> {
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
    this.endPass().copyBufferToBuffer(src, offset, staging, 0, size);
    this.submit();
    await staging.mapAsync(GPUMapMode.READ);
    this.throwIfFailed();
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Wait until the GPU has finished all submitted work. */
  async finish(): Promise<void> {
    if (this.encoder) this.submit();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.uncaptured !== null) {
      const m = this.uncaptured;
      this.uncaptured = null;
      throw new GpuError(`GPU error: ${m}`);
    }
  }

  dispose(): void {
    this.destroy(this.dummy);
    this.dummy = null;
    for (const b of [...this.live.keys()]) this.destroy(b);
  }
}

/** Pack uniform words: numbers marked with `f` are f32, others u32. */
export function params(...words: Array<number | { f: number }>): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((words.length * 4) / 16) * 16));
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  words.forEach((w, i) => {
    if (typeof w === 'number') u[i] = w >>> 0;
    else f[i] = w.f;
  });
  return buf;
}

/** Workgroup counts for n invocations of a 1-D kernel of `wg` threads, folded into 2-D past the per-dimension limit. */
export function grid1d(n: number, wg = WORKGROUP_1D, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
