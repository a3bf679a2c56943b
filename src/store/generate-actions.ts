// Generation playground actions: parse the settings, run the prompt with the dense weights and then
// (when the model is pruned) with the pruned ones, streaming each side's text into the store, and
// cancel. The worker runs one request at a time, so the two sides run one after the other; a dense
// run on a pruned model leaves the pruned weights exactly as they were (see Engine.generate).
import { BadOption, Cancelled } from '../core/errors';
import { MAX_NEW_TOKENS, MAX_TEMPERATURE, type GenerateOptions } from '../core/eval/generate';
import { useErrors } from './errors';
import { weightsLabel } from './eval-settings';
import { type GenOutput, type GenSettings, type GenSide, generationRunning, useGenerate } from './generate';
import { busyReason, cancelJob, currentEngineBusy, engineBusyBlocker, now, startJob, type EngineBusy, type JobHandle } from './job';
import { useModel } from './model';
import { usePrune } from './prune';


/** Why Generate cannot start now, or null: the engine's checks, the speed measurement among them. */
export function generationBlocker(s: Required<EngineBusy>): string | null {
  return engineBusyBlocker(s);
}

export function currentGenerationBlocker(): string | null {
  return generationBlocker(currentEngineBusy());
}

function wholeNumber(raw: string, what: string, min: number, max: number, blank?: number): number {
  const t = raw.trim();
  if (t === '' && blank !== undefined) return blank;
  const n = Number(t);
  if (t === '' || !Number.isInteger(n) || n < min || n > max) throw new BadOption(`${what} must be a whole number from ${min} to ${max}; got "${raw}".`);
  return n;
}

/** The engine options of the settings (weights filled in per side); throws BadOption. */
export function generateOptionsOf(s: GenSettings): Omit<GenerateOptions, 'weights'> {
  const maxNewTokens = wholeNumber(s.maxNewTokens, 'New tokens', 1, MAX_NEW_TOKENS);
  if (s.mode === 'greedy') return { maxNewTokens, temperature: 0 };
  const temperature = Number(s.temperature.trim());
  if (s.temperature.trim() === '' || !Number.isFinite(temperature) || temperature <= 0 || temperature > MAX_TEMPERATURE) {
    throw new BadOption(`Sampling needs a temperature above 0 and at most ${MAX_TEMPERATURE} (choose Greedy for temperature 0); got "${s.temperature}".`);
  }
  const topK = wholeNumber(s.topK, 'Top-k', 0, 1_000_000, 0);
  const seed = wholeNumber(s.seed, 'The seed', 0, 0xffffffff, 0);
  return { maxNewTokens, temperature, topK, seed };
}

/** "greedy" or "sampling, T 0.8, top-k 40, seed 0". */
export function decodingLabel(o: Omit<GenerateOptions, 'weights'>): string {
  if (o.temperature === 0) return 'greedy';
  return `sampling, temperature ${o.temperature}${o.topK ? `, top-k ${o.topK}` : ''}, seed ${o.seed ?? 0}`;
}

function emptyOutput(status: GenOutput['status'], weights: string): GenOutput {
  return { status, text: '', tokens: 0, startedAt: null, updates: 0, result: null, weights };
}

function patchOutput(side: GenSide, patch: Partial<GenOutput>): void {
  const s = useGenerate.getState();
  const cur = s.outputs[side];
  if (cur) s.set({ outputs: { ...s.outputs, [side]: { ...cur, ...patch } } });
}

/** Run the prompt dense, then pruned (when the model is pruned), streaming both outputs. */
export async function runGeneration(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('generate');
  if (generationRunning()) return;
  let options: Omit<GenerateOptions, 'weights'>;
  let job: JobHandle;
  try {
    const blocker = busyReason('generate') ?? currentGenerationBlocker();
    if (blocker) throw new BadOption(blocker);
    options = generateOptionsOf(useGenerate.getState().settings);
    job = startJob('generate', { label: decodingLabel(options), stage: 'dense' });
  } catch (e) {
    errors.setError('generate', e);
    return;
  }
  const prompt = useGenerate.getState().settings.prompt;
  const pruned = usePrune.getState().weights;
  const sides: GenSide[] = pruned ? ['dense', 'pruned'] : ['dense'];
  useGenerate.getState().set({
    shown: { prompt, decoding: decodingLabel(options) },
    outputs: { dense: emptyOutput('waiting', 'dense'), pruned: pruned ? emptyOutput('waiting', weightsLabel(pruned)) : emptyOutput('unavailable', 'dense') },
  });
  // A failed side stops the other too: it would most likely fail the same way.
  let stopped = false;
  try {
    for (const side of sides) {
      if (stopped || job.cancelRequested) {
        patchOutput(side, { status: 'cancelled' });
        continue;
      }
      const call = job.call(
        { type: 'generate', prompt, options: { ...options, weights: side } },
        {
          stage: side,
          onToken: (t) => {
            const cur = useGenerate.getState().outputs[side];
            patchOutput(side, { text: t.text, tokens: t.tokens, updates: (cur?.updates ?? 0) + 1 });
          },
        },
      );
      patchOutput(side, { status: 'running', startedAt: now() });
      try {
        const r = await call;
        patchOutput(side, { status: 'done', text: r.text, tokens: r.tokens, result: r });
      } catch (e) {
        stopped = true;
        if (e instanceof Cancelled) {
          patchOutput(side, { status: 'cancelled' });
        } else {
          patchOutput(side, { status: 'failed' });
          errors.setError('generate', e);
        }
      }
    }
  } finally {
    job.finish();
  }
}

export function cancelGeneration(): void {
  cancelJob('generate');
}

/** A new model: the outputs of the previous one no longer apply. */
export function resetGeneration(): void {
  cancelGeneration();
  useGenerate.getState().set({ outputs: { dense: null, pruned: null }, shown: null });
  useErrors.getState().clearError('generate');
}

useModel.subscribe((s, prev) => {
  if (s.summary !== prev.summary) resetGeneration();
});
