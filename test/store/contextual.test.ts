// The Contextual area's store and actions over a fake engine worker: the settings as engine
// options, the one pruneContextual request (domain = the evaluation text, general = the built-in
// sample, calibration from the Data and Method areas), the dense figures measured once and then
// reused, the weights state after a run and after a cancellation, the other starters refusing
// while it runs, and the smaller export refused unless the weights are contextual-pruned.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BadOption, Cancelled, errorToWire } from '../../src/core/errors';
import type { ContextualReport } from '../../src/core/jobs/contextual';
import type { ModelSummary, PerplexityResult } from '../../src/core/types';
import type { ResponseResults, WeightsState } from '../../src/worker/protocol';
import { fakeEngine, tick } from '../helpers/fake-worker';

const { worker, client } = fakeEngine();
vi.mock('../../src/store/client', () => ({ getClient: () => client, hasClient: () => true, replaceClient: () => client }));

const { useContextual, contextualRunning, DEFAULT_CONTEXTUAL } = await import('../../src/store/contextual');
const { useJob } = await import('../../src/store/job');
const { selectionOf, runContextual, cancelContextual, saveSmallerModel } = await import('../../src/store/contextual-actions');
const { useEngine } = await import('../../src/store/engine-status');
const { useModel } = await import('../../src/store/model');
const { usePrune } = await import('../../src/store/prune');
const { usePerplexity } = await import('../../src/store/perplexity');
const { useTexts } = await import('../../src/store/texts');
const { useErrors } = await import('../../src/store/errors');

const MODEL = { name: 'stories260K', ffn: 172, heads: 8, kvHeads: 4, tensors: [] } as unknown as ModelSummary;
const CONTEXTUAL: WeightsState = { method: 'contextual', target: { kind: 'unstructured', sparsity: 0.3 }, sparsity: 0.288 };

const ppl = (x: number): PerplexityResult => ({ ppl: x, nll: Math.log(x), windows: 2, tokens: 126, seconds: 0.1, adapter: 'fake' });
const report = { method: 'contextual', uniform: true, exported: { ffn: 120, heads: 6, kvHeads: 3 }, counts: { before: { params: 10, bytes: 40 }, after: { params: 7, bytes: 28, nonzero: 7 }, smaller: { mlp: true, heads: true } } } as unknown as ContextualReport;

function answer(dense: boolean): ResponseResults['pruneContextual'] {
  return {
    report,
    dense: dense ? { domain: ppl(5), general: ppl(4) } : null,
    pruned: { domain: ppl(20), general: ppl(13) },
    weights: CONTEXTUAL,
  };
}

beforeEach(() => {
  worker.sent = [];
  useEngine.getState().set({ status: 'ready' });
  useModel.getState().set({ status: 'loaded', summary: MODEL });
  usePrune.getState().set({ weights: null, dense: {} });
  useJob.setState({ current: null });
  usePrune.getState().setSettings({ calibSamples: '4', seed: '' });
  usePerplexity.getState().set({ seqlenInput: '64', maxWindowsInput: '2' });
  useTexts.getState().setSlot('calib', { selected: 'pasted', pasted: 'DOMAIN CALIB', tokens: { status: 'done', tokens: 1000, kind: 'pasted' } });
  useTexts.getState().setSlot('eval', { selected: 'pasted', pasted: 'DOMAIN EVAL', sample: { status: 'ready', name: 'sample-eval.txt', text: 'GENERAL' } });
  useContextual.getState().set({ result: null, cancelled: null, exportStatus: { status: 'idle' } });
  useContextual.getState().setSettings(DEFAULT_CONTEXTUAL);
  for (const a of ['contextual', 'prune', 'eval', 'speed'] as const) useErrors.getState().clearError(a);
});

describe('settings', () => {
  it('percentages become fractions, blanks follow the neurons, bad values are named errors', () => {
    expect(selectionOf(DEFAULT_CONTEXTUAL)).toEqual({ fraction: 0.3, scoring: 'mean-abs', zeroUnusedTokens: false });
    expect(selectionOf({ ...DEFAULT_CONTEXTUAL, headFractionPct: '0', scoring: 'wanda', zeroUnusedTokens: true })).toEqual({
      fraction: 0.3, headFraction: 0, scoring: 'wanda', zeroUnusedTokens: true,
    });
    expect(selectionOf({ ...DEFAULT_CONTEXTUAL, targetKind: 'threshold', threshold: '0.1', headThreshold: '0' })).toEqual({
      threshold: 0.1, headThreshold: 0, scoring: 'mean-abs', zeroUnusedTokens: false,
    });
    for (const bad of [{ fractionPct: '120' }, { fractionPct: '' }, { fractionPct: 'x' }, { headFractionPct: '-5' }]) {
      expect(() => selectionOf({ ...DEFAULT_CONTEXTUAL, ...bad })).toThrow(BadOption);
    }
    expect(() => selectionOf({ ...DEFAULT_CONTEXTUAL, targetKind: 'threshold', threshold: '-1' })).toThrow(/score ≥ 0/);
  });
});

describe('runs', () => {
  it('one request with both texts; dense figures measured once, then reused; the weights become contextual', async () => {
    const done = runContextual();
    await tick();
    const req = worker.last('pruneContextual');
    expect(req).toMatchObject({
      calibText: 'DOMAIN CALIB',
      options: { fraction: 0.3, scoring: 'mean-abs', zeroUnusedTokens: false, calibSamples: 4, seqlen: 64 },
      evaluate: { domain: 'DOMAIN EVAL', general: 'GENERAL', seqlen: 64, maxWindows: 2, dense: true },
    });
    expect(contextualRunning()).toBe(true);
    worker.emit({ type: 'progress', id: req.id, progress: { phase: 'prune', done: 1, total: 4, point: 3, points: 5, detail: 'contextual pruning · scoring' } });
    expect(useJob.getState().current?.progress?.point).toBe(3);

    // Meanwhile the other starters refuse.
    worker.sent = [];
    const { runPrune } = await import('../../src/store/prune-actions');
    const { measurePerplexity } = await import('../../src/store/perplexity-actions');
    await runPrune();
    await measurePerplexity();
    await runContextual();
    for (const area of ['prune', 'eval'] as const) expect(useErrors.getState().errors[area]?.message, area).toMatch(/Contextual pruning is running/);
    expect(useErrors.getState().errors.contextual?.message).toMatch(/already running/);
    expect(worker.sent).toEqual([]);
    useErrors.getState().clearError('contextual');

    worker.emit({ type: 'result', id: req.id, result: answer(true) });
    await done;
    expect(contextualRunning()).toBe(false);
    expect(usePrune.getState().weights).toEqual(CONTEXTUAL);
    expect(useContextual.getState().result).toMatchObject({ dense: { domain: 5, general: 4 }, pruned: { domain: 20, general: 13 }, before: { ffn: 172, heads: 8, kvHeads: 4 } });
    // The dense domain figure is the prune chart's reference for this evaluation too.
    expect(Object.values(usePrune.getState().dense)).toEqual([5]);

    // Same model, texts and settings: the dense figures are not measured again.
    const again = runContextual();
    await tick();
    const req2 = worker.last('pruneContextual');
    expect(req2.evaluate?.dense).toBe(false);
    worker.emit({ type: 'result', id: req2.id, result: answer(false) });
    await again;
    expect(useContextual.getState().result).toMatchObject({ dense: { domain: 5, general: 4 }, pruned: { domain: 20 } });
    expect(useErrors.getState().errors.contextual).toBeUndefined();
  });

  it('a cancelled run asks the worker for the weights and says they are dense again', async () => {
    const done = runContextual();
    await tick();
    const req = worker.last('pruneContextual');
    cancelContextual();
    expect(worker.sent.at(-1)).toMatchObject({ type: 'cancel', target: req.id });
    worker.emit({ type: 'error', id: req.id, error: errorToWire(new Cancelled()) });
    await tick();
    const st = worker.last('getState');
    worker.emit({ type: 'result', id: st.id, result: { adapter: null, model: MODEL, pruned: null } });
    await done;
    expect(useJob.getState().current).toBeNull();
    expect(useErrors.getState().errors.contextual).toMatchObject({ name: 'Cancelled', message: expect.stringMatching(/dense again/) });
    expect(usePrune.getState().weights).toBeNull();
  });

  it('a calibration text too short for the samples is refused before the worker is asked', async () => {
    useTexts.getState().setSlot('calib', { tokens: { status: 'done', tokens: 100, kind: 'pasted' } });
    await runContextual();
    expect(worker.sent).toEqual([]);
    expect(useErrors.getState().errors.contextual).toMatchObject({ name: 'BadText', message: expect.stringMatching(/fewer than the 4 samples/) });
  });

  it('the smaller export is refused unless the weights are contextual-pruned', async () => {
    usePrune.getState().set({ weights: { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 } });
    await saveSmallerModel();
    expect(worker.sent).toEqual([]);
    expect(useErrors.getState().errors.contextual).toMatchObject({ name: 'BadOption', message: expect.stringMatching(/wanda 50%.*run contextual pruning first/) });
  });
});
