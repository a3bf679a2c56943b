// Pruning actions: one prune run (then the perplexity of the pruned model), sweeps with live
// points, restoring the dense weights, and exporting the current weights as a Hugging Face folder.
// The weights never leave the worker except as the exported files, which go straight to disk.
import { BadOption, BadText, Cancelled, DeviceLost } from '../core/errors';
import type { SweepPointResult, SweepSpec } from '../core/jobs/sweep';
import { targetLabel } from '../core/prune/types';
import type { WeightsState } from '../worker/protocol';
import { getClient } from './client';
import { useErrors } from './errors';
import { currentEvalSettings, currentSeqlen, requireModelName, weightsLabel, type EvalSettings } from './eval-settings';
import { saveDense, saveRun, saveSweep } from './history';
import { restartEngine } from './engine-actions';
import { useEngine } from './engine-status';
import { type JobHandle, busyReason, cancelJob, cancelledAfter, now, startJob } from './job';
import { useModel } from './model';
import { calibrationShortfall, commonOptions, pruneOptionsOf, sweepPointsOf } from './prune-settings';
import { FRESH_MODEL_STATE, sweepRemainder, usePrune, type RecordedOptions, type RunRecord, type SweepRecord } from './prune';
import { resetSpeed } from './speed';
import { knownTokens, selectedText, selectedTextLabel, useTexts } from './texts';
import { OPTIONS } from '../core/options';

/** The next id of a run or sweep (page-wide, never reused). */
function takeId(kind: 'run' | 'sweep'): number {
  const { nextIds } = usePrune.getState();
  usePrune.getState().set({ nextIds: { ...nextIds, [kind]: nextIds[kind] + 1 } });
  return nextIds[kind];
}

/** A dense perplexity for this evaluation (the chart's reference point). */
export function recordDense(evalKey: string, ppl: number): void {
  const s = usePrune.getState();
  s.set({ dense: { ...s.dense, [evalKey]: ppl } });
  void saveDense(evalKey, ppl);
}

/** A new model: forget the runs and weight state of the previous one. */
export function resetPruneState(): void {
  usePrune.getState().set(FRESH_MODEL_STATE);
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

export function addRun(run: Omit<RunRecord, 'id'>, hfNames: Record<string, string>, select: boolean): RunRecord {
  const s = usePrune.getState();
  const rec: RunRecord = { ...run, id: takeId('run') };
  s.set({
    runs: [...s.runs, rec],
    hfNames: Object.keys(hfNames).length ? { ...s.hfNames, ...hfNames } : s.hfNames,
    ...(select ? { selectedRunId: rec.id } : {}),
  });
  // Saved at once, not at the end of a job: a reload mid-sweep keeps the points measured so far.
  void saveRun(rec, hfNames);
  return rec;
}

/** Ask the worker what the weights really are (after a failure or cancellation). */
export async function refreshWeights(): Promise<WeightsState | null> {
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
function prepare(kind: 'prune' | 'sweep', what: string): Prepared {
  const busy = busyReason(kind);
  if (busy) throw new BadOption(busy);
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

/** The perplexity request of an evaluation. */
export function perplexityBody(ev: Pick<EvalSettings, 'text' | 'seqlen' | 'maxWindows'>) {
  const { text, seqlen, maxWindows } = ev;
  return maxWindows === undefined ? { type: 'perplexity' as const, text, seqlen } : { type: 'perplexity' as const, text, seqlen, maxWindows };
}

/** What the weights are after a failed or cancelled job, in words. */
export function weightsNow(weights: WeightsState | null): string {
  return weights === null ? 'The weights are dense again.' : `The weights stay pruned (${weightsLabel(weights)}); Restore dense puts them back.`;
}

/** A failed or cancelled job: the weights as they really are, the error where the user acted, the slot freed. */
export async function jobFailed(job: JobHandle, area: 'prune' | 'sweep' | 'contextual', what: string, e: unknown): Promise<WeightsState | null> {
  const weights = await refreshWeights();
  const started = job.job;
  job.finish();
  useErrors.getState().setError(area, e instanceof Cancelled && started ? cancelledAfter(what, started, weightsNow(weights)) : e);
  return weights;
}

/**
 * Before a prune run or sweep: both areas' errors cleared, the inputs prepared and `more` of them
 * read; null (the error shown in `area`) when something is missing or wrong.
 */
function begin<T>(area: 'prune' | 'sweep', what: string, more: (prep: Prepared) => T): { prep: Prepared; value: T } | null {
  const errors = useErrors.getState();
  errors.clearError('prune');
  errors.clearError('sweep');
  try {
    const prep = prepare(area, what);
    return { prep, value: more(prep) };
  } catch (e) {
    errors.setError(area, e);
    return null;
  }
}

/** Prune once with the Method settings, then measure the pruned model on the evaluation text. */
export async function runPrune(): Promise<void> {
  const started = begin('prune', 'Pruning', (prep) => pruneOptionsOf(usePrune.getState().settings, prep.seqlen, useModel.getState().summary!.layers));
  if (!started) return;
  const { prep, value: options } = started;
  const { calibText, ev } = prep;
  const label = `${options.method} ${targetLabel(options.target)}`;
  const job = startJob('prune', { label, stage: 'prune' });
  const startedAt = job.job!.startedAt;
  // The engine starts from the dense weights.
  usePrune.getState().set({ weights: null });

  let report;
  try {
    report = await job.call({ type: 'prune', calibText, options });
  } catch (e) {
    await jobFailed(job, 'prune', 'The prune run', e);
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
  const seconds = () => (now() - startedAt) / 1000;
  if (job.cancelRequested) {
    addRun({ ...base, ppl: null, nll: null, seconds: seconds() }, report.hfNames, true);
    await jobFailed(job, 'prune', 'The prune run', new Cancelled());
    return;
  }
  try {
    const r = await job.call(perplexityBody(ev), { stage: 'eval' });
    addRun({ ...base, ppl: r.ppl, nll: r.nll, seconds: seconds() }, report.hfNames, true);
    job.finish();
  } catch (e) {
    addRun({ ...base, ppl: null, nll: null, seconds: seconds() }, report.hfNames, true);
    await jobFailed(job, 'prune', 'The prune run', e);
  }
}

/** Methods × targets from the Sweep settings; each point appears as soon as it is measured. */
export async function runSweep(): Promise<void> {
  const started = begin('sweep', 'A sweep', (prep) => {
    const st = usePrune.getState();
    const c = commonOptions(st.settings);
    const points = sweepPointsOf(st.sweep);
    const spec: SweepSpec = { points, includeDense: st.sweep.includeDense, seqlen: prep.seqlen, calibSamples: c.calibSamples, percdamp: c.percdamp, blocksize: c.blocksize };
    if (c.seed !== undefined) spec.seed = c.seed;
    if (prep.ev.maxWindows !== undefined) spec.maxWindows = prep.ev.maxWindows;
    return spec;
  });
  if (!started) return;
  const { prep, value: spec } = started;
  const rec: SweepRecord = {
    sweepId: takeId('sweep'), spec, evalKey: prep.ev.key, evalLabel: prep.ev.label,
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
  const rec = usePrune.getState().sweeps[sweepId];
  const started = begin('sweep', 'Resuming a sweep', (prep) => {
    if (!rec) throw new BadOption(`There is no saved sweep ${sweepId} for this model.`);
    if (prep.ev.key !== rec.evalKey) {
      throw new BadOption(`Sweep ${sweepId} was measured with other evaluation settings (${rec.evalLabel}); select the same evaluation text, sequence length and windows to resume it.`);
    }
    return rec;
  });
  if (started) await measureSweep(started.value, started.prep);
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
  const job = startJob('sweep', { label: `sweep of ${left.total} points`, sweep: { sweepId, pointsDone: left.done, pointsTotal: left.total } });

  const onPoint = (p: SweepPointResult, hfNames: Record<string, string>) => {
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
    const sw = job.job?.sweep;
    if (sw) job.patch({ sweep: { ...sw, pointsDone: sw.pointsDone + 1 } });
  };

  try {
    const r = await job.call({ type: 'sweep', calibText, evalText: ev.text, spec }, { onPoint });
    void saveSweep({ ...rec, status: 'done', savedAt: Date.now() });
    usePrune.getState().set({ weights: r.pruned });
    job.finish();
  } catch (e) {
    if (e instanceof Cancelled) void saveSweep({ ...rec, status: 'cancelled', savedAt: Date.now() });
    const lost = e instanceof DeviceLost || useEngine.getState().status === 'lost';
    if (!lost) {
      await jobFailed(job, 'sweep', 'The sweep', e);
      return;
    }
    // The GPU was reset under the sweep: every finished point is already recorded and saved. Start
    // a new device, load the same model again, and continue from the first point not measured.
    job.finish();
    usePrune.getState().set({ weights: null });
    const done = usePrune.getState().runs.filter((r) => r.sweepId === sweepId).length;
    usePrune.getState().set({
      notice: `The GPU device was lost during sweep ${sweepId} after ${done} of ${left.total} points. A new device was started, the model reloaded, and the sweep resumed from point ${done + 1}; no finished point was lost.`,
    });
    await restartEngine();
    if (useEngine.getState().status === 'ready' && useModel.getState().summary) await resumeSweep(sweepId);
    else useErrors.getState().setError('sweep', e);
  }
}

/** Cancel the running prune run or sweep (the worker restores the dense weights mid-prune). */
export function cancelPruneJob(): void {
  cancelJob('prune', 'sweep');
}

export async function restoreDense(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('prune');
  const busy = busyReason('prune');
  if (busy) {
    errors.setError('prune', new BadOption(`${busy} (A cancelled prune restores the dense weights by itself.)`));
    return;
  }
  try {
    await getClient().call({ type: 'restoreDense' });
    usePrune.getState().set({ weights: null });
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
