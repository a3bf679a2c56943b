// Run the pruned model with sparse kernels: for each pruned linear weight, encode it in a format
// and route the forward pass's linear layers to the sparse kernels. 'auto' measures, once per
// device, shape and sparsity, the dense kernel and every applicable format for decode (T = 1) and
// prefill (T = 128), and remembers the fastest for each regime.
import type { GpuContext } from '../gpu/context';
import * as op from '../gpu/ops';
import type { GpuModel } from '../nn/model';
import { type FormatName, FORMATS, countNonzeros, encode, formatBytes, is24 } from '../model/sparse-formats';
import { type GpuSparse, destroySparse, uploadSparse } from './gpu';
import { GEMV_MAX_T, sparseLinear } from './kernels';

export type SparseMode = 'dense' | 'auto' | Exclude<FormatName, 'dense'>;

/** The choice for one weight: a format per regime (null = the dense kernel). */
export interface SparseChoice {
  name: string;
  N: number;
  K: number;
  sparsity: number;
  decode: FormatName;
  prefill: FormatName;
  /** Measured ms per call (auto only): format → [decode, prefill]. */
  timings?: Record<string, [number, number]>;
  bytes: Record<string, { disk: number; gpu: number }>;
}

const PREFILL_T = 128;

export async function timeCall(ctx: GpuContext, f: () => void, reps = 3): Promise<number> {
  f();
  await ctx.finish();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  await ctx.finish();
  return (performance.now() - t0) / reps;
}

/** Remembered auto choices, by device-independent key (the cache lives with the engine's device). */
export type ChoiceCache = Map<string, { decode: FormatName; prefill: FormatName; timings: Record<string, [number, number]> }>;

/** The sparse copies installed in each model, for decode (T <= GEMV_MAX_T) and prefill, by weight name. */
const installed = new WeakMap<GpuModel, { decode: Map<string, GpuSparse>; prefill: Map<string, GpuSparse> }>();

function copiesOf(model: GpuModel) {
  let c = installed.get(model);
  if (!c) installed.set(model, (c = { decode: new Map(), prefill: new Map() }));
  return c;
}

/** The sparse copies in use (decode and prefill, by weight name); empty maps when none. */
export function sparseCopies(model: GpuModel): { decode: ReadonlyMap<string, GpuSparse>; prefill: ReadonlyMap<string, GpuSparse> } {
  return copiesOf(model);
}

/** The model runs some linear layers with sparse kernels. */
export function hasSparse(model: GpuModel): boolean {
  const c = installed.get(model);
  return !!c && (c.decode.size > 0 || c.prefill.size > 0);
}

/**
 * Encode the model's pruned weights for `mode` and install them as the model's linear kernels;
 * returns the choices. `names`: canonical weight names to consider (the pruned ones).
 */
export async function applySparse(model: GpuModel, names: string[], mode: SparseMode, cache: ChoiceCache): Promise<SparseChoice[]> {
  const ctx = model.ctx;
  clearSparse(model);
  if (mode === 'dense') return [];
  const choices: SparseChoice[] = [];
  for (const name of names) {
    const t = model.weights.get(name);
    if (!t || t.chunks.length !== 1 || t.shape.length !== 2) continue;
    const [N, K] = t.shape;
    const W = await model.read(name);
    const sparsity = 1 - countNonzeros(W) / W.length;
    const candidates = FORMATS.filter((f) => f !== 'dense' && (f !== '2:4' || is24(W, N, K)));
    const bytes: SparseChoice['bytes'] = {};
    const encoded = new Map<FormatName, GpuSparse>();
    for (const f of mode === 'auto' ? candidates : candidates.filter((c) => c === mode)) {
      // f32 values: the sparse forward computes exactly what dense-with-zeros computes.
      const m = encode(f, W, N, K, 'f32');
      bytes[f] = formatBytes(m);
      encoded.set(f, uploadSparse(ctx, m, `${name}.${f}`));
    }
    if (mode !== 'auto' && !encoded.size) continue; // e.g. 2:4 asked for a weight that is not 2:4
    let decode: FormatName = mode === 'auto' ? 'dense' : mode;
    let prefill: FormatName = decode;
    let timings: Record<string, [number, number]> | undefined;
    if (mode === 'auto') {
      const key = `${N}x${K}@${sparsity.toFixed(2)}:${[...encoded.keys()].join(',')}`;
      let hit = cache.get(key);
      if (!hit) {
        hit = await measure(ctx, t, encoded, N, K);
        cache.set(key, hit);
      }
      ({ decode, prefill, timings } = hit);
    }
    for (const [f, g] of encoded) if (f !== decode && f !== prefill) destroySparse(ctx, g);
    const copies = copiesOf(model);
    if (decode !== 'dense') copies.decode.set(name, encoded.get(decode)!);
    if (prefill !== 'dense') copies.prefill.set(name, encoded.get(prefill)!);
    if (decode !== 'dense' || prefill !== 'dense') {
      model.linearKernels.set(name, (x, bias, y, T, accumulate) => {
        const sp = (T <= GEMV_MAX_T ? copies.decode : copies.prefill).get(name);
        if (!sp) return false;
        sparseLinear(ctx, x, sp, bias, y, T, { accumulate });
        return true;
      });
    }
    choices.push({ name, N, K, sparsity, decode, prefill, timings, bytes });
  }
  return choices;
}

async function measure(ctx: GpuContext, dense: op.GpuTensor, encoded: Map<FormatName, GpuSparse>, N: number, K: number) {
  const x = ctx.storage(PREFILL_T * K * 4, 'auto.x');
  const y = ctx.storage(PREFILL_T * N * 4, 'auto.y');
  try {
    const timings: Record<string, [number, number]> = {
      dense: [await timeCall(ctx, () => op.matmul(ctx, x, dense, undefined, y, 1)), await timeCall(ctx, () => op.matmul(ctx, x, dense, undefined, y, PREFILL_T))],
    };
    for (const [f, g] of encoded) {
      timings[f] = [
        await timeCall(ctx, () => sparseLinear(ctx, x, g, undefined, y, 1)),
        await timeCall(ctx, () => sparseLinear(ctx, x, g, undefined, y, PREFILL_T)),
      ];
    }
    const best = (i: 0 | 1) => Object.entries(timings).sort((a, b) => a[1][i] - b[1][i])[0][0] as FormatName;
    return { decode: best(0), prefill: best(1), timings };
  } finally {
    ctx.destroy(x);
    ctx.destroy(y);
  }
}

/** Drop the sparse copies (after restoring dense or pruning again). */
export function clearSparse(model: GpuModel): void {
  const c = installed.get(model);
  if (!c) return;
  const seen = new Set<GpuSparse>();
  for (const m of [c.decode, c.prefill]) {
    for (const [name, g] of m) {
      seen.add(g);
      model.linearKernels.delete(name);
    }
  }
  for (const g of seen) destroySparse(model.ctx, g);
  c.decode.clear();
  c.prefill.clear();
}
