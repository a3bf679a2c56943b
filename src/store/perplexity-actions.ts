// Measuring perplexity with the Evaluate settings, as a job in the job slot.
import { BadOption, Cancelled } from '../core/errors';
import { useErrors } from './errors';
import { currentEvalSettings, requireModelName, weightsLabel, type EvalSettings } from './eval-settings';
import { busyReason, cancelJob, elapsedSeconds, now, startJob, type JobHandle } from './job';
import { usePerplexity, type PerplexitySettings } from './perplexity';
import { usePrune } from './prune';
import { perplexityBody, recordDense } from './prune-actions';

export async function measurePerplexity(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('eval');
  let job: JobHandle;
  let ev: EvalSettings;
  let settings: PerplexitySettings;
  const weights = usePrune.getState().weights;
  try {
    const busy = busyReason('perplexity');
    if (busy) throw new BadOption(busy);
    ev = currentEvalSettings(requireModelName('Measuring perplexity'));
    settings = { seqlen: ev.seqlen, maxWindows: ev.maxWindows, textLabel: ev.textLabel, modelName: ev.modelName, weights: weightsLabel(weights, usePrune.getState().trainedRun) };
    job = startJob('perplexity', { label: ev.label });
  } catch (e) {
    errors.setError('eval', e);
    return;
  }
  const call = job.call(perplexityBody(ev));
  try {
    const result = await call;
    usePerplexity.getState().set({ run: { status: 'done', callId: call.id, result, settings } });
    // A dense measurement is the reference point of the pruning chart.
    if (!weights) recordDense(ev.key, result.ppl);
  } catch (e) {
    if (e instanceof Cancelled) {
      usePerplexity.getState().set({ run: { status: 'cancelled', settings, elapsed: elapsedSeconds(job.job ?? { startedAt: now() }) } });
    } else {
      usePerplexity.getState().set({ run: { status: 'failed', settings } });
      useErrors.getState().setError('eval', e);
    }
  } finally {
    job.finish();
  }
}

export function cancelMeasure(): void {
  cancelJob('perplexity');
}
