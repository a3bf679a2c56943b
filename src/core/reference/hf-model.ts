// Independent float64 CPU forward pass of Hugging Face causal language models, written from the
// transformers modeling code (modeling_{llama,qwen2,gpt2,opt,gpt_neox,phi}.py). It reads config.json
// and the checkpoint's own tensor names directly and shares nothing with the engine (no ModelSpec,
// no canonical names, no family files): it exists to validate the engine, so the two must be free
// to disagree. Speed is irrelevant; every intermediate value is a float64.
//
// Conventions: T tokens at positions 0..T-1, no padding, no KV cache. Linear weights are (out, in)
// as stored by torch.nn.Linear, except GPT-2's Conv1D weights, which are stored (in, out).

import {
  activationByName,
  addRef,
  attentionRef,
  conv1dRef,
  embeddingRef,
  layerNormRef,
  linearRef,
  logSoftmaxNllRef,
  mulRef,
  rmsNormRef,
  ropeInvFreqRef,
  ropeRef,
  type Vec,
} from './kernels.ts';

/** One checkpoint tensor, already decoded to float (F16/BF16 widen exactly to f32). */
export interface RefTensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Checkpoint tensors keyed by the names stored in the file(s). */
export type RefTensors = Map<string, RefTensor>;

 
export type HfConfig = Record<string, any>;

export type RefFamily = 'llama' | 'qwen2' | 'gpt2' | 'opt' | 'gpt_neox' | 'phi';

export interface ReferenceOutput {
  /** (T, V) row-major, V = config vocab_size (may exceed the tokenizer's vocabulary). */
  logits: Float64Array;
  T: number;
  V: number;
  /**
   * Residual stream, each (T, hidden): [0] = input of layer 0 (embeddings, positions added),
   * [i + 1] = output of layer i (before the final norm). Only when `collectHidden` is set.
   */
  hidden?: Float64Array[];
}

export interface ReferenceOptions {
  collectHidden?: boolean;
}

const ARCH_TO_FAMILY: Record<string, RefFamily> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  GPT2LMHeadModel: 'gpt2',
  OPTForCausalLM: 'opt',
  GPTNeoXForCausalLM: 'gpt_neox',
  PhiForCausalLM: 'phi',
};

/** Family from config.model_type (or, failing that, architectures[0]). */
export function referenceFamily(config: HfConfig): RefFamily {
  const mt = config.model_type;
  if (mt === 'llama' || mt === 'qwen2' || mt === 'gpt2' || mt === 'opt' || mt === 'gpt_neox' || mt === 'phi') return mt;
  const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  if (mt === undefined && typeof arch === 'string' && ARCH_TO_FAMILY[arch]) return ARCH_TO_FAMILY[arch];
  throw new Error(`reference: unsupported model_type ${JSON.stringify(mt)} (architectures ${JSON.stringify(config.architectures)})`);
}

/** Logits (T, V) row-major for input ids, computed entirely in float64. */
export function referenceLogits(config: HfConfig, tensors: RefTensors, ids: readonly number[]): Float64Array {
  return referenceForward(config, tensors, ids).logits;
}

/** Per-token NLL of ids[1..] given their prefixes: (T - 1) values, natural log. */
export function referenceNll(config: HfConfig, tensors: RefTensors, ids: readonly number[]): Float64Array {
  const { logits, V } = referenceForward(config, tensors, ids);
  return logSoftmaxNllRef(logits.subarray(0, (ids.length - 1) * V), ids.slice(1));
}

/**
 * The whole model on ids: embed -> every decoder layer -> head, run through the family's layer
 * stack (referenceLayerStack), so the forward pass and the per-layer access share one definition.
 */
export function referenceForward(
  config: HfConfig,
  tensors: RefTensors,
  ids: readonly number[],
  opts: ReferenceOptions = {},
): ReferenceOutput {
  if (ids.length === 0) throw new Error('reference: no input ids');
  const T = ids.length;
  const w = new Weights(tensors);
  const model = familyLayers(config, w);
  model.rope?.(T); // RoPE families: the RoPE parameters for T are checked before ids and weights
  const stack = layerStack(w, model);
  let x = stack.embed(ids);
  const hidden = opts.collectHidden ? [x] : undefined;
  for (let l = 0; l < stack.numLayers; l++) {
    x = stack.layer(l, x, T);
    hidden?.push(x);
  }
  return { logits: stack.head(x, T), T, V: model.vocab, hidden };
}

// ---------------------------------------------------------------------------------------------
// Config helpers

function num(config: HfConfig, key: string, fallback?: number): number {
  const v = config[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new Error(`reference: config.json lacks "${key}"`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`reference: config "${key}" is not a number: ${JSON.stringify(v)}`);
  return v;
}

function bool(config: HfConfig, key: string, fallback: boolean): boolean {
  const v = config[key];
  return v === undefined || v === null ? fallback : Boolean(v);
}

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface RefRope {
  rotaryDim: number;
  invFreq: number[];
}

/**
 * RoPE parameters as HF computes them (modeling_rope_utils.py): default inv_freq over
 * dim = int(headDim * partial_rotary_factor), then "linear" (inv_freq / factor) or "llama3"
 * (wavelength-dependent scaling) when rope_scaling asks for it. "dynamic" NTK equals the default
 * until the sequence exceeds max_position_embeddings, which the caller checks. Reads both the
 * v4 fields (rope_theta, rope_scaling, partial_rotary_factor, rotary_pct, rotary_emb_base) and
 * the v5 `rope_parameters` dict.
 */
export function referenceRope(config: HfConfig, headDim: number, family: RefFamily, T = 0): RefRope {
  const rp: Record<string, any> = isObj(config.rope_parameters) ? config.rope_parameters : {};
  const rs: Record<string, any> | null = isObj(config.rope_scaling) ? config.rope_scaling : null;
  let theta: number;
  let partial: number;
  if (family === 'gpt_neox') {
    theta = rp.rope_theta ?? config.rotary_emb_base ?? config.rope_theta ?? 10000;
    partial = rp.partial_rotary_factor ?? config.rotary_pct ?? config.partial_rotary_factor ?? 0.25;
  } else if (family === 'phi') {
    theta = rp.rope_theta ?? config.rope_theta ?? 10000;
    partial = rp.partial_rotary_factor ?? config.partial_rotary_factor ?? 0.5;
  } else {
    // Llama / Qwen2 rotate the whole head (apply_rotary_pos_emb on the full q/k).
    theta = rp.rope_theta ?? config.rope_theta ?? 10000;
    partial = 1;
  }
  const rotaryDim = Math.floor(headDim * partial);
  if (rotaryDim % 2 !== 0 || rotaryDim <= 0) throw new Error(`reference: rotary dim ${rotaryDim} must be even and positive`);
  let invFreq = ropeInvFreqRef(rotaryDim, theta);

  const sc: Record<string, any> = { ...rp, ...(rs ?? {}) };
  const type: string = sc.rope_type ?? sc.type ?? 'default';
  switch (type) {
    case 'default':
      break;
    case 'linear': {
      const factor = Number(sc.factor);
      invFreq = invFreq.map((f) => f / factor);
      break;
    }
    case 'dynamic': {
      const maxPos = num(config, 'max_position_embeddings');
      if (T > maxPos) throw new Error(`reference: dynamic NTK RoPE beyond max_position_embeddings (${T} > ${maxPos}) is not implemented`);
      break;
    }
    case 'llama3': {
      const factor = Number(sc.factor);
      const low = Number(sc.low_freq_factor);
      const high = Number(sc.high_freq_factor);
      const oldCtx = Number(sc.original_max_position_embeddings ?? config.original_max_position_embeddings ?? config.max_position_embeddings);
      const lowFreqWavelen = oldCtx / low;
      const highFreqWavelen = oldCtx / high;
      invFreq = invFreq.map((f) => {
        const wavelen = (2 * Math.PI) / f;
        // wavelen > low_freq_wavelen: divide by factor; wavelen < high_freq_wavelen: keep;
        // in between: interpolate with smooth = (oldCtx / wavelen - low) / (high - low).
        const scaled = wavelen > lowFreqWavelen ? f / factor : f;
        const medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
        if (!medium) return scaled;
        const smooth = (oldCtx / wavelen - low) / (high - low);
        return ((1 - smooth) * scaled) / factor + smooth * scaled;
      });
      break;
    }
    default:
      throw new Error(`reference: rope type "${type}" is not implemented`);
  }
  return { rotaryDim, invFreq };
}

// ---------------------------------------------------------------------------------------------
// Tensor access

class Weights {
  constructor(private readonly m: RefTensors) {}

  has(name: string): boolean {
    return this.m.has(name);
  }

  /** The tensor under the first of `names` that exists; its shape must equal `shape`. */
  get(names: string | string[], shape: number[]): Vec {
    const t = this.opt(names, shape);
    if (!t) throw new Error(`reference: checkpoint lacks tensor ${JSON.stringify(names)}`);
    return t;
  }

  opt(names: string | string[], shape: number[]): Vec | null {
    for (const n of Array.isArray(names) ? names : [names]) {
      const t = this.m.get(n);
      if (!t) continue;
      const size = t.shape.reduce((a, b) => a * b, 1);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || size !== t.data.length) {
        throw new Error(`reference: tensor ${n} has shape [${t.shape}] (${t.data.length} values), expected [${shape}]`);
      }
      return t.data;
    }
    return null;
  }

  /**
   * Linear module `name` on x (T, inDim) -> (T, outDim): `name`.weight is (outDim, inDim), or
   * (inDim, outDim) for a `transposed` GPT-2 Conv1D; `name`.bias (outDim) when `bias`.
   */
  linear(name: string, x: Vec, T: number, inDim: number, outDim: number, bias: boolean, transposed = false): Float64Array {
    const weight = this.get(name + '.weight', transposed ? [inDim, outDim] : [outDim, inDim]);
    const b = bias ? this.get(name + '.bias', [outDim]) : null;
    return transposed ? conv1dRef(x, T, inDim, weight, outDim, b) : linearRef(x, T, inDim, weight, outDim, b);
  }

  /** LayerNorm module `name` over `rows` rows of `dim` (`name`.weight and .bias when `affine`). */
  layerNorm(name: string, x: Vec, rows: number, dim: number, eps: number, affine = true): Float64Array {
    return layerNormRef(x, rows, dim, affine ? this.get(name + '.weight', [dim]) : null, affine ? this.get(name + '.bias', [dim]) : null, eps);
  }

  /** LM head: x (T, K) -> logits (T, V) with weight `weight` (V, K) and, if present, bias `bias` (V). */
  lmHead(weight: string, x: Vec, T: number, K: number, V: number, bias?: string): Float64Array {
    const W = this.get(weight, [V, K]);
    return linearRef(x, T, K, W, V, bias === undefined ? undefined : this.opt(bias, [V]));
  }
}

/** x: (T, C) -> rows[lo, hi) of each token: (T, hi - lo). */
function sliceCols(x: Vec, T: number, C: number, lo: number, hi: number): Float64Array {
  const W = hi - lo;
  const out = new Float64Array(T * W);
  for (let t = 0; t < T; t++) for (let c = 0; c < W; c++) out[t * W + c] = x[t * C + lo + c];
  return out;
}

function checkIds(ids: readonly number[], V: number): void {
  for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`reference: token id ${id} outside [0, ${V})`);
}

function actMap(x: Float64Array, name: string): Float64Array {
  const f = activationByName(name);
  return x.map(f);
}

/** RoPE on x (T, heads, D) at positions 0..T-1. */
function rotate(x: Float64Array, T: number, heads: number, D: number, rope: RefRope): Float64Array {
  return ropeRef(x, T, heads, D, rope.rotaryDim, rope.invFreq, 0);
}

/** Causal self-attention of T tokens at positions 0..T-1, scores scaled by `scale`. */
function selfAttention(q: Vec, k: Vec, v: Vec, T: number, nH: number, nKv: number, D: number, scale = 1 / Math.sqrt(D)): Float64Array {
  return attentionRef(q, k, v, T, T, nH, nKv, D, scale, 0);
}

// ---------------------------------------------------------------------------------------------
// Layer-by-layer access (the forward pass itself, and the sequential pruning reference,
// prune-model.ts)
//
// Every family is written once, split into embed -> decoder layer i -> head, with a tap that sees
// the input of every linear sublayer of a layer, in the order the layer consumes them.
// referenceForward runs embed + every layer + head. The weights are read from the tensor map at
// every call, so replacing a tensor in the map (a pruned weight) takes effect on the next call.

/** One linear sublayer of a decoder layer, as pruning sees it: a (rows = out, cols = in) matrix. */
export interface RefLinearSpec {
  /** Module path inside the layer, e.g. "self_attn.q_proj" (what find_layers(layer) names it). */
  name: string;
  /** Full checkpoint name of the weight, e.g. "model.layers.0.self_attn.q_proj.weight". */
  weight: string;
  /** Output features (rows of the pruning matrix). */
  rows: number;
  /** Input features (columns of the pruning matrix). */
  cols: number;
  /** GPT-2 Conv1D: stored (in, out), i.e. the transpose of the pruning matrix. */
  transposed: boolean;
}

/**
 * Called with the input of a linear sublayer: `input` is (T, spec.cols) row-major and must not be
 * modified. Sublayers that read the same activations (q/k/v, gate/up) get the same array.
 */
export type RefLinearTap = (name: string, input: Float64Array, T: number) => void;

export interface RefLayerStack {
  family: RefFamily;
  numLayers: number;
  /** Width of the residual stream between layers. */
  hidden: number;
  /** The linear sublayers of layer l, in forward order. */
  linears(l: number): RefLinearSpec[];
  /** Residual stream entering layer 0: (T, hidden). */
  embed(ids: readonly number[]): Float64Array;
  /** Decoder layer l on x (T, hidden), tokens at positions 0..T-1 -> (T, hidden). */
  layer(l: number, x: Float64Array, T: number, tap?: RefLinearTap): Float64Array;
  /** Final norm (and projection) + LM head: (T, hidden) -> logits (T, V). */
  head(x: Float64Array, T: number): Float64Array;
}

export function referenceLayerStack(config: HfConfig, tensors: RefTensors): RefLayerStack {
  const w = new Weights(tensors);
  return layerStack(w, familyLayers(config, w));
}

/** Runs linear sublayer `name` of the current layer (tapping its input): (T, cols) -> (T, rows). */
type LayerLinear = (name: string, input: Float64Array, bias: boolean) => Float64Array;

/** A linear sublayer of every layer: [module path, rows = out, cols = in]. */
type LinearShape = [name: string, rows: number, cols: number];

/** One family's model, as the layer stack and referenceForward drive it. */
interface FamilyLayers {
  family: RefFamily;
  numLayers: number;
  hidden: number;
  /** config vocab_size: the width of the logits. */
  vocab: number;
  /** Checkpoint name prefix of the decoder layers: layer l's modules are `${layers}${l}.<name>`. */
  layers: string;
  /** The linear sublayers of every layer, in forward order. */
  shapes: LinearShape[];
  /** GPT-2 Conv1D: weights stored (in, out). */
  transposed?: boolean;
  /** RoPE families: the RoPE parameters for T tokens. */
  rope?(T: number): RefRope;
  embed(ids: readonly number[]): Float64Array;
  /** Decoder layer l on x (T, hidden); `lin` runs its linear sublayers, `p` is its name prefix. */
  layer(l: number, x: Float64Array, T: number, lin: LayerLinear, p: string): Float64Array;
  head(x: Float64Array, T: number): Float64Array;
}

function familyLayers(config: HfConfig, w: Weights): FamilyLayers {
  const family = referenceFamily(config);
  switch (family) {
    case 'llama':
    case 'qwen2':
      return llamaLayers(family, config, w);
    case 'gpt2':
      return gpt2Layers(config, w);
    case 'opt':
      return optLayers(config, w);
    case 'gpt_neox':
      return neoxLayers(config, w);
    case 'phi':
      return phiLayers(config, w);
  }
}

function layerStack(w: Weights, f: FamilyLayers): RefLayerStack {
  const L = f.numLayers;
  const transposed = f.transposed ?? false;
  const dims = new Map(f.shapes.map(([name, rows, cols]) => [name, { rows, cols }]));
  return {
    family: f.family,
    numLayers: L,
    hidden: f.hidden,
    linears(l) {
      checkLayer(l, L);
      const p = `${f.layers}${l}.`;
      return f.shapes.map(([name, rows, cols]) => ({ name, weight: `${p}${name}.weight`, rows, cols, transposed }));
    },
    embed: (ids) => f.embed(ids),
    layer(l, x, T, tap) {
      checkLayer(l, L);
      const p = `${f.layers}${l}.`;
      const lin: LayerLinear = (name, input, bias) => {
        const d = dims.get(name);
        if (!d) throw new Error(`reference: ${f.family} layers have no linear sublayer ${name}`);
        tap?.(name, input, T);
        return w.linear(p + name, input, T, d.cols, d.rows, bias, transposed);
      };
      return f.layer(l, x, T, lin, p);
    },
    head: (x, T) => f.head(x, T),
  };
}

function checkLayer(l: number, L: number): void {
  if (!Number.isInteger(l) || l < 0 || l >= L) throw new Error(`reference: layer ${l} outside [0, ${L})`);
}

/** Llama / Phi attention geometry: hidden size, query heads, key/value heads (GQA), head dim. */
function attentionDims(config: HfConfig): { C: number; nH: number; nKv: number; D: number } {
  const C = num(config, 'hidden_size');
  const nH = num(config, 'num_attention_heads');
  const nKv = num(config, 'num_key_value_heads', nH);
  const D = num(config, 'head_dim', Math.floor(C / nH));
  return { C, nH, nKv, D };
}

const QKV = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'] as const;

/** Separate q, k, v projections from C features to nH query and nKv key/value heads of D. */
function qkvShapes(nH: number, nKv: number, D: number, C: number): LinearShape[] {
  return [
    [QKV[0], nH * D, C],
    [QKV[1], nKv * D, C],
    [QKV[2], nKv * D, C],
  ];
}

/** q, k, v of h through the QKV sublayers, in that order. */
function qkvProject(lin: LayerLinear, h: Float64Array, bias: boolean): Float64Array[] {
  return QKV.map((name) => lin(name, h, bias));
}

/** Residual stream entering layer 0 of a model that adds nothing to its token embeddings. */
function tokenEmbedding(w: Weights, name: string, V: number, C: number, ids: readonly number[]): Float64Array {
  checkIds(ids, V);
  return embeddingRef(w.get(name, [V, C]), V, C, ids);
}

// ---------------------------------------------------------------------------------------------
// Llama / Qwen2 (modeling_llama.py, modeling_qwen2.py)
//   x = embed_tokens(ids)
//   per layer: x = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))), n1 = RMSNorm(x)
//              x = x + down_proj(act(gate_proj(n2)) * up_proj(n2)),                 n2 = RMSNorm(x)
//   logits = lm_head(RMSNorm(x))   (lm_head = embed_tokens when tie_word_embeddings)
// Qwen2: q/k/v carry biases, o_proj does not. Llama: attention_bias puts biases on q/k/v/o,
// mlp_bias on gate/up/down.

function llamaLayers(family: 'llama' | 'qwen2', config: HfConfig, w: Weights): FamilyLayers {
  const { C, nH, nKv, D } = attentionDims(config);
  const F = num(config, 'intermediate_size');
  const V = num(config, 'vocab_size');
  const L = num(config, 'num_hidden_layers');
  const eps = num(config, 'rms_norm_eps', 1e-6);
  const act = config.hidden_act ?? 'silu';
  const tied = bool(config, 'tie_word_embeddings', false);
  const qkvBias = family === 'qwen2' ? true : bool(config, 'attention_bias', false);
  const oBias = family === 'qwen2' ? false : bool(config, 'attention_bias', false);
  const mlpBias = family === 'qwen2' ? false : bool(config, 'mlp_bias', false);
  const embedName = 'model.embed_tokens.weight';
  const rope = (T: number): RefRope => referenceRope(config, D, family, T);
  return {
    family,
    numLayers: L,
    hidden: C,
    vocab: V,
    layers: 'model.layers.',
    shapes: [
      ...qkvShapes(nH, nKv, D, C),
      ['self_attn.o_proj', C, nH * D],
      ['mlp.gate_proj', F, C],
      ['mlp.up_proj', F, C],
      ['mlp.down_proj', C, F],
    ],
    rope,
    embed(ids) {
      checkIds(ids, V);
      if (family === 'qwen2' && bool(config, 'use_sliding_window', false) && ids.length > num(config, 'sliding_window', Infinity)) {
        throw new Error('reference: Qwen2 sliding-window attention is not implemented');
      }
      return embeddingRef(w.get(embedName, [V, C]), V, C, ids);
    },
    layer(_l, x, T, lin, p) {
      const r = rope(T);
      const n1 = rmsNormRef(x, T, C, w.get(p + 'input_layernorm.weight', [C]), eps);
      const [q, k, v] = qkvProject(lin, n1, qkvBias);
      const a = selfAttention(rotate(q, T, nH, D, r), rotate(k, T, nKv, D, r), v, T, nH, nKv, D);
      x = addRef(x, lin('self_attn.o_proj', a, oBias));
      const n2 = rmsNormRef(x, T, C, w.get(p + 'post_attention_layernorm.weight', [C]), eps);
      const gate = actMap(lin('mlp.gate_proj', n2, mlpBias), act);
      const up = lin('mlp.up_proj', n2, mlpBias);
      return addRef(x, lin('mlp.down_proj', mulRef(gate, up), mlpBias));
    },
    head(x, T) {
      const h = rmsNormRef(x, T, C, w.get('model.norm.weight', [C]), eps);
      return w.lmHead(tied ? embedName : 'lm_head.weight', h, T, C, V);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// GPT-2 (modeling_gpt2.py)
//   x = wte(ids) + wpe(0..T-1)
//   per layer: x = x + c_proj(attn(split(c_attn(ln_1(x)))))      c_attn: (C, 3C) Conv1D, q|k|v
//              x = x + mlp.c_proj(act(mlp.c_fc(ln_2(x))))
//   logits = ln_f(x) wte^T
// Scores are divided by sqrt(head_dim) when scale_attn_weights (default true) and additionally by
// (layer_idx + 1) when scale_attn_by_inverse_layer_idx. Names may carry a "transformer." prefix;
// the causal-mask buffers h.i.attn.bias / h.i.attn.masked_bias are not parameters and are ignored.

function gpt2Layers(config: HfConfig, w: Weights): FamilyLayers {
  const C = num(config, 'n_embd');
  const nH = num(config, 'n_head');
  const D = C / nH;
  const L = num(config, 'n_layer');
  const V = num(config, 'vocab_size');
  const P = num(config, 'n_positions', 1024);
  const inner = num(config, 'n_inner', 4 * C);
  const eps = num(config, 'layer_norm_epsilon', 1e-5);
  const act = config.activation_function ?? 'gelu_new';
  const scaleWeights = bool(config, 'scale_attn_weights', true);
  const scaleByLayer = bool(config, 'scale_attn_by_inverse_layer_idx', false);
  const tied = bool(config, 'tie_word_embeddings', true);
  if (!Number.isInteger(D)) throw new Error(`reference: n_embd ${C} not divisible by n_head ${nH}`);
  const pre = w.has('transformer.wte.weight') ? 'transformer.' : '';
  return {
    family: 'gpt2',
    numLayers: L,
    hidden: C,
    vocab: V,
    layers: `${pre}h.`,
    shapes: [
      ['attn.c_attn', 3 * C, C],
      ['attn.c_proj', C, C],
      ['mlp.c_fc', inner, C],
      ['mlp.c_proj', C, inner],
    ],
    transposed: true,
    embed(ids) {
      const T = ids.length;
      if (T > P) throw new Error(`reference: ${T} tokens exceed n_positions ${P}`);
      checkIds(ids, V);
      const wte = w.get(pre + 'wte.weight', [V, C]);
      const wpe = w.get(pre + 'wpe.weight', [P, C]);
      return addRef(embeddingRef(wte, V, C, ids), embeddingRef(wpe, P, C, ids.map((_, t) => t)));
    },
    layer(l, x, T, lin, p) {
      const qkv = lin('attn.c_attn', w.layerNorm(p + 'ln_1', x, T, C, eps), true); // (T, 3C) = q | k | v
      const q = sliceCols(qkv, T, 3 * C, 0, C);
      const k = sliceCols(qkv, T, 3 * C, C, 2 * C);
      const v = sliceCols(qkv, T, 3 * C, 2 * C, 3 * C);
      let scale = scaleWeights ? 1 / Math.sqrt(D) : 1;
      if (scaleByLayer) scale /= l + 1;
      x = addRef(x, lin('attn.c_proj', selfAttention(q, k, v, T, nH, nH, D, scale), true));
      const m = actMap(lin('mlp.c_fc', w.layerNorm(p + 'ln_2', x, T, C, eps), true), act);
      return addRef(x, lin('mlp.c_proj', m, true));
    },
    head(x, T) {
      const h = w.layerNorm(pre + 'ln_f', x, T, C, eps);
      return w.lmHead(tied ? pre + 'wte.weight' : 'lm_head.weight', h, T, C, V);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// OPT (modeling_opt.py)
//   e = embed_tokens(ids)                    (T, E), E = word_embed_proj_dim (default hidden)
//   if E != hidden: e = project_in(e)        Linear(E -> hidden), no bias
//   x = e + embed_positions(p + 2)           learned positions, offset 2
//   per layer, pre-LN (do_layer_norm_before):
//     x = x + out_proj(attn(q_proj(n) * head_dim^-0.5, k_proj(n), v_proj(n))), n = self_attn_layer_norm(x)
//     x = x + fc2(relu(fc1(final_layer_norm(x))))
//   post-LN (opt-350m): x = self_attn_layer_norm(x + attn(x)); x = final_layer_norm(x + mlp(x))
//   if pre-LN and not _remove_final_layer_norm: x = decoder.final_layer_norm(x)
//   if E != hidden: x = project_out(x)       Linear(hidden -> E), no bias
//   logits = x embed_tokens^T                (lm_head tied)
// LayerNorm eps is torch's default 1e-5 (OPTConfig has no eps field). Checkpoints name tensors
// "model.decoder.*" or, as the facebook/opt-* files do, "decoder.*".

function optLayers(config: HfConfig, w: Weights): FamilyLayers {
  const C = num(config, 'hidden_size');
  const nH = num(config, 'num_attention_heads');
  const D = C / nH;
  const L = num(config, 'num_hidden_layers');
  const F = num(config, 'ffn_dim');
  const V = num(config, 'vocab_size');
  const E = num(config, 'word_embed_proj_dim', C);
  const P = num(config, 'max_position_embeddings', 2048);
  const preLN = bool(config, 'do_layer_norm_before', true);
  const finalLN = preLN && !bool(config, '_remove_final_layer_norm', false);
  const affine = bool(config, 'layer_norm_elementwise_affine', true);
  const bias = bool(config, 'enable_bias', true);
  const act = config.activation_function ?? 'relu';
  const tied = bool(config, 'tie_word_embeddings', true);
  const eps = 1e-5;
  const OFFSET = 2;
  if (!Number.isInteger(D)) throw new Error(`reference: hidden_size ${C} not divisible by ${nH} heads`);
  const pre = w.has('model.decoder.embed_tokens.weight') ? 'model.decoder.' : 'decoder.';
  const ln = (name: string, input: Vec, T: number): Float64Array => w.layerNorm(name, input, T, C, eps, affine);
  return {
    family: 'opt',
    numLayers: L,
    hidden: C,
    vocab: V,
    layers: `${pre}layers.`,
    shapes: [
      ...qkvShapes(nH, nH, D, C),
      ['self_attn.out_proj', C, C],
      ['fc1', F, C],
      ['fc2', C, F],
    ],
    embed(ids) {
      const T = ids.length;
      if (T > P) throw new Error(`reference: ${T} tokens exceed max_position_embeddings ${P}`);
      checkIds(ids, V);
      let x: Float64Array = embeddingRef(w.get(pre + 'embed_tokens.weight', [V, E]), V, E, ids);
      if (E !== C) x = linearRef(x, T, E, w.get(pre + 'project_in.weight', [C, E]), C);
      const pos = w.get(pre + 'embed_positions.weight', [P + OFFSET, C]);
      return addRef(x, embeddingRef(pos, P + OFFSET, C, ids.map((_, t) => t + OFFSET)));
    },
    layer(_l, x, T, lin, p) {
      // Self-attention block. HF scales q (bias included) by head_dim^-0.5 and then uses scale 1;
      // scaling the scores instead is the same product.
      let residual = x;
      let h = preLN ? ln(p + 'self_attn_layer_norm', x, T) : x;
      const [q, k, v] = qkvProject(lin, h, bias);
      x = addRef(residual, lin('self_attn.out_proj', selfAttention(q, k, v, T, nH, nH, D), bias));
      if (!preLN) x = ln(p + 'self_attn_layer_norm', x, T);

      // Feed-forward block.
      residual = x;
      h = preLN ? ln(p + 'final_layer_norm', x, T) : x;
      h = lin('fc2', actMap(lin('fc1', h, bias), act), bias);
      x = addRef(residual, h);
      if (!preLN) x = ln(p + 'final_layer_norm', x, T);
      return x;
    },
    head(x, T) {
      if (finalLN) x = ln(pre + 'final_layer_norm', x, T);
      if (E !== C) x = linearRef(x, T, C, w.get(pre + 'project_out.weight', [E, C]), E);
      return w.lmHead(tied ? pre + 'embed_tokens.weight' : 'lm_head.weight', x, T, E, V);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// GPT-NeoX / Pythia (modeling_gpt_neox.py)
//   x = embed_in(ids)
//   qkv = query_key_value(input_layernorm(x))  (T, 3C) viewed as (T, heads, 3 * head_dim):
//         head h: q = [3hD, 3hD + D), k = [3hD + D, 3hD + 2D), v = [3hD + 2D, 3hD + 3D)
//   rotate_half RoPE on the first rotary_ndims = int(head_dim * rotary_pct) dims of q and k
//   a = dense(attn(q, k, v))
//   parallel:   x = mlp(post_attention_layernorm(x)) + a + x
//   sequential: x = x + a; x = mlp(post_attention_layernorm(x)) + x
//   mlp(h) = dense_4h_to_h(act(dense_h_to_4h(h))), act "gelu" = exact erf GELU
//   logits = embed_out(final_layer_norm(x))
// Buffers attention.bias / attention.masked_bias / attention.rotary_emb.inv_freq are ignored.

function neoxLayers(config: HfConfig, w: Weights): FamilyLayers {
  const C = num(config, 'hidden_size');
  const nH = num(config, 'num_attention_heads');
  const D = C / nH;
  const L = num(config, 'num_hidden_layers');
  const F = num(config, 'intermediate_size');
  const V = num(config, 'vocab_size');
  const eps = num(config, 'layer_norm_eps', 1e-5);
  const act = config.hidden_act ?? 'gelu';
  const parallel = bool(config, 'use_parallel_residual', true);
  const attnBias = bool(config, 'attention_bias', true);
  const tied = bool(config, 'tie_word_embeddings', false);
  if (!Number.isInteger(D)) throw new Error(`reference: hidden_size ${C} not divisible by ${nH} heads`);
  const embedName = 'gpt_neox.embed_in.weight';
  const rope = (T: number): RefRope => referenceRope(config, D, 'gpt_neox', T);
  return {
    family: 'gpt_neox',
    numLayers: L,
    hidden: C,
    vocab: V,
    layers: 'gpt_neox.layers.',
    shapes: [
      ['attention.query_key_value', 3 * C, C],
      ['attention.dense', C, C],
      ['mlp.dense_h_to_4h', F, C],
      ['mlp.dense_4h_to_h', C, F],
    ],
    rope,
    embed: (ids) => tokenEmbedding(w, embedName, V, C, ids),
    layer(_l, x, T, lin, p) {
      const r = rope(T);
      const qkv = lin('attention.query_key_value', w.layerNorm(p + 'input_layernorm', x, T, C, eps), attnBias);
      const q = new Float64Array(T * C);
      const k = new Float64Array(T * C);
      const v = new Float64Array(T * C);
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < nH; h++) {
          const src = t * 3 * C + h * 3 * D;
          const dst = (t * nH + h) * D;
          for (let d = 0; d < D; d++) {
            q[dst + d] = qkv[src + d];
            k[dst + d] = qkv[src + D + d];
            v[dst + d] = qkv[src + 2 * D + d];
          }
        }
      }
      const a = lin('attention.dense', selfAttention(rotate(q, T, nH, D, r), rotate(k, T, nH, D, r), v, T, nH, nH, D), attnBias);
      const mlp = (input: Vec): Float64Array =>
        lin('mlp.dense_4h_to_h', actMap(lin('mlp.dense_h_to_4h', w.layerNorm(p + 'post_attention_layernorm', input, T, C, eps), true), act), true);
      if (parallel) return addRef(addRef(mlp(x), a), x);
      const ax = addRef(a, x);
      return addRef(mlp(ax), ax);
    },
    head(x, T) {
      const h = w.layerNorm('gpt_neox.final_layer_norm', x, T, C, eps);
      return w.lmHead(tied ? embedName : 'embed_out.weight', h, T, C, V);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Phi-1 / Phi-1.5 / Phi-2 (modeling_phi.py)
//   x = embed_tokens(ids)
//   per layer: h = input_layernorm(x)            one LayerNorm feeds both branches
//              a = dense(attn(rope(q_proj(h)), rope(k_proj(h)), v_proj(h)))   q/k/v/dense biased
//              x = a + fc2(act(fc1(h))) + x
//   rotate_half RoPE on the first int(head_dim * partial_rotary_factor) dims; optional
//   qk_layernorm (LayerNorm over head_dim per head, before RoPE)
//   logits = lm_head(final_layernorm(x))          lm_head has a bias

function phiLayers(config: HfConfig, w: Weights): FamilyLayers {
  const { C, nH, nKv, D } = attentionDims(config);
  const L = num(config, 'num_hidden_layers');
  const F = num(config, 'intermediate_size');
  const V = num(config, 'vocab_size');
  const eps = num(config, 'layer_norm_eps', 1e-5);
  const act = config.hidden_act ?? 'gelu_new';
  const qkLn = bool(config, 'qk_layernorm', false);
  const tied = bool(config, 'tie_word_embeddings', false);
  const embedName = 'model.embed_tokens.weight';
  const rope = (T: number): RefRope => referenceRope(config, D, 'phi', T);
  return {
    family: 'phi',
    numLayers: L,
    hidden: C,
    vocab: V,
    layers: 'model.layers.',
    shapes: [
      ...qkvShapes(nH, nKv, D, C),
      ['self_attn.dense', C, nH * D],
      ['mlp.fc1', F, C],
      ['mlp.fc2', C, F],
    ],
    rope,
    embed: (ids) => tokenEmbedding(w, embedName, V, C, ids),
    layer(_l, x, T, lin, p) {
      const r = rope(T);
      const h = w.layerNorm(p + 'input_layernorm', x, T, C, eps);
      const [q, k, v] = qkvProject(lin, h, true);
      // qk_layernorm: LayerNorm over head_dim of every head, before RoPE.
      const qn = qkLn ? w.layerNorm(p + 'self_attn.q_layernorm', q, T * nH, D, eps) : q;
      const kn = qkLn ? w.layerNorm(p + 'self_attn.k_layernorm', k, T * nKv, D, eps) : k;
      const a = lin('self_attn.dense', selfAttention(rotate(qn, T, nH, D, r), rotate(kn, T, nKv, D, r), v, T, nH, nKv, D), true);
      const m = lin('mlp.fc2', actMap(lin('mlp.fc1', h, true), act), true);
      return addRef(addRef(a, m), x);
    },
    head(x, T) {
      const h = w.layerNorm('model.final_layernorm', x, T, C, eps);
      // PhiForCausalLM's lm_head always has a bias; a checkpoint without one reads as zeros.
      return w.lmHead(tied ? embedName : 'lm_head.weight', h, T, C, V, 'lm_head.bias');
    },
  };
}
