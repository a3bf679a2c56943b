// The tokenizer as llama.cpp's GGUF metadata describes it (tokenizer.ggml.*), from a Hugging Face
// tokenizer.json (or the tokenizer.json equivalent of vocab.json + merges.txt):
//   - SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama, the demo model):
//     tokenizer.ggml.model "llama". llama.cpp's SPM tokenizer merges the adjacent pair whose
//     result has the highest score, so each piece scores minus the rank of the first merge that
//     makes it: the same order as the BPE merges (llama.cpp's own converter writes -1000 for every
//     piece of a tokenizer.json-only folder, and then splits text differently). Byte pieces
//     <0xXX> are typed BYTE, so they decode to bytes.
//   - Byte-level BPE (GPT-2, Pythia, Phi, Qwen2, SmolLM, Llama 3): tokenizer.ggml.model "gpt2" with
//     the merges, and tokenizer.ggml.pre naming the pre-tokenizer's split regex. llama.cpp knows
//     pre-tokenizers by name only, so the name is chosen from the tokenizer.json pre_tokenizer
//     itself; one it cannot name is refused rather than exported to split text differently.
// The token list is padded to the model's vocab_size with unused [PADi] tokens (llama.cpp sizes
// the vocabulary from the list).
import { UnsupportedArchitecture } from '../errors';
import type { GgufValue } from './gguf-writer';

type Json = Record<string, unknown>;

// Token types (llama.cpp's llama_token_type).
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

/** Split regexes of the byte-level pre-tokenizers llama.cpp names (llama-vocab.cpp). */
const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface TokenizerFiles {
  /** tokenizer.json (or its equivalent built from vocab.json + merges.txt). */
  json: Json;
  /** tokenizer_config.json ({} when absent). */
  config: Json;
}

export interface TokenizerIds {
  vocabSize: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

const obj = (v: unknown): Json | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null);

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  const o = obj(v);
  return o && typeof o.content === 'string' ? o.content : null;
}

/** The byte-level pre-tokenizer's name for llama.cpp, or null when it is not one it knows. */
export function byteLevelPre(pre: unknown): string | null {
  const p = obj(pre);
  if (!p) return null;
  if (p.type === 'ByteLevel') return p.use_regex === false ? null : 'gpt-2';
  if (p.type !== 'Sequence' || !Array.isArray(p.pretokenizers)) return null;
  const parts = p.pretokenizers.map(obj);
  if (parts.some((x) => !x)) return null;
  const [a, b] = parts as Json[];
  if (parts.length === 2 && a.type === 'Digits' && a.individual_digits === true && b.type === 'ByteLevel' && b.use_regex !== false) return 'smollm';
  if (parts.length === 2 && a.type === 'Split' && b.type === 'ByteLevel' && b.use_regex === false) {
    const regex = obj(a.pattern)?.Regex;
    if (regex === LLAMA3_REGEX) return 'llama-bpe';
    if (regex === QWEN2_REGEX) return 'qwen2';
  }
  return null;
}

function isSentencePieceStyle(json: Json, model: Json): boolean {
  if (model.byte_fallback !== true) return false;
  const norm = obj(json.normalizer);
  const steps = norm?.type === 'Sequence' && Array.isArray(norm.normalizers) ? norm.normalizers.map(obj) : [norm];
  const prepends = steps.some((s) => s?.type === 'Prepend' && s.prepend === '▁');
  const replaces = steps.some((s) => s?.type === 'Replace' && obj(s.pattern)?.String === ' ' && s.content === '▁');
  const metaspace = obj(json.pre_tokenizer)?.type === 'Metaspace';
  return (prepends && replaces) || metaspace;
}

/** Whether the tokenizer puts its BOS first (tokenizer_config's flag, else the post-processor). */
function addsBos(files: TokenizerFiles, bos: string | null): boolean {
  if (typeof files.config.add_bos_token === 'boolean') return files.config.add_bos_token;
  const post = obj(files.json.post_processor);
  const first = post?.type === 'TemplateProcessing' && Array.isArray(post.single) ? obj(obj(post.single[0])?.SpecialToken) : null;
  return !!first && bos !== null && first.id === bos;
}

/** The tokenizer.ggml.* metadata; refuses a tokenizer llama.cpp would split differently. */
export function ggufTokenizerMeta(files: TokenizerFiles, ids: TokenizerIds): Array<[string, GgufValue]> {
  const model = obj(files.json.model);
  if (!model || model.type !== 'BPE') {
    throw new UnsupportedArchitecture(`GGUF export: the tokenizer is a ${String(model?.type ?? 'unknown').slice(0, 30)} model; llama.cpp's vocabularies are exported from BPE tokenizers only (SentencePiece-style with byte fallback, or byte-level).`);
  }
  const vocab = obj(model.vocab) ?? {};
  const n = ids.vocabSize;
  const tokens: string[] = new Array(n);
  const types = new Int32Array(n);
  for (const [t, id] of Object.entries(vocab)) {
    if (typeof id === 'number' && id >= 0 && id < n) {
      tokens[id] = t;
      types[id] = NORMAL;
    }
  }
  const added = Array.isArray(files.json.added_tokens) ? files.json.added_tokens.map(obj).filter((a): a is Json => !!a) : [];
  for (const a of added) {
    const id = a.id;
    if (typeof id !== 'number' || id < 0 || id >= n || typeof a.content !== 'string') continue;
    tokens[id] = a.content;
    types[id] = a.special === true ? CONTROL : USER_DEFINED;
  }
  for (let i = 0; i < n; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = UNUSED;
    }
  }
  const idOf = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!idOf.has(t)) idOf.set(t, i);
  });
  const lookup = (v: unknown) => {
    const c = tokenContent(v);
    return c !== null && idOf.has(c) ? idOf.get(c)! : null;
  };
  const bosId = ids.bosTokenId ?? lookup(files.config.bos_token);
  const eosId = ids.eosTokenId ?? lookup(files.config.eos_token);
  const unkId = lookup(model.unk_token) ?? lookup(files.config.unk_token);
  const padId = lookup(files.config.pad_token);
  const mergeList = (Array.isArray(model.merges) ? model.merges : []).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));

  const meta: Array<[string, GgufValue]> = [];
  if (isSentencePieceStyle(files.json, model)) {
    const rank = new Map<string, number>();
    mergeList.forEach((m, r) => {
      const sp = m.indexOf(' ');
      const joined = m.slice(0, sp) + m.slice(sp + 1);
      if (!rank.has(joined)) rank.set(joined, r);
    });
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (/^<0x[0-9A-Fa-f]{2}>$/.test(tokens[i]) && types[i] !== CONTROL) types[i] = BYTE;
      if (i === unkId) types[i] = UNKNOWN;
      // A merge's result scores minus its rank (the first merge wins); a piece no merge makes is
      // never a merge result in the BPE either, so it scores below them all.
      scores[i] = types[i] === NORMAL ? -(rank.has(tokens[i]) ? rank.get(tokens[i])! + 1 : mergeList.length + 1 + i) : 0;
    }
    meta.push(['tokenizer.ggml.model', { type: 'str', value: 'llama' }], ['tokenizer.ggml.pre', { type: 'str', value: 'default' }]);
    meta.push(['tokenizer.ggml.tokens', { type: 'str[]', value: tokens }], ['tokenizer.ggml.scores', { type: 'f32[]', value: scores }]);
    meta.push(['tokenizer.ggml.token_type', { type: 'i32[]', value: types }]);
  } else {
    const pre = byteLevelPre(files.json.pre_tokenizer);
    if (!pre || model.byte_fallback === true) {
      throw new UnsupportedArchitecture(
        `GGUF export: llama.cpp names its pre-tokenizers, and this tokenizer's (${JSON.stringify(files.json.pre_tokenizer ?? null).slice(0, 120)}) is none it knows (GPT-2's byte-level split, Llama 3's, Qwen2's, SmolLM's); exported, text would be split differently from the model's own tokenizer.`,
      );
    }
    meta.push(['tokenizer.ggml.model', { type: 'str', value: 'gpt2' }], ['tokenizer.ggml.pre', { type: 'str', value: pre }]);
    meta.push(['tokenizer.ggml.tokens', { type: 'str[]', value: tokens }], ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }]);
    meta.push(['tokenizer.ggml.merges', { type: 'str[]', value: mergeList }]);
  }
  // llama.cpp's BPE defaults for missing ids are GPT-2's (11): always write them.
  if (bosId !== null) meta.push(['tokenizer.ggml.bos_token_id', { type: 'u32', value: bosId }]);
  if (eosId !== null) meta.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: eosId }]);
  if (unkId !== null) meta.push(['tokenizer.ggml.unknown_token_id', { type: 'u32', value: unkId }]);
  if (padId !== null) meta.push(['tokenizer.ggml.padding_token_id', { type: 'u32', value: padId }]);
  meta.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: addsBos(files, tokenContent(files.config.bos_token) ?? (bosId !== null ? tokens[bosId] : null)) }]);
  meta.push(['tokenizer.ggml.add_eos_token', { type: 'bool', value: files.config.add_eos_token === true }]);
  return meta;
}
