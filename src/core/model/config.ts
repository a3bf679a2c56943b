// Reading a Hugging Face config.json as transformers reads it, in both the forms it has written:
// transformers 4 (top-level rope_theta, rope_scaling, partial_rotary_factor / rotary_pct,
// rotary_emb_base, torch_dtype) and transformers 5 (one `rope_parameters` object holding
// rope_type, rope_theta, partial_rotary_factor and the scaling fields; `dtype`).
//
// No field that changes the numbers is ignored: every field a family reads goes through
// ConfigFields, which records it; the fields transformers defines but that cannot change the
// logits (dropout, initialisation, generation settings, labels, …) are listed here with the reason;
// what is not implemented is refused by name (an unknown rope_type, sliding windows, quantization).
// A field that transformers' config class for the family does not define is ignored by
// transformers too; it is reported as a note on the model card, never dropped silently.
import { BadModelFile, UnsupportedArchitecture } from '../errors';
import type { RopeParams, RopeType } from '../types';

export type HFConfig = Record<string, unknown>;

/** A value as a message shows it: its JSON (shortened) and, when that is ambiguous, its type. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${shortJson(v)})`;
  if (typeof v === 'object') return `an object (${shortJson(v)})`;
  if (typeof v === 'string') return `the string ${shortJson(v)}`;
  return `${typeof v} ${shortJson(v)}`;
}

function shortJson(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 48 ? `${s.slice(0, 45)}…` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A config.json with every read recorded. `aliases` maps a transformers attribute_map name to the
 * field the family reads (GPT-2 accepts hidden_size for n_embd, …).
 */
export class ConfigFields {
  readonly read = new Set<string>();
  private readonly values: Map<string, unknown>;
  readonly modelType: string;

  constructor(readonly raw: HFConfig, aliases: Record<string, string> = {}) {
    this.modelType = typeof raw.model_type === 'string' ? raw.model_type : '';
    this.values = new Map(Object.entries(raw));
    for (const [alias, field] of Object.entries(aliases)) {
      if (!Object.hasOwn(raw, alias)) continue;
      this.read.add(alias);
      const a = raw[alias];
      if (Object.hasOwn(raw, field) && raw[field] !== a) {
        throw new BadModelFile(`config.json: fields "${field}" (${describeValue(raw[field])}) and "${alias}" (${describeValue(a)}) name the same setting for model_type "${this.modelType}" but disagree.`);
      }
      this.values.set(field, a);
    }
  }

  has(key: string): boolean {
    this.read.add(key);
    const v = this.values.get(key);
    return v !== undefined && v !== null;
  }

  /** The raw value (undefined when absent or null), recorded as read. */
  get(key: string): unknown {
    this.read.add(key);
    const v = this.values.get(key);
    return v === null ? undefined : v;
  }

  num(key: string, fallback?: number): number {
    const v = this.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new BadModelFile(`config.json: field "${key}" is missing; it is required for model_type "${this.modelType}".`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadModelFile(`config.json: field "${key}" should be a number, found ${describeValue(v)}.`);
    return v;
  }

  /** A positive integer (dimensions, counts) with a bound against hostile values. */
  dim(key: string, fallback?: number, max = 1 << 24): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v) || v <= 0 || v > max) throw new BadModelFile(`config.json: field "${key}" = ${v} is not a positive integer up to ${max}.`);
    return v;
  }

  /** A fraction in [0, 1]. */
  fraction(key: string, fallback: number): number {
    const v = this.num(key, fallback);
    if (!(v >= 0 && v <= 1)) throw new BadModelFile(`config.json: field "${key}" = ${v} should be a fraction from 0 to 1.`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new BadModelFile(`config.json: field "${key}" should be true or false, found ${describeValue(v)}.`);
    return v;
  }

  str(key: string, fallback: string): string {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') throw new BadModelFile(`config.json: field "${key}" should be a string, found ${describeValue(v)}.`);
    return v;
  }

  /** A token id, or null when absent or not a single integer (lists of EOS ids are for generation). */
  optId(key: string): number | null {
    const v = this.get(key);
    return typeof v === 'number' && Number.isInteger(v) ? v : null;
  }

  unsupported(what: string): never {
    throw new UnsupportedArchitecture(`model_type "${this.modelType}": ${what} is not supported yet.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Rotary position embeddings

export type { RopeParams, RopeType } from '../types';

const ROPE_KEYS: Record<RopeType, string[]> = {
  default: [],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};
const ROPE_COMMON_KEYS = ['rope_type', 'type', 'rope_theta', 'partial_rotary_factor'];

export interface RopeFieldNames {
  /** Top-level fields that give the base in the transformers 4 form, first one wins (gpt_neox: rotary_emb_base). */
  theta: string[];
  /** Top-level fields that give the rotary share (gpt_neox: rotary_pct; phi: partial_rotary_factor). */
  partial: string[];
  partialDefault: number;
  /** llama / qwen2 rotate the whole head: any other share is refused. */
  wholeHead: boolean;
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function ropeNumber(c: ConfigFields, where: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadModelFile(`config.json: ${where}.${key} should be a number, found ${describeValue(v)}.`);
  return v;
}

/**
 * The rotary settings, from `rope_parameters` (transformers 5) or `rope_scaling` + top-level
 * fields (transformers 4), with transformers 5's precedence: values inside the object win over
 * top-level ones, and llama3's original_max_position_embeddings falls back to
 * max_position_embeddings. Where transformers would silently drop one of two given forms
 * (rope_scaling and a different rope_parameters; two top-level names for the base that
 * disagree), the config is refused rather than one of them guessed.
 */
export function readRope(c: ConfigFields, names: RopeFieldNames): RopeParams {
  const scaling = c.get('rope_scaling');
  const params = c.get('rope_parameters');
  for (const [k, v] of [['rope_scaling', scaling], ['rope_parameters', params]] as const) {
    if (v !== undefined && !isObject(v)) throw new BadModelFile(`config.json: field "${k}" should be an object, found ${describeValue(v)}.`);
  }
  let rp: Record<string, unknown> = {};
  let where = 'rope_parameters';
  const sc = scaling as Record<string, unknown> | undefined;
  const pa = params as Record<string, unknown> | undefined;
  if (sc && Object.keys(sc).length > 0) {
    // transformers 5 takes rope_scaling instead of rope_parameters (not merged): refuse a config
    // where that would drop something rope_parameters says.
    if (pa && Object.keys(pa).length > 0 && JSON.stringify(sortKeys(pa)) !== JSON.stringify(sortKeys(sc))) {
      throw new BadModelFile(`config.json has both "rope_scaling" ${describeValue(sc)} and "rope_parameters" ${describeValue(pa)}, which differ; transformers would use rope_scaling alone. Keep one of them.`);
    }
    rp = sc;
    where = 'rope_scaling';
  } else if (pa) {
    rp = pa;
  }
  // transformers 5 may nest the parameters per layer type; with full attention only there is one.
  if (isObject(rp.full_attention)) {
    const others = Object.keys(rp).filter((k) => k !== 'full_attention');
    if (others.length) throw new BadModelFile(`config.json: ${where} mixes per-layer-type entries ("full_attention") with ${others.map((k) => `"${k}"`).join(', ')}.`);
    rp = rp.full_attention;
    where += '.full_attention';
  }

  const rawType = rp.rope_type ?? rp.type ?? 'default';
  if (typeof rawType !== 'string') throw new BadModelFile(`config.json: ${where}.rope_type should be a string, found ${describeValue(rawType)}.`);
  if (rp.rope_type !== undefined && rp.type !== undefined && rp.rope_type !== rp.type) {
    throw new BadModelFile(`config.json: ${where}.rope_type ("${String(rp.rope_type)}") and ${where}.type ("${String(rp.type)}") disagree.`);
  }
  if (!Object.hasOwn(ROPE_KEYS, rawType)) {
    c.unsupported(`${where}.rope_type "${rawType.slice(0, 40)}" (supported: ${Object.keys(ROPE_KEYS).join(', ')})`);
  }
  const type = rawType as RopeType;
  const allowed = new Set([...ROPE_COMMON_KEYS, ...ROPE_KEYS[type]]);
  const extra = Object.keys(rp).filter((k) => !allowed.has(k));
  if (extra.length) {
    c.unsupported(`${where}.${extra[0].slice(0, 40)} with rope_type "${type}" (it would change the rotary angles; ${type} reads ${[...allowed].filter((k) => k !== 'type').join(', ')})`);
  }

  // The base: inside the object first, then the top-level fields of the transformers 4 form.
  const top = (keys: string[]): { key: string; value: number } | null => {
    let found: { key: string; value: number } | null = null;
    for (const k of keys) {
      if (!c.has(k)) continue;
      const v = c.num(k);
      if (found && found.value !== v) throw new BadModelFile(`config.json: fields "${found.key}" (${found.value}) and "${k}" (${v}) disagree.`);
      found ??= { key: k, value: v };
    }
    return found;
  };
  // A value inside the object wins over a top-level one, as in transformers 5 (which itself
  // writes phi's top-level partial_rotary_factor 0.5 beside the value it uses).
  const pick = (key: string, topKeys: string[], fallback: number): number => {
    const t = top(topKeys);
    if (rp[key] === undefined || rp[key] === null) return t?.value ?? fallback;
    return ropeNumber(c, where, key, rp[key]);
  };
  const theta = pick('rope_theta', names.theta, 10000);
  if (!(theta > 1)) throw new BadModelFile(`config.json: rope_theta = ${theta} should be greater than 1.`);
  const partial = pick('partial_rotary_factor', names.partial, names.partialDefault);
  if (!(partial > 0 && partial <= 1)) throw new BadModelFile(`config.json: partial_rotary_factor = ${partial} should be a fraction in (0, 1].`);
  if (names.wholeHead && partial !== 1) c.unsupported(`partial_rotary_factor ${partial} (model_type "${c.modelType}" rotates the whole head)`);

  const out: RopeParams = { type, theta, partial };
  if (type === 'linear' || type === 'llama3') {
    const factor = ropeNumber(c, where, 'factor', rp.factor);
    if (!(factor > 0)) throw new BadModelFile(`config.json: ${where}.factor = ${factor} should be positive.`);
    out.factor = factor;
  }
  if (type === 'llama3') {
    out.lowFreqFactor = ropeNumber(c, where, 'low_freq_factor', rp.low_freq_factor);
    out.highFreqFactor = ropeNumber(c, where, 'high_freq_factor', rp.high_freq_factor);
    if (!(out.highFreqFactor > out.lowFreqFactor && out.lowFreqFactor > 0)) {
      throw new BadModelFile(`config.json: ${where} needs 0 < low_freq_factor < high_freq_factor (found ${out.lowFreqFactor} and ${out.highFreqFactor}).`);
    }
    const orig = rp.original_max_position_embeddings ?? c.get('original_max_position_embeddings') ?? c.get('max_position_embeddings');
    out.originalMaxPositions = ropeNumber(c, where, 'original_max_position_embeddings', orig);
    if (!(out.originalMaxPositions > 0)) throw new BadModelFile(`config.json: original_max_position_embeddings should be positive.`);
  }
  return out;
}

/** Rotary dimensions per head for a head of `headDim`: int(headDim · partial), as transformers. */
export function rotaryDims(c: ConfigFields, rope: RopeParams, headDim: number): number {
  const d = Math.floor(headDim * rope.partial);
  if (d <= 0 || d % 2 !== 0) c.unsupported(`${d} rotary dimensions per head (head_dim ${headDim} × partial_rotary_factor ${rope.partial}; an even, positive count is needed)`);
  return d;
}

/** Inverse frequencies theta^(-2i/d), i < d/2, with linear or llama3 scaling applied. */
export function ropeInvFreq(rope: RopeParams, rotaryDim: number): number[] {
  const base: number[] = [];
  for (let i = 0; i < rotaryDim / 2; i++) base.push(1 / Math.pow(rope.theta, (2 * i) / rotaryDim));
  if (rope.type === 'linear') return base.map((f) => f / rope.factor!);
  if (rope.type !== 'llama3') return base;
  const factor = rope.factor!, low = rope.lowFreqFactor!, high = rope.highFreqFactor!, old = rope.originalMaxPositions!;
  const lowWavelen = old / low;
  const highWavelen = old / high;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

// ---------------------------------------------------------------------------------------------
// Fields that do not change the logits, and fields refused whatever the family

/**
 * Fields of every transformers config (PreTrainedConfig, and the generation settings
 * transformers 5 moves out of it), with why none changes the logits of a causal LM.
 */
export const HARMLESS_COMMON: Readonly<Record<string, string>> = {
  architectures: 'the class name (shown on the model card)',
  model_type: 'read to pick the family',
  transformers_version: 'the version that wrote the file',
  _name_or_path: 'where the model came from',
  name_or_path: 'where the model came from',
  _commit_hash: 'where the model came from',
  output_hidden_states: 'what a call returns, not what it computes',
  output_attentions: 'what a call returns, not what it computes',
  return_dict: 'what a call returns, not what it computes',
  use_return_dict: 'what a call returns, not what it computes',
  torchscript: 'how the model is traced, not what it computes',
  chunk_size_feed_forward: 'chunks the MLP over tokens for memory; the same products',
  attn_implementation: 'which attention kernel runs (eager, sdpa, flash): the same maths',
  _attn_implementation: 'which attention kernel runs: the same maths',
  _attn_implementation_autoset: 'which attention kernel runs: the same maths',
  _attn_implementation_internal: 'which attention kernel runs: the same maths',
  experts_implementation: 'mixture-of-experts kernels; these families have none',
  id2label: 'labels of a classification head; the LM head does not use them',
  label2id: 'labels of a classification head; the LM head does not use them',
  num_labels: 'size of a classification head; the LM head does not use it',
  problem_type: 'loss of a classification head',
  finetuning_task: 'a note of the task',
  task_specific_params: 'generation settings for pipelines',
  tokenizer_class: 'which tokenizer class to load (the tokenizer files decide)',
  prefix: 'a prompt prefix for pipelines',
  pad_token_id: 'padding id; perplexity windows are never padded',
  sep_token_id: 'a special token id for pipelines',
  decoder_start_token_id: 'encoder-decoder generation only',
  use_cache: 'keeps keys and values for generation; the same numbers',
  is_decoder: 'causal attention is what every supported family uses',
  tie_encoder_decoder: 'encoder-decoder models only',
  cross_attention_hidden_size: 'encoder-decoder models only',
  initializer_range: 'the initialisation of new weights; loaded weights are used as they are',
  // generation settings (GenerationConfig defaults that transformers 5 pops from the config)
  ...Object.fromEntries(
    [
      'assistant_confidence_threshold', 'assistant_lookbehind', 'bad_words_ids', 'begin_suppress_tokens', 'diversity_penalty',
      'do_sample', 'early_stopping', 'encoder_no_repeat_ngram_size', 'encoder_repetition_penalty', 'epsilon_cutoff',
      'eta_cutoff', 'exponential_decay_length_penalty', 'forced_bos_token_id', 'forced_eos_token_id', 'length_penalty',
      'max_length', 'min_length', 'no_repeat_ngram_size', 'num_assistant_tokens', 'num_assistant_tokens_schedule',
      'num_beam_groups', 'num_beams', 'num_return_sequences', 'output_scores', 'remove_invalid_values',
      'repetition_penalty', 'return_dict_in_generate', 'suppress_tokens', 'target_lookbehind', 'temperature', 'top_k',
      'top_p', 'typical_p',
    ].map((k) => [k, 'a generation setting; it does not change the logits']),
  ),
};

const DROPOUT = 'dropout is off when the model is evaluated or pruned';

/** The fields readCommonFields reads, for every family. */
export const COMMON_READS = [
  'quantization_config', 'per_layer_config', 'is_encoder_decoder', 'add_cross_attention', 'pruned_heads', 'rope_interleaved',
  'dtype', 'torch_dtype',
] as const;

/** Checks that apply to every family; each field is recorded as read. */
export function readCommonFields(c: ConfigFields): { dtype: string | null } {
  if (c.has('quantization_config')) c.unsupported(`a quantized checkpoint ("quantization_config" ${describeValue(c.get('quantization_config'))})`);
  if (c.has('per_layer_config')) c.unsupported('"per_layer_config" (layers with different shapes)');
  if (c.bool('is_encoder_decoder', false)) c.unsupported('is_encoder_decoder = true');
  if (c.bool('add_cross_attention', false)) c.unsupported('add_cross_attention = true');
  const pruned = c.get('pruned_heads');
  if (pruned !== undefined && !(isObject(pruned) && Object.keys(pruned).length === 0)) c.unsupported(`"pruned_heads" ${describeValue(pruned)} (heads removed by transformers' prune_heads)`);
  // Written by nanotron (SmolLM); transformers ignores it, but true would mean a different rotary layout.
  if (c.bool('rope_interleaved', false)) c.unsupported('rope_interleaved = true (an interleaved rotary layout)');
  // transformers 5 writes "dtype", transformers 4 "torch_dtype"; with both, transformers keeps "dtype".
  const dtype = c.has('dtype') ? c.str('dtype', '') : c.has('torch_dtype') ? c.str('torch_dtype', '') : null;
  return { dtype: dtype || null };
}

/** Per family: the transformers config class and its fields that cannot change the logits. */
export interface ConfigFieldTable {
  /** transformers' config class, for messages. */
  configClass: string;
  /** Fields of that class that the family reads (the rest of the class is in `harmless`). */
  reads: readonly string[];
  harmless: Readonly<Record<string, string>>;
  /** transformers attribute_map: another name transformers accepts for a field. */
  aliases?: Readonly<Record<string, string>>;
}

export const dropoutFields = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, DROPOUT]));

/** Fields of the config that are neither read, nor harmless: transformers' class does not define them. */
export function unknownFields(c: ConfigFields, table: ConfigFieldTable): string[] {
  return Object.keys(c.raw).filter(
    (k) =>
      !c.read.has(k) &&
      !table.reads.includes(k) &&
      !(COMMON_READS as readonly string[]).includes(k) &&
      !Object.hasOwn(table.harmless, k) &&
      !Object.hasOwn(HARMLESS_COMMON, k),
  );
}
