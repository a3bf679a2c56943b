// The sequential pruning driver, as in the published code (sparsegpt's *_sequential, wanda's
// prune_wanda): the calibration windows are embedded once; then for each decoder layer i
//   1. one pass of every calibration sequence through the DENSE layer i collects the statistics
//      (H = 2/n Σ XᵀX) of the input of each linear sublayer (q/k/v share one, gate/up share one);
//   2. every linear sublayer of layer i is pruned;
//   3. layer i's outputs are recomputed with the pruned weights and become layer i+1's inputs.
// Embeddings, norms and the LM head are not pruned. The dense weights of every pruned sublayer
// are kept (DenseBackup) so a cancelled or failed run can put the model back to fully dense.
import { Cancelled, NumericalError, TooLargeForDevice, throwIfCancelled } from '../errors';
import type { GpuTensor } from '../gpu/ops';
import * as op from '../gpu/ops';
import { fmtBytes } from '../gpu/context';
import { type CapturePoint, type GpuModel, capturePointOf } from '../nn/model';
import { type ModelSpec, linearNames, linearShape } from '../model/spec';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../model/dtypes';
import type { ProgressFn } from '../types';
import { magnitude } from './magnitude';
import type { MethodResult, PruneFn, SublayerStats } from './method';
import { type SparseLlmMlpResult, mlpKind, resolveSparseLlmOptions, sparsellmMlp } from './sparsellm';
import { sparsegpt } from './sparsegpt';
import { type PhaseTimes, type PruneOptions, type PruneReport, type SublayerReport, type Target, checkOverrides, checkTarget, checkTargetFits } from './types';
import { wanda } from './wanda';

function roundTo(x: Float32Array, dtype: 'F16' | 'BF16'): void {
  const enc = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  const dec = dtype === 'F16' ? f16ToF32 : bf16ToF32;
  for (let i = 0; i < x.length; i++) x[i] = dec(enc(x[i]));
}

// SparseLLM prunes attention with SparseGPT; its MLPs go through sparsellmMlp (not a per-sublayer PruneFn).
const METHOD_FNS: Record<PruneOptions['method'], PruneFn> = { magnitude, wanda, sparsegpt, sparsellm: sparsegpt };
const now = () => performance.now();

/** Dense copies of the weights a run modified, by canonical weight name. */
export type DenseBackup = Map<string, Float32Array<ArrayBuffer>>;

/** Put every backed-up weight back (the model becomes fully dense again). */
export function restoreDense(model: GpuModel, backup: DenseBackup): void {
  for (const [name, data] of backup) if (model.weights.has(name)) model.write(name, data);
}

function targetFor(name: string, opts: PruneOptions): Target {
  const o = opts.overrides ?? {};
  const short = name.replace(/^layers\.\d+\./, '');
  return checkTarget(o[name] ?? o[short] ?? opts.target);
}

/** Σ_ij (A H)_ij A_ij = tr(A H Aᵀ) for A: (R, C) on the CPU and H: (C, C) on the GPU. */
async function quadForm(model: GpuModel, a: Float32Array, R: number, C: number, h: GPUBuffer): Promise<number> {
  const ctx = model.ctx;
  const A = ctx.upload(a, 'relerr.a');
  const AH = ctx.storage(R * C * 4, 'relerr.ah');
  try {
    op.gemmStrided(ctx, A, h, AH, { T: R, N: C, K: C, ldw: C, wOff: 0, ldy: C, yCol0: 0 });
    const ah = await ctx.read(AH, 0, R * C * 4);
    let s = 0;
    for (let i = 0; i < ah.length; i++) s += ah[i] * a[i];
    return s;
  } finally {
    ctx.destroy(A);
    ctx.destroy(AH);
  }
}

/**
 * Every check of the options against the model that can fail before any work starts (nothing is
 * half-done on refusal): the target, override names, and each sublayer's fit for N:M.
 */
export function checkPruneOptions(spec: ModelSpec, opts: PruneOptions): void {
  const skip = new Set(opts.skipLayers ?? []);
  const blocksize = opts.blocksize ?? 128;
  checkTarget(opts.target);
  // SparseLLM: an MLP it has closed-form updates for (ReLU or SiLU-gated), and valid options.
  if (opts.method === 'sparsellm') resolveSparseLlmOptions(mlpKind(spec), opts.sparsellm);
  if (opts.overrides) {
    const pruned: string[] = [];
    for (let i = 0; i < spec.nLayers; i++) if (!skip.has(i)) pruned.push(...linearNames(spec, i));
    checkOverrides(opts.overrides, pruned);
  }
  for (let i = 0; i < spec.nLayers; i++) {
    if (skip.has(i)) continue;
    for (const name of linearNames(spec, i)) checkTargetFits(targetFor(name, opts), name, linearShape(spec, name)[1], blocksize);
  }
}

export async function pruneModel(
  model: GpuModel,
  windows: number[][],
  opts: PruneOptions,
  backup: DenseBackup,
  onProgress?: ProgressFn,
  signal?: AbortSignal,
): Promise<PruneReport> {
  const { ctx, spec } = model;
  const start = now();
  const method = METHOD_FNS[opts.method];
  const percdamp = opts.percdamp ?? 0.01;
  const blocksize = opts.blocksize ?? 128;
  const skip = new Set(opts.skipLayers ?? []);
  const T = windows[0].length;
  const n = windows.length;
  const layers: SublayerReport[] = [];
  const phases: PhaseTimes[] = [];
  const warnings: string[] = [];
  checkPruneOptions(spec, opts);
  // Each pruned weight must be one GPU binding (the methods do not work on pages yet): refuse
  // before any work, with the numbers, rather than after the first layers.
  for (let i = 0; i < spec.nLayers; i++) {
    if (skip.has(i)) continue;
    for (const name of linearNames(spec, i)) {
      const wt = model.weights.get(`${name}.weight`);
      if (wt && wt.chunks.length !== 1) {
        const [R, C] = linearShape(spec, name);
        throw new TooLargeForDevice(
          `${name} (${R} × ${C}, ${fmtBytes(R * C * 4)} in f32) is larger than one GPU binding (${fmtBytes(ctx.pageBytes)} here); pruning a weight in pieces is not supported yet. Skip this layer or use a GPU with a larger maxStorageBufferBindingSize.`,
        );
      }
    }
  }

  const sllm = opts.method === 'sparsellm';
  /** SparseLLM: the dense MLP input of each calibration window for the current layer. */
  const xs: GPUBuffer[] = [];
  const ws = model.allocate(T);
  const inps: GPUBuffer[] = [];
  const groups = new Map<CapturePoint, { h: GPUBuffer; C: number }>();
  try {
    await ctx.checked('allocating calibration activations', () => {
      for (let s = 0; s < n; s++) inps.push(ctx.storage(T * spec.hidden * 4, `calib.${s}`));
    });
  } catch (e) {
    model.release(ws);
    inps.forEach((b) => ctx.destroy(b));
    if (e instanceof TooLargeForDevice) {
      throw new TooLargeForDevice(
        `Calibration activations need ${n} × ${T} × ${spec.hidden} × 4 bytes = ${((n * T * spec.hidden * 4) / 2 ** 20).toFixed(1)} MiB, which this GPU could not allocate. Use fewer samples or a shorter sequence length. (${e.message})`,
      );
    }
    throw e;
  }
  const total = spec.nLayers * linearNames(spec, 0).length;
  let done = 0;
  try {
    for (let s = 0; s < n; s++) {
      model.embed(ws, windows[s]);
      ctx.copy(ws.x, 0, inps[s], 0, T * spec.hidden * 4);
      ctx.submit();
    }
    for (let i = 0; i < spec.nLayers; i++) {
      throwIfCancelled(signal);
      const times: PhaseTimes = { statistics: 0, factorisation: 0, sweep: 0, reforward: 0 };
      const names = linearNames(spec, i);
      if (!skip.has(i)) {
        // 1. Statistics of each sublayer input over the dense layer.
        onProgress?.({ phase: 'prune', done, total, detail: `layer ${i + 1}/${spec.nLayers} · collecting statistics` });
        let t = now();
        groups.clear();
        const need = new Set(names.map(capturePointOf));
        // SparseLLM keeps each window's MLP input X (T, hidden) of the dense layer.
        if (sllm) for (let s = 0; s < n; s++) xs.push(ctx.storage(T * spec.hidden * 4, `sparsellm.x.${s}`));
        for (let s = 0; s < n; s++) {
          ctx.copy(inps[s], 0, ws.x, 0, T * spec.hidden * 4);
          model.layer(ws, i, {
            capture: (point, input, C) => {
              if (sllm && point === 'mlp_in') ctx.copy(input, 0, xs[s], 0, T * C * 4);
              if (!need.has(point)) return;
              let g = groups.get(point);
              if (!g) {
                g = { h: ctx.storage(C * C * 4, `H.${point}`), C };
                groups.set(point, g);
              }
              // Running mean, as SparseGPT's add_batch: H ← H·s/(s+1) + 2/(s+1) · XᵀX.
              op.hessian(ctx, input, g.h, T, C, s / (s + 1), 2 / (s + 1));
            },
          });
          ctx.submit();
        }
        const hCpu = new Map<CapturePoint, Float32Array>();
        for (const [point, g] of groups) {
          const h = await ctx.read(g.h, 0, g.C * g.C * 4);
          if (!h.every(Number.isFinite)) {
            throw new NumericalError(`The calibration statistics of layer ${i} (${point}) contain NaN or Inf: the model's activations overflow on this text.`);
          }
          hCpu.set(point, h);
        }
        times.statistics = (now() - t) / 1000;

        // 2. Prune each linear sublayer.
        let mlpResult: SparseLlmMlpResult | null = null;
        const runSparseLlm = async (layer: number): Promise<SparseLlmMlpResult> => {
          const part = (sub: 'up' | 'gate' | 'down') => {
            const nm = `layers.${layer}.mlp.${sub}`;
            const w = model.weights.get(`${nm}.weight`) as GpuTensor;
            return { w, bias: model.weights.get(`${nm}.bias`), dense: backup.get(`${nm}.weight`)!, target: targetFor(nm, opts) };
          };
          // Dense copies of the MLP weights first: a failure restores them like any other run.
          for (const sub of spec.gatedMlp ? (['gate', 'up', 'down'] as const) : (['up', 'down'] as const)) {
            const nm = `layers.${layer}.mlp.${sub}`;
            if (!backup.has(`${nm}.weight`)) backup.set(`${nm}.weight`, await model.read(`${nm}.weight`));
          }
          try {
            return await sparsellmMlp({
              ctx, kind: mlpKind(spec), C: spec.hidden, F: spec.ffn, T, xs, up: part('up'), down: part('down'),
              ...(spec.gatedMlp ? { gate: part('gate') } : {}), percdamp, blocksize, options: opts.sparsellm, signal,
              onProgress: (d) => onProgress?.({ phase: 'prune', done, total, detail: `layer ${layer + 1}/${spec.nLayers} · SparseLLM ${d}` }),
            });
          } catch (e) {
            throw e instanceof NumericalError ? new NumericalError(`layers.${layer}.mlp: ${e.message}`) : e;
          }
        };
        for (const name of names) {
          throwIfCancelled(signal);
          const [R, C] = linearShape(spec, name);
          const wt = model.weights.get(`${name}.weight`) as GpuTensor;
          if (wt.chunks.length !== 1) {
            throw new TooLargeForDevice(`${name} (${R} × ${C}) is larger than one GPU binding; pruning it in pieces is not supported yet.`);
          }
          const point = capturePointOf(name);
          const g = groups.get(point)!;
          const stats: SublayerStats = { h: g.h, hCpu: hCpu.get(point)!, C };
          const dense = backup.get(`${name}.weight`) ?? (await model.read(`${name}.weight`));
          backup.set(`${name}.weight`, dense);
          const target = targetFor(name, opts);
          t = now();
          let res: MethodResult;
          if (sllm && name.startsWith(`layers.${i}.mlp.`)) {
            // The whole MLP at once, on its first sublayer; the others take their part of the result.
            mlpResult ??= await runSparseLlm(i);
            res = name.endsWith('.gate') ? mlpResult.gate! : name.endsWith('.up') ? mlpResult.up : mlpResult.down;
          } else {
            res = await method({ ctx, w: wt.chunks[0].buffer, R, C, dense, stats, target, percdamp, blocksize }).catch((e: unknown) => {
              // Name the sublayer: "layers.2.mlp.down: SparseGPT: H + λI is not positive definite…".
              throw e instanceof NumericalError ? new NumericalError(`${name}: ${e.message}`) : e;
            });
          }
          const pruned = await model.read(`${name}.weight`);
          const dtype = model.dtypes.get(`${name}.weight`);
          if (dtype === 'F16' || dtype === 'BF16') {
            // As SparseGPT does (W.to(layer dtype)): updated weights are rounded to the storage
            // dtype, so the exported model computes exactly what was measured here.
            roundTo(pruned, dtype);
            model.write(`${name}.weight`, pruned);
          }
          times.factorisation += res.factorisation ?? 0;
          times.sweep += res.sweep ?? (now() - t) / 1000;
          let zeros = 0;
          const delta = new Float32Array(R * C);
          for (let k = 0; k < pruned.length; k++) {
            if (pruned[k] === 0) zeros++;
            delta[k] = dense[k] - pruned[k];
          }
          if (!pruned.every(Number.isFinite)) throw new NumericalError(`Pruning ${name} produced NaN or Inf weights.`);
          const num = await quadForm(model, delta, R, C, g.h);
          const den = await quadForm(model, dense, R, C, g.h);
          if (!Number.isFinite(num) || !Number.isFinite(den)) {
            throw new NumericalError(`${name}: the reconstruction error overflows float32 (‖WX‖² is ${den}); the weights or calibration activations of this sublayer are too large.`);
          }
          const report: SublayerReport = { name, sparsity: zeros / (R * C), rel_error: den > 0 ? num / den : 0 };
          if (res.damp !== undefined) report.damp = res.damp;
          if (mlpResult && name.endsWith('.mlp.down')) {
            report.history = mlpResult.history.map((h) => h.relError);
            report.kept = mlpResult.kept;
          }
          if (res.note) {
            report.note = res.note;
            warnings.push(`${name}: ${res.note}`);
          }
          layers.push(report);
          done++;
          onProgress?.({ phase: 'prune', done, total, detail: `layer ${i + 1}/${spec.nLayers} · ${name.replace(/^layers\.\d+\./, '')}` });
        }
        for (const g of groups.values()) ctx.destroy(g.h);
        groups.clear();
        xs.forEach((b) => ctx.destroy(b));
        xs.length = 0;
      } else {
        done += names.length;
        onProgress?.({ phase: 'prune', done, total, detail: `layer ${i + 1}/${spec.nLayers} skipped` });
      }
      // 3. Recompute this layer's outputs with the pruned weights.
      const t = now();
      for (let s = 0; s < n; s++) {
        ctx.copy(inps[s], 0, ws.x, 0, T * spec.hidden * 4);
        model.layer(ws, i);
        ctx.copy(ws.x, 0, inps[s], 0, T * spec.hidden * 4);
        ctx.submit();
      }
      await ctx.finish();
      times.reforward = (now() - t) / 1000;
      phases.push(times);
    }
  } catch (e) {
    // Never leave a half-pruned model: put every modified weight back.
    restoreDense(model, backup);
    await ctx.finish().catch(() => undefined);
    throw e instanceof Cancelled ? new Cancelled('Pruning was cancelled; the model is back to its dense weights.') : e;
  } finally {
    for (const g of groups.values()) ctx.destroy(g.h);
    xs.forEach((b) => ctx.destroy(b));
    inps.forEach((b) => ctx.destroy(b));
    model.release(ws);
  }
  let zeros = 0;
  let count = 0;
  for (const l of layers) {
    const [R, C] = linearShape(spec, l.name);
    zeros += l.sparsity * R * C;
    count += R * C;
  }
  return {
    method: opts.method,
    target: opts.target,
    sparsity: count ? zeros / count : 0,
    layers,
    seconds: (now() - start) / 1000,
    phases,
    warnings,
  };
}
