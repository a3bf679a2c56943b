// Pruning actions: one prune run (then the perplexity of the pruned model), sweeps with live
// points, restoring the dense weights, and exporting the current weights as a Hugging Face folder.
// The weights never leave the worker except as the exported files, which go straight to disk.
import { BadOption, BadText, Cancelled, DeviceLost } from '../core/errors';
import type { SweepPointResult, SweepSpec } from '../core/jobs/sweep';
import { targetLabel, type PruneOptions } from '../core/prune/types';
import type { Progress } from '../core/types';
import type { PendingCall } from '../worker/client';
import type { WeightsState } from '../worker/protocol';
import { getClient } from './client';
import { useErrors } from './errors';
import { currentEvalSettings, currentSeqlen, requireModelName, weightsLabel, type EvalSettings } from './eval-settings';
import { saveDense, saveRun, saveSweep, type SweepRecord } from './history';
import { useEngine } from './engine';
import { useModel } from './model';
import { usePerplexity } from './perplexity';
import { calibrationShortfall, commonOptions, pruneOptionsOf, sweepPointsOf } from './prune-settings';
import { sweepRemainder, usePrune, type RecordedOptions, type RunRecord } from './prune';
import { resetSpeed, speedRunning } from './speed';
import { generationRunning } from './generate';
import { contextualRunning } from './contextual';
import { knownTokens, selectedText, selectedTextLabel, useTexts } from './texts';
import { OPTIONS } from '../core/options';

/**
 * Starts a fresh worker and GPU device and reloads the model (actions.ts registers it: the engine
 * actions import this module, not the other way round).
 */
let recoverEngine: () => Promise<void> = async () => undefined;
export function setEngineRecovery(fn: () => Promise<void>): void {
  recoverEngine = fn;
}

let nextRunId = 1;
let nextSweepId = 1;
/** Set by cancelPruneJob: a run between its prune and its evaluation stops there. */
let cancelRequested = false;

const now = () => performance.now();

/** After a reload: keep numbering runs and sweeps above those in the saved history. */
export function continueIdsAbove(maxRunId: number, maxSweepId: number): void {
  nextRunId = Math.max(nextRunId, maxRunId + 1);
  nextSweepId = Math.max(nextSweepId, maxSweepId + 1);
}

/** A dense perplexity for this evaluation (the chart's reference point). */
export function recordDense(evalKey: string, ppl: number): void {
  const s = usePrune.getState();
  s.set({ dense: { ...s.dense, [evalKey]: ppl } });
  void saveDense(evalKey, ppl);
}

/** A new model: forget the runs and weight state of the previous one. */
export function resetPruneState(): void {
  usePrune.getState().set({
    runs: [],
    selectedRunId: null,
    weights: null,
    dense: {},
    hfNames: {},
    outcome: null,
    exportStatus: { status: 'idle' },
    sweeps: {},
    notice: null,
  });
  useErrors.getState().clearError('results');
  resetSpeed();
}

export function selectRun(id: number | null): void {
  usePrune.getState().set({ selectedRunId: id });
}

/** The settings a run used, kept on its record (and in the history) for recipes and JSON. */
function runOptionsOf(o: { calibSamples: number; seqlen: number; seed?: number; percdamp?: number; blocksize?: number; skipLayers?: number[] }): RecordedOptions {
  const r: RecordedOptions = { calibSamples: o.calibSamples, seqlen: o.seqlen, percdamp: o.percdamp ?? OPTIONS.percdamp.default, blocksize: o.blocksize ?? OPTIONS.blocksize.default, skipLayers: o.skipLayers ?? [] };
  if (o.seed !== undefined) r.seed = o.seed;
  return r;
}

function calibLabel(samples: number, seqlen: number, seed?: number): string {
  return `${samples} × ${seqlen} tokens of ${selectedTextLabel(useTexts.getState().calib)}${seed !== undefined ? `, seed ${seed}` : ''}`;
}

function addRun(run: Omit<RunRecord, 'id'>, hfNames: Record<string, string>, select: boolean): RunRecord {
  const s = usePrune.getState();
  const rec: RunRecord = { ...run, id: nextRunId++ };
  s.set({
    runs: [...s.runs, rec],
    hfNames: Object.keys(hfNames).length ? { ...s.hfNames, ...hfNames } : s.hfNames,
    ...(select ? { selectedRunId: rec.id } : {}),
  });
  // Saved at once, not at the end of a job: a reload mid-sweep keeps the points measured so far.
  void saveRun(rec, hfNames);
  return rec;
}

function onJobProgress(callId: number) {
  return (p: Progress) => {
    const job = usePrune.getState().job;
    if (job && job.callId === callId) usePrune.getState().set({ job: { ...job, progress: p } });
  };
}

/** Ask the worker what the weights really are (after a failure or cancellation). */
async function refreshWeights(): Promise<WeightsState | null> {
  try {
    const st = await getClient().call({ type: 'getState' });
    usePrune.getState().set({ weights: st.pruned });
    return st.pruned;
  } catch {
    return usePrune.getState().weights;
  }
}

interface Prepared {
  calibText: string;
  ev: EvalSettings;
  seqlen: number;
}

/** Common checks of a prune run and a sweep; throws a named error. */
function prepare(what: string): Prepared {
  if (usePrune.getState().job) throw new BadOption('A pruning run is already in progress.');
  if (usePerplexity.getState().run.status === 'running') throw new BadOption('A perplexity measurement is running; wait for it or cancel it first.');
  if (speedRunning()) throw new BadOption('A speed measurement is running; wait for it or cancel it first.');
  if (generationRunning()) throw new BadOption('Text generation is running; wait for it or cancel it first.');
  if (contextualRunning()) throw new BadOption('Contextual pruning is running; wait for it or cancel it first.');
  const modelName = requireModelName(what);
  const calib = useTexts.getState().calib;
  const calibText = selectedText(calib);
  if (!calibText) throw new BadText('The calibration text is empty. Choose the built-in calibration sample, a .txt file, or paste some text.');
  const seqlen = currentSeqlen();
  const ev = currentEvalSettings(modelName);
  const c = commonOptions(usePrune.getState().settings);
  const short = calibrationShortfall(knownTokens(calib), c.calibSamples, seqlen, c.seed !== undefined);
  if (short) throw new BadText(short);
  return { calibText, ev, seqlen };
}

function perplexityBody(ev: EvalSettings) {
  const { text, seqlen, maxWindows } = ev;
  return maxWindows === undefined ? { type: 'perplexity' as const, text, seqlen } : { type: 'perplexity' as const, text, seqlen, maxWindows };
}

async function jobFailed(kind: 'prune' | 'sweep', e: unknown, startedAt: number): Promise<void> {
  const weights = await refreshWeights();
  const s = usePrune.getState();
  if (e instanceof Cancelled) {
    const elapsed = (now() - startedAt) / 1000;
    s.set({ job: null, outcome: { status: 'cancelled', kind, elapsed, dense: weights === null } });
    const what = kind === 'prune' ? 'The prune run' : 'The sweep';
    const state = weights === null ? 'The weights are dense again.' : `The weights stay pruned (${weightsLabel(weights)}); Restore dense puts them back.`;
    useErrors.getState().setError(kind, new Cancelled(`${what} was cancelled after ${elapsed.toFixed(1)} s. ${state}`));
  } else {
    s.set({ job: null, outcome: { status: 'failed', kind } });
    useErrors.getState().setError(kind, e);
  }
}

/** Prune once with the Method settings, then measure the pruned model on the evaluation text. */
export async function runPrune(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('prune');
  errors.clearError('sweep');
  let prep: Prepared;
  let options: PruneOptions;
  try {
    prep = prepare('Pruning');
    options = pruneOptionsOf(usePrune.getState().settings, prep.seqlen, useModel.getState().summary!.layers);
  } catch (e) {
    errors.setError('prune', e);
    return;
  }
  const { calibText, ev } = prep;
  const client = getClient();
  const label = `${options.method} ${targetLabel(options.target)}`;
  const startedAt = now();
  cancelRequested = false;
  const call: PendingCall<'prune'> = client.call({ type: 'prune', calibText, options }, (p) => onJobProgress(call.id)(p));
  usePrune.getState().set({
    job: { kind: 'prune', callId: call.id, stage: 'prune', startedAt, stageStartedAt: startedAt, progress: null, label },
    outcome: null,
    // The engine starts from the dense weights.
    weights: null,
  });

  let report;
  try {
    report = await call;
  } catch (e) {
    await jobFailed('prune', e, startedAt);
    return;
  }
  const weights: WeightsState = { method: report.method, target: report.target, sparsity: report.sparsity };
  const base: Omit<RunRecord, 'id' | 'ppl' | 'nll' | 'seconds'> = {
    source: 'prune',
    method: report.method,
    target: report.target,
    label,
    sparsity: report.sparsity,
    pruneSeconds: report.seconds,
    layers: report.layers,
    warnings: report.warnings,
    evalKey: ev.key,
    evalLabel: ev.label,
    calibLabel: calibLabel(options.calibSamples, options.seqlen, options.seed),
    options: runOptionsOf(options),
  };
  usePrune.getState().set({ weights });
  if (cancelRequested) {
    addRun({ ...base, ppl: null, nll: null, seconds: (now() - startedAt) / 1000 }, report.hfNames, true);
    await jobFailed('prune', new Cancelled(), startedAt);
    return;
  }

  const stageStartedAt = now();
  const evalCall: PendingCall<'perplexity'> = client.call(perplexityBody(ev), (p) => onJobProgress(evalCall.id)(p));
  usePrune.getState().set({ job: { kind: 'prune', callId: evalCall.id, stage: 'eval', startedAt, stageStartedAt, progress: null, label } });
  try {
    const r = await evalCall;
    const seconds = (now() - startedAt) / 1000;
    addRun({ ...base, ppl: r.ppl, nll: r.nll, seconds }, report.hfNames, true);
    usePrune.getState().set({ job: null, outcome: { status: 'done', kind: 'prune', seconds } });
  } catch (e) {
    addRun({ ...base, ppl: null, nll: null, seconds: (now() - startedAt) / 1000 }, report.hfNames, true);
    await jobFailed('prune', e, startedAt);
  }
}

/** Methods × targets from the Sweep settings; each point appears as soon as it is measured. */
export async function runSweep(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('sweep');
  errors.clearError('prune');
  let prep: Prepared;
  let spec: SweepSpec;
  try {
    prep = prepare('A sweep');
    const st = usePrune.getState();
    const c = commonOptions(st.settings);
    const points = sweepPointsOf(st.sweep);
    spec = { points, includeDense: st.sweep.includeDense, seqlen: prep.seqlen, calibSamples: c.calibSamples, percdamp: c.percdamp, blocksize: c.blocksize };
    if (c.seed !== undefined) spec.seed = c.seed;
    if (prep.ev.maxWindows !== undefined) spec.maxWindows = prep.ev.maxWindows;
  } catch (e) {
    errors.setError('sweep', e);
    return;
  }
  const rec: SweepRecord = {
    sweepId: nextSweepId++, spec, evalKey: prep.ev.key, evalLabel: prep.ev.label,
    calibLabel: calibLabel(spec.calibSamples, spec.seqlen, spec.seed), status: 'running', savedAt: Date.now(),
  };
  // Saved before the first point: a reload, crash or lost device leaves it resumable.
  void saveSweep(rec);
  await measureSweep(rec, prep);
}

/**
 * Resume an unfinished sweep (after a reload, a crash, a cancel or a lost device): only the points
 * it has no run for are measured, with the same sweep id, so the chart and table continue it.
 */
export async function resumeSweep(sweepId: number): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('sweep');
  errors.clearError('prune');
  const rec = usePrune.getState().sweeps[sweepId];
  let prep: Prepared;
  try {
    if (!rec) throw new BadOption(`There is no saved sweep ${sweepId} for this model.`);
    prep = prepare('Resuming a sweep');
    if (prep.ev.key !== rec.evalKey) {
      throw new BadOption(`Sweep ${sweepId} was measured with other evaluation settings (${rec.evalLabel}); select the same evaluation text, sequence length and windows to resume it.`);
    }
  } catch (e) {
    errors.setError('sweep', e);
    return;
  }
  await measureSweep(rec, prep);
}

/** Measure what is left of `rec` (everything, for a new sweep), streaming points to the chart. */
async function measureSweep(rec: SweepRecord, prep: Prepared): Promise<void> {
  const left = sweepRemainder(rec, usePrune.getState().runs);
  if (!left) {
    void saveSweep({ ...rec, status: 'done', savedAt: Date.now() });
    return;
  }
  const { calibText, ev } = prep;
  const { sweepId } = rec;
  const spec: SweepSpec = { ...rec.spec, points: left.points, includeDense: left.includeDense };
  const startedAt = now();
  cancelRequested = false;

  const onPoint = (p: SweepPointResult, hfNames: Record<string, string>) => {
    const job = usePrune.getState().job;
    if (!job || job.kind !== 'sweep' || job.sweepId !== sweepId) return;
    if (p.method === 'dense') recordDense(ev.key, p.ppl);
    addRun(
      {
        source: 'sweep',
        sweepId,
        method: p.method,
        target: p.target,
        label: p.label,
        sparsity: p.sparsity,
        ppl: p.ppl,
        nll: p.nll,
        seconds: p.seconds,
        pruneSeconds: p.prune_seconds,
        layers: p.layers,
        warnings: p.warnings,
        evalKey: ev.key,
        evalLabel: ev.label,
        calibLabel: p.method === 'dense' ? '—' : rec.calibLabel,
        ...(p.method === 'dense' ? {} : { options: runOptionsOf(spec) }),
      },
      hfNames,
      false,
    );
    usePrune.getState().set({ job: { ...job, pointsDone: job.pointsDone + 1 } });
  };

  const call: PendingCall<'sweep'> = getClient().call({ type: 'sweep', calibText, evalText: ev.text, spec }, (p) => onJobProgress(call.id)(p), onPoint);
  usePrune.getState().set({
    job: { kind: 'sweep', callId: call.id, sweepId, startedAt, progress: null, pointsDone: left.done, pointsTotal: left.total, label: `sweep of ${left.total} points` },
    outcome: null,
  });
  try {
    const r = await call;
    void saveSweep({ ...rec, status: 'done', savedAt: Date.now() });
    usePrune.getState().set({ job: null, weights: r.pruned, outcome: { status: 'done', kind: 'sweep', seconds: (now() - startedAt) / 1000 } });
  } catch (e) {
    if (e instanceof Cancelled) void saveSweep({ ...rec, status: 'cancelled', savedAt: Date.now() });
    const lost = e instanceof DeviceLost || useEngine.getState().status === 'lost';
    if (!lost) {
      await jobFailed('sweep', e, startedAt);
      return;
    }
    // The GPU was reset under the sweep: every finished point is already recorded and saved. Start
    // a new device, load the same model again, and continue from the first point not measured.
    usePrune.getState().set({ job: null, outcome: null, weights: null });
    const done = usePrune.getState().runs.filter((r) => r.sweepId === sweepId).length;
    usePrune.getState().set({
      notice: `The GPU device was lost during sweep ${sweepId} after ${done} of ${left.total} points. A new device was started, the model reloaded, and the sweep resumed from point ${done + 1}; no finished point was lost.`,
    });
    await recoverEngine();
    if (useEngine.getState().status === 'ready' && useModel.getState().summary) await resumeSweep(sweepId);
    else await jobFailed('sweep', e, startedAt);
  }
}

/** Cancel the running prune run or sweep (the worker restores the dense weights mid-prune). */
export function cancelPruneJob(): void {
  const job = usePrune.getState().job;
  if (!job) return;
  cancelRequested = true;
  getClient().cancel(job.callId);
}

export async function restoreDense(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('prune');
  if (usePrune.getState().job) {
    errors.setError('prune', new BadOption('A pruning run is in progress; cancel it first (a cancelled prune restores the dense weights by itself).'));
    return;
  }
  if (contextualRunning()) {
    errors.setError('prune', new BadOption('Contextual pruning is running; wait for it or cancel it first.'));
    return;
  }
  try {
    await getClient().call({ type: 'restoreDense' });
    usePrune.getState().set({ weights: null, outcome: null });
  } catch (e) {
    errors.setError('prune', e);
    await refreshWeights();
  }
}

// ---------------------------------------------------------------------------------------------
// Export

/** "stories260K-sparsegpt-50pct", "stories260K-wanda-2of4". */
export function exportFolderName(model: string, w: WeightsState | null): string {
  const what = !w ? 'dense' : `${w.method}-${w.target.kind === 'nm' ? `${w.target.n}of${w.target.m}` : `${Math.round(w.target.sparsity * 1000) / 10}pct`}`;
  return `${model}-${what}`.replace(/[^A-Za-z0-9._-]+/g, '_');
}
