// The contextual-pruning job, for the studio and the CLI: the two perplexities around a run
// (domain and general text, dense and pruned), on the engine.
//
//   Engine.pruneContextual(calibText, ContextualRunOptions) → ContextualReport   (engine.ts)
//   runContextualJob(engine, { calibText, options, evaluate }, hooks)   → ContextualJobResult
//       = restore dense, [dense ppl: domain, general], prune, [pruned ppl: domain, general]
import { throwIfCancelled } from '../errors';
import type { ContextualReport, ContextualRunOptions } from '../prune/contextual-report';
import type { PerplexityOptions, PerplexityResult, ProgressFn } from '../types';
import type { JobHooks } from './job';

export type { ContextualReport, ContextualRunOptions } from '../prune/contextual-report';

// ---------------------------------------------------------------------------------------------
// The job: prune, and the two perplexities before and after

/** What to measure around the run: the domain text, the general one, dense and/or pruned. */
export interface ContextualEvaluation {
  /** The domain evaluation text (the studio's evaluation text; the CLI's --eval). */
  domain: string | null;
  /** The general text (the built-in sample-eval.txt; the CLI's --eval-general). */
  general: string | null;
  seqlen: number;
  maxWindows?: number;
  /** Also measure both texts on the dense model first (the studio's "dense" column). */
  dense: boolean;
}

/** Perplexities by text; null where that text was not given or not measured. */
export interface PplPair {
  domain: PerplexityResult | null;
  general: PerplexityResult | null;
}

export interface ContextualJobResult {
  report: ContextualReport;
  dense: PplPair | null;
  pruned: PplPair;
}

/** The part of the Engine the job needs (an interface, so this file does not import the engine). */
export interface ContextualEngine {
  restoreDense(): void;
  perplexity(text: string, opts: PerplexityOptions, onProgress?: ProgressFn, signal?: AbortSignal): Promise<PerplexityResult>;
  pruneContextual(calibText: string, opts: ContextualRunOptions, onProgress?: ProgressFn, signal?: AbortSignal): Promise<ContextualReport>;
}

/**
 * Restore dense; measure the dense model on both texts (when `evaluate.dense`); prune; measure the
 * pruned model on both texts. Progress events carry the stage as point/points and a detail
 * prefixed with the stage's name ("dense · domain text · window 1/2"). A failure or cancellation
 * before the prune finished leaves the model dense; one during the pruned measurements leaves it
 * pruned (as a prune run followed by a cancelled evaluation).
 */
export async function runContextualJob(
  engine: ContextualEngine,
  input: { calibText: string; options: ContextualRunOptions; evaluate: ContextualEvaluation | null },
  { onProgress, signal }: JobHooks = {},
): Promise<ContextualJobResult> {
  const { calibText, options, evaluate } = input;
  const texts = (['domain', 'general'] as const).filter((k) => evaluate?.[k]);
  const stages: string[] = [
    ...(evaluate?.dense ? texts.map((k) => `dense · ${k} text`) : []),
    'contextual pruning',
    ...texts.map((k) => `pruned · ${k} text`),
  ];
  let stage = 0;
  const report = (name: string): ProgressFn => {
    const point = ++stage;
    return (p) => onProgress?.({ ...p, point, points: stages.length, detail: `${name} · ${p.detail ?? `${p.done}/${p.total}`}` });
  };
  const pplOpts: PerplexityOptions = evaluate ? { seqlen: evaluate.seqlen, ...(evaluate.maxWindows !== undefined ? { maxWindows: evaluate.maxWindows } : {}) } : { seqlen: 2 };
  const measure = async (weights: 'dense' | 'pruned'): Promise<PplPair> => {
    const out: PplPair = { domain: null, general: null };
    for (const k of texts) {
      throwIfCancelled(signal);
      out[k] = await engine.perplexity(evaluate![k]!, pplOpts, report(`${weights} · ${k} text`), signal);
    }
    return out;
  };
  // Dense first, so the dense column measures the dense weights whatever was loaded before.
  engine.restoreDense();
  const dense = evaluate?.dense ? await measure('dense') : null;
  throwIfCancelled(signal);
  const r = await engine.pruneContextual(calibText, options, report('contextual pruning'), signal);
  const pruned = await measure('pruned');
  return { report: r, dense, pruned };
}
