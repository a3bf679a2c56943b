/// <reference lib="webworker" />
// The engine worker: owns the one Engine (GPU device, weights, tokenizer) and serves the protocol
// in protocol.ts. Long work runs here so the page stays responsive. Each request gets its own
// AbortController; a `cancel` request aborts it and the engine stops at its next check.
import { Engine } from '../core/engine';
import { BadOption, Cancelled, DeviceLost, MissingFile, NoWebGPU, Paused, errorToWire, throwIfCancelled } from '../core/errors';
import { blobSource, type FileSource } from '../core/io/file-source';
import { runSweep, type SweepPointResult } from '../core/jobs/sweep';
import { runContextualJob } from '../core/jobs/contextual';
import { runFinetune, type FinetuneCheckpoint } from '../core/jobs/finetune';
import { runDenseTwin } from '../core/jobs/twin';
import { dropCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import type { Progress } from '../core/types';
import {
  DEMO_MODEL_DIR,
  DEMO_MODEL_FILES,
  DEMO_MODEL_NAME,
  type AnyRequest,
  type ExportedFile,
  type ModelSource,
  type Request,
  type RequestType,
  type ResponseResults,
  type WeightsState,
  type WorkerEvent,
} from './protocol';
import { loadShader, shaderNames } from './shaders';
import { hubList, openFromHub } from './hub';
import { ggufBytes } from '../core/export/gguf-writer';

declare const self: DedicatedWorkerGlobalScope;

let engine: Engine | null = null;
let baseUrl: string = new URL(import.meta.env.BASE_URL, self.location.href).href;

/** Init, loadModel, perplexity, prune, sweep, speed, restoreDense, the exports and contextual pruning run one at a time, in order of arrival. */
let exclusive: Promise<unknown> = Promise.resolve();
/** The latest init/loadModel; countTokens waits for it (but not for a perplexity run). */
let modelReady: Promise<unknown> = Promise.resolve();
const controllers = new Map<number, AbortController>();

function post(ev: WorkerEvent, transfer: Transferable[] = []): void {
  self.postMessage(ev, transfer);
}

/** The answer of a request, with the ArrayBuffers of exported files transferred (not copied). */
function postResult(req: AnyRequest, result: ResponseResults[RequestType]): void {
  const transfer: Transferable[] = [];
  if (req.type === 'export') {
    const seen = new Set<ArrayBuffer>();
    for (const f of (result as ResponseResults['export']).files) {
      if (!seen.has(f.bytes.buffer)) {
        seen.add(f.bytes.buffer);
        transfer.push(f.bytes.buffer);
      }
    }
  }
  // So do the smaller (contextual) export's.
  if (req.type === 'exportSmaller') {
    for (const f of (result as ResponseResults['exportSmaller']).files) if (!transfer.includes(f.bytes.buffer)) transfer.push(f.bytes.buffer);
  }
  if (req.type === 'exportGguf') transfer.push((result as ResponseResults['exportGguf']).file.bytes.buffer);
  // The compressed export's files move the same way.
  if (req.type === 'exportCompressed') {
    for (const f of (result as ResponseResults['exportCompressed']).files) if (!transfer.includes(f.bytes.buffer)) transfer.push(f.bytes.buffer);
  }
  post({ type: 'result', id: req.id, result }, transfer);
}

/** Canonical sublayer name → Hugging Face module name, for the page's layer table. */
function hfNames(e: Engine, layers: readonly { name: string }[]): Record<string, string> {
  return Object.fromEntries(layers.map((l) => [l.name, e.hfName(l.name)]));
}

function weightsState(e: Engine | null): WeightsState | null {
  const r = e?.pruneState ?? null;
  return r ? { method: r.method, target: r.target, sparsity: r.sparsity } : null;
}

/** A copy that owns its whole ArrayBuffer, unless it already does (a transfer moves whole buffers). */
function ownBuffer(b: Uint8Array): Uint8Array<ArrayBuffer> {
  if (b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b as Uint8Array<ArrayBuffer>;
  return new Uint8Array(b);
}

/** Training requests asked to pause at their next step. */
const pausing = new Set<number>();

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

async function sourcesOf(source: Exclude<ModelSource, { kind: 'hub' }>, id: number, signal: AbortSignal): Promise<FileSource[]> {
  if (source.kind === 'demo') return demoSources(id, signal);
  return source.files.map((f) => blobSource(f.file, f.path));
}

async function handle(req: AnyRequest, signal: AbortSignal): Promise<ResponseResults[RequestType]> {
  switch (req.type) {
    case 'init':
      return init(req);
    case 'loadModel': {
      const e = requireEngine();
      const budget = req.gpuBudget !== undefined ? { gpuBudget: req.gpuBudget } : {};
      if (req.source.kind === 'hub') {
        const report = progressFor(req.id);
        const opened = await openFromHub(req.source, signal, (d) =>
          report({ phase: 'download', done: d.done, total: d.total, detail: d.file, download: d }),
        );
        const summary = await e.loadModel(opened.files, progressFor(req.id), signal, budget);
        summary.notes.unshift(...opened.notes);
        await opened.keep(summary);
        return summary;
      }
      const files = await sourcesOf(req.source, req.id, signal);
      // A dropped folder of config.json and tokenizer alone opens with fresh weights, to train from scratch.
      return e.loadModel(files, progressFor(req.id), signal, { configOnly: true, ...budget });
    }
    case 'hubList':
      return hubList(req.spec, signal);
    case 'perplexity': {
      const e = requireEngine();
      const opts = req.maxWindows === undefined ? { seqlen: req.seqlen } : { seqlen: req.seqlen, maxWindows: req.maxWindows };
      return e.perplexity(req.text, opts, progressFor(req.id), signal);
    }
    case 'countTokens':
      return { tokens: requireEngine().countTokens(req.text) };
    case 'getState':
      return { adapter: engine ? safeAdapter(engine) : null, model: engine?.model ?? null, pruned: safeWeights(engine), memory: engine?.memory() ?? null };
    case 'prune': {
      const e = requireEngine();
      const report = await e.prune(req.calibText, req.options, progressFor(req.id), signal);
      return { ...report, hfNames: hfNames(e, report.layers) };
    }
    case 'sweep': {
      const e = requireEngine();
      const onPoint = (point: SweepPointResult) => post({ type: 'point', id: req.id, point, hfNames: hfNames(e, point.layers) });
      const points = await runSweep(e, req, { onPoint, onProgress: progressFor(req.id), signal });
      return { points, pruned: weightsState(e) };
    }
    case 'speed':
      return requireEngine().speedReport(progressFor(req.id), signal);
    case 'restoreDense':
      requireEngine().restoreDense();
      return { pruned: null };
    case 'export': {
      const e = requireEngine();
      const files: ExportedFile[] = (await e.exportModel()).map((f) => ({ name: f.name, bytes: ownBuffer(f.bytes) }));
      return { files, pruned: weightsState(e) };
    }
    case 'exportCompressed': {
      const e = requireEngine();
      const r = await e.exportCompressed();
      const files: ExportedFile[] = r.files.map((f) => ({ name: f.name, bytes: ownBuffer(f.bytes) }));
      return { files, pruned: weightsState(e), stats: r.stats };
    }
    case 'exportGguf': {
      const g = await requireEngine().gguf(req.fileType);
      const name = `${requireEngine().model!.name}-${req.fileType.toLowerCase()}.gguf`;
      return { file: { name, bytes: ownBuffer(await ggufBytes(g.meta, g.tensors)) }, architecture: g.architecture, notes: g.notes };
    }
    case 'pruneContextual': {
      const e = requireEngine();
      const r = await runContextualJob(e, req, { onProgress: progressFor(req.id), signal });
      return { ...r, weights: weightsState(e) };
    }
    case 'finetune': {
      const report = progressFor(req.id);
      const resume = (req.resume && (await loadCheckpoint())) || undefined;
      if (req.resume && !resume) throw new BadOption('There is no training checkpoint in this browser to resume from: start the run again.');
      const onCheckpoint = async (c: FinetuneCheckpoint) => {
        const kept = await saveCheckpoint(c);
        report({ phase: 'train', done: c.step, total: req.input.steps, checkpoint: c.step, detail: `checkpoint at step ${c.step}${kept ? '' : ' (in memory only: this browser cannot keep it over a reload)'}` });
      };
      const e0 = requireEngine();
      try {
        if (req.teacherFromLoaded) await e0.loadTeacherFromFolder(undefined, signal);
        if (req.fromScratch && !resume) e0.reinitialize(req.fromScratch.seed);
        const r = await runFinetune(e0, req.input, { onProgress: report, signal, onCheckpoint, resume, shouldPause: () => pausing.has(req.id) });
        await dropCheckpoint();
        return r;
      } catch (e) {
        // A pause or a lost device resumes from the checkpoint; anything else ends the run.
        if (!(e instanceof DeviceLost) && !(e instanceof Paused)) await dropCheckpoint();
        throw e;
      } finally {
        pausing.delete(req.id);
        if (req.teacherFromLoaded) e0.dropTeacher();
      }
    }
    case 'denseTwin': {
      const e = requireEngine();
      const files = e.folderFiles();
      try {
        return await runDenseTwin(e, files, req.input, { onProgress: progressFor(req.id), signal });
      } finally {
        // The user's model back, as its folder holds it (a config-only folder: fresh again).
        await e.loadModel(files, undefined, undefined, { configOnly: true });
      }
    }
    case 'exportSmaller': {
      const e = requireEngine();
      const r = await e.exportSmaller();
      const st = e.pruneState;
      const m = e.model!;
      const config = st?.method === 'contextual' ? st.exported : { ffn: m.ffn, heads: m.heads, kvHeads: m.kvHeads };
      const files: ExportedFile[] = r.files.map((f) => ({ name: f.name, bytes: ownBuffer(f.bytes) }));
      return { files, pruned: weightsState(e), config, counts: r.counts, warnings: r.warnings };
    }
    case 'generate':
      return requireEngine().generate(req.prompt, req.options, (u) => post({ type: 'token', id: req.id, text: u.text, tokens: u.tokens }), signal);
    case 'cancel': {
      const c = controllers.get(req.target);
      c?.abort();
      return { cancelled: c !== undefined };
    }
    case 'pause': {
      const running = controllers.has(req.target);
      if (running) pausing.add(req.target);
      return { pausing: running };
    }
    case 'loseDevice': {
      const e = engine;
      if (!e) return { lost: false };
      e.ctx.device.destroy();
      return { lost: true };
    }
  }
}

function safeWeights(e: Engine | null): WeightsState | null {
  try {
    return weightsState(e);
  } catch {
    return null;
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
    case 'perplexity':
    case 'prune':
    case 'sweep':
    case 'speed':
    case 'generate':
    case 'restoreDense':
    case 'exportCompressed':
    case 'exportGguf':
    case 'pruneContextual':
    case 'finetune':
    case 'denseTwin':
    case 'exportSmaller':
    case 'export': {
      const p = exclusive.then(run);
      exclusive = p.catch(() => undefined);
      return p;
    }
    case 'countTokens':
    case 'getState':
      return modelReady.then(run);
    case 'hubList':
      return run();
    case 'cancel':
    case 'pause':
    case 'loseDevice':
      return handle(req, signal);
  }
}

self.onmessage = (ev: MessageEvent<AnyRequest>) => {
  const req = ev.data;
  const controller = new AbortController();
  if (req.type !== 'cancel' && req.type !== 'pause') controllers.set(req.id, controller);
  schedule(req, controller.signal)
    .then(
      (result) => postResult(req, result),
      (err: unknown) => {
        // An aborted fetch (demo download) rejects with a DOMException "AbortError": report every
        // failure of a cancelled request as Cancelled, so the page can tell it from a real error.
        const e = controller.signal.aborted && !(err instanceof Cancelled) ? new Cancelled() : err;
        post({ type: 'error', id: req.id, error: errorToWire(e) });
      },
    )
    .finally(() => controllers.delete(req.id));
};
