// Training actions: check the Train area's settings, send one `finetune` request on the Data
// area's calibration text (the training text) with the Evaluate settings for the perplexity before
// and after, collect each step's loss from the progress events, and cancel.
import { BadOption, BadText, Cancelled, DeviceLost, Paused } from '../core/errors';
import { getClient } from './client';
import type { FinetuneInput, FinetuneResult } from '../core/jobs/finetune';
import type { TwinInput } from '../core/jobs/twin';
import { addRun } from './prune-actions';
import { DISTILL_TERMS, OPTIONS, parseOption } from '../core/options';
import { parseFreezeList } from '../core/train/frozen';
import { parseBytes } from '../core/units';
import { useErrors } from './errors';
import { currentEvalSettings, requireModelName, weightsLabel } from './eval-settings';
import { type JobHandle, cancelJob, startJob, useJob } from './job';
import { type RunRecord, usePrune } from './prune';
import { type PendingTrain, type TrainMode, type TrainSettings, readPending, useTrain, writePending } from './train';
import { restartEngine } from './engine-actions';
import { useEngine } from './engine-status';
import { useModel } from './model';
import { selectedText, selectedTextLabel, useTexts } from './texts';

/** GMP's final sparsity, typed in percent. */
function finalSparsity(pct: string): number {
  const x = pct.trim() === '' ? NaN : Number(pct);
  if (!Number.isFinite(x)) throw new BadOption(`Final sparsity must be a percentage from 0 to ${OPTIONS.gmp.max * 100}; got "${pct}".`);
  return parseOption(OPTIONS.gmp, String(x / 100))!;
}

/** The GPU memory budget typed in the area ("8GB"; blank: none). */
function memoryBudget(text: string): { memoryBudget?: number } {
  if (!text.trim()) return {};
  const n = parseBytes(text);
  if (!Number.isFinite(n) || n <= 0) throw new BadOption(`GPU memory budget must be a size such as 8GB, 6GiB or 512MiB; got "${text}".`);
  return { memoryBudget: n };
}

/** The request's options from the area's settings (BadOption with the option's own message). */
export function finetuneOptions(s: TrainSettings): Omit<FinetuneInput, 'trainText' | 'evalText' | 'evalSeqlen' | 'maxWindows'> {
  const steps = parseOption(OPTIONS.steps, s.steps);
  return {
    steps,
    batch: parseOption(OPTIONS.batch, s.batch),
    seqlen: parseOption(OPTIONS.trainSeqlen, s.seqlen),
    lr: parseOption(OPTIONS.lr, s.lr),
    warmup: parseOption(OPTIONS.warmup, s.warmup),
    weightDecay: OPTIONS.weightDecay.default,
    clip: OPTIONS.clip.default,
    checkpointEvery: parseOption(OPTIONS.checkpointEvery, s.checkpointEvery),
    onCancel: s.onCancel,
    freeze: parseFreezeList(s.freeze),
    ...memoryBudget(s.gpuMemory),
    ...(s.recompute ? { recompute: true } : {}),
    ...(s.distill || s.squareHead ? { distill: DISTILL_TERMS.filter((t) => (t === 'kl' ? s.distill : s.squareHead)) } : {}),
    gmp: s.mode === 'gmp' ? { final: finalSparsity(s.gmpPct), t0: parseOption(OPTIONS.gmpT0, s.gmpT0), dt: parseOption(OPTIONS.gmpDt, s.gmpDt), n: parseOption(OPTIONS.gmpN, s.gmpN) } : undefined,
  };
}

export function runTraining(): Promise<void> {
  return train(null);
}

/** Continue the interrupted run (a reload or a lost device) from its last checkpoint, with its settings. */
export function resumeTraining(): Promise<void> {
  const p = useTrain.getState().interrupted ?? readPending();
  if (!p || p.step === 0) {
    useErrors.getState().setError('train', new BadOption('There is no interrupted training run with a checkpoint to resume.'));
    return Promise.resolve();
  }
  useTrain.getState().setSettings(p.settings);
  return train(p);
}

/** Forget the interrupted run (its checkpoint is overwritten by the next run's). */
export function discardInterrupted(): void {
  writePending(null);
  useTrain.getState().set({ interrupted: null });
}

/** The training text (the Data area's calibration text) and the evaluation settings of a run, or a named error. */
function trainingTexts(what: string) {
  const modelName = requireModelName(what);
  const calib = useTexts.getState().calib;
  const trainText = selectedText(calib);
  if (!trainText) throw new BadText('The training text is empty: choose a calibration text in the Data area (training reads it).');
  const ev = currentEvalSettings(modelName);
  const texts = { trainText, evalText: ev.text, evalSeqlen: ev.seqlen, ...(ev.maxWindows === undefined ? {} : { maxWindows: ev.maxWindows }) };
  return { modelName, texts, ev, calib };
}

async function train(resume: PendingTrain | null): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('train');
  const st = useTrain.getState();
  let input: FinetuneInput;
  let job: JobHandle;
  let labels: PendingTrain['labels'];
  let pending: PendingTrain;
  let evalKey: string;
  try {
    const { modelName, texts, ev, calib } = trainingTexts('Training');
    input = { ...finetuneOptions(st.settings), ...texts };
    evalKey = ev.key;
    const { weights, trainedRun } = usePrune.getState();
    const from = st.settings.fromScratch
      ? { from: `fresh weights (seed ${parseOption(OPTIONS.seed, st.settings.seed) ?? 0})`, fromRunId: null }
      : { from: weightsLabel(weights, trainedRun), fromRunId: !weights && trainedRun ? trainedRun.id : runOfWeights() };
    labels = resume?.labels ?? { ...from, evalLabel: ev.label, textLabel: selectedTextLabel(calib) };
    pending = resume ? { ...resume, paused: false } : { model: modelName, settings: st.settings, labels, steps: input.steps, step: 0, losses: [], savedAt: Date.now() };
    const what = `${st.settings.mode === 'gmp' ? `GMP to ${st.settings.gmpPct}%` : 'recovery'}, ${input.steps} steps`;
    job = startJob('train', { label: resume ? `${what}, resumed at step ${resume.step}` : what });
  } catch (e) {
    errors.setError('train', e);
    return;
  }
  writePending(pending);
  useTrain.getState().set({ live: [...pending.losses], cancelled: null, interrupted: null, pausing: false, notice: null });
  // Each step's loss arrives as a progress event of the job's call, and so does each checkpoint.
  const unsubscribe = useJob.subscribe((s) => {
    const p = s.current?.id === job.id ? s.current.progress : null;
    if (p?.phase !== 'train') return;
    const live = useTrain.getState().live;
    if (p.loss !== undefined && p.done === live.length + 1) useTrain.getState().set({ live: [...live, p.loss] });
    if (p.checkpoint !== undefined && p.checkpoint > pending.step) {
      pending = { ...pending, step: p.checkpoint, losses: live.slice(0, p.checkpoint), savedAt: Date.now() };
      writePending(pending);
    }
  });
  try {
    const s = useTrain.getState().settings;
    const r = await job.call({
      type: 'finetune',
      input,
      ...(resume ? { resume: true } : {}),
      ...(s.distill || s.squareHead ? { teacherFromLoaded: true } : {}),
      ...(s.fromScratch ? { fromScratch: { seed: parseOption(OPTIONS.seed, s.seed) ?? 0 } } : {}),
    });
    writePending(null);
    // The trained weights are the model's weights now (the engine keeps no dense backup of them).
    usePrune.getState().set({ weights: null });
    job.finish();
    useTrain.getState().set({ result: { ...r, mode: st.settings.mode, ...labels } });
    const rec = recordTrainedRun(r, st.settings.mode, input, labels, evalKey);
    usePrune.getState().set({ trainedRun: { id: rec.id, label: rec.label } });
  } catch (e) {
    const lost = e instanceof DeviceLost || useEngine.getState().status === 'lost';
    if (lost && pending.step > 0) {
      // The GPU was reset under the run: a new device, the same model, and the run goes on from its checkpoint.
      job.finish();
      unsubscribe();
      useTrain.getState().set({ notice: `The GPU device was lost at step ${useTrain.getState().live.length} of ${input.steps}. A new device was started, the model reloaded, and the run resumed from its checkpoint of step ${pending.step}.` });
      await restartEngine();
      if (useEngine.getState().status === 'ready' && useModel.getState().summary) await train(pending);
      else errors.setError('train', e);
      return;
    }
    if (e instanceof Paused) {
      // The checkpoint of the pause is saved (its progress event came first): resumable, here or after a reload.
      const paused = { ...pending, step: Math.max(pending.step, useTrain.getState().live.length), losses: useTrain.getState().live, paused: true };
      writePending(paused);
      usePrune.getState().set({ weights: null, trainedRun: { id: null, label: `${labels.from}, trained ${paused.step} of ${input.steps} steps` } });
      job.finish();
      useTrain.getState().set({ interrupted: paused });
      return;
    }
    writePending(null);
    const steps = useTrain.getState().live.length;
    const reverted = e instanceof Cancelled && input.onCancel === 'revert';
    // Any step taken changed the weights (the worker says so in its message), unless a cancel reverted them.
    if ((steps > 0 || resume) && !reverted) usePrune.getState().set({ weights: null, trainedRun: { id: null, label: `${labels.from}, trained ${steps} of ${input.steps} steps` } });
    job.finish();
    errors.setError('train', e);
    if (e instanceof Cancelled) useTrain.getState().set({ cancelled: { steps, reverted } });
  } finally {
    unsubscribe();
    useTrain.getState().set({ pausing: false });
  }
}

/** The run in the table whose weights the model has now (the latest with the same method, target and sparsity). */
function runOfWeights(): number | null {
  const { weights, runs } = usePrune.getState();
  if (!weights) return null;
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i];
    if (r.method === weights.method && JSON.stringify(r.target) === JSON.stringify(weights.target) && Math.abs(r.sparsity - weights.sparsity) < 1e-12) return r.id;
  }
  return null;
}

/** A finished training run joins the runs table, the chart (linked to its start point) and the history. */
function recordTrainedRun(r: FinetuneResult, mode: TrainMode, input: FinetuneInput, labels: PendingTrain['labels'], evalKey: string): RunRecord {
  const what = mode === 'gmp' ? `GMP ${(r.sparsity * 100).toFixed(0)}%` : `recovered ${labels.from}`;
  return addRun(
    {
      source: 'train',
      method: 'trained',
      target: null,
      label: `${what} (${r.steps} steps)`,
      sparsity: r.sparsity,
      ppl: r.ppl,
      nll: r.ppl === null ? null : Math.log(r.ppl),
      seconds: r.seconds,
      pruneSeconds: 0,
      layers: [],
      warnings: [],
      evalKey,
      evalLabel: labels.evalLabel,
      calibLabel: `trained on ${labels.textLabel}: ${r.steps} steps × ${input.batch} windows of ${input.seqlen} tokens, lr ${input.lr}, warm-up ${input.warmup}`,
      trained: {
        mode, steps: r.steps, batch: input.batch, seqlen: input.seqlen, lr: input.lr, warmup: input.warmup,
        ...(input.gmp ? { gmp: { final: input.gmp.final, t0: input.gmp.t0, dt: input.gmp.dt, n: input.gmp.n } } : {}),
        fromRunId: labels.fromRunId ?? null, from: labels.from, pplStart: r.ppl_start,
        weightDecay: input.weightDecay, clip: input.clip, windows: r.windows, modules: r.layers.map((l) => l.hf),
      },
    },
    {},
    false,
  );
}

export function cancelTraining(): void {
  cancelJob('train');
}

/** Pause the run in flight at its next step (a checkpoint is saved; Resume continues it). */
export function pauseTraining(): void {
  const c = useJob.getState().current;
  if (c?.kind !== 'train' || c.callId === null) return;
  useTrain.getState().set({ pausing: true });
  getClient().pause(c.callId);
}

/**
 * From fresh weights, the model's architecture with GMP to the area's sparsity beside its dense
 * twin (as many parameters as the GMP model keeps non-zeros), on the same text and protocol. The
 * worker loads the model's folder again afterwards: the weights are the dense ones as loaded.
 */
export async function compareDenseTwin(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('train');
  const st = useTrain.getState();
  let job: JobHandle;
  let input: TwinInput;
  let textLabel: string;
  try {
    const { texts, calib } = trainingTexts('The dense-twin comparison');
    const { gmp, distill: _distill, ...opts } = finetuneOptions({ ...st.settings, mode: 'gmp' });
    input = { ...opts, gmp: gmp!, seed: parseOption(OPTIONS.seed, st.settings.seed) ?? 0, ...texts };
    textLabel = selectedTextLabel(calib);
    job = startJob('train', { label: `GMP to ${st.settings.gmpPct}% and its dense twin, ${input.steps} steps each` });
  } catch (e) {
    errors.setError('train', e);
    return;
  }
  useTrain.getState().set({ twin: null, live: [] });
  try {
    const r = await job.call({ type: 'denseTwin', input });
    job.finish();
    // The worker loaded the folder again: the model holds its weights as loaded.
    usePrune.getState().set({ weights: null, trainedRun: null });
    useTrain.getState().set({ twin: { ...r, textLabel } });
  } catch (e) {
    job.finish();
    usePrune.getState().set({ weights: null, trainedRun: null });
    errors.setError('train', e);
  }
}
