// Training actions: check the Train area's settings, send one `finetune` request on the Data
// area's calibration text (the training text) with the Evaluate settings for the perplexity before
// and after, collect each step's loss from the progress events, and cancel.
import { BadOption, BadText, Cancelled } from '../core/errors';
import type { FinetuneInput } from '../core/jobs/finetune';
import { OPTIONS, parseOption } from '../core/options';
import { useErrors } from './errors';
import { currentEvalSettings, requireModelName, weightsLabel } from './eval-settings';
import { type JobHandle, cancelJob, startJob, useJob } from './job';
import { usePrune } from './prune';
import { type TrainSettings, useTrain } from './train';
import { selectedText, selectedTextLabel, useTexts } from './texts';

/** GMP's final sparsity, typed in percent. */
function finalSparsity(pct: string): number {
  const x = pct.trim() === '' ? NaN : Number(pct);
  if (!Number.isFinite(x)) throw new BadOption(`Final sparsity must be a percentage from 0 to ${OPTIONS.gmp.max * 100}; got "${pct}".`);
  return parseOption(OPTIONS.gmp, String(x / 100))!;
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
    gmp: s.mode === 'gmp' ? { final: finalSparsity(s.gmpPct), t0: parseOption(OPTIONS.gmpT0, s.gmpT0), dt: parseOption(OPTIONS.gmpDt, s.gmpDt), n: parseOption(OPTIONS.gmpN, s.gmpN) } : undefined,
  };
}

export async function runTraining(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('train');
  const st = useTrain.getState();
  let input: FinetuneInput;
  let job: JobHandle;
  let labels: { from: string; evalLabel: string; textLabel: string };
  try {
    const modelName = requireModelName('Training');
    const calib = useTexts.getState().calib;
    const trainText = selectedText(calib);
    if (!trainText) throw new BadText('The training text is empty: choose a calibration text in the Data area (training reads it).');
    const ev = currentEvalSettings(modelName);
    input = { ...finetuneOptions(st.settings), trainText, evalText: ev.text, evalSeqlen: ev.seqlen, ...(ev.maxWindows === undefined ? {} : { maxWindows: ev.maxWindows }) };
    labels = { from: weightsLabel(usePrune.getState().weights), evalLabel: ev.label, textLabel: selectedTextLabel(calib) };
    job = startJob('train', { label: `${st.settings.mode === 'gmp' ? `GMP to ${st.settings.gmpPct}%` : 'recovery'}, ${input.steps} steps` });
  } catch (e) {
    errors.setError('train', e);
    return;
  }
  useTrain.getState().set({ live: [], cancelled: null });
  // Each step's loss arrives as a progress event of the job's call.
  const unsubscribe = useJob.subscribe((s) => {
    const p = s.current?.id === job.id ? s.current.progress : null;
    if (p?.phase !== 'train' || p.loss === undefined) return;
    const live = useTrain.getState().live;
    if (p.done === live.length + 1) useTrain.getState().set({ live: [...live, p.loss] });
  });
  try {
    const r = await job.call({ type: 'finetune', input });
    // The trained weights are the model's weights now (the engine keeps no dense backup of them).
    usePrune.getState().set({ weights: null });
    job.finish();
    useTrain.getState().set({ result: { ...r, mode: st.settings.mode, ...labels } });
  } catch (e) {
    const steps = useTrain.getState().live.length;
    // Any step taken changed the weights (the worker says so in its message); they are no longer the pruned ones.
    if (steps > 0) usePrune.getState().set({ weights: null });
    job.finish();
    errors.setError('train', e);
    if (e instanceof Cancelled) useTrain.getState().set({ cancelled: { steps } });
  } finally {
    unsubscribe();
  }
}

export function cancelTraining(): void {
  cancelJob('train');
}
