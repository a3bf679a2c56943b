// Per-column activation statistics over the calibration windows, for structured (contextual)
// pruning: at each decoder layer's MLP down-projection input (one column per neuron, F) and
// attention output-projection input (one column per head dimension, nHeads · headDim), the sums
// Σ|x| and Σx² over every token of every window (shaders/col_abs_stats.wgsl), read back once.
import { BadOption, NumericalError, throwIfCancelled } from '../errors';
import { colAbsStats } from '../gpu/ops-contextual';
import type { GpuModel } from '../nn/model';

export interface ColumnStats {
  /** Tokens summed over. */
  tokens: number;
  /** Per layer: [Σ|x| (F) | Σx² (F)] at down_in. */
  down: Float32Array[];
  /** Per layer: [Σ|x| (Q) | Σx² (Q)] at o_in, Q = nHeads · headDim. */
  attn: Float32Array[];
}

/** One dense pass of every window through the whole model; `onWindow(s)` after window s. */
export async function collectColumnStats(model: GpuModel, windows: number[][], onWindow?: (s: number) => void, signal?: AbortSignal): Promise<ColumnStats> {
  const { ctx, spec } = model;
  if (windows.length === 0) throw new BadOption('Contextual pruning needs at least one calibration window of domain text.');
  const T = windows[0].length;
  if (T < 1 || windows.some((w) => w.length !== T)) throw new BadOption('Calibration windows must all have the same, non-zero length.');
  const V = spec.vocabSize;
  for (const w of windows) for (const id of w) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new BadOption(`Token id ${id} is outside the model's vocabulary (0..${V - 1}).`);
  const F = spec.ffn, Q = spec.nHeads * spec.headDim, L = spec.nLayers;
  const ws = model.allocate(T);
  const down: GPUBuffer[] = [];
  const att: GPUBuffer[] = [];
  try {
    // (2, F) and (2, Q) per layer; WebGPU zero-initialises new buffers.
    await ctx.checked('allocating contextual statistics', () => {
      for (let i = 0; i < L; i++) {
        down.push(ctx.storage(2 * F * 4, `ctx.down.${i}`));
        att.push(ctx.storage(2 * Q * 4, `ctx.o.${i}`));
      }
    });
    for (let s = 0; s < windows.length; s++) {
      throwIfCancelled(signal);
      model.embed(ws, windows[s]);
      ctx.submit();
      for (let i = 0; i < L; i++) {
        model.layer(ws, i, {
          capture: (point, input, C) => {
            if (point === 'down_in') colAbsStats(ctx, input, down[i], T, C);
            else if (point === 'o_in') colAbsStats(ctx, input, att[i], T, C);
          },
        });
        ctx.submit();
      }
      await ctx.finish();
      onWindow?.(s);
    }
    const out: ColumnStats = { tokens: windows.length * T, down: [], attn: [] };
    for (let i = 0; i < L; i++) {
      const sd = await ctx.read(down[i], 0, 2 * F * 4);
      const so = await ctx.read(att[i], 0, 2 * Q * 4);
      if (!sd.every(Number.isFinite) || !so.every(Number.isFinite)) {
        throw new NumericalError(`The activations of layer ${i} overflow on this text (NaN or Inf in the contextual statistics).`);
      }
      out.down.push(sd);
      out.attn.push(so);
    }
    return out;
  } finally {
    model.release(ws);
    down.forEach((b) => ctx.destroy(b));
    att.forEach((b) => ctx.destroy(b));
  }
}
