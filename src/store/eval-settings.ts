// Reading and checking the evaluation settings (text, sequence length, max windows), shared by the
// Evaluate area, single prune runs (which measure the pruned model) and sweeps. The sequence length
// is also the calibration window length: one setting, shown in the Evaluate and Method areas.
import { BadText, MissingFile, NoWebGPU } from '../core/errors';
import { targetLabel } from '../core/prune/types';
import type { WeightsState } from '../worker/protocol';
import { useEngine } from './engine-status';
import { useModel } from './model';
import { usePerplexity } from './perplexity';
import { selectedText, selectedTextLabel, useTexts } from './texts';
import { OPTIONS, parseOption } from '../core/options';

export interface EvalSettings {
  text: string;
  seqlen: number;
  maxWindows?: number;
  textLabel: string;
  modelName: string;
  /** Runs with equal keys measured the same thing (model, text, seqlen, windows). */
  key: string;
  /** "seqlen 256, max 2 windows, built-in sample (sample-eval.txt)". */
  label: string;
}

/** Throws a named error when the engine, model or settings are not usable. */
export function requireModelName(what: string): string {
  if (useEngine.getState().status !== 'ready') {
    throw new NoWebGPU(`${what} needs a working WebGPU engine (see the notice at the top of the page).`);
  }
  const model = useModel.getState();
  if (model.status !== 'loaded' || !model.summary) {
    throw new MissingFile('No model is loaded. Wait for the demo model or load a model folder first.');
  }
  return model.summary.name;
}

/** The sequence length (shared by calibration and evaluation). */
export function currentSeqlen(): number {
  return parseOption(OPTIONS.seqlen, usePerplexity.getState().seqlenInput);
}

export function currentEvalSettings(modelName: string): EvalSettings {
  const slot = useTexts.getState().eval;
  const ppl = usePerplexity.getState();
  const text = selectedText(slot);
  if (!text) throw new BadText('The selected evaluation text is empty. Choose the built-in sample, a .txt file, or paste some text.');
  const seqlen = currentSeqlen();
  const maxWindows = parseOption(OPTIONS.maxWindows, ppl.maxWindowsInput);
  const textLabel = selectedTextLabel(slot);
  return {
    text,
    seqlen,
    maxWindows,
    textLabel,
    modelName,
    key: [modelName, textLabel, text.length, seqlen, maxWindows ?? 'all'].join('|'),
    label: `seqlen ${seqlen}${maxWindows !== undefined ? `, max ${maxWindows} windows` : ''}, ${textLabel}`,
  };
}

/** "dense" or "sparsegpt 50% (50.0% zeros)". */
export function weightsLabel(w: WeightsState | null, trained?: { label: string } | null): string {
  if (!w) return trained ? trained.label : 'dense';
  return `${w.method} ${targetLabel(w.target)} (${(w.sparsity * 100).toFixed(1)}% zeros)`;
}
