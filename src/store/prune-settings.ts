// Turning the Method and Sweep inputs (strings) into engine options, with named errors that say
// what to type. Pure functions: the UI uses them to show blockers before a run, the actions to
// build the request, and the unit tests to check them.
import { BadOption } from '../core/errors';
import { METHODS, checkTarget, parseOverrides, parseTarget, type PruneMethod, type PruneOptions, type Target } from '../core/prune/types';
import { sweepPoints, type SweepPoint } from '../core/jobs/sweep';
import type { MethodSettings, SweepSettings } from './prune';
import { OPTIONS, parseOption } from '../core/options';

export const MAX_SPARSITY_PCT = 95;

function parseNumber(raw: string, what: string): number {
  const s = raw.trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) throw new BadOption(`${what} must be a number; got "${raw}".`);
  return n;
}

/** The N:M pattern of the settings ("2:4", "4:8" or the custom one). */
export function patternOf(s: Pick<MethodSettings, 'pattern' | 'customPattern'>): string {
  return s.pattern === 'custom' ? s.customPattern : s.pattern;
}

export function targetOf(s: Pick<MethodSettings, 'targetKind' | 'sparsityPct' | 'pattern' | 'customPattern'>): Target {
  if (s.targetKind === 'nm') {
    const p = patternOf(s).trim();
    if (!p) throw new BadOption('Type a custom N:M pattern, e.g. 1:4 (N of every M consecutive weights are set to zero).');
    return parseTarget({ pattern: p });
  }
  const pct = parseNumber(s.sparsityPct, 'Sparsity (%)');
  if (pct < 0 || pct > MAX_SPARSITY_PCT) throw new BadOption(`Sparsity must be from 0 to ${MAX_SPARSITY_PCT} %; got ${s.sparsityPct} %.`);
  return checkTarget({ kind: 'unstructured', sparsity: pct / 100 });
}

/** "0, 3-4" → [0, 3, 4], each checked against the model's decoder layers. */
export function parseLayerList(raw: string, nLayers: number): number[] {
  const out = new Set<number>();
  for (const part of raw.split(/[\s,;]+/).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new BadOption(`Layers to skip: "${part}" is not a layer number or range (write e.g. "0, 3-4").`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new BadOption(`Layers to skip: the range ${part} runs backwards.`);
    if (b >= nLayers) throw new BadOption(`Layers to skip: the model has layers 0 to ${nLayers - 1}; got ${b}.`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

export interface CommonOptions {
  calibSamples: number;
  percdamp: number;
  blocksize: number;
  seed?: number;
}

/** The calibration and SparseGPT options shared by single runs and sweeps. */
export function commonOptions(s: MethodSettings): CommonOptions {
  const calibSamples = parseOption(OPTIONS.calibSamples, s.calibSamples);
  const percdamp = parseOption(OPTIONS.percdamp, s.percdamp);
  const blocksize = parseOption(OPTIONS.blocksize, s.blocksize);
  const seed = parseOption(OPTIONS.seed, s.seed);
  return seed === undefined ? { calibSamples, percdamp, blocksize } : { calibSamples, percdamp, blocksize, seed };
}

export function pruneOptionsOf(s: MethodSettings, seqlen: number, nLayers: number): PruneOptions {
  const c = commonOptions(s);
  const opts: PruneOptions = { method: s.method, target: targetOf(s), seqlen, ...c };
  const skip = parseLayerList(s.skipLayers, nLayers);
  if (skip.length) {
    if (skip.length === nLayers) throw new BadOption('Every layer is in "layers to skip": nothing would be pruned.');
    opts.skipLayers = skip;
  }
  const overrides = parseOverrides(s.overrides ?? '');
  if (Object.keys(overrides).length) opts.overrides = overrides;
  return opts;
}

/** "0.3, 0.5, 70%" → [0.3, 0.5, 0.7]. */
export function parseSparsityList(raw: string): number[] {
  const out: number[] = [];
  for (const part of raw.split(/[\s,;]+/).filter(Boolean)) {
    const pct = part.endsWith('%');
    const v = Number(pct ? part.slice(0, -1) : part);
    if (!Number.isFinite(v)) throw new BadOption(`Sweep sparsities: "${part}" is not a number (write fractions like 0.5, or percents like 50%).`);
    const x = pct ? v / 100 : v;
    if (!pct && v >= 1) throw new BadOption(`Sweep sparsities are fractions below 1 (0.5 = 50 %); got ${part}. Write ${v}% for a percent.`);
    if (x < 0 || x > MAX_SPARSITY_PCT / 100) throw new BadOption(`Sweep sparsities must be from 0 to ${MAX_SPARSITY_PCT / 100}; got ${part}.`);
    if (!out.includes(x)) out.push(x);
  }
  return out;
}

/** "2:4, 4:8" → [[2, 4], [4, 8]]. */
export function parsePatternList(raw: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const part of raw.split(/[\s,;]+/).filter(Boolean)) {
    const t = parseTarget({ pattern: part });
    if (t.kind === 'nm' && !out.some(([n, m]) => n === t.n && m === t.m)) out.push([t.n, t.m]);
  }
  return out;
}

export function selectedMethods(s: SweepSettings): PruneMethod[] {
  return METHODS.filter((m) => s.methods[m]);
}

export function sweepPointsOf(s: SweepSettings): SweepPoint[] {
  const methods = selectedMethods(s);
  if (methods.length === 0) throw new BadOption('Tick at least one method for the sweep.');
  const sparsities = parseSparsityList(s.sparsities);
  const patterns = parsePatternList(s.patterns);
  if (sparsities.length === 0 && patterns.length === 0) throw new BadOption('Give at least one sparsity (e.g. 0.5) or N:M pattern (e.g. 2:4) for the sweep.');
  return sweepPoints(methods, sparsities, patterns);
}

/** Why the calibration text cannot give the samples asked for, or null when it can. */
export function calibrationShortfall(tokens: number | null, samples: number, seqlen: number, seeded: boolean): string | null {
  if (tokens === null) return null;
  const windows = Math.floor(tokens / seqlen);
  if (windows === 0) return `The calibration text has ${tokens} tokens, fewer than one window of ${seqlen}. Give a longer text or a shorter sequence length.`;
  if (!seeded && windows < samples) {
    return `The calibration text gives ${windows} window${windows === 1 ? '' : 's'} of ${seqlen} tokens, fewer than the ${samples} samples asked for. Ask for at most ${windows} samples, give a longer text, or set a seed (random, overlapping windows).`;
  }
  return null;
}

