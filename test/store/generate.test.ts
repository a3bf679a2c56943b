// The generation playground's store and actions over a fake engine worker: settings parsing, why
// Generate is disabled, dense-then-pruned runs with streamed text, the pruned side of a dense
// model, cancellation, and the other starters (prune, perplexity, speed) refusing while it runs.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BadOption, Cancelled, errorToWire } from '../../src/core/errors';
import type { GenerateResult } from '../../src/core/eval/generate';
import type { ModelSummary } from '../../src/core/types';
import type { Request } from '../../src/worker/protocol';
import { fakeEngine, tick } from '../helpers/fake-worker';

const { worker, client } = fakeEngine();
vi.mock('../../src/store/client', () => ({ getClient: () => client, hasClient: () => true, replaceClient: () => client }));

const { useGenerate, generationRunning, DEFAULT_GEN_SETTINGS } = await import('../../src/store/generate');
const { useJob } = await import('../../src/store/job');
const { generateOptionsOf, generationBlocker, runGeneration, cancelGeneration, decodingLabel } = await import('../../src/store/generate-actions');
const { useEngine } = await import('../../src/store/engine-status');
const { useModel } = await import('../../src/store/model');
const { usePrune } = await import('../../src/store/prune');
const { useErrors } = await import('../../src/store/errors');


function result(weights: 'dense' | 'pruned', text: string, tokens: number): GenerateResult {
  return {
    weights, text, promptTokens: 5, tokens, prefillMs: 3, decodeTokensPerS: 40, decodeMs: ((tokens - 1) / 40) * 1000,
    stopped: 'length', sparseKernels: false, temperature: 0, topK: 0, seed: 0,
  };
}

beforeEach(() => {
  worker.sent = [];
  useEngine.getState().set({ status: 'ready' });
  useModel.getState().set({ status: 'loaded', summary: { name: 'stories260K' } as ModelSummary });
  usePrune.getState().set({ weights: null });
  useJob.setState({ current: null });
  useGenerate.getState().set({ outputs: { dense: null, pruned: null }, shown: null });
  useGenerate.getState().setSettings(DEFAULT_GEN_SETTINGS);
  for (const a of ['generate', 'prune', 'eval', 'speed'] as const) useErrors.getState().clearError(a);
});

describe('settings', () => {
  it('greedy is temperature 0; sampling reads temperature, top-k and seed', () => {
    expect(generateOptionsOf({ ...DEFAULT_GEN_SETTINGS, maxNewTokens: '16' })).toEqual({ maxNewTokens: 16, temperature: 0 });
    expect(generateOptionsOf({ ...DEFAULT_GEN_SETTINGS, mode: 'sampling', temperature: '0.7', topK: '', seed: '9' })).toEqual({
      maxNewTokens: 32, temperature: 0.7, topK: 0, seed: 9,
    });
    expect(decodingLabel({ maxNewTokens: 4, temperature: 0.7, topK: 40, seed: 1 })).toBe('sampling, temperature 0.7, top-k 40, seed 1');
    for (const bad of [{ maxNewTokens: '0' }, { maxNewTokens: '2.5' }, { maxNewTokens: '' }, { maxNewTokens: '5000' }]) {
      expect(() => generateOptionsOf({ ...DEFAULT_GEN_SETTINGS, ...bad })).toThrow(BadOption);
    }
    for (const bad of [{ temperature: '0' }, { temperature: '-1' }, { temperature: 'x' }, { topK: '-2' }, { seed: '1.5' }]) {
      expect(() => generateOptionsOf({ ...DEFAULT_GEN_SETTINGS, mode: 'sampling', ...bad })).toThrow(BadOption);
    }
  });

  it('says why Generate is disabled', () => {
    const ok = { engineReady: true, hasModel: true, pruneJob: false, measuringPpl: false, measuringSpeed: false, exporting: false };
    expect(generationBlocker(ok)).toBeNull();
    expect(generationBlocker({ ...ok, hasModel: false })).toMatch(/Load a model/);
    expect(generationBlocker({ ...ok, pruneJob: true })).toMatch(/prune job/);
    expect(generationBlocker({ ...ok, measuringPpl: true })).toMatch(/perplexity/);
    expect(generationBlocker({ ...ok, measuringSpeed: true })).toMatch(/speed/);
  });
});

describe('runs', () => {
  it('a dense model: one dense request, streamed text, the pruned side says the model is dense', async () => {
    useGenerate.getState().setSettings({ maxNewTokens: '3' });
    const done = runGeneration();
    await tick();
    const [req] = worker.all('generate');
    expect(req).toMatchObject({ prompt: 'Once upon a time', options: { weights: 'dense', maxNewTokens: 3, temperature: 0 } });
    expect(generationRunning()).toBe(true);
    expect(useGenerate.getState().outputs.pruned?.status).toBe('unavailable');
    worker.emit({ type: 'token', id: req.id, text: ',', tokens: 1 });
    worker.emit({ type: 'token', id: req.id, text: ', there', tokens: 2 });
    expect(useGenerate.getState().outputs.dense).toMatchObject({ status: 'running', text: ', there', tokens: 2, updates: 2 });
    worker.emit({ type: 'result', id: req.id, result: result('dense', ', there was', 3) });
    await done;
    expect(generationRunning()).toBe(false);
    expect(useGenerate.getState().outputs.dense).toMatchObject({ status: 'done', text: ', there was', tokens: 3 });
    expect(useGenerate.getState().outputs.dense?.result?.decodeTokensPerS).toBe(40);
    expect(worker.all('generate')).toHaveLength(1);
  });

  it('a pruned model: dense first, then pruned, one request at a time', async () => {
    usePrune.getState().set({ weights: { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 } });
    const done = runGeneration();
    await tick();
    expect(worker.all('generate').map((r) => r.options.weights)).toEqual(['dense']);
    expect(useGenerate.getState().outputs.pruned).toMatchObject({ status: 'waiting', weights: 'wanda 50% (50.0% zeros)' });
    const [d] = worker.all('generate');
    worker.emit({ type: 'result', id: d.id, result: result('dense', ' A', 1) });
    await tick();
    const p = worker.all('generate')[1];
    expect(p.options.weights).toBe('pruned');
    worker.emit({ type: 'token', id: p.id, text: ' B', tokens: 1 });
    // A late event of the finished dense call does not touch anything.
    worker.emit({ type: 'token', id: d.id, text: 'stale', tokens: 9 });
    expect(useGenerate.getState().outputs.dense?.text).toBe(' A');
    expect(useGenerate.getState().outputs.pruned?.text).toBe(' B');
    worker.emit({ type: 'result', id: p.id, result: result('pruned', ' B!', 2) });
    await done;
    expect(useGenerate.getState().outputs.pruned).toMatchObject({ status: 'done', text: ' B!' });
  });

  it('cancel during the dense side: cancel sent for it, the pruned side never starts', async () => {
    usePrune.getState().set({ weights: { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 } });
    const done = runGeneration();
    await tick();
    const [d] = worker.all('generate');
    worker.emit({ type: 'token', id: d.id, text: ' x', tokens: 1 });
    cancelGeneration();
    expect(worker.sent.at(-1)).toMatchObject({ type: 'cancel', target: d.id });
    worker.emit({ type: 'error', id: d.id, error: errorToWire(new Cancelled()) });
    await done;
    expect(useGenerate.getState().outputs.dense).toMatchObject({ status: 'cancelled', text: ' x' });
    expect(useGenerate.getState().outputs.pruned?.status).toBe('cancelled');
    expect(worker.all('generate')).toHaveLength(1);
    expect(useErrors.getState().errors.generate).toBeUndefined();
  });

  it('a failed run shows its named error; bad settings never reach the worker', async () => {
    const done = runGeneration();
    await tick();
    const [d] = worker.all('generate');
    worker.emit({ type: 'error', id: d.id, error: errorToWire(new BadOption('The prompt is 600 tokens; …')) });
    await done;
    expect(useErrors.getState().errors.generate).toMatchObject({ name: 'BadOption' });
    expect(useGenerate.getState().outputs.dense?.status).toBe('failed');
    useGenerate.getState().setSettings({ maxNewTokens: '0' });
    worker.sent = [];
    await runGeneration();
    expect(worker.sent).toEqual([]);
    expect(useErrors.getState().errors.generate?.message).toMatch(/New tokens/);
  });

  it('prune, perplexity and speed refuse to start while generating', async () => {
    usePrune.getState().set({ weights: { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 } });
    const done = runGeneration();
    await tick();
    worker.sent = [];
    const { runPrune } = await import('../../src/store/prune-actions');
    const { measurePerplexity } = await import('../../src/store/perplexity-actions');
    const { runSpeed } = await import('../../src/store/speed');
    await runPrune();
    await measurePerplexity();
    await runSpeed();
    for (const area of ['prune', 'eval', 'speed'] as const) {
      expect(useErrors.getState().errors[area], area).toMatchObject({ name: 'BadOption', message: expect.stringMatching(/generation is running/) });
    }
    expect(worker.sent).toEqual([]);
    cancelGeneration();
    const id = (worker.sent.at(-1) as Request<'cancel'>).target;
    worker.emit({ type: 'error', id, error: errorToWire(new Cancelled()) });
    await done;
  });
});
