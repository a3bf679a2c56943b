// Contextual pruning actions: check the settings and that nothing else runs, send one
// `pruneContextual` request (the worker restores dense, measures the dense model on the domain and
// general texts unless those figures are known, prunes, and measures the pruned model on both),
// cancel it, and save the smaller model (`exportSmaller`) through the save helpers.
//   domain text  = the Data area's evaluation text with the Evaluate settings (seqlen, windows);
//   general text = the built-in sample-eval.txt, with the same settings;
//   calibration  = the Data area's calibration text, the Method area's calibration samples/seed.
import { BadOption, BadText, Cancelled, MissingFile } from '../core/errors';
import type { ContextualEvaluation, ContextualRunOptions } from '../core/jobs/contextual';
import { OPTIONS, parseOption } from '../core/options';
import { exportModelFolder } from './export-actions';
import { baseUrl } from './base-url';
import { getClient } from './client';
import { type ContextualSettings, useContextual } from './contextual';
import { useErrors } from './errors';
import { currentEvalSettings, currentSeqlen, requireModelName, weightsLabel } from './eval-settings';
import { busyReason, cancelJob, elapsedSeconds, jobRunning, startJob, type JobHandle } from './job';
import { useModel } from './model';
import { usePrune } from './prune';
import { exportFolderName, jobFailed, recordDense } from './prune-actions';
import { calibrationShortfall } from './prune-settings';
import { SAMPLE_EVAL_NAME, knownTokens, selectedText, selectedTextLabel, useTexts } from './texts';

/** The Method area's sparsity limit applies to the fractions here too. */
const MAX_PCT = 95;

function pctOf(raw: string, what: string): number {
  const s = raw.trim();
  const x = s === '' ? NaN : Number(s);
  if (!Number.isFinite(x) || x < 0 || x > MAX_PCT) throw new BadOption(`${what} must be a percentage from 0 to ${MAX_PCT}; got "${raw}".`);
  return x / 100;
}

function scoreOf(raw: string, what: string): number {
  const s = raw.trim();
  const x = s === '' ? NaN : Number(s);
  if (!Number.isFinite(x) || x < 0) throw new BadOption(`${what} must be a score ≥ 0 (e.g. 0.05); got "${raw}".`);
  return x;
}

/** The selection options of the panel's settings (BadOption with what to type). */
export function selectionOf(s: ContextualSettings): Omit<ContextualRunOptions, 'calibSamples' | 'seqlen' | 'seed'> {
  const o: Omit<ContextualRunOptions, 'calibSamples' | 'seqlen' | 'seed'> = { scoring: s.scoring, zeroUnusedTokens: s.zeroUnusedTokens };
  if (s.targetKind === 'fraction') {
    o.fraction = pctOf(s.fractionPct, 'The fraction of neurons (%)');
    if (s.headFractionPct.trim() !== '') o.headFraction = pctOf(s.headFractionPct, 'The fraction of heads (%)');
  } else {
    o.threshold = scoreOf(s.threshold, 'The threshold');
    if (s.headThreshold.trim() !== '') o.headThreshold = scoreOf(s.headThreshold, 'The head threshold');
  }
  return o;
}

/** Calibration samples and seed: the Method area's settings. */
export function calibrationOf(): { calibSamples: number; seed?: number } {
  const m = usePrune.getState().settings;
  const calibSamples = parseOption(OPTIONS.calibSamples, m.calibSamples);
  const seed = parseOption(OPTIONS.seed, m.seed);
  return seed === undefined ? { calibSamples } : { calibSamples, seed };
}

/** Why a contextual run cannot start now (another job, no model, no text), or null. */
export function contextualBusyReason(): string | null {
  const busy = busyReason('contextual');
  if (busy) return busy;
  if (usePrune.getState().exportStatus.status === 'exporting' || useContextual.getState().exportStatus.status === 'exporting') return 'An export is being written; wait for it first.';
  return null;
}

let generalCache: string | null = null;

/** The general text: the built-in sample-eval.txt (from the Data area if loaded, else fetched). */
async function generalText(): Promise<string> {
  const s = useTexts.getState().eval.sample;
  if (s.status === 'ready' && s.text) return s.text;
  if (generalCache) return generalCache;
  const url = new URL(`data/${SAMPLE_EVAL_NAME}`, baseUrl());
  const res = await fetch(url);
  if (!res.ok) throw new MissingFile(`Could not fetch the built-in general text ${url.pathname} (HTTP ${res.status}). Reload the page.`);
  generalCache = await res.text();
  return generalCache;
}

/** Run contextual pruning with the panel's settings and measure both perplexities. */
export async function runContextual(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('contextual');
  let calibText: string;
  let options: ContextualRunOptions;
  let evaluate: ContextualEvaluation;
  let keys: { domain: string; general: string; evalKey: string };
  let labels: { domain: string; general: string; calib: string };
  let modelName: string;
  let job: JobHandle;
  try {
    const busy = contextualBusyReason();
    if (busy) throw new BadOption(busy);
    modelName = requireModelName('Contextual pruning');
    const calib = useTexts.getState().calib;
    calibText = selectedText(calib);
    if (!calibText) throw new BadText('The calibration (domain) text is empty. Choose the built-in calibration sample, a .txt file, or paste your domain text in the Data area.');
    const seqlen = currentSeqlen();
    const c = calibrationOf();
    const short = calibrationShortfall(knownTokens(calib), c.calibSamples, seqlen, c.seed !== undefined);
    if (short) throw new BadText(short);
    options = { ...selectionOf(useContextual.getState().settings), ...c, seqlen };
    const ev = currentEvalSettings(modelName);
    const general = await generalText();
    const win = ev.maxWindows === undefined ? {} : { maxWindows: ev.maxWindows };
    const cache = useContextual.getState().denseCache;
    keys = { domain: ev.key, general: [modelName, 'general', SAMPLE_EVAL_NAME, general.length, ev.seqlen, ev.maxWindows ?? 'all'].join('|'), evalKey: ev.key };
    evaluate = { domain: ev.text, general, seqlen: ev.seqlen, ...win, dense: !(keys.domain in cache && keys.general in cache) };
    labels = {
      domain: ev.label,
      general: `seqlen ${ev.seqlen}${ev.maxWindows !== undefined ? `, max ${ev.maxWindows} windows` : ''}, built-in sample (${SAMPLE_EVAL_NAME})`,
      calib: `${c.calibSamples} × ${seqlen} tokens of ${selectedTextLabel(calib)}${c.seed !== undefined ? `, seed ${c.seed}` : ''}`,
    };
    job = startJob('contextual', { label: useContextual.getState().settings.targetKind === 'fraction' ? `${options.fraction! * 100}% of the neurons` : `threshold ${options.threshold}` });
  } catch (e) {
    errors.setError('contextual', e);
    return;
  }
  const before = useModel.getState().summary!;
  const startedAt = job.job!.startedAt;
  const call = job.call({ type: 'pruneContextual', calibText, options, evaluate });
  useContextual.getState().set({ cancelled: null, exportStatus: { status: 'idle' } });
  // The worker starts from the dense weights.
  usePrune.getState().set({ weights: null });
  try {
    const r = await call;
    const st = useContextual.getState();
    const denseCache = { ...st.denseCache };
    if (r.dense?.domain) {
      denseCache[keys.domain] = r.dense.domain.ppl;
      recordDense(keys.evalKey, r.dense.domain.ppl);
    }
    if (r.dense?.general) denseCache[keys.general] = r.dense.general.ppl;
    usePrune.getState().set({ weights: r.weights });
    job.finish();
    st.set({
      denseCache,
      result: {
        report: r.report,
        dense: { domain: denseCache[keys.domain] ?? null, general: denseCache[keys.general] ?? null },
        pruned: { domain: r.pruned.domain?.ppl ?? null, general: r.pruned.general?.ppl ?? null },
        domainLabel: labels.domain,
        generalLabel: labels.general,
        calibLabel: labels.calib,
        seconds: elapsedSeconds({ startedAt }),
        modelName,
        before: { ffn: before.ffn, heads: before.heads, kvHeads: before.kvHeads },
      },
    });
  } catch (e) {
    const weights = await jobFailed(job, 'contextual', 'Contextual pruning', e);
    if (e instanceof Cancelled) useContextual.getState().set({ cancelled: { elapsed: elapsedSeconds({ startedAt }), dense: weights === null } });
  }
}

export function cancelContextual(): void {
  cancelJob('contextual');
}

/**
 * Save the contextual-pruned model as a smaller Hugging Face folder (called straight from the
 * click: the folder picker, where there is one, needs the user's gesture).
 */
export async function saveSmallerModel(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('contextual');
  const s = useContextual.getState();
  if (jobRunning('contextual') || s.exportStatus.status === 'exporting') return;
  const weights = usePrune.getState().weights;
  if (weights?.method !== 'contextual') {
    errors.setError('contextual', new BadOption(`The weights are ${weightsLabel(weights)}: run contextual pruning first, then export the smaller model.`));
    return;
  }
  const model = useModel.getState().summary?.name ?? 'model';
  const folder = `${exportFolderName(model, weights)}-smaller`;
  const build = async () => {
    const r = await getClient().call({ type: 'exportSmaller' });
    const c = r.config;
    let note = ` FFN size ${c.ffn}, ${c.heads} heads / ${c.kvHeads} KV heads; ${r.counts.after.params.toLocaleString('en-US')} parameters (${r.counts.before.params.toLocaleString('en-US')} before).`;
    if (r.warnings.length) note += ` ${r.warnings.join(' ')}`;
    return { files: r.files, note };
  };
  await exportModelFolder(folder, build, (exportStatus) => useContextual.getState().set({ exportStatus }), { area: 'contextual', loadable: true });
}
