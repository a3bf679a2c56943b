// EngineClient over a fake worker: results, progress, named errors, cancel, device loss.
import { describe, expect, it } from 'vitest';
import { BadText, Cancelled, DeviceLost, errorToWire } from '../../src/core/errors';
import { EngineClient } from '../../src/worker/client';
import { FakeWorker } from '../helpers/fake-worker';

describe('EngineClient', () => {
  it('resolves results and forwards progress by id', async () => {
    const w = new FakeWorker();
    const c = new EngineClient(w);
    const seen: number[] = [];
    const call = c.call({ type: 'countTokens', text: 'hi' }, (p) => seen.push(p.done));
    expect(w.sent[0]).toEqual({ type: 'countTokens', text: 'hi', id: call.id });
    w.emit({ type: 'progress', id: call.id, progress: { phase: 'x', done: 1, total: 2 } });
    w.emit({ type: 'result', id: call.id, result: { tokens: 7 } });
    await expect(call).resolves.toEqual({ tokens: 7 });
    expect(seen).toEqual([1]);
  });

  it('rebuilds named errors and sends cancel for the right id', async () => {
    const w = new FakeWorker();
    const c = new EngineClient(w);
    const a = c.call({ type: 'perplexity', text: 't', seqlen: 8 });
    const b = c.call({ type: 'perplexity', text: 't', seqlen: 8 });
    c.cancel(a.id);
    expect(w.sent[2]).toMatchObject({ type: 'cancel', target: a.id });
    w.emit({ type: 'error', id: a.id, error: errorToWire(new Cancelled()) });
    w.emit({ type: 'error', id: b.id, error: errorToWire(new BadText('too short')) });
    await expect(a).rejects.toBeInstanceOf(Cancelled);
    await expect(b).rejects.toBeInstanceOf(BadText);
  });

  it('fails pending calls and notifies on device loss', async () => {
    const w = new FakeWorker();
    const c = new EngineClient(w);
    const lost: string[] = [];
    c.onDeviceLost((m) => lost.push(m));
    const a = c.call({ type: 'loadModel', source: { kind: 'demo' } });
    w.emit({ type: 'deviceLost', message: 'reset' });
    await expect(a).rejects.toBeInstanceOf(DeviceLost);
    expect(lost).toEqual(['reset']);
  });

  it('delivers sweep points to the call that asked, before its result', async () => {
    const w = new FakeWorker();
    const c = new EngineClient(w);
    const got: string[] = [];
    const call = c.call(
      { type: 'sweep', calibText: 'c', evalText: 'e', spec: { points: [], includeDense: true, calibSamples: 1, seqlen: 8 } },
      undefined,
      (p, hf) => got.push(`${p.label}:${Object.keys(hf).length}`),
    );
    const point = { method: 'dense' as const, target: null, label: 'dense', sparsity: 0, ppl: 4, nll: 1.4, windows: 1, tokens: 7, seconds: 1, prune_seconds: 0, layers: [], warnings: [] };
    w.emit({ type: 'point', id: call.id, point, hfNames: {} });
    w.emit({ type: 'point', id: call.id + 1, point, hfNames: {} });
    w.emit({ type: 'result', id: call.id, result: { points: [point], pruned: null } });
    await expect(call).resolves.toEqual({ points: [point], pruned: null });
    expect(got).toEqual(['dense:0']);
  });
});
