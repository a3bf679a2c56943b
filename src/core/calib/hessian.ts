// The statistics SparseGPT, Wanda and SparseLLM prune with: for each linear sublayer's input of
// one decoder layer, H = 2/n Σ XᵀX over the calibration windows, accumulated on the GPU as
// SparseGPT's add_batch does (a running mean), one H per distinct input (q/k/v share one, gate/up
// share one), read back once and checked. SparseLLM also keeps each window's MLP input.
import { NumericalError } from '../errors';
import * as op from '../gpu/ops';
import type { CapturePoint } from '../nn/model';
import type { LayerInputs } from './inputs';

export interface InputStats {
  /** H (C, C) on the GPU. */
  h: GPUBuffer;
  /** The same H read back (f32). */
  hCpu: Float32Array;
  C: number;
}

export interface LayerStats {
  byPoint: Map<CapturePoint, InputStats>;
  /**
   * The inputs X (n·T, C) of the capture points asked for (keepInputs), every window's rows in
   * order: where n·T < C, a pruned sublayer's error ‖ΔW Xᵀ‖² costs fewer flops than tr(ΔW H ΔWᵀ).
   */
  inputs: Map<CapturePoint, GPUBuffer>;
  /** Each window's MLP input X (T, hidden) of the dense layer, when asked for. */
  mlpInputs: GPUBuffer[];
}

/** One pass of every window through decoder layer `layer` (as it is now) collecting H at `points`. */
export async function collectHessians(
  inputs: LayerInputs, layer: number, points: ReadonlySet<CapturePoint>, keepMlpInputs = false, keepInputs: ReadonlySet<CapturePoint> = new Set(),
): Promise<LayerStats> {
  const { ctx, spec } = inputs.model;
  const T = inputs.T;
  const n = inputs.windows.length;
  const raw = new Map<CapturePoint, { h: GPUBuffer; C: number }>();
  const mlpInputs: GPUBuffer[] = [];
  const kept = new Map<CapturePoint, GPUBuffer>();
  try {
    if (keepMlpInputs) for (let s = 0; s < n; s++) mlpInputs.push(ctx.storage(T * spec.hidden * 4, `calib.mlp_in.${s}`));
    inputs.run(layer, (s) => (point, input, C) => {
      if (keepMlpInputs && point === 'mlp_in') ctx.copy(input, 0, mlpInputs[s], 0, T * C * 4);
      if (!points.has(point)) return;
      if (keepInputs.has(point)) {
        let x = kept.get(point);
        if (!x) kept.set(point, (x = ctx.storage(n * T * C * 4, `calib.x.${point}`)));
        ctx.copy(input, 0, x, s * T * C * 4, T * C * 4);
      }
      let g = raw.get(point);
      if (!g) {
        g = { h: ctx.storage(C * C * 4, `H.${point}`), C };
        raw.set(point, g);
      }
      // Running mean, as SparseGPT's add_batch: H ← H·s/(s+1) + 2/(s+1) · XᵀX.
      op.hessian(ctx, input, g.h, T, C, s / (s + 1), 2 / (s + 1));
    });
    const byPoint = new Map<CapturePoint, InputStats>();
    for (const [point, g] of raw) {
      const hCpu = await ctx.read(g.h, 0, g.C * g.C * 4);
      if (!hCpu.every(Number.isFinite)) {
        throw new NumericalError(`The calibration statistics of layer ${layer} (${point}) contain NaN or Inf: the model's activations overflow on this text.`);
      }
      byPoint.set(point, { ...g, hCpu });
    }
    return { byPoint, mlpInputs, inputs: kept };
  } catch (e) {
    for (const g of raw.values()) ctx.destroy(g.h);
    mlpInputs.forEach((b) => ctx.destroy(b));
    kept.forEach((b) => ctx.destroy(b));
    throw e;
  }
}

export function releaseStats(inputs: LayerInputs, st: LayerStats): void {
  for (const g of st.byPoint.values()) inputs.model.ctx.destroy(g.h);
  st.byPoint.clear();
  for (const b of st.mlpInputs) inputs.model.ctx.destroy(b);
  st.mlpInputs.length = 0;
  for (const b of st.inputs.values()) inputs.model.ctx.destroy(b);
  st.inputs.clear();
}
