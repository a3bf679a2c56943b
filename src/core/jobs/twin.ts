// Pruning during training against a small dense model of the same size: from fresh weights (the
// same seed), the folder's architecture trained with gradual magnitude pruning to sparsity s, and
// its dense twin (model/twin.ts: as many parameters as the sparse model keeps non-zeros) trained
// dense, each on the same windows of the same text with the same protocol. Each is loaded from
// the folder's config (the twin's rewritten) and tokenizer alone, so the folder's weights play no
// part; the engine holds the dense twin at the end.
import type { Engine } from '../engine';
import { BadOption } from '../errors';
import { bytesSource, type FileSource } from '../io/file-source';
import type { HFConfig } from '../model/config';
import { linearShape } from '../model/spec';
import { denseTwin } from '../model/twin';
import { type FinetuneHooks, type FinetuneInput, type FinetuneResult, runFinetune } from './finetune';

export interface TwinInput extends Omit<FinetuneInput, 'gmp' | 'distill'> {
  /** The sparse model's GMP schedule (its final sparsity sets the twin's size). */
  gmp: NonNullable<FinetuneInput['gmp']>;
  /** Seed of both initialisations. */
  seed: number;
}

export interface TwinSide {
  hidden: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  layers: number;
  /** Parameters of the model, and its non-zero parameters at the end. */
  params: number;
  nonzeros: number;
  result: FinetuneResult;
}

export interface TwinResult {
  sparse: TwinSide;
  dense: TwinSide;
}

const WEIGHTS = /(\.safetensors|\.safetensors\.index\.json|\.(bin|pt|pth|gguf|onnx|h5|msgpack))$/;

/** The folder's config.json and tokenizer files (its weights and config left out). */
async function configAndTokenizer(files: readonly FileSource[]): Promise<{ config: HFConfig; rest: FileSource[] }> {
  const base = (f: FileSource) => f.name.split(/[\\/]/).pop()!;
  const cfg = files.find((f) => base(f) === 'config.json');
  if (!cfg) throw new BadOption('The model folder has no config.json to build the two models from.');
  const config = JSON.parse(new TextDecoder().decode(await cfg.slice(0, cfg.size))) as HFConfig;
  return { config, rest: files.filter((f) => f !== cfg && !WEIGHTS.test(base(f))) };
}

export async function runDenseTwin(engine: Engine, files: readonly FileSource[], input: TwinInput, hooks: FinetuneHooks = {}): Promise<TwinResult> {
  if (hooks.resume) throw new BadOption('A dense-twin comparison runs two trainings from scratch; it cannot resume a checkpoint.');
  const { config, rest } = await configAndTokenizer(files);
  const twin = denseTwin(config, input.gmp.final);
  const side = async (cfg: HFConfig, gmp: FinetuneInput['gmp'], label: string): Promise<TwinSide> => {
    const summary = await engine.loadModel([bytesSource(new TextEncoder().encode(JSON.stringify(cfg)), 'config.json'), ...rest], undefined, hooks.signal, { configOnly: true });
    engine.reinitialize(input.seed);
    const { gmp: _sparse, seed: _seed, ...protocol } = input;
    const result = await runFinetune(engine, { ...protocol, ...(gmp ? { gmp } : {}) }, {
      ...hooks,
      onProgress: hooks.onProgress ? (p) => hooks.onProgress!({ ...p, detail: `${label}: ${p.detail ?? ''}` }) : undefined,
    });
    // Zeros of the decoder linears (the pruned weights; a dense model's are chance zeros).
    const s = engine.gpuModel!.spec;
    const zeros = result.layers.reduce((n, l) => n + Math.round(l.sparsity * linearShape(s, l.name).reduce((a, b) => a * b, 1)), 0);
    return { hidden: s.hidden, heads: s.nHeads, kvHeads: s.nKvHeads, ffn: s.ffn, layers: s.nLayers, params: summary.parameters, nonzeros: summary.parameters - zeros, result };
  };
  const sparse = await side(config, input.gmp, 'sparse');
  const dense = await side(twin.config, undefined, 'dense twin');
  return { sparse, dense };
}
