// The typed message protocol between the page (client.ts) and the engine worker
// (engine.worker.ts). Only plain data crosses: summaries, numbers, strings, and File/Blob objects
// (structured clone, no copy of their bytes). Never tensors.
//
// page -> worker: a Request, always with a numeric id chosen by the client.
// worker -> page: Events. Each request is answered by exactly one `result` or `error` with its id,
// possibly preceded by `progress` events with the same id. `deviceLost` has no id: it concerns
// the whole engine.
import type { WireError } from '../core/errors';
import type { PruneOptions, PruneReport, Target } from '../core/prune/types';
import type { SweepPointResult, SweepSpec } from '../core/jobs/sweep';
import type { SpeedReport } from '../core/sparse/speed';
import type { CompressedExportStats } from '../core/export/compressed';
import type { GenerateOptions, GenerateResult } from '../core/eval/generate';
import type { AdapterSummary, GpuMemory, ModelSummary, PerplexityResult, Progress } from '../core/types';
import type { ContextualEvaluation, ContextualJobResult, ContextualRunOptions } from '../core/jobs/contextual';
import type { FinetuneInput, FinetuneResult } from '../core/jobs/finetune';
import type { TwinInput, TwinResult } from '../core/jobs/twin';
import type { ParamCounts } from '../core/export/structured';
import type { HubListSummary, HubSourceSpec } from './hub';

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
  | { kind: 'files'; files: ModelFile[]; label?: string }
  /** A model on the Hugging Face Hub, downloaded into (and resumed from) the browser's private storage. */
  | ({ kind: 'hub' } & HubSourceSpec);

/** Request bodies by type (without the id). */
export interface RequestBodies {
  /** Create the Engine. `baseUrl` is the page's absolute base URL, for fetching the demo model. */
  init: { type: 'init'; baseUrl: string };
  /** gpuBudget: bytes of weights allowed on the GPU at once (past it the model streams); default: the adapter's. */
  loadModel: { type: 'loadModel'; source: ModelSource; gpuBudget?: number };
  /** A Hub repository's commit and files, and which of them a load would download (no download). */
  hubList: { type: 'hubList'; spec: HubSourceSpec };
  perplexity: { type: 'perplexity'; text: string; seqlen: number; maxWindows?: number };
  countTokens: { type: 'countTokens'; text: string };
  /** Current engine state (after a failed load the previous model may still be loaded). */
  getState: { type: 'getState' };
  /**
   * Prune the loaded model, always from its dense weights. On success the weights are pruned; on
   * failure or cancellation they are back to dense (ask getState for the truth).
   */
  prune: { type: 'prune'; calibText: string; options: PruneOptions };
  /**
   * Methods × targets, each pruned from dense and evaluated; every measured point is sent as a
   * `point` event with this request's id as soon as it is known. Afterwards the weights are those
   * of the last point (dense if the run was cancelled in the middle of a prune).
   */
  sweep: { type: 'sweep'; calibText: string; evalText: string; spec: SweepSpec };
  /**
   * Measure the current (pruned) weights on this GPU: per weight shape, the dense kernel against
   * each sparse format (bytes, decode GEMV and prefill GEMM times), and end-to-end decode tokens/s
   * dense vs auto-selected sparse kernels. No rows while the weights are dense. Progress events
   * with phase "speed"; seconds to a minute on a software adapter.
   */
  speed: { type: 'speed' };
  /** Put the dense weights back. */
  restoreDense: { type: 'restoreDense' };
  /** The current weights (dense or pruned) as a Hugging Face folder; the buffers are transferred. */
  export: { type: 'export' };
  /**
   * The current pruned weights in compressed-tensors' sparse-bitmask format (a folder like
   * `export`, with a quantization_config in config.json); refused while the weights are dense.
   */
  exportCompressed: { type: 'exportCompressed' };
  /**
   * Continue `prompt` with the dense or the pruned weights (greedy at temperature 0, else seeded
   * sampling). Each new token sends a `token` event with the continuation decoded so far; `cancel`
   * stops it. A dense run on a pruned model leaves the pruned weights exactly as they were.
   */
  generate: { type: 'generate'; prompt: string; options: GenerateOptions };
  /**
   * Contextual (structured) pruning on the domain text `calibText`, always from the dense weights,
   * with the perplexities of `evaluate` (the domain evaluation text and the general one, dense
   * and/or pruned) measured around it. Progress events carry the stage as point/points. On
   * failure or cancellation before the prune finished the weights are dense.
   */
  pruneContextual: { type: 'pruneContextual'; calibText: string; options: ContextualRunOptions; evaluate: ContextualEvaluation | null };
  /** The current weights (dense or pruned, zeros kept) as one llama.cpp GGUF file, F32 or F16. */
  exportGguf: { type: 'exportGguf'; fileType: 'F32' | 'F16' };
  /** The contextual-pruned model as a smaller Hugging Face folder (zeros where it cannot be smaller). */
  exportSmaller: { type: 'exportSmaller' };
  /**
   * Train the current weights on a text (jobs/finetune.ts): recovery with the zeros kept, or
   * gradual magnitude pruning. Progress events (phase "train") carry each step's loss. The trained
   * weights replace the model's (a cancel keeps the steps taken); the original is a reload away.
   * With input.checkpointEvery the worker keeps a checkpoint in the browser (progress events with
   * `checkpoint` say each one); `resume` continues the run from it (after a reload or a lost device).
   */
  finetune: {
    type: 'finetune';
    input: FinetuneInput;
    resume?: boolean;
    /** With input.distill: the teacher is the model as loaded (its folder's weights), uploaded for the run. */
    teacherFromLoaded?: boolean;
    /** Start from fresh weights (transformers' initialisation of the family) with this seed. */
    fromScratch?: { seed: number };
  };
  /**
   * From fresh weights, the loaded model's architecture trained with GMP and its dense twin (as
   * many parameters as the GMP model keeps non-zeros) on the same text (jobs/twin.ts); the loaded
   * model is loaded again from its folder afterwards (dense, as it was loaded).
   */
  denseTwin: { type: 'denseTwin'; input: TwinInput };
  /** Abort the request with id `target` (it then answers with a Cancelled error). */
  cancel: { type: 'cancel'; target: number };
  /** Pause the training request `target` at its next step: it saves a checkpoint and answers with a Paused error. */
  pause: { type: 'pause'; target: number };
  /**
   * Fault injection (tests, and the page's ?faults hook): destroy the GPU device now, as a driver
   * reset would. Handled at once, like cancel, even while another request runs.
   */
  loseDevice: { type: 'loseDevice' };
}

/** What the weights on the GPU are now: null while dense. */
export interface WeightsState {
  /** 'contextual': structured removal (target = the fraction of MLP neurons removed). */
  method: PruneReport['method'] | 'contextual';
  target: Target;
  /** Achieved sparsity over the pruned sublayers. */
  sparsity: number;
}

export interface ExportedFile {
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** Result payloads by request type. */
export interface ResponseResults {
  init: { adapter: AdapterSummary; shaders: string[] };
  loadModel: ModelSummary;
  hubList: HubListSummary;
  perplexity: PerplexityResult;
  countTokens: { tokens: number };
  getState: { adapter: AdapterSummary | null; model: ModelSummary | null; pruned: WeightsState | null; memory: GpuMemory | null };
  /** The report, plus the Hugging Face module name of each pruned sublayer. */
  prune: PruneReport & { hfNames: Record<string, string> };
  sweep: { points: SweepPointResult[]; pruned: WeightsState | null };
  speed: SpeedReport;
  restoreDense: { pruned: null };
  export: { files: ExportedFile[]; pruned: WeightsState | null };
  /** The folder, plus the bytes of its tensor data dense vs compressed. */
  exportCompressed: { files: ExportedFile[]; pruned: WeightsState | null; stats: CompressedExportStats };
  generate: GenerateResult;
  /** The file, llama.cpp's architecture name, and what to know about it. */
  exportGguf: { file: ExportedFile; architecture: string; notes: string[] };
  /** The run's report (with Hugging Face names), the perplexities, and the weights state after it. */
  pruneContextual: ContextualJobResult & { weights: WeightsState | null };
  /** The folder, its config's sizes, parameter counts and bytes, and what stayed zeros. */
  exportSmaller: {
    files: ExportedFile[];
    pruned: WeightsState | null;
    config: { ffn: number; heads: number; kvHeads: number };
    counts: ParamCounts;
    warnings: string[];
  };
  finetune: FinetuneResult;
  denseTwin: TwinResult;
  cancel: { cancelled: boolean };
  pause: { pausing: boolean };
  loseDevice: { lost: boolean };
}

export type RequestType = keyof RequestBodies;
export type RequestBody<T extends RequestType = RequestType> = RequestBodies[T];
export type Request<T extends RequestType = RequestType> = RequestBodies[T] & { id: number };
/** The discriminated union of all requests. */
export type AnyRequest = { [T in RequestType]: Request<T> }[RequestType];

export type WorkerEvent =
  | { type: 'progress'; id: number; progress: Progress }
  /** One measured sweep point (request `sweep`), sent as soon as it is known. */
  | { type: 'point'; id: number; point: SweepPointResult; hfNames: Record<string, string> }
  /** Request `generate`: after each new token, the continuation decoded so far and the count. */
  | { type: 'token'; id: number; text: string; tokens: number }
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
