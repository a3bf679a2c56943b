// The "Speed & size" measurements for the loaded (pruned) model, on this device: for each weight
// shape, time per call of the dense kernel and of each applicable sparse format for decode (GEMV,
// T = 1) and prefill (GEMM, T = 128), the GB/s and GFLOP/s they reach, bytes per format on disk
// and in GPU memory, and end-to-end greedy decode tokens/s dense against the auto-selected sparse
// kernels. Everything is measured when asked; nothing is estimated.
import { throwIfCancelled } from '../errors';
import { generateGreedy } from '../eval/generate';
import * as op from '../gpu/ops';
import type { GpuModel } from '../nn/model';
import type { ProgressFn } from '../types';
import { type FormatName, FORMATS, countNonzeros, encode, formatBytes, is24 } from '../model/sparse-formats';
import { destroySparse, uploadSparse } from './gpu';
import { sparseLinear } from './kernels';
import { type ChoiceCache, applySparse, clearSparse, hasSparse, timeCall } from './select';

export interface SpeedRow {
  shape: string;
  N: number;
  K: number;
  /** Sublayers of the model with this shape. */
  count: number;
  sparsity: number;
  format: FormatName;
  bytes: { disk: number; gpu: number };
  gemv_ms: number;
  gemm_ms: number;
  /** Bytes of the weight read per call / time. */
  gemv_gbps: number;
  /** Dense-equivalent 2·T·N·K / time. */
  gemm_gflops: number;
  speedup_gemv: number;
  speedup_gemm: number;
}

export interface SpeedReport {
  rows: SpeedRow[];
  decode: { tokens: number; dense_tokens_per_s: number; sparse_tokens_per_s: number; same_tokens: boolean };
}

const T_PREFILL = 128;

export async function speedReport(
  model: GpuModel,
  pruned: string[],
  cache: ChoiceCache,
  opts: { decodeTokens?: number; reps?: number } = {},
  onProgress?: ProgressFn,
  signal?: AbortSignal,
): Promise<SpeedReport> {
  const ctx = model.ctx;
  const reps = opts.reps ?? (ctx.adapter.isSoftware ? 2 : 10);
  const byShape = new Map<string, string[]>();
  for (const name of pruned) {
    const t = model.weights.get(name);
    if (!t || t.chunks.length !== 1) continue;
    const key = t.shape.join('x');
    byShape.set(key, [...(byShape.get(key) ?? []), name]);
  }
  const rows: SpeedRow[] = [];
  let k = 0;
  for (const [shape, names] of byShape) {
    throwIfCancelled(signal);
    const t = model.weights.get(names[0])!;
    const [N, K] = t.shape;
    const W = await model.read(names[0]);
    const sparsity = 1 - countNonzeros(W) / W.length;
    const x = ctx.storage(T_PREFILL * K * 4, 'speed.x');
    const y = ctx.storage(T_PREFILL * N * 4, 'speed.y');
    try {
      const dense = [
        await timeCall(ctx, () => op.matmul(ctx, x, t, undefined, y, 1), reps),
        await timeCall(ctx, () => op.matmul(ctx, x, t, undefined, y, T_PREFILL), reps),
      ];
      const denseBytes = N * K * 4;
      const row = (format: FormatName, bytes: { disk: number; gpu: number }, ms: number[]): SpeedRow => ({
        shape, N, K, count: names.length, sparsity, format, bytes,
        gemv_ms: ms[0], gemm_ms: ms[1], gemv_gbps: bytes.gpu / ms[0] / 1e6, gemm_gflops: (2 * T_PREFILL * N * K) / ms[1] / 1e6,
        speedup_gemv: dense[0] / ms[0], speedup_gemm: dense[1] / ms[1],
      });
      rows.push(row('dense', { disk: denseBytes, gpu: denseBytes }, dense));
      for (const f of FORMATS.filter((f) => f !== 'dense' && (f !== '2:4' || is24(W, N, K)))) {
        const m = encode(f, W, N, K, 'f32');
        const g = uploadSparse(ctx, m, `speed.${f}`);
        try {
          const ms = [
            await timeCall(ctx, () => sparseLinear(ctx, x, g, undefined, y, 1), reps),
            await timeCall(ctx, () => sparseLinear(ctx, x, g, undefined, y, T_PREFILL), reps),
          ];
          rows.push(row(f, formatBytes(m), ms));
        } finally {
          destroySparse(ctx, g);
        }
      }
    } finally {
      ctx.destroy(x);
      ctx.destroy(y);
    }
    onProgress?.({ phase: 'speed', done: ++k, total: byShape.size + 2, detail: `kernels for ${shape}` });
  }
  // End to end: greedy decode from BOS-like token 0 with the KV cache, dense vs auto.
  const n = opts.decodeTokens ?? 16;
  const start = [model.spec.bosTokenId ?? 0];
  const wasSparse = hasSparse(model);
  clearSparse(model);
  await generateGreedy(model, start, 2, null, signal);
  let t0 = performance.now();
  const denseIds = await generateGreedy(model, start, n, null, signal);
  const denseS = (performance.now() - t0) / 1000;
  onProgress?.({ phase: 'speed', done: ++k, total: byShape.size + 2, detail: 'decode, dense' });
  await applySparse(model, pruned, 'auto', cache);
  await generateGreedy(model, start, 2, null, signal);
  t0 = performance.now();
  const sparseIds = await generateGreedy(model, start, n, null, signal);
  const sparseS = (performance.now() - t0) / 1000;
  if (!wasSparse) clearSparse(model);
  onProgress?.({ phase: 'speed', done: ++k, total: byShape.size + 2, detail: 'decode, sparse' });
  return {
    rows,
    decode: { tokens: n, dense_tokens_per_s: n / denseS, sparse_tokens_per_s: n / sparseS, same_tokens: denseIds.join() === sparseIds.join() },
  };
}
