// Generation with a KV cache: one prefill pass over the prompt, then one token per step. The next
// token is chosen on the CPU from the last position's logits (V floats read back per step): greedy
// (argmax), or temperature sampling from softmax(logits / T) restricted to the top k, drawn with a
// seeded PRNG (mulberry32) so the same seed gives the same text in the browser and in Node.
import { BadOption, BadText, NumericalError, throwIfCancelled } from '../errors';
import type { GpuModel } from '../nn/model';
import { mulberry32 } from '../random';
import { now } from '../units';

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < x.length; v++) if (x[v] > x[best]) best = v;
  return best;
}

export interface SamplingOptions {
  /** 0: greedy (argmax). > 0: sample from softmax(logits / temperature). */
  temperature: number;
  /** Sample only among the k largest logits; 0 or absent: the whole vocabulary. */
  topK?: number;
  /** PRNG seed (uint32); absent: 0. */
  seed?: number;
}

/**
 * Indices of the k largest logits (ties at the cut broken by the lower index), ascending. k <= 0 or
 * k >= V: every index.
 */
export function topKIndices(logits: ArrayLike<number>, k: number): number[] {
  const V = logits.length;
  if (k <= 0 || k >= V) return Array.from({ length: V }, (_, i) => i);
  // The k-th largest value, from a sorted copy (typed-array sort is numeric).
  const sorted = Float64Array.from(logits).sort();
  const cut = sorted[V - k];
  const above: number[] = [];
  const at: number[] = [];
  for (let i = 0; i < V; i++) {
    if (logits[i] > cut) above.push(i);
    else if (logits[i] === cut) at.push(i);
  }
  return [...above, ...at.slice(0, k - above.length)].sort((a, b) => a - b);
}

/**
 * The distribution temperature sampling draws from: softmax(logits / T) over the top-k indices,
 * float64, zero elsewhere (length V). T must be > 0.
 */
export function samplingDistribution(logits: ArrayLike<number>, temperature: number, topK = 0): Float64Array {
  if (!(temperature > 0)) throw new BadOption(`The sampling temperature must be above 0 (0 means greedy); got ${temperature}.`);
  const support = topKIndices(logits, topK);
  let max = -Infinity;
  for (const i of support) if (logits[i] > max) max = logits[i];
  if (!Number.isFinite(max)) throw new NumericalError('The model produced non-finite logits: nothing to sample from.');
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (const i of support) {
    const w = Math.exp((logits[i] - max) / temperature);
    p[i] = w;
    sum += w;
  }
  for (const i of support) p[i] /= sum;
  return p;
}

/** A token picker for `opts`: argmax at temperature 0, else one seeded draw per call. */
export function createSampler(opts: SamplingOptions): (logits: ArrayLike<number>) => number {
  const { temperature, topK = 0 } = opts;
  if (temperature === 0) {
    return (logits) => {
      const i = argmax(logits);
      if (!Number.isFinite(logits[i])) throw new NumericalError('The model produced non-finite logits.');
      return i;
    };
  }
  const rand = mulberry32(opts.seed ?? 0);
  return (logits) => {
    const p = samplingDistribution(logits, temperature, topK);
    const u = rand();
    let c = 0;
    let last = -1;
    for (let i = 0; i < p.length; i++) {
      if (p[i] === 0) continue;
      c += p[i];
      last = i;
      if (u < c) return i;
    }
    return last; // u just below 1 and the sum rounded below it
  };
}

export interface GenerationRun {
  /** The prompt ids followed by the new ones. */
  ids: number[];
  /** New tokens (including an EOS that stopped the run). */
  newTokens: number;
  /** The prompt's forward pass (first token's logits read back). */
  prefillMs: number;
  /** One-token steps after the prefill, and their time (sampling and callbacks included). */
  decodeSteps: number;
  decodeMs: number;
  stopped: 'eos' | 'length';
}

export interface GenerateLoopOptions {
  maxNew: number;
  /** Stop after this token (it is kept); null: run to maxNew. */
  eos: number | null;
  /** Absent: greedy. */
  sampling?: SamplingOptions;
  signal?: AbortSignal;
  /** Called with each new token and its 0-based index among the new ones. */
  onToken?: (id: number, index: number) => void;
}


/** Append up to `maxNew` tokens to `ids` (see GenerateLoopOptions); stops early at `eos`. */
export async function generate(model: GpuModel, ids: number[], opts: GenerateLoopOptions): Promise<GenerationRun> {
  const { maxNew, eos, signal, onToken } = opts;
  const out = [...ids];
  if (maxNew <= 0) return { ids: out, newTokens: 0, prefillMs: 0, decodeSteps: 0, decodeMs: 0, stopped: 'length' };
  const pick = createSampler(opts.sampling ?? { temperature: 0 });
  const cache = model.createCache(ids.length + maxNew);
  const prefill = model.allocate(ids.length);
  const one = model.allocate(1);
  try {
    throwIfCancelled(signal);
    const t0 = now();
    let logits = await model.step(prefill, cache, ids, 0);
    const t1 = now();
    let decodeSteps = 0;
    let stopped: GenerationRun['stopped'] = 'length';
    for (let n = 0; n < maxNew; n++) {
      throwIfCancelled(signal);
      const next = pick(logits);
      out.push(next);
      onToken?.(next, n);
      if (next === eos) {
        stopped = 'eos';
        break;
      }
      if (n === maxNew - 1) break;
      logits = await model.step(one, cache, [next], out.length - 1);
      decodeSteps++;
    }
    return { ids: out, newTokens: out.length - ids.length, prefillMs: t1 - t0, decodeSteps, decodeMs: now() - t1, stopped };
  } finally {
    model.release(prefill);
    model.release(one);
    model.releaseCache(cache);
  }
}

/** Append up to `maxNew` greedily chosen tokens to `ids`; stops early at `eos`. */
export async function generateGreedy(
  model: GpuModel,
  ids: number[],
  maxNew: number,
  eos: number | null,
  signal?: AbortSignal,
  onToken?: (id: number) => void,
): Promise<number[]> {
  const r = await generate(model, ids, { maxNew, eos, signal, onToken: onToken ? (id) => onToken(id) : undefined });
  return r.ids;
}

// ---------------------------------------------------------------------------------------------
// The engine-level request: a text prompt, options checked up front, text streamed as it grows.

/** Most new tokens one request may ask for (the playground is for looking, not for books). */
export const MAX_NEW_TOKENS = 1024;
/** Highest accepted temperature; beyond it sampling is indistinguishable from uniform noise. */
export const MAX_TEMPERATURE = 10;

export interface GenerateOptions {
  /** 'dense': the dense weights even while the model is pruned; 'pruned': the current pruned ones. */
  weights: 'dense' | 'pruned';
  maxNewTokens: number;
  /** 0: greedy. */
  temperature: number;
  /** 0 or absent: no top-k cut. */
  topK?: number;
  /** uint32; absent: 0. */
  seed?: number;
}

/** A streaming update: the continuation decoded so far (replaces the previous one). */
export interface GenerateUpdate {
  text: string;
  /** New tokens so far. */
  tokens: number;
}

export interface GenerateResult {
  weights: 'dense' | 'pruned';
  /** The continuation only (the prompt's text is not repeated). */
  text: string;
  promptTokens: number;
  /** New tokens (an EOS that stopped the run included). */
  tokens: number;
  prefillMs: number;
  /** Tokens per second of the one-token steps after the prefill; null with fewer than 2 new tokens. */
  decodeTokensPerS: number | null;
  decodeMs: number;
  stopped: 'eos' | 'length';
  /** Sparse kernels ran some linear layers (engine.useSparse on pruned weights). */
  sparseKernels: boolean;
  temperature: number;
  topK: number;
  seed: number;
}

/** Throws BadOption / BadText for options that cannot run; returns them normalised. */
export function checkGenerateOptions(prompt: string, opts: GenerateOptions): Required<GenerateOptions> {
  if (typeof prompt !== 'string' || prompt.trim().length === 0) throw new BadText('The prompt is empty. Type a few words for the model to continue.');
  if (opts.weights !== 'dense' && opts.weights !== 'pruned') throw new BadOption(`Weights must be "dense" or "pruned"; got "${String(opts.weights)}".`);
  const n = opts.maxNewTokens;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS) {
    throw new BadOption(`New tokens must be a whole number from 1 to ${MAX_NEW_TOKENS}; got ${n}.`);
  }
  const t = opts.temperature;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > MAX_TEMPERATURE) {
    throw new BadOption(`The temperature must be between 0 (greedy) and ${MAX_TEMPERATURE}; got ${t}.`);
  }
  const k = opts.topK ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new BadOption(`Top-k must be a whole number ≥ 0 (0: no cut); got ${k}.`);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new BadOption(`The seed must be a whole number from 0 to 4294967295; got ${seed}.`);
  return { weights: opts.weights, maxNewTokens: n, temperature: t, topK: k, seed };
}

/** The positions a run needs must fit the model's (learned or trained) context. */
export function checkContext(promptTokens: number, maxNewTokens: number, maxPositions: number): void {
  if (promptTokens + maxNewTokens > maxPositions) {
    throw new BadOption(
      `The prompt is ${promptTokens} tokens; with ${maxNewTokens} new tokens that makes ${promptTokens + maxNewTokens} positions, beyond this model's ${maxPositions}. Shorten the prompt or ask for fewer tokens.`,
    );
  }
}

/**
 * Text of the new tokens as the tokenizer decodes them after the prompt. Decoding the whole id list
 * and cutting the prompt's text off keeps the spaces and merged bytes a lone decode of the new ids
 * would lose (SentencePiece drops a leading space; byte-level pieces may straddle the boundary).
 */
export function continuationText(decode: (ids: number[]) => string, promptIds: number[], promptText: string, newIds: number[]): string {
  const full = decode([...promptIds, ...newIds]);
  return full.startsWith(promptText) ? full.slice(promptText.length) : decode(newIds);
}

/** While streaming: drop trailing U+FFFD (a UTF-8 character whose byte tokens are still arriving). */
export function stableText(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
  return text.slice(0, end);
}

/** 'pruned' needs pruned weights; the message says what to do instead. */
export function checkWeightsAvailable(weights: 'dense' | 'pruned', pruned: boolean): void {
  if (weights === 'pruned' && !pruned) throw new BadOption('The model is dense: there are no pruned weights to generate with. Prune it first, or generate with the dense weights.');
}
