// The typed message protocol between the page (client.ts) and the engine worker
// (engine.worker.ts). Only plain data crosses: summaries, numbers, strings, and File/Blob objects
// (structured clone, no copy of their bytes). Never tensors.
//
// page -> worker: a Request, always with a numeric id chosen by the client.
// worker -> page: Events. Each request is answered by exactly one `result` or `error` with its id,
// possibly preceded by `progress` events with the same id. `deviceLost` has no id: it concerns
// the whole engine.
import type { WireError } from '../core/errors';
import type { AdapterSummary, ModelSummary, PerplexityResult, Progress } from '../core/types';

/** One file of a model folder: a File/Blob plus its path relative to the dropped folder. */
export interface ModelFile {
  file: Blob;
  /** Relative path, e.g. "stories260K/config.json" or just "config.json". */
  path: string;
}

export type ModelSource =
  /** The bundled demo model (public/models/stories260K), fetched by the worker. */
  | { kind: 'demo' }
  /** Files the user dropped or picked. */
  | { kind: 'files'; files: ModelFile[]; label?: string };

/** Request bodies by type (without the id). */
export interface RequestBodies {
  /** Create the Engine. `baseUrl` is the page's absolute base URL, for fetching the demo model. */
  init: { type: 'init'; baseUrl: string };
  loadModel: { type: 'loadModel'; source: ModelSource };
  perplexity: { type: 'perplexity'; text: string; seqlen: number; maxWindows?: number };
  countTokens: { type: 'countTokens'; text: string };
  /** Current engine state (after a failed load the previous model may still be loaded). */
  getState: { type: 'getState' };
  /** Abort the request with id `target` (it then answers with a Cancelled error). */
  cancel: { type: 'cancel'; target: number };
}

/** Result payloads by request type. */
export interface ResponseResults {
  init: { adapter: AdapterSummary; shaders: string[] };
  loadModel: ModelSummary;
  perplexity: PerplexityResult;
  countTokens: { tokens: number };
  getState: { adapter: AdapterSummary | null; model: ModelSummary | null };
  cancel: { cancelled: boolean };
}

export type RequestType = keyof RequestBodies;
export type RequestBody<T extends RequestType = RequestType> = RequestBodies[T];
export type Request<T extends RequestType = RequestType> = RequestBodies[T] & { id: number };
/** The discriminated union of all requests. */
export type AnyRequest = { [T in RequestType]: Request<T> }[RequestType];

export type WorkerEvent =
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; result: ResponseResults[RequestType] }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'deviceLost'; message: string };

/** Files fetched for the demo model, relative to `${BASE_URL}models/stories260K/`. */
export const DEMO_MODEL_DIR = 'models/stories260K/';
export const DEMO_MODEL_FILES = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
] as const;
export const DEMO_MODEL_NAME = 'stories260K';
