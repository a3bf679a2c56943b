// The run history in IndexedDB (fake-indexeddb in Node): runs, dense points and settings survive
// a "reload" (close, reset every store, open again), each model sees only its own runs, ids
// continue above the saved ones, damaged records are skipped, and no IndexedDB (or a failing
// one) leaves the page working with one notice.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelSummary } from '../../src/core/types';
import {
  HISTORY_DB_VERSION,
  MAX_SAVED_TEXT_CHARS,
  clearHistory,
  closeHistory,
  flushHistory,
  initHistory,
  modelIdentity,
  saveDense,
  saveRun,
  saveSweep,
  useHistory,
  validRun,
  validSweepRecord,
} from '../../src/store/history';
import { useModel } from '../../src/store/model';
import { usePerplexity } from '../../src/store/perplexity';
import { DEFAULT_SETTINGS, DEFAULT_SWEEP, sweepRemainder, usePrune, type RunRecord } from '../../src/store/prune';
import { useTexts } from '../../src/store/texts';

let dbCount = 0;
const freshName = () => `history-test-${++dbCount}-${Date.now()}`;

function summary(name: string, hidden = 64, prunedBy: ModelSummary['prunedBy'] = null): ModelSummary {
  return {
    name,
    family: 'llama',
    architecture: 'LlamaForCausalLM',
    parameters: 1000 + hidden,
    layers: 2,
    hidden,
    heads: 4,
    kvHeads: 4,
    ffn: 4 * hidden,
    vocabSize: 512,
    dtype: 'F32',
    bytes: 4 * (1000 + hidden),
    gpuBytes: 4 * (1000 + hidden),
    gpuBudget: 2 ** 32,
    streamed: false,
    files: [`${name}/model.safetensors`],
    tensors: [
      { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [512, hidden], bytes: 4 * 512 * hidden, file: `${name}/model.safetensors` },
      { name: 'model.layers.0.mlp.down_proj.weight', dtype: 'F32', shape: [hidden, 4 * hidden], bytes: 16 * hidden * hidden, file: `${name}/model.safetensors` },
    ],
    hasTokenizer: true,
    rope: null,
    configDtype: null,
    notes: [],
    prunedBy,
  };
}

function run(id: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    source: 'prune',
    method: 'magnitude',
    target: { kind: 'unstructured', sparsity: 0.5 },
    label: 'magnitude 50%',
    sparsity: 0.5 + id / 1000,
    ppl: 10 + id,
    nll: Math.log(10 + id),
    seconds: 1.5,
    pruneSeconds: 1,
    layers: [
      { name: 'layers.0.mlp.down', sparsity: 0.5, rel_error: 0.01 },
      { name: 'layers.0.attn.q', sparsity: 0.5, rel_error: 0.02, damp: 0.001, note: 'retried' },
    ],
    warnings: ['a warning'],
    evalKey: 'm|sample|1000|64|2',
    evalLabel: 'seqlen 64, max 2 windows',
    calibLabel: '4 × 64 tokens',
    ...over,
  };
}

/** What addRun does: show the run, then save it. */
async function record(r: RunRecord, hfNames: Record<string, string> = {}): Promise<void> {
  const s = usePrune.getState();
  s.set({ runs: [...s.runs, r], hfNames: { ...s.hfNames, ...hfNames } });
  await saveRun(r, hfNames);
}

/** Every store back to its initial state, as after a page reload. */
function resetStores(): void {
  usePrune.setState(usePrune.getInitialState(), true);
  useModel.setState(useModel.getInitialState(), true);
  usePerplexity.setState(usePerplexity.getInitialState(), true);
  useTexts.setState(useTexts.getInitialState(), true);
}

/** What bootstrap's model subscription does on a new model: forget the previous runs. */
async function loadModel(m: ModelSummary): Promise<void> {
  usePrune.getState().set({ runs: [], dense: {}, hfNames: {}, selectedRunId: null });
  useModel.getState().set({ status: 'loaded', summary: m, label: m.name });
  await flushHistory();
}

afterEach(() => {
  closeHistory();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  resetStores();
});

describe('model identity', () => {
  it('is the same for equal summaries and differs with shapes, name or prune state', () => {
    const a = modelIdentity(summary('tiny'));
    expect(modelIdentity(summary('tiny'))).toEqual(a);
    expect(a.key).toBe(`tiny#${a.fingerprint}`);
    expect(modelIdentity(summary('tiny', 128)).key).not.toBe(a.key);
    expect(modelIdentity(summary('other')).key).not.toBe(a.key);
    expect(modelIdentity(summary('tiny', 64, { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 })).key).not.toBe(a.key);
    // The file a tensor lives in does not matter (demo, dropped and kept copies name it differently).
    const moved = summary('tiny');
    moved.tensors = moved.tensors.map((t) => ({ ...t, file: 'model.safetensors' }));
    expect(modelIdentity(moved).key).toBe(a.key);
  });
});

describe('history round trip', () => {
  it('brings back runs, dense points, module names and settings after a reload', async () => {
    const dbName = freshName();
    await initHistory({ dbName, settingsDelayMs: 0 });
    expect(useHistory.getState().status).toEqual({ status: 'ready' });
    expect(usePrune.getState().nextIds).toEqual({ run: 1, sweep: 1 });

    const m = summary('tiny');
    await loadModel(m);
    await record(run(1), { 'layers.0.mlp.down': 'model.layers.0.mlp.down_proj' });
    await record(run(2, { source: 'sweep', sweepId: 3, method: 'dense', target: null, label: 'dense', ppl: 9.5, layers: [], calibLabel: '—' }));
    await record(run(3, { source: 'sweep', sweepId: 3, method: 'wanda', target: { kind: 'nm', n: 2, m: 4 }, label: 'wanda 2:4', ppl: null, nll: null }));
    usePrune.getState().set({ dense: { 'm|sample|1000|64|2': 9.5 } });
    await saveDense('m|sample|1000|64|2', 9.5);

    usePrune.getState().setSettings({ method: 'wanda', sparsityPct: '70', skipLayers: '0' });
    usePrune.getState().setSweep({ methods: { magnitude: true, wanda: false, sparsegpt: true, sparsellm: false }, sparsities: '0.2', includeDense: false });
    usePerplexity.getState().set({ seqlenInput: '64', maxWindowsInput: '2' });
    useTexts.getState().setSlot('eval', { pasted: 'Once upon a time there was a tiny model.', selected: 'pasted' });
    useTexts.getState().setSlot('calib', { file: { name: 'calib.txt', bytes: 11, text: 'hello world' }, selected: 'file' });
    await flushHistory();
    const before = { runs: usePrune.getState().runs, dense: usePrune.getState().dense, hfNames: usePrune.getState().hfNames };

    // Reload.
    closeHistory();
    resetStores();
    expect(usePrune.getState().settings).toEqual(DEFAULT_SETTINGS);
    await initHistory({ dbName, settingsDelayMs: 0 });
    // Settings come back at once, before any model is loaded.
    expect(usePrune.getState().settings).toEqual({ ...DEFAULT_SETTINGS, method: 'wanda', sparsityPct: '70', skipLayers: '0' });
    expect(usePrune.getState().sweep).toEqual({ ...DEFAULT_SWEEP, methods: { magnitude: true, wanda: false, sparsegpt: true, sparsellm: false }, sparsities: '0.2', includeDense: false });
    expect(usePerplexity.getState().seqlenInput).toBe('64');
    expect(usePerplexity.getState().maxWindowsInput).toBe('2');
    expect(useTexts.getState().eval.selected).toBe('pasted');
    expect(useTexts.getState().eval.pasted).toBe('Once upon a time there was a tiny model.');
    expect(useTexts.getState().calib.selected).toBe('file');
    expect(useTexts.getState().calib.file).toEqual({ name: 'calib.txt', bytes: 11, text: 'hello world' });
    // Ids continue above every saved run.
    expect(usePrune.getState().nextIds).toEqual({ run: 4, sweep: 1 });
    expect(usePrune.getState().runs).toEqual([]);

    // The same model (a new summary object, as the worker sends after a reload).
    await loadModel(summary('tiny'));
    const s = usePrune.getState();
    expect(s.runs).toEqual(before.runs);
    expect(s.dense).toEqual(before.dense);
    expect(s.hfNames).toEqual(before.hfNames);
    expect(usePrune.getState().nextIds).toEqual({ run: 4, sweep: 4 });
  });

  it('saves a run the moment it is recorded (a crash mid-sweep keeps the points so far)', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    const m = summary('tiny');
    await loadModel(m);
    await record(run(1, { source: 'sweep', sweepId: 1 }));
    // Read the database directly, with no flush or close in between.
    const raw = await openDB(dbName, HISTORY_DB_VERSION);
    const rows = await raw.getAll('runs');
    raw.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ modelKey: modelIdentity(m).key, id: 1, run: { id: 1, sweepId: 1, ppl: 11 } });
  });

  it('keeps the runs of each model apart', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    await loadModel(summary('tiny'));
    await record(run(1));
    await record(run(2));
    await loadModel(summary('tiny', 128));
    expect(usePrune.getState().runs).toEqual([]);
    await record(run(3, { evalKey: 'other' }));
    await loadModel(summary('other'));
    expect(usePrune.getState().runs).toEqual([]);

    await loadModel(summary('tiny'));
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([1, 2]);
    await loadModel(summary('tiny', 128));
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([3]);
  });

  it('keeps a run recorded while the history was being read', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    await loadModel(summary('tiny'));
    await record(run(1));
    usePrune.getState().set({ runs: [] });
    // The new run lands before the restore of the same model finishes.
    useModel.getState().set({ summary: summary('tiny') });
    await record(run(2));
    await flushHistory();
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([1, 2]);
  });

  it('Clear history forgets the loaded model only, on the page and in the database', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    await loadModel(summary('other'));
    await record(run(1));
    await loadModel(summary('tiny'));
    await record(run(2));
    usePrune.getState().set({ dense: { k: 5 } });
    await saveDense('k', 5);
    await clearHistory();
    expect(usePrune.getState().runs).toEqual([]);
    expect(usePrune.getState().dense).toEqual({});
    await loadModel(summary('tiny'));
    expect(usePrune.getState().runs).toEqual([]);
    expect(usePrune.getState().dense).toEqual({});
    await loadModel(summary('other'));
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([1]);
  });
});

describe('damaged and old records', () => {
  it('validRun refuses missing or mistyped fields and keeps fields it does not know', () => {
    expect(validRun(run(4))).toEqual(run(4));
    expect(validRun({ ...run(4), recipe: { kept: true } })).toEqual({ ...run(4), recipe: { kept: true } });
    // Optional sublayer fields of the wrong type are dropped, not trusted.
    expect(validRun({ ...run(4), layers: [{ name: 'x', sparsity: 0.5, rel_error: 0, damp: 'high' }] })!.layers).toEqual([{ name: 'x', sparsity: 0.5, rel_error: 0 }]);
    for (const bad of [
      { ...run(4), id: 0 },
      { ...run(4), id: '4' },
      { ...run(4), method: 'prune-everything' },
      { ...run(4), target: { kind: 'nm', n: 2 } },
      { ...run(4), ppl: '12' },
      { ...run(4), layers: [{ name: 'x', sparsity: 0.5 }] },
      { ...run(4), warnings: [3] },
      { ...run(4), evalKey: undefined },
      null,
      'run',
    ]) {
      expect(validRun(bad)).toBeNull();
    }
  });

  it('skips damaged records and falls back to defaults for damaged settings', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    const m = summary('tiny');
    await loadModel(m);
    await record(run(1));
    closeHistory();
    resetStores();

    const key = modelIdentity(m).key;
    const raw = await openDB(dbName, HISTORY_DB_VERSION);
    await raw.put('runs', { modelKey: key, id: 2, savedAt: 0, run: { ...run(2), layers: 'not a list' } });
    await raw.put('runs', { modelKey: key, id: 3, savedAt: 0, run: run(4) }); // id mismatch
    await raw.put('runs', { modelKey: key, id: 5, savedAt: 0 }); // no run at all
    await raw.put('runs', { modelKey: key, id: 6, savedAt: 0, run: run(6) });
    await raw.put('dense', { modelKey: key, evalKey: 'a', ppl: 'nine', savedAt: 0 });
    await raw.put('dense', { modelKey: key, evalKey: 'b', ppl: 7.25, savedAt: 0 });
    await raw.put('models', { modelKey: key, hfNames: { ok: 'model.ok', bad: 3 } });
    await raw.put('settings', {
      key: 'settings',
      v: 1,
      method: { method: 'quantize', sparsityPct: 60, skipLayers: '1', targetKind: 'nm' },
      sweep: { methods: { wanda: 'yes', sparsegpt: false }, sparsities: '0.9', includeDense: 'no' },
      seqlen: 128,
      maxWindows: '3',
      texts: { eval: { selected: 'pasted', pasted: 42 }, calib: 'garbage' },
    });
    raw.close();

    await initHistory({ dbName });
    // Valid fields come back; mistyped ones keep their defaults.
    expect(usePrune.getState().settings).toEqual({ ...DEFAULT_SETTINGS, skipLayers: '1', targetKind: 'nm' });
    expect(usePrune.getState().sweep).toEqual({ ...DEFAULT_SWEEP, methods: { ...DEFAULT_SWEEP.methods, sparsegpt: false }, sparsities: '0.9' });
    expect(usePerplexity.getState().seqlenInput).toBe('256');
    expect(usePerplexity.getState().maxWindowsInput).toBe('3');
    // A pasted text that is not there cannot be selected.
    expect(useTexts.getState().eval.selected).toBe('sample');
    expect(useTexts.getState().calib.selected).toBe('sample');

    await loadModel(summary('tiny'));
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([1, 6]);
    expect(usePrune.getState().dense).toEqual({ b: 7.25 });
    expect(usePrune.getState().hfNames).toEqual({ ok: 'model.ok' });
    expect(useHistory.getState().skipped).toBe(4);
  });

  it('ignores a settings record of another format version', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    closeHistory();
    const raw = await openDB(dbName, HISTORY_DB_VERSION);
    await raw.put('settings', { key: 'settings', v: 99, method: { sparsityPct: '10' } });
    raw.close();
    await initHistory({ dbName });
    expect(usePrune.getState().settings).toEqual(DEFAULT_SETTINGS);
  });

  it('does not save texts longer than the bound, and keeps the sample selected', async () => {
    const dbName = freshName();
    await initHistory({ dbName, settingsDelayMs: 0 });
    useTexts.getState().setSlot('eval', { pasted: 'x'.repeat(MAX_SAVED_TEXT_CHARS + 1), selected: 'pasted' });
    await flushHistory();
    closeHistory();
    resetStores();
    await initHistory({ dbName });
    expect(useTexts.getState().eval.pasted).toBe('');
    expect(useTexts.getState().eval.selected).toBe('sample');
  });

  it('does not overwrite settings the user changed before the database opened', async () => {
    const dbName = freshName();
    await initHistory({ dbName, settingsDelayMs: 0 });
    usePrune.getState().setSettings({ sparsityPct: '70' });
    usePerplexity.getState().set({ seqlenInput: '64' });
    await flushHistory();
    closeHistory();
    resetStores();
    const opening = initHistory({ dbName });
    usePrune.getState().setSettings({ sparsityPct: '20' });
    await opening;
    expect(usePrune.getState().settings.sparsityPct).toBe('20');
    expect(usePerplexity.getState().seqlenInput).toBe('64');
  });
});

describe('without storage', () => {
  it('works without IndexedDB and says so once', async () => {
    vi.stubGlobal('indexedDB', undefined);
    await initHistory({ dbName: freshName() });
    const st = useHistory.getState().status;
    expect(st.status).toBe('unavailable');
    expect(st.status === 'unavailable' && st.reason).toMatch(/no IndexedDB/);
    await loadModel(summary('tiny'));
    await expect(record(run(1))).resolves.toBeUndefined();
    await expect(saveDense('k', 1)).resolves.toBeUndefined();
    usePrune.getState().setSettings({ sparsityPct: '70' });
    await flushHistory();
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([1]);
    await clearHistory();
    expect(usePrune.getState().runs).toEqual([]);
  });

  it('treats a refused open (private browsing) as unavailable', async () => {
    vi.stubGlobal('indexedDB', {
      open() {
        throw new DOMException('The user denied permission to access the database.', 'SecurityError');
      },
    });
    await initHistory({ dbName: freshName() });
    const st = useHistory.getState().status;
    expect(st.status === 'unavailable' && st.reason).toMatch(/does not allow storage/);
  });

  it('gives up on a database that never opens', async () => {
    // An open request that never answers (another tab blocking an upgrade).
    vi.stubGlobal('indexedDB', { open: () => new IDBOpenDBRequest() });
    await initHistory({ dbName: freshName(), openTimeoutMs: 50 });
    const st = useHistory.getState().status;
    expect(st.status === 'unavailable' && st.reason).toMatch(/did not open/);
  });

  it('stops saving after a full quota, with one notice, and keeps the runs on the page', async () => {
    await initHistory({ dbName: freshName() });
    await loadModel(summary('tiny'));
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    vi.spyOn(proto, 'put').mockImplementation(() => {
      throw new DOMException('Quota exceeded.', 'QuotaExceededError');
    });
    await record(run(1));
    const st = useHistory.getState().status;
    expect(st.status === 'unavailable' && st.reason).toMatch(/storage for this site is full/);
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([1]);
    // Later saves are no-ops, not errors.
    await expect(record(run(2))).resolves.toBeUndefined();
  });
});

describe('resumable sweeps', () => {
  const spec = {
    points: [
      { method: 'magnitude' as const, target: { kind: 'unstructured' as const, sparsity: 0.3 } },
      { method: 'magnitude' as const, target: { kind: 'unstructured' as const, sparsity: 0.5 } },
      { method: 'wanda' as const, target: { kind: 'nm' as const, n: 2, m: 4 } },
    ],
    includeDense: true, calibSamples: 4, seqlen: 64, maxWindows: 2,
  };
  const rec = { sweepId: 3, spec, evalKey: 'm|sample|1000|64|2', evalLabel: 'e', calibLabel: '4 × 64 tokens', status: 'running' as const, savedAt: 1 };

  it('an unfinished sweep comes back after a reload with exactly the points it still lacks', async () => {
    const dbName = freshName();
    await initHistory({ dbName });
    const m = summary('tiny');
    await loadModel(m);
    await saveSweep(rec);
    await record(run(1, { source: 'sweep', sweepId: 3, method: 'dense', target: null, label: 'dense', layers: [], calibLabel: '—' }));
    await record(run(2, { source: 'sweep', sweepId: 3, method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.3 }, label: 'magnitude 30%' }));
    await flushHistory();

    closeHistory();
    resetStores();
    await initHistory({ dbName });
    await loadModel(m);
    const s = usePrune.getState();
    expect(s.sweeps[3]).toEqual(rec);
    // Sweep numbering continues above the saved sweep.
    expect(usePrune.getState().nextIds).toEqual({ run: 3, sweep: 4 });
    const left = sweepRemainder(s.sweeps[3], s.runs)!;
    expect(left.includeDense).toBe(false);
    expect(left.points).toEqual(spec.points.slice(1));
    expect([left.done, left.total]).toEqual([2, 4]);
    // Finished: nothing to resume.
    expect(sweepRemainder({ ...rec, status: 'done' }, s.runs)).toBeNull();
  });

  it('upgrades a version-1 database in place, keeping its runs', async () => {
    const dbName = freshName();
    const v1 = await openDB(dbName, 1, {
      upgrade(d) {
        d.createObjectStore('models', { keyPath: 'modelKey' });
        d.createObjectStore('runs', { keyPath: ['modelKey', 'id'] }).createIndex('byModel', 'modelKey');
        d.createObjectStore('dense', { keyPath: ['modelKey', 'evalKey'] }).createIndex('byModel', 'modelKey');
        d.createObjectStore('settings', { keyPath: 'key' });
      },
    });
    const m = summary('tiny');
    await v1.put('runs', { modelKey: modelIdentity(m).key, id: 5, savedAt: 1, run: run(5) });
    v1.close();
    expect(HISTORY_DB_VERSION).toBe(2);
    await initHistory({ dbName });
    await loadModel(m);
    expect(usePrune.getState().runs.map((r) => r.id)).toEqual([5]);
    expect(validSweepRecord({ ...rec, status: 'weird' })).toBeNull();
    expect(validSweepRecord({ ...rec, spec: { ...spec, points: [{ method: 'nope', target: {} }] } })).toBeNull();
  });
});
