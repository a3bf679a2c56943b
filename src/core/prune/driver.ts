// The sequential pruning driver, as in the published code (sparsegpt's *_sequential, wanda's
// prune_wanda): the calibration windows are embedded once (calib/inputs.ts); then for each decoder
// layer i
//   1. one pass of every calibration sequence through the DENSE layer i collects the statistics
//      of the input of each linear sublayer (calib/hessian.ts: H = 2/n Σ XᵀX; q/k/v share one,
//      gate/up share one);
//   2. every linear sublayer of layer i is pruned by the method (SparseLLM: attention by
//      SparseGPT, the whole MLP at once), and its report made;
//   3. layer i's outputs are recomputed with the pruned weights and become layer i+1's inputs.
// Embeddings, norms and the LM head are not pruned. The dense weights of every pruned sublayer
// are kept (DenseBackup) so a cancelled or failed run can put the model back to fully dense.
import { collectHessians, releaseStats, type LayerStats } from '../calib/hessian';
import { LayerInputs } from '../calib/inputs';
import { Cancelled, NumericalError, TooLargeForDevice, throwIfCancelled } from '../errors';
import * as op from '../gpu/ops';
import { sumsq, sumsqGroups } from '../gpu/ops-train';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../model/dtypes';
import { type ModelSpec, linearNames, linearShape, weightedSparsity } from '../model/spec';
import { type GpuModel, capturePointOf } from '../nn/model';
import { OPTIONS, checkOption } from '../options';
import type { ProgressFn } from '../types';
import { magnitude } from './magnitude';
import { type FactorCache, type MethodResult, type PruneFn, releaseFactors } from './method';
import { type SparseLlmMlpResult, mlpKind, resolveSparseLlmOptions, sparsellmMlp } from './sparsellm';
import { sparsegpt } from './sparsegpt';
import { type PhaseTimes, type PruneOptions, type PruneReport, type SublayerReport, type Target, checkOverrides, checkTarget, checkTargetFits } from './types';
import { wanda } from './wanda';
import { formatBytes, now } from '../units';

// SparseLLM prunes attention with SparseGPT; its MLPs go through sparsellmMlp (not a per-sublayer PruneFn).
const METHOD_FNS: Record<PruneOptions['method'], PruneFn> = { magnitude, wanda, sparsegpt, sparsellm: sparsegpt };

/** Dense copies of the weights a run modified, by canonical weight name. */
export type DenseBackup = Map<string, Float32Array<ArrayBuffer>>;

/** Put every backed-up weight back (the model becomes fully dense again). */
export function restoreDense(model: GpuModel, backup: DenseBackup): void {
  for (const [name, data] of backup) if (model.has(name)) model.write(name, data);
}

function targetFor(name: string, opts: PruneOptions): Target {
  const o = opts.overrides ?? {};
  const short = name.replace(/^layers\.\d+\./, '');
  return checkTarget(o[name] ?? o[short] ?? opts.target);
}

function roundTo(x: Float32Array, dtype: 'F16' | 'BF16'): void {
  const enc = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  const dec = dtype === 'F16' ? f16ToF32 : bf16ToF32;
  for (let i = 0; i < x.length; i++) x[i] = dec(enc(x[i]));
}

/**
 * How a sublayer's reconstruction error is computed: from H, tr(ΔW H ΔWᵀ) (R·C² multiply-adds), or
 * from the kept calibration inputs X (n·T, C), ‖X ΔWᵀ‖² (n·T·R·C): the cheaper one. The two are
 * equal up to rounding (H = 2/n Σ XᵀX, and the ratio cancels the scale). `errorFormOverride`
 * pins one (tests, benches).
 */
export const errorFormOverride: { form: 'hessian' | 'inputs' | null } = { form: null };

export function errorForm(nT: number, C: number): 'hessian' | 'inputs' {
  return errorFormOverride.form ?? (nT < C ? 'inputs' : 'hessian');
}

/**
 * The quadratic form of A: (R, C) given on the CPU, against the statistics of its input:
 * tr(A H Aᵀ) with H: (C, C) on the GPU, or ‖X Aᵀ‖² with X: (nT, C) on the GPU. One scalar comes back.
 */
async function quadForm(model: GpuModel, a: Float32Array, R: number, C: number, by: { h: GPUBuffer } | { x: GPUBuffer; nT: number }): Promise<number> {
  const ctx = model.ctx;
  const A = ctx.upload(a, 'relerr.a');
  const made = [A];
  try {
    if ('h' in by) {
      // Σ_ij (A H)_ij A_ij: the product read back and dotted with A (A is on the CPU already).
      const AH = ctx.storage(R * C * 4, 'relerr.ah');
      made.push(AH);
      op.gemmStrided(ctx, A, by.h, AH, { T: R, N: C, K: C, ldw: C, wOff: 0, ldy: C, yCol0: 0 });
      const ah = await ctx.read(AH, 0, R * C * 4);
      let s = 0;
      for (let i = 0; i < ah.length; i++) s += ah[i] * a[i];
      return s;
    }
    // Y = X Aᵀ: (nT, R), then the partial sums of Y², added in float64.
    const Y = ctx.storage(by.nT * R * 4, 'relerr.y');
    made.push(Y);
    op.matmul(ctx, by.x, { shape: [R, C], chunks: [{ buffer: A, row0: 0, rows: R }] }, undefined, Y, by.nT);
    const { groups } = sumsqGroups(by.nT * R);
    const P = ctx.storage(groups * 4, 'relerr.partials');
    made.push(P);
    sumsq(ctx, Y, by.nT * R, P, 0);
    const parts = await ctx.read(P, 0, groups * 4);
    let s = 0;
    for (const v of parts) s += v;
    return s;
  } finally {
    for (const b of made) ctx.destroy(b);
  }
}

/**
 * Every check of the options against the model that can fail before any work starts (nothing is
 * half-done on refusal): the ranges, the target, override names, and each sublayer's fit for N:M.
 */
export function checkPruneOptions(spec: ModelSpec, opts: PruneOptions): void {
  const skip = new Set(opts.skipLayers ?? []);
  const blocksize = checkOption(OPTIONS.blocksize, opts.blocksize ?? OPTIONS.blocksize.default);
  checkOption(OPTIONS.percdamp, opts.percdamp ?? OPTIONS.percdamp.default);
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

/** Each pruned weight must be one GPU binding (the methods do not work on pages yet): refused up front, with the numbers. */
function checkUnpaged(model: GpuModel, skip: ReadonlySet<number>): void {
  const { spec, ctx } = model;
  for (let i = 0; i < spec.nLayers; i++) {
    if (skip.has(i)) continue;
    for (const name of linearNames(spec, i)) {
      const [R, C] = linearShape(spec, name);
      if (model.has(`${name}.weight`) && R * C * 4 > ctx.pageBytes) {
        throw new TooLargeForDevice(
          `${name} (${R} × ${C}, ${formatBytes(R * C * 4)} in f32) is larger than one GPU binding (${formatBytes(ctx.pageBytes)} here); pruning a weight in pieces is not supported yet. Skip this layer or use a GPU with a larger maxStorageBufferBindingSize.`,
        );
      }
    }
  }
}

/** Multiply-adds per phase of one decoder layer, for a progress fraction whose rate is steady. */
interface RunWork {
  statistics: number;
  reforward: number;
  /** By short sublayer name ("attn.q"): the method's own work plus the reconstruction-error report. */
  sublayer: Map<string, number>;
  total: number;
}

function calibTokens(windows: number[][]): number {
  return windows.reduce((s, w) => s + w.length, 0);
}

/**
 * The run's work in multiply-adds, from the shapes: statistics = the layer's forward plus one XᵀX
 * per distinct input over the n calibration tokens; re-forward = the forward; each sublayer (R, C):
 * SparseGPT/SparseLLM's sweep (R·C²) and, on the first sublayer of each input, the factorisation
 * it shares (C³/2), Wanda/magnitude R·C, and the report's two products (R·C² each, or n·R·C over
 * the kept inputs when n < C). The progress fraction is done work / total work, so the time left
 * at the rate so far is a fair estimate even when one sublayer (a wide down_proj) dominates.
 */
function runWork(spec: ModelSpec, method: PruneOptions['method'], n: number, skip: ReadonlySet<number>, last: number): RunWork {
  const names = linearNames(spec, 0);
  const sublayer = new Map<string, number>();
  let forward = 0;
  const inputs = new Map<string, number>();
  for (const name of names) {
    const [R, C] = linearShape(spec, name);
    forward += R * C;
    const first = !inputs.has(capturePointOf(name));
    inputs.set(capturePointOf(name), C);
    const obs = method === 'sparsegpt' || method === 'sparsellm';
    sublayer.set(name.replace(/^layers\.\d+\./, ''), (obs ? (first ? C ** 3 / 2 : 0) + R * C * C : R * C) + 2 * R * C * Math.min(C, n));
  }
  let hessians = 0;
  for (const C of inputs.values()) hessians += C * C;
  const statistics = n * (forward + hessians);
  const reforward = n * forward;
  let perLayer = statistics + reforward;
  for (const w of sublayer.values()) perLayer += w;
  let layers = 0;
  for (let i = 0; i <= last; i++) if (!skip.has(i)) layers++;
  return { statistics, reforward, sublayer, total: layers * perLayer + (last + 1 - layers) * reforward };
}

/** What one run needs at every layer. */
interface Run {
  model: GpuModel;
  opts: PruneOptions;
  method: PruneFn;
  percdamp: number;
  blocksize: number;
  sparsellm: boolean;
  backup: DenseBackup;
  signal?: AbortSignal;
  /** Estimated work per phase of one layer (runWork). */
  costs: RunWork;
  /** SparseGPT factorisations so far (one per distinct H of a layer). */
  factorisations: number;
  /** Progress over all sublayers of all layers; `work` advances the cost-weighted fraction (runWork). */
  step(detail: string, advance?: number, work?: number): void;
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
  checkPruneOptions(spec, opts);
  const skip = new Set(opts.skipLayers ?? []);
  checkUnpaged(model, skip);
  const total = spec.nLayers * linearNames(spec, 0).length;
  let done = 0;
  // Layers after the last pruned one need no inputs: the run stops there.
  let last = spec.nLayers - 1;
  while (last >= 0 && skip.has(last)) last--;
  const costs = runWork(spec, opts.method, calibTokens(windows), skip, last);
  let worked = 0;
  const run: Run = {
    model,
    opts,
    method: METHOD_FNS[opts.method],
    percdamp: opts.percdamp ?? OPTIONS.percdamp.default,
    blocksize: opts.blocksize ?? OPTIONS.blocksize.default,
    sparsellm: opts.method === 'sparsellm',
    backup,
    signal,
    costs,
    factorisations: 0,
    step: (detail, advance = 0, work = 0) => {
      // No progress is reported after a cancel: the run stops at the next step.
      throwIfCancelled(signal);
      done += advance;
      worked += work;
      onProgress?.({ phase: 'prune', done, total, detail, fraction: costs.total > 0 ? Math.min(1, worked / costs.total) : done / total });
    },
  };
  const layers: SublayerReport[] = [];
  const phases: PhaseTimes[] = [];
  const warnings: string[] = [];
  const inputs = await LayerInputs.embed(model, windows);
  try {
    for (let i = 0; i < spec.nLayers; i++) {
      throwIfCancelled(signal);
      const times: PhaseTimes = { statistics: 0, factorisation: 0, sweep: 0, reforward: 0 };
      if (i > last) {
        run.step(`layer ${i + 1}/${spec.nLayers} skipped`, linearNames(spec, i).length);
        phases.push(times);
        continue;
      }
      if (skip.has(i)) run.step(`layer ${i + 1}/${spec.nLayers} skipped`, linearNames(spec, i).length);
      else layers.push(...(await pruneLayer(run, inputs, i, times, warnings)));
      // 3. This layer's outputs, with the pruned weights, become the next layer's inputs.
      const t = now();
      await inputs.advance(i);
      // A streamed model: layer i's pruned weights go back to the host before it may leave the GPU.
      await model.stream?.flush();
      times.reforward = (now() - t) / 1000;
      run.step(`layer ${i + 1}/${spec.nLayers} done`, 0, costs.reforward);
      phases.push(times);
    }
  } catch (e) {
    // Never leave a half-pruned model: put every modified weight back.
    restoreDense(model, backup);
    await ctx.finish().catch(() => undefined);
    throw e instanceof Cancelled ? new Cancelled('Pruning was cancelled; the model is back to its dense weights.') : e;
  } finally {
    inputs.release();
  }
  return {
    method: opts.method, target: opts.target, sparsity: weightedSparsity(spec, layers), layers, seconds: (now() - start) / 1000, phases,
    factorisations: run.factorisations, warnings,
  };
}

/** Steps 1 and 2 for decoder layer i: its statistics, then each of its linear sublayers. */
async function pruneLayer(run: Run, inputs: LayerInputs, i: number, times: PhaseTimes, warnings: string[]): Promise<SublayerReport[]> {
  const { spec } = run.model;
  const names = linearNames(spec, i);
  run.step(`layer ${i + 1}/${spec.nLayers} · collecting statistics`);
  let t = now();
  // Where the calibration has fewer tokens than a point's width, its inputs are kept: the error
  // report ‖ΔW Xᵀ‖² over them then costs n·T·R·C instead of tr(ΔW H ΔWᵀ)'s R·C².
  const nT = inputs.windows.length * inputs.T;
  const keep = new Set(names.filter((n) => errorForm(nT, linearShape(spec, n)[1]) === 'inputs').map(capturePointOf));
  const stats = await collectHessians(inputs, i, new Set(names.map(capturePointOf)), run.sparsellm, keep);
  times.statistics = (now() - t) / 1000;
  run.step(`layer ${i + 1}/${spec.nLayers} · statistics done`, 0, run.costs.statistics);
  const reports: SublayerReport[] = [];
  // SparseGPT's factor of each distinct H of this layer, shared by the sublayers that read it.
  const factors: FactorCache = new Map();
  try {
    let mlp: SparseLlmMlpResult | null = null;
    for (const name of names) {
      throwIfCancelled(run.signal);
      t = now();
      let res: MethodResult;
      if (run.sparsellm && name.startsWith(`layers.${i}.mlp.`)) {
        // The whole MLP at once, on its first sublayer; the others take their part of the result.
        mlp ??= await pruneMlpSparseLlm(run, i, stats, inputs.T);
        res = name.endsWith('.gate') ? mlp.gate! : name.endsWith('.up') ? mlp.up : mlp.down;
      } else {
        res = await pruneSublayer(run, name, stats, factors);
      }
      if (res.factorised) run.factorisations++;
      times.factorisation += res.factorisation ?? 0;
      times.sweep += res.sweep ?? (now() - t) / 1000;
      const report = await sublayerReport(run, name, stats, res);
      if (mlp && name.endsWith('.mlp.down')) {
        report.history = mlp.history.map((h) => h.relError);
        report.kept = mlp.kept;
      }
      if (res.note) warnings.push(`${name}: ${res.note}`);
      reports.push(report);
      run.step(`layer ${i + 1}/${spec.nLayers} · ${name.replace(/^layers\.\d+\./, '')}`, 1, run.costs.sublayer.get(name.replace(/^layers\.\d+\./, '')) ?? 0);
    }
  } finally {
    releaseFactors(run.model.ctx, factors);
    releaseStats(inputs, stats);
  }
  return reports;
}

/** One linear sublayer by the run's method (its dense weights backed up first). */
async function pruneSublayer(run: Run, name: string, stats: LayerStats, factors: FactorCache): Promise<MethodResult> {
  const { model, backup } = run;
  const [R, C] = linearShape(model.spec, name);
  const st = stats.byPoint.get(capturePointOf(name))!;
  const dense = backup.get(`${name}.weight`) ?? (await model.read(`${name}.weight`));
  backup.set(`${name}.weight`, dense);
  const w = model.mutable(`${name}.weight`).chunks[0].buffer;
  return run.method({ ctx: model.ctx, w, R, C, dense, stats: { h: st.h, hCpu: st.hCpu, C }, target: targetFor(name, run.opts), percdamp: run.percdamp, blocksize: run.blocksize, factorisation: run.opts.factorisation, selectOn: run.opts.factorisation, factors }).catch((e: unknown) => {
    // Name the sublayer: "layers.2.mlp.down: SparseGPT: H + λI is not positive definite…".
    throw e instanceof NumericalError ? new NumericalError(`${name}: ${e.message}`) : e;
  });
}

/** SparseLLM: the MLP of layer i pruned as a whole from its dense inputs (dense weights backed up first). */
async function pruneMlpSparseLlm(run: Run, i: number, stats: LayerStats, T: number): Promise<SparseLlmMlpResult> {
  const { model, backup } = run;
  const { spec } = model;
  const subs = spec.gatedMlp ? (['gate', 'up', 'down'] as const) : (['up', 'down'] as const);
  for (const sub of subs) {
    const nm = `layers.${i}.mlp.${sub}.weight`;
    if (!backup.has(nm)) backup.set(nm, await model.read(nm));
  }
  const part = (sub: 'up' | 'gate' | 'down') => {
    const nm = `layers.${i}.mlp.${sub}`;
    return { w: model.mutable(`${nm}.weight`), bias: model.has(`${nm}.bias`) ? model.tensor(`${nm}.bias`) : undefined, dense: backup.get(`${nm}.weight`)!, target: targetFor(nm, run.opts) };
  };
  try {
    return await sparsellmMlp({
      ctx: model.ctx, kind: mlpKind(spec), C: spec.hidden, F: spec.ffn, T,
      xs: stats.mlpInputs, up: part('up'), down: part('down'), ...(spec.gatedMlp ? { gate: part('gate') } : {}),
      percdamp: run.percdamp, blocksize: run.blocksize, options: run.opts.sparsellm, signal: run.signal,
      onProgress: (d) => run.step(`layer ${i + 1}/${spec.nLayers} · SparseLLM ${d}`),
    });
  } catch (e) {
    throw e instanceof NumericalError ? new NumericalError(`layers.${i}.mlp: ${e.message}`) : e;
  }
}

/**
 * The sublayer's report after pruning: the achieved sparsity and the relative reconstruction
 * error ‖WX − ŴX‖²/‖WX‖² = tr(ΔW H ΔWᵀ)/tr(W H Wᵀ), or over the kept inputs (errorForm). Weights
 * updated by the method are rounded to the checkpoint's dtype first (as SparseGPT's W.to(dtype)), so the export computes what is measured.
 */
async function sublayerReport(run: Run, name: string, stats: LayerStats, res: MethodResult): Promise<SublayerReport> {
  const { model, backup } = run;
  const [R, C] = linearShape(model.spec, name);
  const dense = backup.get(`${name}.weight`)!;
  const pruned = await model.read(`${name}.weight`);
  const dtype = model.dtypes.get(`${name}.weight`);
  if (dtype === 'F16' || dtype === 'BF16') {
    roundTo(pruned, dtype);
    model.write(`${name}.weight`, pruned);
  }
  let zeros = 0;
  const delta = new Float32Array(R * C);
  for (let k = 0; k < pruned.length; k++) {
    if (pruned[k] === 0) zeros++;
    delta[k] = dense[k] - pruned[k];
  }
  if (!pruned.every(Number.isFinite)) throw new NumericalError(`Pruning ${name} produced NaN or Inf weights.`);
  const point = capturePointOf(name);
  const x = stats.inputs.get(point);
  const by = x ? { x, nT: x.size / (C * 4) } : { h: stats.byPoint.get(point)!.h };
  const num = await quadForm(model, delta, R, C, by);
  const den = await quadForm(model, dense, R, C, by);
  if (!Number.isFinite(num) || !Number.isFinite(den)) {
    throw new NumericalError(`${name}: the reconstruction error overflows float32 (‖WX‖² is ${den}); the weights or calibration activations of this sublayer are too large.`);
  }
  const report: SublayerReport = { name, sparsity: zeros / (R * C), rel_error: den > 0 ? num / den : 0 };
  if (res.damp !== undefined) report.damp = res.damp;
  if (res.note) report.note = res.note;
  return report;
}
