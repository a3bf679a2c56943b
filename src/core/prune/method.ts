// The common shape of a pruning method: given one linear sublayer's weight on the GPU (pruned in
// place), its dense copy on the CPU and the calibration statistics of its input, prune to a target.
import type { GpuContext } from '../gpu/context';
import { type Factorisation, type Target, defaultFactorisation } from '../options';

export interface SublayerStats {
  /** H = 2/n Σ XᵀX over the calibration sequences, on the GPU: (C, C). */
  h: GPUBuffer;
  /** The same H read back (f32), shared by the sublayers that read the same input. */
  hCpu: Float32Array;
  C: number;
}

export interface MethodInput {
  ctx: GpuContext;
  /** The weight (R, C) on the GPU, pruned in place. */
  w: GPUBuffer;
  R: number;
  C: number;
  /** Dense weights (R, C), untouched. */
  dense: Float32Array;
  stats: SublayerStats;
  target: Target;
  percdamp: number;
  blocksize: number;
  /** Where H is factorised (SparseGPT; default: defaultFactorisation of the adapter). */
  factorisation?: Factorisation;
  /**
   * Where magnitude's and Wanda's masks are chosen (the same masks either way, from f32 scores on
   * the GPU; default as the factorisation: the GPU on a hardware adapter, the CPU on a software one).
   */
  selectOn?: Factorisation;
  /**
   * SparseGPT's factor of H per statistics buffer, shared by the sublayers that read the same input
   * (q/k/v, gate/up): the first factorises, the others reuse it. The driver owns it (one per layer).
   */
  factors?: FactorCache;
}

/** What SparseGPT prepares from one H: the factor on the GPU, the dampening used, the dead inputs. */
export interface PreparedFactor {
  hinv: GPUBuffer;
  hinvT: GPUBuffer;
  diag: ArrayLike<number>;
  damp: number;
  note?: string;
  dead: number[];
}

export type FactorCache = Map<GPUBuffer, PreparedFactor>;

/** Destroy every cached factor's buffers and empty the cache. */
export function releaseFactors(ctx: GpuContext, cache: FactorCache): void {
  for (const f of cache.values()) {
    ctx.destroy(f.hinv);
    ctx.destroy(f.hinvT);
  }
  cache.clear();
}

export interface MethodResult {
  damp?: number;
  note?: string;
  /** Seconds spent factorising H and sweeping (SparseGPT). */
  factorisation?: number;
  /** H was factorised for this sublayer (not taken from the shared cache). */
  factorised?: boolean;
  sweep?: number;
}

export type PruneFn = (m: MethodInput) => Promise<MethodResult>;

/** Write dense·(1 − mask) to the GPU weight. */
export function applyMask(m: MethodInput, mask: Uint8Array): void {
  const out = Float32Array.from(m.dense);
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0;
  m.ctx.device.queue.writeBuffer(m.w, 0, out);
}

/** Whether this input's mask is chosen on the GPU (selectOn, else the adapter's default). */
export function selectsOnGpu(m: MethodInput): boolean {
  return (m.selectOn ?? defaultFactorisation(m.ctx.adapter.isSoftware)) === 'gpu';
}
