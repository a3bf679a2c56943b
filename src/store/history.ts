// Run history in the browser (IndexedDB). Every measured run and every dense perplexity is written
// the moment it is recorded, not at the end of a job, so a reload or a crash in the middle of a
// sweep keeps the points measured so far. The settings of the page (method, sweep, sequence
// length and windows, which texts are selected, and small pasted or file texts) are saved too,
// debounced. On start the settings come back, and whenever a model is loaded its runs and dense
// points come back, so the chart and the runs table look as they did.
//
// A model is identified by its name and a fingerprint of its shapes (family, sizes, dtype, every
// tensor's name, dtype and shape, and the prune state of a folder exported by the studio), so the
// history of one model is never shown for another. The weights themselves are not hashed: reading
// gigabytes to recognise a model would cost more than the history is worth, so two checkpoints
// with the same folder name and identical shapes share a history.
//
// Storage never breaks the page: without IndexedDB (private browsing, storage disabled, another
// tab blocking an upgrade, a full quota) the studio works as before and one notice says that runs
// are not saved. Records that do not validate (damaged, or from an incompatible version) are
// skipped and counted.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { create } from 'zustand';
import { StorageError } from '../core/errors';
import { METHODS, type SublayerReport, type Target } from '../core/prune/types';
import { modelFingerprint } from '../core/model/identity';
import type { ModelSummary } from '../core/types';
import { useModel } from './model';
import { DEFAULT_SEQLEN, usePerplexity } from './perplexity';
import type { SweepSpec } from '../core/jobs/sweep';
import { DEFAULT_SETTINGS, DEFAULT_SWEEP, continueIdsAbove, usePrune, type MethodSettings, type RunRecord, type SweepRecord, type SweepSettings } from './prune';
import { useTexts, type FileText, type TextKind, type TextSlot, type TextSlotName } from './texts';

export const HISTORY_DB_NAME = 'prune-studio-history';
/**
 * Version 1 stores:
 *   models   key modelKey            { modelKey, name, fingerprint, hfNames, updatedAt }
 *   runs     key [modelKey, id]      { modelKey, id, savedAt, run: RunRecord }, index byModel
 *   dense    key [modelKey, evalKey] { modelKey, evalKey, ppl, savedAt }, index byModel
 *   settings key "settings"          StoredSettings (one record)
 * Version 2 adds:
 *   sweeps   key [modelKey, sweepId] SweepRecord (what a sweep was asked to measure, and whether
 *                                    it finished), index byModel: an unfinished sweep resumes
 */
export const HISTORY_DB_VERSION = 2;
const SETTINGS_KEY = 'settings';
/** Pasted or file texts longer than this are not saved (the selection falls back to the sample). */
export const MAX_SAVED_TEXT_CHARS = 512 * 1024;
const SLOTS: TextSlotName[] = ['calib', 'eval'];

interface StoredModel {
  modelKey: string;
  name: string;
  fingerprint: string;
  /** Canonical sublayer name → Hugging Face module name (the layer table's second name). */
  hfNames: Record<string, string>;
  updatedAt: number;
}

interface StoredRun {
  modelKey: string;
  id: number;
  savedAt: number;
  run: RunRecord;
}

interface StoredDense {
  modelKey: string;
  evalKey: string;
  ppl: number;
  savedAt: number;
}

export interface StoredText {
  selected: TextKind;
  /** Null when the pasted text was too long to save. */
  pasted: string | null;
  /** Null when there was no file or its text was too long to save. */
  file: FileText | null;
}

export interface StoredSettings {
  key: typeof SETTINGS_KEY;
  v: 1;
  method: MethodSettings;
  sweep: SweepSettings;
  seqlen: string;
  maxWindows: string;
  texts: Record<TextSlotName, StoredText>;
  savedAt: number;
}

/** A sweep as it was asked for: enough to resume it with the points it has not measured. */
export type { SweepRecord } from './prune';

interface StoredSweep extends SweepRecord {
  modelKey: string;
}

interface HistorySchema extends DBSchema {
  sweeps: { key: [string, number]; value: StoredSweep; indexes: { byModel: string } };
  models: { key: string; value: StoredModel };
  runs: { key: [string, number]; value: StoredRun; indexes: { byModel: string } };
  dense: { key: [string, string]; value: StoredDense; indexes: { byModel: string } };
  settings: { key: string; value: StoredSettings };
}

type HistoryDb = IDBPDatabase<HistorySchema>;

// ---------------------------------------------------------------------------------------------
// Model identity

export interface ModelIdentity {
  /** "<name>#<fingerprint>": the key of the model's records. */
  key: string;
  name: string;
  fingerprint: string;
}

const identities = new WeakMap<ModelSummary, ModelIdentity>();

export function modelIdentity(m: ModelSummary): ModelIdentity {
  const known = identities.get(m);
  if (known) return known;
  const fingerprint = modelFingerprint(m);
  const id = { key: `${m.name}#${fingerprint}`, name: m.name, fingerprint };
  identities.set(m, id);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Validation of what comes back from the database (it may be damaged or from another version)

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number';
const isPosInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) > 0;
const numOrNull = (x: unknown): x is number | null => x === null || isNum(x);

/** The target, null (dense), or undefined when malformed. */
function validTarget(x: unknown): Target | null | undefined {
  if (x === null) return null;
  if (!isObj(x)) return undefined;
  if (x.kind === 'unstructured' && isNum(x.sparsity)) return { kind: 'unstructured', sparsity: x.sparsity };
  if (x.kind === 'nm' && isPosInt(x.n) && isPosInt(x.m)) return { kind: 'nm', n: x.n, m: x.m };
  return undefined;
}

function validLayer(x: unknown): SublayerReport | null {
  if (!isObj(x) || !isStr(x.name) || !isNum(x.sparsity) || !isNum(x.rel_error)) return null;
  const l: SublayerReport = { name: x.name, sparsity: x.sparsity, rel_error: x.rel_error };
  if (isStr(x.hf)) l.hf = x.hf;
  if (isNum(x.damp)) l.damp = x.damp;
  if (isStr(x.note)) l.note = x.note;
  return l;
}

/**
 * A copy of a run record with every known field checked, or null when one is missing or of the
 * wrong type. Fields this version does not know are kept as they are (plain data, as IndexedDB
 * stores it), so a field added to RunRecord later survives a round trip through an older check.
 */
export function validRun(x: unknown): RunRecord | null {
  if (!isObj(x)) return null;
  if (!isPosInt(x.id) || (x.source !== 'prune' && x.source !== 'sweep' && x.source !== 'train')) return null;
  if (x.sweepId !== undefined && !isPosInt(x.sweepId)) return null;
  const method = x.method;
  if (method !== 'dense' && method !== 'trained' && !(METHODS as readonly unknown[]).includes(method)) return null;
  if ((method === 'trained') !== (x.source === 'train')) return null;
  if (x.trained !== undefined && !(isObj(x.trained) && isNum(x.trained.steps) && (x.trained.fromRunId === null || isPosInt(x.trained.fromRunId)))) return null;
  const target = validTarget(x.target);
  if (target === undefined) return null;
  if (!isStr(x.label) || !isNum(x.sparsity) || !numOrNull(x.ppl) || !numOrNull(x.nll)) return null;
  if (!isNum(x.seconds) || !isNum(x.pruneSeconds)) return null;
  if (!Array.isArray(x.layers) || !Array.isArray(x.warnings) || !x.warnings.every(isStr)) return null;
  if (!isStr(x.evalKey) || !isStr(x.evalLabel) || !isStr(x.calibLabel)) return null;
  const layers: SublayerReport[] = [];
  for (const l of x.layers) {
    const v = validLayer(l);
    if (!v) return null;
    layers.push(v);
  }
  const run: RunRecord = {
    ...(x as object),
    id: x.id,
    source: x.source,
    method: method as RunRecord['method'],
    target,
    label: x.label,
    sparsity: x.sparsity,
    ppl: x.ppl,
    nll: x.nll,
    seconds: x.seconds,
    pruneSeconds: x.pruneSeconds,
    layers,
    warnings: [...(x.warnings as string[])],
    evalKey: x.evalKey,
    evalLabel: x.evalLabel,
    calibLabel: x.calibLabel,
  };
  if (x.sweepId !== undefined) run.sweepId = x.sweepId;
  return run;
}

function validStoredRun(x: unknown, modelKey: string): RunRecord | null {
  if (!isObj(x) || x.modelKey !== modelKey) return null;
  const run = validRun(x.run);
  return run && run.id === x.id ? run : null;
}

function validStringMap(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(x)) for (const [k, v] of Object.entries(x)) if (isStr(v)) out[k] = v;
  return out;
}

function oneOf<T extends string>(x: unknown, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly unknown[]).includes(x) ? (x as T) : fallback;
}

/** Saved method settings; each field that is missing or malformed keeps its default. */
export function validMethodSettings(x: unknown): MethodSettings {
  const o = isObj(x) ? x : {};
  const s: MethodSettings = { ...DEFAULT_SETTINGS };
  for (const k of Object.keys(s) as (keyof MethodSettings)[]) {
    if (isStr(o[k])) (s as unknown as Record<string, string>)[k] = o[k];
  }
  s.method = oneOf(o.method, METHODS, DEFAULT_SETTINGS.method);
  s.targetKind = oneOf(o.targetKind, ['unstructured', 'nm'] as const, DEFAULT_SETTINGS.targetKind);
  s.pattern = oneOf(o.pattern, ['2:4', '4:8', 'custom'] as const, DEFAULT_SETTINGS.pattern);
  return s;
}

export function validSweepSettings(x: unknown): SweepSettings {
  const o = isObj(x) ? x : {};
  const m = isObj(o.methods) ? o.methods : {};
  const methods = { ...DEFAULT_SWEEP.methods };
  for (const k of METHODS) if (typeof m[k] === 'boolean') methods[k] = m[k];
  return {
    methods,
    sparsities: isStr(o.sparsities) ? o.sparsities : DEFAULT_SWEEP.sparsities,
    patterns: isStr(o.patterns) ? o.patterns : DEFAULT_SWEEP.patterns,
    includeDense: typeof o.includeDense === 'boolean' ? o.includeDense : DEFAULT_SWEEP.includeDense,
  };
}

function validStoredText(x: unknown): StoredText | null {
  if (!isObj(x)) return null;
  const f = x.file;
  const file = isObj(f) && isStr(f.name) && isNum(f.bytes) && isStr(f.text) ? { name: f.name, bytes: f.bytes, text: f.text } : null;
  return { selected: oneOf(x.selected, ['sample', 'file', 'pasted'] as const, 'sample'), pasted: isStr(x.pasted) ? x.pasted : null, file };
}

/** The saved settings, or null when there is no usable record. */
export function validSettings(x: unknown): StoredSettings | null {
  if (!isObj(x) || x.key !== SETTINGS_KEY || x.v !== 1) return null;
  const t = isObj(x.texts) ? x.texts : {};
  const none: StoredText = { selected: 'sample', pasted: null, file: null };
  return {
    key: SETTINGS_KEY,
    v: 1,
    method: validMethodSettings(x.method),
    sweep: validSweepSettings(x.sweep),
    seqlen: isStr(x.seqlen) ? x.seqlen : String(DEFAULT_SEQLEN),
    maxWindows: isStr(x.maxWindows) ? x.maxWindows : '',
    texts: { calib: validStoredText(t.calib) ?? none, eval: validStoredText(t.eval) ?? none },
    savedAt: isNum(x.savedAt) ? x.savedAt : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// State shown in the page

export type HistoryStatus =
  /** Not started (tests, or before bootstrap). */
  | { status: 'off' }
  | { status: 'opening' }
  | { status: 'ready' }
  /** Runs are not being saved; the reason says why, for the one notice. */
  | { status: 'unavailable'; reason: string };

interface HistoryState {
  status: HistoryStatus;
  /** Damaged or incompatible records skipped while restoring. */
  skipped: number;
  set(patch: Partial<Omit<HistoryState, 'set'>>): void;
}

export const useHistory = create<HistoryState>()((set) => ({
  status: { status: 'off' },
  skipped: 0,
  set: (patch) => set(patch),
}));

// ---------------------------------------------------------------------------------------------
// Opening, failing

export interface HistoryOptions {
  dbName?: string;
  /** Give up on a database that does not open (an old tab blocking an upgrade). */
  openTimeoutMs?: number;
  /** Debounce of settings saves. */
  settingsDelayMs?: number;
}

let db: HistoryDb | null = null;
let started = false;
/** Bumped by closeHistory: continuations of an older start stop. */
let generation = 0;
let unsubscribers: (() => void)[] = [];
let settingsTimer: ReturnType<typeof setTimeout> | null = null;
let settingsDelayMs = 400;
/** Bumped by every restore and by clearHistory: an older restore in flight is dropped. */
let restoreSeq = 0;
const pending = new Set<Promise<unknown>>();

function track<T>(p: Promise<T>): Promise<T> {
  pending.add(p);
  void p.finally(() => pending.delete(p)).catch(() => undefined);
  return p;
}

function reasonOf(e: unknown, during: string): string {
  const name = e instanceof Error || e instanceof DOMException ? e.name : '';
  if (name === 'QuotaExceededError') return 'the browser’s storage for this site is full. Remove kept models or clear the history to make room.';
  if (name === 'SecurityError' || name === 'InvalidStateError') return 'this browser does not allow storage here (private browsing, or site data blocked).';
  if (e instanceof StorageError) return e.message;
  const msg = e instanceof Error ? e.message : String(e);
  return `${during} failed (${name || 'Error'}: ${msg}).`;
}

function markUnavailable(reason: string): void {
  useHistory.getState().set({ status: { status: 'unavailable', reason } });
}

/** A storage failure after opening: stop saving (one notice) and keep the page working. */
function fail(e: unknown, during: string): void {
  try {
    db?.close();
  } catch {
    /* already closed */
  }
  db = null;
  markUnavailable(reasonOf(e, during));
}

async function openHistoryDb(name: string, timeoutMs: number): Promise<HistoryDb> {
  if (typeof indexedDB === 'undefined' || !indexedDB) {
    throw new StorageError('this browser offers no IndexedDB here (private browsing, or storage disabled).');
  }
  let timedOut = false;
  const opening = openDB<HistorySchema>(name, HISTORY_DB_VERSION, {
    upgrade(d, oldVersion) {
      // One step per version, each from the one before; a new version adds a step below.
      if (oldVersion < 1) {
        d.createObjectStore('models', { keyPath: 'modelKey' });
        d.createObjectStore('runs', { keyPath: ['modelKey', 'id'] }).createIndex('byModel', 'modelKey');
        d.createObjectStore('dense', { keyPath: ['modelKey', 'evalKey'] }).createIndex('byModel', 'modelKey');
        d.createObjectStore('settings', { keyPath: 'key' });
      }
      if (oldVersion < 2) {
        d.createObjectStore('sweeps', { keyPath: ['modelKey', 'sweepId'] }).createIndex('byModel', 'modelKey');
      }
    },
    blocking() {
      // A newer version of the studio in another tab wants to upgrade: let it, and stop here.
      if (db) {
        db.close();
        db = null;
        markUnavailable('another tab opened a newer version of the studio; reload this tab to keep saving runs.');
      }
    },
    terminated() {
      db = null;
      markUnavailable('the browser closed the history database (storage cleared, or a disk error).');
    },
  });
  // If the open finishes after we gave up, close it so it does not block anyone.
  void opening.then((d) => timedOut && d.close()).catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new StorageError(`the history database did not open within ${Math.round(timeoutMs / 1000)} s (another tab of the studio may be blocking it).`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([opening, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Settings

interface SettingsSnapshot {
  settings: MethodSettings;
  sweep: SweepSettings;
  seqlen: string;
  maxWindows: string;
  texts: Record<TextSlotName, Pick<TextSlot, 'selected' | 'pasted' | 'file'>>;
}

function settingsSnapshot(): SettingsSnapshot {
  const p = usePrune.getState();
  const e = usePerplexity.getState();
  const t = useTexts.getState();
  const slot = (s: TextSlot) => ({ selected: s.selected, pasted: s.pasted, file: s.file });
  return { settings: p.settings, sweep: p.sweep, seqlen: e.seqlenInput, maxWindows: e.maxWindowsInput, texts: { calib: slot(t.calib), eval: slot(t.eval) } };
}

function storedText(s: TextSlot): StoredText {
  const pasted = s.pasted.length <= MAX_SAVED_TEXT_CHARS ? s.pasted : null;
  const file = s.file && s.file.text.length <= MAX_SAVED_TEXT_CHARS ? { name: s.file.name, bytes: s.file.bytes, text: s.file.text } : null;
  return { selected: s.selected, pasted, file };
}

function currentSettings(): StoredSettings {
  const p = usePrune.getState();
  const e = usePerplexity.getState();
  const t = useTexts.getState();
  return {
    key: SETTINGS_KEY,
    v: 1,
    method: { ...p.settings },
    sweep: { ...p.sweep, methods: { ...p.sweep.methods } },
    seqlen: e.seqlenInput,
    maxWindows: e.maxWindowsInput,
    texts: { calib: storedText(t.calib), eval: storedText(t.eval) },
    savedAt: Date.now(),
  };
}

/**
 * Put saved settings into the stores. A part the user already changed since the page started
 * (the database opened late) keeps the user's value.
 */
function applySettings(saved: StoredSettings, initial: SettingsSnapshot): void {
  const p = usePrune.getState();
  if (p.settings === initial.settings) p.set({ settings: saved.method });
  if (p.sweep === initial.sweep) p.set({ sweep: saved.sweep });
  const e = usePerplexity.getState();
  if (e.seqlenInput === initial.seqlen && e.maxWindowsInput === initial.maxWindows) e.set({ seqlenInput: saved.seqlen, maxWindowsInput: saved.maxWindows });
  for (const slot of SLOTS) {
    const cur = useTexts.getState()[slot];
    const was = initial.texts[slot];
    if (cur.selected !== was.selected || cur.pasted !== was.pasted || cur.file !== was.file) continue;
    const s = saved.texts[slot];
    const patch: Partial<TextSlot> = {};
    if (s.pasted !== null) patch.pasted = s.pasted;
    if (s.file) patch.file = s.file;
    // A text that was too long to save: the selection stays on what is there (the sample).
    const usable = s.selected === 'sample' || (s.selected === 'pasted' && s.pasted !== null) || (s.selected === 'file' && s.file !== null);
    if (usable) patch.selected = s.selected;
    if (Object.keys(patch).length) useTexts.getState().setSlot(slot, patch);
  }
}

async function saveSettingsNow(): Promise<void> {
  const d = db;
  if (!d) return;
  try {
    await d.put('settings', currentSettings());
  } catch (e) {
    fail(e, 'Saving the settings');
  }
}

function scheduleSettingsSave(): void {
  if (settingsTimer) clearTimeout(settingsTimer);
  settingsTimer = setTimeout(() => {
    settingsTimer = null;
    void track(saveSettingsNow());
  }, settingsDelayMs);
}

function watchSettings(): void {
  unsubscribers.push(
    usePrune.subscribe((s, prev) => {
      if (s.settings !== prev.settings || s.sweep !== prev.sweep) scheduleSettingsSave();
    }),
    usePerplexity.subscribe((s, prev) => {
      if (s.seqlenInput !== prev.seqlenInput || s.maxWindowsInput !== prev.maxWindowsInput) scheduleSettingsSave();
    }),
    useTexts.subscribe((s, prev) => {
      if (SLOTS.some((k) => s[k].selected !== prev[k].selected || s[k].pasted !== prev[k].pasted || s[k].file !== prev[k].file)) scheduleSettingsSave();
    }),
  );
  if (typeof window !== 'undefined') {
    // Leaving the page inside the debounce: write now (best effort; IndexedDB usually finishes).
    const onHide = () => void flushHistory();
    window.addEventListener('pagehide', onHide);
    unsubscribers.push(() => window.removeEventListener('pagehide', onHide));
  }
}

// ---------------------------------------------------------------------------------------------
// Runs and dense points

function maxIds(runs: readonly RunRecord[]): [number, number] {
  let run = 0;
  let sweep = 0;
  for (const r of runs) {
    run = Math.max(run, r.id);
    sweep = Math.max(sweep, r.sweepId ?? 0);
  }
  return [run, sweep];
}

/** Bring back the saved runs, dense points and module names of this model, merged with any new ones. */
async function restoreFor(summary: ModelSummary): Promise<void> {
  const d = db;
  if (!d) return;
  const seq = ++restoreSeq;
  const id = modelIdentity(summary);
  let runsRaw: unknown[];
  let denseRaw: unknown[];
  let modelRaw: unknown;
  let sweepsRaw: unknown[];
  try {
    const tx = d.transaction(['runs', 'dense', 'models', 'sweeps'], 'readonly');
    [runsRaw, denseRaw, modelRaw, sweepsRaw] = await Promise.all([
      tx.objectStore('runs').index('byModel').getAll(id.key),
      tx.objectStore('dense').index('byModel').getAll(id.key),
      tx.objectStore('models').get(id.key),
      tx.objectStore('sweeps').index('byModel').getAll(id.key),
      tx.done,
    ]).then(([a, b, c, e]) => [a, b, c, e] as [unknown[], unknown[], unknown, unknown[]]);
  } catch (e) {
    fail(e, 'Reading the history');
    return;
  }
  // Another model was loaded (or the history cleared) in the meantime.
  if (seq !== restoreSeq || useModel.getState().summary !== summary) return;

  let skipped = 0;
  const runs: RunRecord[] = [];
  for (const x of runsRaw) {
    const r = validStoredRun(x, id.key);
    if (r) runs.push(r);
    else skipped++;
  }
  const dense: Record<string, number> = {};
  for (const x of denseRaw) {
    if (isObj(x) && x.modelKey === id.key && isStr(x.evalKey) && isNum(x.ppl)) dense[x.evalKey] = x.ppl;
    else skipped++;
  }
  const hfNames = isObj(modelRaw) ? validStringMap(modelRaw.hfNames) : {};
  const sweeps: Record<number, SweepRecord> = {};
  for (const x of sweepsRaw) {
    const r = validSweepRecord(x);
    if (r) sweeps[r.sweepId] = r;
    else skipped++;
  }

  const s = usePrune.getState();
  // Runs recorded while the history was being read stay (they are saved already).
  const have = new Set(s.runs.map((r) => r.id));
  const merged = [...runs.filter((r) => !have.has(r.id)), ...s.runs].sort((a, b) => a.id - b.id);
  s.set({ runs: merged, dense: { ...dense, ...s.dense }, hfNames: { ...hfNames, ...s.hfNames }, sweeps: { ...sweeps, ...s.sweeps } });
  const [maxRun, maxSweepRun] = maxIds(merged);
  const maxSweep = Math.max(maxSweepRun, ...Object.keys(sweeps).map(Number));
  continueIdsAbove(maxRun, maxSweep);
  if (skipped) useHistory.getState().set({ skipped: useHistory.getState().skipped + skipped });
}

function currentModelKey(): ModelIdentity | null {
  const summary = useModel.getState().summary;
  return summary ? modelIdentity(summary) : null;
}

/** Save one run of the loaded model now (called as each run or sweep point is recorded). */
export function saveRun(run: RunRecord, hfNames: Record<string, string> = {}): Promise<void> {
  const d = db;
  const id = currentModelKey();
  if (!d || !id) return Promise.resolve();
  const clean = validRun(run);
  if (!clean) return Promise.resolve();
  const write = async () => {
    try {
      const tx = d.transaction(['runs', 'models'], 'readwrite');
      const models = tx.objectStore('models');
      const prev = await models.get(id.key);
      const names = { ...validStringMap(isObj(prev) ? prev.hfNames : undefined), ...hfNames };
      await Promise.all([
        tx.objectStore('runs').put({ modelKey: id.key, id: clean.id, savedAt: Date.now(), run: clean }),
        models.put({ modelKey: id.key, name: id.name, fingerprint: id.fingerprint, hfNames: names, updatedAt: Date.now() }),
        tx.done,
      ]);
    } catch (e) {
      fail(e, 'Saving a run');
    }
  };
  return track(write());
}

/** Save the dense perplexity of the loaded model under this evaluation key. */
export function saveDense(evalKey: string, ppl: number): Promise<void> {
  const d = db;
  const id = currentModelKey();
  if (!d || !id) return Promise.resolve();
  const write = async () => {
    try {
      await d.put('dense', { modelKey: id.key, evalKey, ppl, savedAt: Date.now() });
    } catch (e) {
      fail(e, 'Saving a dense perplexity');
    }
  };
  return track(write());
}

/** A saved sweep record, or null when it does not validate. */
export function validSweepRecord(x: unknown): SweepRecord | null {
  if (!isObj(x) || !isPosInt(x.sweepId) || !isObj(x.spec) || !isStr(x.evalKey) || !isStr(x.evalLabel) || !isStr(x.calibLabel)) return null;
  if (x.status !== 'running' && x.status !== 'cancelled' && x.status !== 'done') return null;
  const spec = x.spec as Record<string, unknown>;
  if (!Array.isArray(spec.points) || !isPosInt(spec.calibSamples) || !isPosInt(spec.seqlen) || typeof spec.includeDense !== 'boolean') return null;
  for (const p of spec.points) {
    if (!isObj(p) || !(METHODS as readonly unknown[]).includes(p.method) || !isObj(p.target)) return null;
  }
  return { sweepId: x.sweepId, spec: spec as unknown as SweepSpec, evalKey: x.evalKey, evalLabel: x.evalLabel, calibLabel: x.calibLabel, status: x.status, savedAt: isNum(x.savedAt) ? x.savedAt : 0 };
}

/** Save (or update) a sweep of the loaded model: when it starts, and when it ends. */
export function saveSweep(rec: SweepRecord): Promise<void> {
  const d = db;
  const id = currentModelKey();
  const s = usePrune.getState();
  s.set({ sweeps: { ...s.sweeps, [rec.sweepId]: rec } });
  if (!d || !id) return Promise.resolve();
  const write = async () => {
    try {
      await d.put('sweeps', { ...rec, modelKey: id.key });
    } catch (e) {
      fail(e, 'Saving a sweep');
    }
  };
  return track(write());
}

/** Forget the runs and dense points of the loaded model, on the page and in the browser. */
export async function clearHistory(): Promise<void> {
  // A restore still reading must not bring them back.
  restoreSeq++;
  usePrune.getState().set({ runs: [], dense: {}, selectedRunId: null, sweeps: {} });
  const d = db;
  const id = currentModelKey();
  if (!d || !id) return;
  const clear = async () => {
    try {
      const tx = d.transaction(['runs', 'dense', 'models', 'sweeps'], 'readwrite');
      const runs = tx.objectStore('runs');
      const dense = tx.objectStore('dense');
      const sweeps = tx.objectStore('sweeps');
      const [runKeys, denseKeys, sweepKeys] = await Promise.all([
        runs.index('byModel').getAllKeys(id.key), dense.index('byModel').getAllKeys(id.key), sweeps.index('byModel').getAllKeys(id.key),
      ]);
      await Promise.all([
        ...runKeys.map((k) => runs.delete(k)), ...denseKeys.map((k) => dense.delete(k)), ...sweepKeys.map((k) => sweeps.delete(k)),
        tx.objectStore('models').delete(id.key), tx.done,
      ]);
    } catch (e) {
      fail(e, 'Clearing the history');
    }
  };
  await track(clear());
}

// ---------------------------------------------------------------------------------------------
// Start and stop

/**
 * Open the history, put the saved settings back, continue the run numbering, and from now on save
 * settings changes and restore each loaded model's runs. Never throws: without storage the page
 * works as before and useHistory says why nothing is saved.
 */
export async function initHistory(opts: HistoryOptions = {}): Promise<void> {
  if (started) return;
  started = true;
  const gen = ++generation;
  settingsDelayMs = opts.settingsDelayMs ?? 400;
  const initial = settingsSnapshot();
  useHistory.getState().set({ status: { status: 'opening' }, skipped: 0 });
  let opened: HistoryDb;
  try {
    opened = await openHistoryDb(opts.dbName ?? HISTORY_DB_NAME, opts.openTimeoutMs ?? 5000);
  } catch (e) {
    if (gen === generation) markUnavailable(reasonOf(e, 'Opening the history'));
    return;
  }
  if (gen !== generation) {
    opened.close();
    return;
  }
  db = opened;
  useHistory.getState().set({ status: { status: 'ready' } });
  try {
    // Run ids are unique over all models, so a run recorded before its model's history is read
    // can never take the id of a saved one.
    const keys = await opened.getAllKeys('runs');
    const maxRun = keys.reduce((m, k) => (Array.isArray(k) && isPosInt(k[1]) ? Math.max(m, k[1]) : m), 0);
    continueIdsAbove(maxRun, 0);
    const saved = validSettings(await opened.get('settings', SETTINGS_KEY));
    if (gen !== generation) return;
    if (saved) applySettings(saved, initial);
  } catch (e) {
    if (gen === generation) fail(e, 'Reading the history');
  }
  if (gen !== generation) return;
  watchSettings();
  unsubscribers.push(
    useModel.subscribe((s, prev) => {
      if (s.summary && s.summary !== prev.summary) void track(restoreFor(s.summary));
    }),
  );
  const loaded = useModel.getState().summary;
  if (loaded) await track(restoreFor(loaded));
}

/** Write a pending settings save now and wait for every write and restore in flight. */
export async function flushHistory(): Promise<void> {
  if (settingsTimer) {
    clearTimeout(settingsTimer);
    settingsTimer = null;
    void track(saveSettingsNow());
  }
  while (pending.size) await Promise.allSettled([...pending]);
}

/** Stop saving and close the database (tests; a later initHistory starts afresh). */
export function closeHistory(): void {
  generation++;
  started = false;
  for (const u of unsubscribers) u();
  unsubscribers = [];
  if (settingsTimer) clearTimeout(settingsTimer);
  settingsTimer = null;
  db?.close();
  db = null;
  useHistory.getState().set({ status: { status: 'off' }, skipped: 0 });
}
