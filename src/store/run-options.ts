// The calibration and SparseGPT settings of a run, for the llm-compressor recipe and the JSON
// results: recorded on the run itself (RunRecord.options, kept in the history); runs saved by
// older versions fall back to what their calibration label says, with dampening and block size
// at their defaults, marked as not recorded.
import type { RecordedOptions, RunRecord } from './prune';
import { OPTIONS } from '../core/options';

export interface RunOptions extends RecordedOptions {
  /** false: inferred from the run's calibration label; dampening, block size and skipped layers are defaults. */
  recorded: boolean;
}

/** "32 × 256 tokens of sample-calib.txt, seed 7" → samples, seqlen, seed. */
export function parseCalibLabel(label: string): { calibSamples: number; seqlen: number; seed?: number } | null {
  const m = /^(\d+) × (\d+) tokens of .*?(?:, seed (\d+))?$/.exec(label);
  if (!m) return null;
  const out: { calibSamples: number; seqlen: number; seed?: number } = { calibSamples: Number(m[1]), seqlen: Number(m[2]) };
  if (m[3] !== undefined) out.seed = Number(m[3]);
  return out;
}

/** The settings of a run: recorded when it ran in this session, else inferred from its label. */
export function runOptions(run: RunRecord): RunOptions | null {
  if (run.options) return { ...run.options, recorded: true };
  const c = parseCalibLabel(run.calibLabel);
  if (!c) return null;
  return { ...c, percdamp: OPTIONS.percdamp.default, blocksize: OPTIONS.blocksize.default, skipLayers: [], recorded: false };
}
