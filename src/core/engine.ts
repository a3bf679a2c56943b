// Engine: the one object the worker and the CLI talk to. It owns the GPU device, the loaded model
// (weights on the GPU) and its tokenizer. All methods are async and report progress through a
// callback; long work checks an AbortSignal between GPU submissions.
import type { FileSource } from './io/file-source';
import type {
  AdapterSummary,
  ModelSummary,
  PerplexityOptions,
  PerplexityResult,
  ProgressFn,
} from './types';

export type ShaderLoader = (name: string) => string;

export interface EngineOptions {
  /** navigator.gpu in browsers, `create([])` from npm `webgpu` in Node. */
  gpu: GPU;
  /** Returns the WGSL source of shaders/<name>.wgsl. */
  shaders: ShaderLoader;
  /** Pretend the adapter allows at most this many bytes per storage binding (tests of paging). */
  maxBindingOverride?: number;
}

export class Engine {
  static async create(_opts: EngineOptions): Promise<Engine> {
    throw new Error('Engine.create: not implemented yet');
  }
  get adapter(): AdapterSummary {
    throw new Error('not implemented yet');
  }
  get model(): ModelSummary | null {
    return null;
  }
  /** Load a model folder: config.json, *.safetensors (+ index), tokenizer files. */
  async loadModel(_files: FileSource[], _onProgress?: ProgressFn, _signal?: AbortSignal): Promise<ModelSummary> {
    throw new Error('not implemented yet');
  }
  /** Number of tokens the loaded tokenizer makes of a text (with its default special tokens). */
  countTokens(_text: string): number {
    throw new Error('not implemented yet');
  }
  /** SparseGPT-protocol perplexity of a text. */
  async perplexity(
    _text: string,
    _opts: PerplexityOptions,
    _onProgress?: ProgressFn,
    _signal?: AbortSignal,
  ): Promise<PerplexityResult> {
    throw new Error('not implemented yet');
  }
  /** Called once if the device is lost; the engine is unusable afterwards. */
  onDeviceLost(_cb: (message: string) => void): void {}
  dispose(): void {}
}
