// A contextual-pruning run as the engine keeps it: the options of one run (selection +
// calibration windows) and the report the engine keeps as its prune state (plain data: it crosses
// the worker boundary and goes into JSON). The pruning itself is contextual.ts; the job that
// measures perplexities around it is jobs/contextual.ts.
import type { ModelSpec } from '../model/spec';
import { weightedSparsity } from '../model/spec';
import type { ParamCounts } from '../model/structure';
import type { ContextualOptions, ContextualScores, ContextualScoring, ContextualSelection, GqaMode } from './contextual';
import type { Target } from './types';

/** One run: what to remove (as in contextual.ts, without keepTokens) and the calibration windows. */
export interface ContextualRunOptions extends Omit<ContextualOptions, 'keepTokens'> {
  /** Calibration windows: the first `calibSamples` windows of `seqlen` tokens (random with `seed`). */
  calibSamples: number;
  seqlen: number;
  seed?: number;
}

/** A linear sublayer after the run: its fraction of zeros (rows/columns of removed units). */
export interface ContextualLayer {
  /** Canonical sublayer name, e.g. "layers.0.mlp.down". */
  name: string;
  /** Hugging Face module name (set by the engine). */
  hf?: string;
  sparsity: number;
}

/** The engine's prune state after a contextual run (plain data). */
export interface ContextualReport {
  method: 'contextual';
  mode: ContextualSelection['mode'];
  scoring: ContextualScoring;
  gqa: GqaMode;
  /** The options as resolved: a fraction or a score threshold, for neurons and for head units. */
  neuronTarget: number;
  headTarget: number;
  /**
   * For the studio's weights label and file names: "unstructured" at the fraction of MLP neurons
   * removed (the requested fraction in fraction mode, the achieved one with a threshold).
   */
  target: Target;
  /** Zeros / weights over every linear sublayer of every decoder layer. */
  sparsity: number;
  /** Every linear sublayer with its fraction of zeros (k/v only lose whole KV heads). */
  layers: ContextualLayer[];
  /** Units removed per decoder layer. */
  removed: Array<{ neurons: number; heads: number; kvHeads: number }>;
  summary: ContextualSelection['summary'];
  /** The smaller shapes (null where the layers remove unevenly). */
  structure: ContextualSelection['structure'];
  /** Every layer removes alike (neurons, and heads if any), which a smaller config can express. */
  uniform: boolean;
  /** The architecture of the smaller export (the original sizes where it keeps zeros instead). */
  exported: { ffn: number; heads: number; kvHeads: number };
  /** Parameters and bytes before / after the smaller export, and which parts it slices. */
  counts: Omit<ParamCounts, 'warnings'>;
  /** What the smaller export cannot slice (exported as zeros instead), and token rows zeroed. */
  warnings: string[];
  /** Calibration: windows × seqlen token positions scored. */
  windows: number;
  tokens: number;
  seconds: number;
}

/** The selection options of a run (the calibration settings stripped, special tokens added). */
export function selectionOptions(o: ContextualRunOptions, keepTokens: number[]): ContextualOptions {
  const out: ContextualOptions = { keepTokens };
  if (o.fraction !== undefined) out.fraction = o.fraction;
  if (o.threshold !== undefined) out.threshold = o.threshold;
  if (o.headFraction !== undefined) out.headFraction = o.headFraction;
  if (o.headThreshold !== undefined) out.headThreshold = o.headThreshold;
  if (o.scoring !== undefined) out.scoring = o.scoring;
  if (o.gqa !== undefined) out.gqa = o.gqa;
  if (o.zeroUnusedTokens !== undefined) out.zeroUnusedTokens = o.zeroUnusedTokens;
  return out;
}

/**
 * All-zero scores with the model's dimensions: selectContextual on them checks the options (a
 * BadOption for a fraction and a threshold together, a fraction ≥ 1, …) before any GPU work.
 */
export function emptyScores(spec: ModelSpec): ContextualScores {
  const z = (n: number) => new Float64Array(n);
  return {
    dims: { nLayers: spec.nLayers, ffn: spec.ffn, nHeads: spec.nHeads, nKvHeads: spec.nKvHeads, headDim: spec.headDim, vocabSize: spec.vocabSize },
    specialIds: [],
    windows: 0,
    tokens: 0,
    layers: Array.from({ length: spec.nLayers }, () => ({ neuronMeanAbs: z(spec.ffn), neuronWanda: z(spec.ffn), headMeanAbs: z(spec.nHeads), headWanda: z(spec.nHeads) })),
    tokenCounts: new Uint32Array(spec.vocabSize),
  };
}

/** The report of a selection applied to `spec` (no GPU work). */
export function contextualReport(
  spec: ModelSpec,
  sel: ContextualSelection,
  layers: Array<{ name: string; sparsity: number }>,
  counts: ParamCounts,
  calib: { windows: number; tokens: number; seconds: number },
): ContextualReport {
  const anyHeads = sel.summary.heads.removed > 0;
  const { warnings, ...rest } = counts;
  const neuronFraction = sel.summary.neurons.total > 0 ? sel.summary.neurons.removed / sel.summary.neurons.total : 0;
  return {
    method: 'contextual',
    mode: sel.mode,
    scoring: sel.scoring,
    gqa: sel.gqa,
    neuronTarget: sel.neuronTarget,
    headTarget: sel.headTarget,
    target: { kind: 'unstructured', sparsity: sel.mode === 'fraction' ? sel.neuronTarget : neuronFraction },
    sparsity: weightedSparsity(spec, layers),
    layers: layers.map((l) => ({ name: l.name, sparsity: l.sparsity })),
    removed: sel.layers.map((l) => ({ neurons: l.neurons.length, heads: l.heads.length, kvHeads: l.kvHeads.length })),
    summary: sel.summary,
    structure: sel.structure,
    uniform: sel.structure.ffn !== null && (!anyHeads || sel.structure.heads !== null),
    exported: {
      ffn: rest.smaller.mlp && sel.structure.ffn !== null ? sel.structure.ffn : spec.ffn,
      heads: rest.smaller.heads && sel.structure.heads ? sel.structure.heads.nHeads : spec.nHeads,
      kvHeads: rest.smaller.heads && sel.structure.heads ? sel.structure.heads.nKvHeads : spec.nKvHeads,
    },
    counts: rest,
    warnings,
    windows: calib.windows,
    tokens: calib.tokens,
    seconds: calib.seconds,
  };
}
