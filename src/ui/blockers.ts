// Why a run cannot start now, as the areas render it (the starters check the same on click).
// useCalibrationBlocker serves the runs that calibrate on the Data area's text (Prune, Run sweep,
// Run contextual pruning): the same readiness checks, any other job holding the engine, and the
// calibration text too short for the samples asked for; what differs between the areas (the words
// that name the run, its own jobs) is the table below. useEngineBusy gives the short requests'
// facts (generation, the speed measurement).
import { busyLine, jobBusy, type EngineBusy, type JobKind } from '../store/job';
import { useEngine } from '../store/engine-status';
import { useModel } from '../store/model';
import { usePerplexity } from '../store/perplexity';
import { usePrune } from '../store/prune';
import { calibrationShortfall } from '../store/prune-settings';
import { knownTokens, selectedText, useTexts } from '../store/texts';
import { useJobKind } from './JobControls';

/** A whole number typed in a box, or null while the box holds anything else (blank, "1.5", "-2"). */
export function intOrNull(raw: string): number | null {
  const s = raw.trim();
  return /^\d+$/.test(s) ? Number(s) : null;
}

interface AreaBlocker {
  /** No WebGPU engine. */
  noGpu: string;
  /** No calibration text selected in the Data area. */
  noCalib: string;
  /** No evaluation text selected in the Data area. */
  noEval: string;
  /** The area's own jobs: they disable its buttons instead. */
  own: readonly JobKind[];
  /** Whether the run reads calibration samples × sequence length of the text (training reads its own windows). */
  samples?: false;
}

const AREAS = {
  method: {
    noGpu: 'Pruning needs WebGPU.',
    noCalib: 'Choose a calibration text in the Data area.',
    noEval: 'Choose an evaluation text in the Data area (the pruned model is measured on it).',
    own: ['prune', 'sweep'],
  },
  contextual: {
    noGpu: 'Contextual pruning needs WebGPU.',
    noCalib: 'Choose the domain text as the calibration text in the Data area.',
    noEval: 'Choose an evaluation text in the Data area (the domain perplexity is measured on it).',
    own: ['contextual'],
  },
  train: {
    noGpu: 'Training needs WebGPU.',
    noCalib: 'Choose a training text as the calibration text in the Data area.',
    noEval: 'Choose an evaluation text in the Data area (the perplexity before and after is measured on it).',
    own: ['train'],
    samples: false,
  },
} satisfies Record<string, AreaBlocker>;

/**
 * Why the area's run cannot start now (beyond settings errors, which show on click), or null. A
 * hook: call it once per render, unconditionally.
 */
export function useCalibrationBlocker(area: keyof typeof AREAS): string | null {
  const own: AreaBlocker = AREAS[area];
  const engineReady = useEngine((s) => s.status === 'ready');
  const modelLoaded = useModel((s) => s.status === 'loaded');
  const calib = useTexts((s) => s.calib);
  const hasEval = useTexts((s) => selectedText(s.eval).length > 0);
  const running = useJobKind();
  const seqlenInput = usePerplexity((s) => s.seqlenInput);
  const samplesInput = usePrune((s) => s.settings.calibSamples);
  const seeded = usePrune((s) => s.settings.seed.trim() !== '');
  if (!engineReady) return own.noGpu;
  if (!modelLoaded) return 'Load a model first.';
  if (!selectedText(calib)) return own.noCalib;
  if (!hasEval) return own.noEval;
  if (running && !own.own.includes(running)) return busyLine(running);
  const samples = intOrNull(samplesInput);
  const seqlen = intOrNull(seqlenInput);
  if (own.samples !== false && samples !== null && seqlen !== null && seqlen >= 2) return calibrationShortfall(knownTokens(calib), samples, seqlen, seeded);
  return null;
}

/** The engine's readiness and what holds it now (a hook: primitives, so progress does not re-render). */
export function useEngineBusy(): Required<EngineBusy> {
  const engineReady = useEngine((s) => s.status === 'ready');
  const hasModel = useModel((s) => s.summary !== null);
  const exporting = usePrune((s) => s.exportStatus.status === 'exporting');
  return { engineReady, hasModel, ...jobBusy(useJobKind()), exporting };
}
