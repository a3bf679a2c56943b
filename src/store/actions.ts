// What the user can do, wired to the stores and the engine worker. Components call these; the
// stores hold only plain summaries and strings.
import { BadOption, BadText, Cancelled, MissingFile, NoWebGPU } from '../core/errors';
import type { PendingCall } from '../worker/client';
import { DEMO_MODEL_NAME, type ModelFile, type ModelSource } from '../worker/protocol';
import { getClient, hasClient, replaceClient } from './client';
import { useEngine } from './engine';
import { useErrors } from './errors';
import { useModel } from './model';
import { usePerplexity, type PerplexitySettings } from './perplexity';
import { SAMPLE_EVAL_NAME, selectedText, selectedTextLabel, useTexts } from './texts';

export type { ModelFile };

/** The page's absolute base URL (BASE_URL may be relative, e.g. "./"). */
export function baseUrl(): string {
  return new URL(import.meta.env.BASE_URL, document.baseURI).href;
}

// ---------------------------------------------------------------------------------------------
// Engine

let unsubscribeDeviceLost: (() => void) | null = null;

function onDeviceLost(message: string): void {
  useEngine.getState().set({ status: 'lost', message });
  useModel.getState().set({ status: 'empty', summary: null, label: null, progress: null, loadingLabel: null });
  useTexts.getState().set({ tokens: { status: 'unavailable', reason: 'The GPU device was lost; restart the engine.' } });
}

/** Start the worker and its GPU device. Resolves true when the engine is ready. */
export async function startEngine(): Promise<boolean> {
  const eng = useEngine.getState();
  const errors = useErrors.getState();
  errors.clearError('engine');
  eng.set({ status: 'starting', message: null, adapter: null });

  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    eng.set({ status: 'no-webgpu', message: 'This browser does not expose WebGPU (navigator.gpu is missing).' });
    useTexts.getState().set({ tokens: { status: 'unavailable', reason: 'Counting tokens needs a loaded model, which needs WebGPU.' } });
    return false;
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch {
    adapter = null;
  }
  if (!adapter) {
    eng.set({
      status: 'no-adapter',
      message: 'WebGPU is present, but the browser offered no GPU adapter (the GPU or driver may be blocklisted, or WebGPU disabled in settings).',
    });
    useTexts.getState().set({ tokens: { status: 'unavailable', reason: 'Counting tokens needs a loaded model, which needs a GPU adapter.' } });
    return false;
  }

  const client = hasClient() ? replaceClient() : getClient();
  unsubscribeDeviceLost?.();
  unsubscribeDeviceLost = client.onDeviceLost(onDeviceLost);
  try {
    const r = await client.call({ type: 'init', baseUrl: baseUrl() });
    eng.set({ status: 'ready', adapter: r.adapter, shaders: r.shaders, message: null });
    return true;
  } catch (e) {
    if (e instanceof NoWebGPU) {
      eng.set({ status: 'no-adapter', message: e.message });
    } else {
      eng.set({ status: 'failed', message: null });
      errors.setError('engine', e);
    }
    useTexts.getState().set({ tokens: { status: 'unavailable', reason: 'The GPU engine did not start.' } });
    return false;
  }
}

/** After a lost device (or a failed start): fresh worker and device, then reload the last model. */
export async function restartEngine(): Promise<void> {
  cancelMeasure();
  if (await startEngine()) {
    const last = lastLoad;
    await loadModel(last?.source ?? { kind: 'demo' }, last?.label ?? demoLabel);
  }
}

// ---------------------------------------------------------------------------------------------
// Model

const demoLabel = `Demo model (${DEMO_MODEL_NAME})`;
let lastLoad: { source: ModelSource; label: string } | null = null;
let loadCall: PendingCall<'loadModel'> | null = null;

export function loadDemoModel(): Promise<void> {
  return loadModel({ kind: 'demo' }, demoLabel);
}

/** Files from a folder drop, folder picker or files picker. */
export function loadModelFiles(files: ModelFile[], label: string): Promise<void> {
  if (files.length === 0) {
    useErrors.getState().setError(
      'model',
      new MissingFile('No files arrived. Drop a model folder (config.json, *.safetensors, tokenizer.json) or pick its files.'),
    );
    return Promise.resolve();
  }
  return loadModel({ kind: 'files', files, label }, label);
}

export async function loadModel(source: ModelSource, label: string): Promise<void> {
  const errors = useErrors.getState();
  const model = useModel.getState();
  errors.clearError('model');
  if (useEngine.getState().status !== 'ready') {
    errors.setError('model', new NoWebGPU('Loading a model needs a working WebGPU engine (see the notice at the top of the page).'));
    return;
  }
  const client = getClient();
  if (loadCall) client.cancel(loadCall.id);
  cancelMeasure();
  lastLoad = { source, label };

  model.set({ status: 'loading', loadingLabel: label, progress: null });
  const call = client.call({ type: 'loadModel', source }, (p) => {
    if (loadCall === call) useModel.getState().set({ progress: p });
  });
  loadCall = call;
  try {
    const summary = await call;
    if (loadCall !== call) return;
    useModel.getState().set({ status: 'loaded', summary, label, loadingLabel: null, progress: null });
    void refreshTokenCount();
  } catch (e) {
    if (loadCall !== call) return;
    if (!(e instanceof Cancelled)) errors.setError('model', e);
    // The engine may have kept the previous model; show what it really holds.
    let kept = null;
    try {
      kept = (await client.call({ type: 'getState' })).model;
    } catch {
      kept = null;
    }
    if (loadCall !== call) return;
    const prev = useModel.getState();
    const same = kept && prev.summary && kept.name === prev.summary.name;
    useModel.getState().set({
      status: kept ? 'loaded' : 'empty',
      summary: kept,
      label: kept ? (same ? prev.label : kept.name) : null,
      loadingLabel: null,
      progress: null,
    });
    void refreshTokenCount();
  } finally {
    if (loadCall === call) loadCall = null;
  }
}

export function cancelModelLoad(): void {
  if (loadCall) getClient().cancel(loadCall.id);
}

// ---------------------------------------------------------------------------------------------
// Texts

const MAX_TEXT_BYTES = 64 * 1024 * 1024;

export async function loadSampleText(): Promise<void> {
  const url = new URL(`data/${SAMPLE_EVAL_NAME}`, baseUrl());
  try {
    const res = await fetch(url);
    if (!res.ok) throw new MissingFile(`Could not fetch the built-in sample text ${url.pathname} (HTTP ${res.status}). Drop or paste a text instead.`);
    const text = await res.text();
    useTexts.getState().set({ sample: { status: 'ready', name: SAMPLE_EVAL_NAME, text } });
  } catch (e) {
    useTexts.getState().set({ sample: { status: 'error', name: SAMPLE_EVAL_NAME, text: '' } });
    useErrors.getState().setError('data', e);
  }
}

/** Decode a user text file; throws BadText for binary, non-UTF-8, empty or huge files. */
export async function decodeTextFile(file: Blob & { name?: string }): Promise<string> {
  const name = file.name ?? 'the file';
  if (file.size > MAX_TEXT_BYTES) {
    throw new BadText(`${name} is ${(file.size / 1048576).toFixed(1)} MB; texts up to ${MAX_TEXT_BYTES / 1048576} MB are supported. Use a shorter excerpt.`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.subarray(0, 65536).includes(0)) {
    throw new BadText(`${name} looks like a binary file (it contains NUL bytes), not plain text. Choose a UTF-8 .txt file.`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadText(`${name} is not valid UTF-8 text. Save it as UTF-8 plain text and try again.`);
  }
  if (text.trim().length === 0) throw new BadText(`${name} is empty. Choose a file with some text in it.`);
  return text;
}

export async function loadTextFile(file: File): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('data');
  try {
    const text = await decodeTextFile(file);
    useTexts.getState().set({ file: { name: file.name, bytes: file.size, text }, selected: 'file' });
  } catch (e) {
    errors.setError('data', e);
  }
}

export function selectText(kind: 'sample' | 'file' | 'pasted'): void {
  useErrors.getState().clearError('data');
  useTexts.getState().set({ selected: kind });
}

export function setPastedText(text: string): void {
  useTexts.getState().set({ pasted: text, selected: 'pasted' });
}

let countSeq = 0;
let countTimer: ReturnType<typeof setTimeout> | null = null;

/** Count tokens of the selected text (debounced; stale answers are dropped). */
export function refreshTokenCount(delayMs = 0): Promise<void> {
  if (countTimer) clearTimeout(countTimer);
  const seq = ++countSeq;
  return new Promise((resolve) => {
    countTimer = setTimeout(() => {
      countTimer = null;
      void countNow(seq).finally(resolve);
    }, delayMs);
  });
}

async function countNow(seq: number): Promise<void> {
  const texts = useTexts.getState();
  if (useEngine.getState().status !== 'ready') return;
  if (useModel.getState().status !== 'loaded') {
    texts.set({ tokens: { status: 'unavailable', reason: 'Load a model to count tokens with its tokenizer.' } });
    return;
  }
  const text = selectedText(texts);
  const kind = texts.selected;
  if (!text) {
    texts.set({ tokens: { status: 'idle' } });
    return;
  }
  texts.set({ tokens: { status: 'counting' } });
  try {
    const r = await getClient().call({ type: 'countTokens', text });
    if (seq === countSeq) useTexts.getState().set({ tokens: { status: 'done', tokens: r.tokens, kind } });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    if (seq === countSeq) useTexts.getState().set({ tokens: { status: 'unavailable', reason: `Could not count tokens: ${reason}` } });
  }
}

// ---------------------------------------------------------------------------------------------
// Perplexity

function parsePositiveInt(raw: string, what: string, min: number): number {
  const s = raw.trim();
  if (!/^\d+$/.test(s)) throw new BadOption(`${what} must be a whole number ≥ ${min}; got "${raw}".`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min) throw new BadOption(`${what} must be a whole number ≥ ${min}; got ${raw}.`);
  return n;
}

export async function measurePerplexity(): Promise<void> {
  const errors = useErrors.getState();
  const ppl = usePerplexity.getState();
  if (ppl.run.status === 'running') return;
  errors.clearError('eval');
  try {
    const texts = useTexts.getState();
    const model = useModel.getState();
    if (useEngine.getState().status !== 'ready') {
      throw new NoWebGPU('Measuring perplexity needs a working WebGPU engine (see the notice at the top of the page).');
    }
    if (model.status !== 'loaded' || !model.summary) {
      throw new MissingFile('No model is loaded. Wait for the demo model or load a model folder first.');
    }
    const text = selectedText(texts);
    if (!text) throw new BadText('The selected text is empty. Choose the built-in sample, a .txt file, or paste some text.');
    const seqlen = parsePositiveInt(ppl.seqlenInput, 'Sequence length', 2);
    const maxWindows = ppl.maxWindowsInput.trim() === '' ? undefined : parsePositiveInt(ppl.maxWindowsInput, 'Max windows', 1);
    const settings: PerplexitySettings = { seqlen, maxWindows, textLabel: selectedTextLabel(texts), modelName: model.summary.name };

    const body = maxWindows === undefined ? { type: 'perplexity' as const, text, seqlen } : { type: 'perplexity' as const, text, seqlen, maxWindows };
    const call = getClient().call(body, (p) => {
      const run = usePerplexity.getState().run;
      if (run.status === 'running' && run.callId === call.id) usePerplexity.getState().set({ run: { ...run, progress: p } });
    });
    const startedAt = performance.now();
    ppl.set({ run: { status: 'running', callId: call.id, startedAt, progress: null, settings } });
    try {
      const result = await call;
      usePerplexity.getState().set({ run: { status: 'done', result, settings } });
    } catch (e) {
      if (e instanceof Cancelled) {
        usePerplexity.getState().set({ run: { status: 'cancelled', settings, elapsed: (performance.now() - startedAt) / 1000 } });
      } else {
        usePerplexity.getState().set({ run: { status: 'failed', settings } });
        useErrors.getState().setError('eval', e);
      }
    }
  } catch (e) {
    errors.setError('eval', e);
  }
}

export function cancelMeasure(): void {
  const run = usePerplexity.getState().run;
  if (run.status === 'running') getClient().cancel(run.callId);
}

// ---------------------------------------------------------------------------------------------
// Start-up

let booted = false;

/** Start everything: sample text (no GPU needed), engine, then the demo model. */
export async function bootstrap(): Promise<void> {
  if (booted) return;
  booted = true;
  // Re-count tokens whenever the selected text changes.
  useTexts.subscribe((s, prev) => {
    if (s.selected !== prev.selected || s.sample !== prev.sample || s.file !== prev.file || s.pasted !== prev.pasted) {
      void refreshTokenCount(s.pasted !== prev.pasted ? 400 : 0);
    }
  });
  void loadSampleText();
  if (await startEngine()) await loadDemoModel();
}
