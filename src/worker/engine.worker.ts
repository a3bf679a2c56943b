/// <reference lib="webworker" />
// The engine worker: owns the one Engine (GPU device, weights, tokenizer) and serves the protocol
// in protocol.ts. Long work runs here so the page stays responsive. Each request gets its own
// AbortController; a `cancel` request aborts it and the engine stops at its next check.
import { Engine } from '../core/engine';
import { Cancelled, MissingFile, NoWebGPU, errorToWire, throwIfCancelled } from '../core/errors';
import { blobSource, type FileSource } from '../core/io/file-source';
import type { Progress } from '../core/types';
import {
  DEMO_MODEL_DIR,
  DEMO_MODEL_FILES,
  DEMO_MODEL_NAME,
  type AnyRequest,
  type ModelSource,
  type Request,
  type RequestType,
  type ResponseResults,
  type WorkerEvent,
} from './protocol';
import { loadShader, shaderNames } from './shaders';

declare const self: DedicatedWorkerGlobalScope;

let engine: Engine | null = null;
let baseUrl: string = new URL(import.meta.env.BASE_URL, self.location.href).href;

/** Init, loadModel and perplexity run one at a time, in order of arrival. */
let exclusive: Promise<unknown> = Promise.resolve();
/** The latest init/loadModel; countTokens waits for it (but not for a perplexity run). */
let modelReady: Promise<unknown> = Promise.resolve();
const controllers = new Map<number, AbortController>();

function post(ev: WorkerEvent): void {
  self.postMessage(ev);
}

function progressFor(id: number) {
  return (progress: Progress) => post({ type: 'progress', id, progress });
}

function requireEngine(): Engine {
  if (!engine) throw new NoWebGPU('The GPU engine is not running (WebGPU initialisation failed or has not finished).');
  return engine;
}

async function init(req: Request<'init'>): Promise<ResponseResults['init']> {
  if (req.baseUrl) baseUrl = req.baseUrl;
  if (!('gpu' in navigator) || !navigator.gpu) {
    throw new NoWebGPU('This browser does not expose WebGPU to workers (navigator.gpu is missing).');
  }
  // Re-init: drop the old engine first. Its device's "lost" (reason destroyed) then fires for an
  // engine that is no longer current and is not reported.
  const old = engine;
  engine = null;
  old?.dispose();
  const e = await Engine.create({ gpu: navigator.gpu, shaders: loadShader });
  e.onDeviceLost((message) => {
    if (engine !== e) return;
    engine = null;
    post({ type: 'deviceLost', message });
  });
  engine = e;
  return { adapter: e.adapter, shaders: shaderNames() };
}

async function demoSources(id: number, signal: AbortSignal): Promise<FileSource[]> {
  const report = progressFor(id);
  const out: FileSource[] = [];
  let i = 0;
  for (const name of DEMO_MODEL_FILES) {
    report({ phase: 'download', done: i, total: DEMO_MODEL_FILES.length, detail: name });
    const url = new URL(DEMO_MODEL_DIR + name, baseUrl);
    const res = await fetch(url, { signal });
    if (!res.ok) {
      throw new MissingFile(`Could not fetch the demo model file ${name} from ${url.pathname} (HTTP ${res.status}). Reload the page, or load a model folder from disk.`);
    }
    // With the folder prefix, as a dropped folder arrives: the engine names the model after it.
    out.push(blobSource(await res.blob(), `${DEMO_MODEL_NAME}/${name}`));
    i++;
  }
  report({ phase: 'download', done: i, total: DEMO_MODEL_FILES.length });
  return out;
}

async function sourcesOf(source: ModelSource, id: number, signal: AbortSignal): Promise<FileSource[]> {
  if (source.kind === 'demo') return demoSources(id, signal);
  return source.files.map((f) => blobSource(f.file, f.path));
}

async function handle(req: AnyRequest, signal: AbortSignal): Promise<ResponseResults[RequestType]> {
  switch (req.type) {
    case 'init':
      return init(req);
    case 'loadModel': {
      const e = requireEngine();
      const files = await sourcesOf(req.source, req.id, signal);
      return e.loadModel(files, progressFor(req.id), signal);
    }
    case 'perplexity': {
      const e = requireEngine();
      const opts = req.maxWindows === undefined ? { seqlen: req.seqlen } : { seqlen: req.seqlen, maxWindows: req.maxWindows };
      return e.perplexity(req.text, opts, progressFor(req.id), signal);
    }
    case 'countTokens':
      return { tokens: requireEngine().countTokens(req.text) };
    case 'getState':
      return { adapter: engine ? safeAdapter(engine) : null, model: engine?.model ?? null };
    case 'cancel': {
      const c = controllers.get(req.target);
      c?.abort();
      return { cancelled: c !== undefined };
    }
  }
}

function safeAdapter(e: Engine) {
  try {
    return e.adapter;
  } catch {
    return null;
  }
}

function schedule(req: AnyRequest, signal: AbortSignal): Promise<ResponseResults[RequestType]> {
  const run = () => {
    // A request cancelled while it waited in the queue never starts.
    throwIfCancelled(signal);
    return handle(req, signal);
  };
  switch (req.type) {
    case 'init':
    case 'loadModel': {
      const p = exclusive.then(run);
      exclusive = p.catch(() => undefined);
      modelReady = exclusive;
      return p;
    }
    case 'perplexity': {
      const p = exclusive.then(run);
      exclusive = p.catch(() => undefined);
      return p;
    }
    case 'countTokens':
    case 'getState':
      return modelReady.then(run);
    case 'cancel':
      return handle(req, signal);
  }
}

self.onmessage = (ev: MessageEvent<AnyRequest>) => {
  const req = ev.data;
  const controller = new AbortController();
  if (req.type !== 'cancel') controllers.set(req.id, controller);
  schedule(req, controller.signal)
    .then(
      (result) => post({ type: 'result', id: req.id, result }),
      (err: unknown) => {
        // An aborted fetch (demo download) rejects with a DOMException "AbortError": report every
        // failure of a cancelled request as Cancelled, so the page can tell it from a real error.
        const e = controller.signal.aborted && !(err instanceof Cancelled) ? new Cancelled() : err;
        post({ type: 'error', id: req.id, error: errorToWire(e) });
      },
    )
    .finally(() => controllers.delete(req.id));
};
