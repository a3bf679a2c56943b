// Layer streaming: a model whose f32 weights do not all fit the GPU budget keeps every canonical
// tensor on the host and uploads a group (one decoder layer's tensors, or one tensor outside the
// layers: the embeddings, the final norm, the head) when a kernel first needs it, evicting the
// least recently used groups until the group fits the budget. Pruning works one layer at a time
// (calibration, sweep and re-forward touch layer i only), so one layer plus the run's statistics
// is all it needs on the GPU; perplexity and generation stream every layer per window or token.
//
// A tensor changed on the GPU (a pruned weight) is marked dirty; flush() reads it back to the
// host. Evicting a group with dirty tensors is an internal error, never a silent loss.
import { TooLargeForDevice } from '../errors';
import type { GpuContext } from '../gpu/context';
import { type GpuTensor, destroyTensor, readTensor, uploadTensor } from '../gpu/ops';
import { formatBytes } from '../units';

/** A tensor's host copy: f32 values (as the GPU computes with them) and its shape. */
export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

interface Group {
  key: string;
  names: string[];
  bytes: number;
  resident: boolean;
  used: number;
}

/** The group of a canonical tensor: `layers.<i>` for a decoder layer's tensors, else its own name. */
export function groupOf(name: string): string {
  const m = /^layers\.(\d+)\./.exec(name);
  return m ? `layers.${m[1]}` : name;
}

/** Bytes a tensor takes on the GPU in f32, paged as uploadTensor pages it (buffers ≥ 16 bytes). */
function gpuBytes(shape: number[], pageBytes: number): number {
  const elems = shape.reduce((a, b) => a * b, 1);
  const rowLen = shape.length > 1 ? elems / shape[0] : elems;
  const rows = shape.length > 1 ? shape[0] : 1;
  const rowsPerChunk = Math.max(1, Math.floor(pageBytes / (rowLen * 4)));
  let b = 0;
  for (let r = 0; r < rows; r += rowsPerChunk) b += Math.max(16, Math.min(rowsPerChunk, rows - r) * rowLen * 4);
  return b;
}

/** The streaming groups of a model's canonical tensors, with their GPU bytes in f32. */
export function streamGroups(shapes: Iterable<readonly [string, number[]]>, pageBytes: number): Map<string, { names: string[]; bytes: number }> {
  const groups = new Map<string, { names: string[]; bytes: number }>();
  for (const [name, shape] of shapes) {
    const key = groupOf(name);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { names: [], bytes: 0 }));
    g.names.push(name);
    g.bytes += gpuBytes(shape, pageBytes);
  }
  return groups;
}

/**
 * Refuse a budget smaller than the largest group (one decoder layer, or the embeddings), before
 * any work, with the sizes.
 */
export function checkBudget(groups: Map<string, { bytes: number }>, budget: number): void {
  let key = '', bytes = 0, total = 0;
  for (const [k, g] of groups) {
    total += g.bytes;
    if (g.bytes > bytes) [key, bytes] = [k, g.bytes];
  }
  if (!(budget >= bytes)) {
    throw new TooLargeForDevice(
      `The GPU budget of ${formatBytes(budget)} is smaller than ${key.startsWith('layers.') ? `one decoder layer (${key}: ${formatBytes(bytes)} in f32)` : `${key} (${formatBytes(bytes)} in f32)`}, the most of the model's weights that must be on the GPU at once. Give a budget of at least ${formatBytes(bytes)} (the whole model: ${formatBytes(total)}).`,
    );
  }
}

export class WeightStream {
  private readonly groups = new Map<string, Group>();
  private readonly dirty = new Set<string>();
  private clock = 0;
  /** Bytes of weights on the GPU now, the most there were, and every byte uploaded so far. */
  residentBytes = 0;
  peakResidentBytes = 0;
  uploadedBytes = 0;

  constructor(
    private readonly ctx: GpuContext,
    /** Bytes of weights allowed on the GPU at once. */
    readonly budget: number,
    private readonly host: Map<string, HostTensor>,
    /** The model's map of resident tensors (GpuModel.weights), kept in step. */
    private readonly gpu: Map<string, GpuTensor>,
  ) {
    const groups = streamGroups([...host].map(([n, t]) => [n, t.shape] as const), ctx.pageBytes);
    checkBudget(groups, budget);
    for (const [key, g] of groups) this.groups.set(key, { key, ...g, resident: false, used: 0 });
  }

  /** Every weight's f32 bytes, resident or not. */
  get totalBytes(): number {
    let s = 0;
    for (const g of this.groups.values()) s += g.bytes;
    return s;
  }

  has(name: string): boolean {
    return this.host.has(name);
  }

  /** Every streamed tensor's name. */
  names(): string[] {
    return [...this.host.keys()];
  }

  shape(name: string): number[] | undefined {
    return this.host.get(name)?.shape;
  }

  isResident(name: string): boolean {
    return this.gpu.has(name);
  }

  /** A copy of the host values (only current when the tensor is not dirty). */
  hostValues(name: string): Float32Array<ArrayBuffer> {
    const t = this.host.get(name);
    if (!t) throw new Error(`internal: weight ${name} not loaded`);
    if (this.dirty.has(name)) throw new Error(`internal: ${name} was changed on the GPU and not flushed`);
    return Float32Array.from(t.data);
  }

  /** New values for a whole tensor (the GPU copy, if resident, is written by the caller). */
  setHost(name: string, data: Float32Array<ArrayBuffer>): void {
    const t = this.host.get(name);
    if (!t) throw new Error(`internal: weight ${name} not loaded`);
    t.data.set(data);
    this.dirty.delete(name);
  }

  /** The tensor on the GPU, its group uploaded (and others evicted) if it was not. */
  ensure(name: string): GpuTensor {
    const g = this.groups.get(groupOf(name));
    if (!g || !this.host.has(name)) throw new Error(`internal: weight ${name} not loaded`);
    if (!g.resident) this.bringIn(g);
    g.used = ++this.clock;
    return this.gpu.get(name)!;
  }

  /** The tensor will be changed on the GPU: flush() must read it back before its group can leave. */
  markDirty(name: string): void {
    this.dirty.add(name);
  }

  /** Read every dirty tensor back to the host. */
  async flush(): Promise<void> {
    for (const name of [...this.dirty]) {
      const t = this.gpu.get(name)!;
      const data = await readTensor(this.ctx, t);
      this.host.get(name)!.data.set(data);
      this.dirty.delete(name);
    }
  }

  /** Every resident group off the GPU (the model is being unloaded). */
  release(): void {
    for (const g of this.groups.values()) if (g.resident) this.evict(g, true);
  }

  private bringIn(g: Group): void {
    const others = [...this.groups.values()].filter((o) => o.resident && o !== g).sort((a, b) => a.used - b.used);
    let submitted = false;
    while (this.residentBytes + g.bytes > this.budget) {
      const victim = others.shift();
      if (!victim) break; // the constructor checked that the largest group fits alone
      // Work already recorded may read the victim's buffers: it must reach the GPU first.
      if (!submitted) {
        this.ctx.submit();
        submitted = true;
      }
      this.evict(victim, false);
    }
    for (const name of g.names) {
      const t = this.host.get(name)!;
      this.gpu.set(name, uploadTensor(this.ctx, t.data, t.shape, name));
      this.uploadedBytes += t.data.byteLength;
    }
    g.resident = true;
    this.residentBytes += g.bytes;
    this.peakResidentBytes = Math.max(this.peakResidentBytes, this.residentBytes);
  }

  private evict(g: Group, force: boolean): void {
    const lost = g.names.filter((n) => this.dirty.has(n));
    if (lost.length && !force) throw new Error(`internal: evicting ${g.key} would lose the changed weights ${lost.join(', ')} (not flushed)`);
    for (const name of g.names) {
      destroyTensor(this.ctx, this.gpu.get(name));
      this.gpu.delete(name);
    }
    g.resident = false;
    this.residentBytes -= g.bytes;
  }
}
