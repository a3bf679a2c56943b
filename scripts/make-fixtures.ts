// Generates the tiny synthetic Hugging Face checkpoints under test/fixtures/models/<name>/.
//
//   npx tsx scripts/make-fixtures.ts
//
// Everything is deterministic: weights come from a seeded mulberry32 stream (uniform values, no
// transcendental functions, so every JS engine produces the same bits), tokenizers are built from
// fixed text, and expected.json holds logits from the independent float64 reference
// (src/core/reference/hf-model.ts) computed on the weights exactly as stored (after rounding to
// F16/BF16), read back from the written files. Re-running rewrites the same bytes.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import type { DType } from '../src/core/model/dtypes.ts';
import { writeSafetensors, writeShardedSafetensors, type TensorToWrite } from '../src/core/export/safetensors-write.ts';
import { referenceForward, type HfConfig, type RefTensor } from '../src/core/reference/hf-model.ts';
import { logSoftmaxNllRef } from '../src/core/reference/kernels.ts';
import { parseSafetensorsRef } from '../src/core/reference/safetensors-ref.ts';
import { mulberry32 } from '../src/core/random.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test/fixtures/models');
const STORIES = join(ROOT, 'public/models/stories260K');
const SCRIPT = 'scripts/make-fixtures.ts';

// ---------------------------------------------------------------------------------------------
// Deterministic random weights

class Gen {
  private readonly rand: () => number;
  readonly tensors: TensorToWrite[] = [];
  constructor(seed: number, private readonly dtype: DType) {
    this.rand = mulberry32(seed);
  }
  /** Uniform values with the given standard deviation (per flat index) around `center`. */
  private fill(n: number, std: number | ((i: number) => number), center = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const a = (typeof std === 'number' ? std : std(i)) * Math.sqrt(3);
      out[i] = center + (2 * this.rand() - 1) * a;
    }
    return out;
  }
  add(name: string, shape: number[], std: number | ((i: number) => number), center = 0, dtype: DType = this.dtype): void {
    this.tensors.push({ name, dtype, shape, data: this.fill(shape.reduce((x, y) => x * y, 1), std, center) });
  }
  /** A weight matrix / embedding; `std` may depend on the flat element index. */
  mat(name: string, shape: number[], std: number | ((i: number) => number) = 0.08): void {
    this.add(name, shape, std);
  }
  bias(name: string, n: number, std = 0.03): void {
    this.add(name, [n], std);
  }
  /** Norm gain near 1. */
  gain(name: string, n: number): void {
    this.add(name, [n], 0.06, 1);
  }
  /** LayerNorm weight + bias. */
  ln(prefix: string, n: number): void {
    this.gain(prefix + '.weight', n);
    this.bias(prefix + '.bias', n, 0.02);
  }
  /** Fixed (non-random) tensor, e.g. a buffer. */
  fixed(name: string, shape: number[], data: Float32Array, dtype: DType = 'F32'): void {
    this.tensors.push({ name, dtype, shape, data });
  }
}

// ---------------------------------------------------------------------------------------------
// Byte-level BPE tokenizer (GPT-2 style)

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100.. in order. */
function bytesToUnicode(): { order: number[]; map: Map<number, string> } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const map = new Map<number, string>();
  bs.forEach((b, i) => map.set(b, String.fromCodePoint(cs[i])));
  return { order: bs, map };
}

const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const BPE_SAMPLE = `Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
One day, she saw a big red ball under a tree. She ran to the ball and picked it up. "This is the best day!"
she said to her mom. Her mom smiled and said, "Let's go home and have some tea." They walked home
together, and the sun was warm. The little dog wanted to play with the ball too, so Lily threw it high.
The dog jumped and caught it. Everyone was happy, and they played until the sun went down.`;

interface Bpe {
  /** Byte symbols in GPT-2 id order. */
  byteSymbols: string[];
  merges: Array<[string, string]>;
}

/** Learn `nMerges` merges greedily (most frequent pair; ties broken by the pair's text). */
function learnBpe(text: string, nMerges: number): Bpe {
  const { order, map } = bytesToUnicode();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const m of text.match(GPT2_PATTERN) ?? []) {
    const w = Array.from(enc.encode(m), (b) => map.get(b)!).join('\u0000');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  let words = [...counts.entries()].map(([w, c]) => ({ syms: w.split('\u0000'), c }));
  const merges: Array<[string, string]> = [];
  for (let k = 0; k < nMerges; k++) {
    const pairs = new Map<string, number>();
    for (const { syms, c } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = syms[i] + '\u0000' + syms[i + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + c);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, c] of pairs) {
      if (c > bestCount || (c === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (!best || bestCount < 2) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    words = words.map(({ syms, c }) => {
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(syms[i]);
      }
      return { syms: out, c };
    });
  }
  return { byteSymbols: order.map((b) => map.get(b)!), merges };
}

interface TokenizerFiles {
  /** file name -> content */
  files: Record<string, string>;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  size: number;
  ids: Record<string, number>;
}

interface ByteLevelStyle {
  /** Special tokens placed before the byte symbols (ids 0..), e.g. OPT's <s> <pad> </s> <unk>. */
  leadingSpecials: string[];
  /** Special tokens appended after the merges, e.g. GPT-2's <|endoftext|>. */
  trailingSpecials: string[];
  /** Prepend this special token to every encoding (OPT prepends </s>). */
  bosPrefix?: string;
  tokenizerConfig: Record<string, unknown>;
}

function byteLevelTokenizer(bpe: Bpe, style: ByteLevelStyle): TokenizerFiles {
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const s of style.leadingSpecials) vocab[s] = next++;
  for (const s of bpe.byteSymbols) vocab[s] = next++;
  for (const [a, b] of bpe.merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  for (const s of style.trailingSpecials) vocab[s] = next++;
  const specials = [...style.leadingSpecials, ...style.trailingSpecials];
  const addedTokens = specials.map((s) => ({
    id: vocab[s],
    content: s,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const postProcessor = style.bosPrefix
    ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: style.bosPrefix, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: style.bosPrefix, type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: style.bosPrefix, type_id: 1 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { [style.bosPrefix]: { id: style.bosPrefix, ids: [vocab[style.bosPrefix]], tokens: [style.bosPrefix] } },
      }
    : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  // JS objects list integer-like keys ("0".."9") first; write the vocabulary in id order instead.
  const vocabText = '{' + Object.entries(vocab).sort((x, y) => x[1] - y[1]).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
  const tokenizerText = JSON.stringify({ ...tokenizerJson, model: { ...tokenizerJson.model, vocab: '@VOCAB@' } }).replace('"@VOCAB@"', vocabText);
  const files: Record<string, string> = {
    'tokenizer.json': tokenizerText + '\n',
    'tokenizer_config.json': JSON.stringify(style.tokenizerConfig, null, 2) + '\n',
    'vocab.json': vocabText + '\n',
    'merges.txt': '#version: 0.2\n' + bpe.merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n',
  };
  return { files, tokenizerJson, tokenizerConfig: style.tokenizerConfig, size: next, ids: vocab };
}

function storiesTokenizer(): TokenizerFiles {
  const tj = readFileSync(join(STORIES, 'tokenizer.json'), 'utf8');
  const tc = readFileSync(join(STORIES, 'tokenizer_config.json'), 'utf8');
  const st = readFileSync(join(STORIES, 'special_tokens_map.json'), 'utf8');
  return {
    files: { 'tokenizer.json': tj, 'tokenizer_config.json': tc, 'special_tokens_map.json': st },
    tokenizerJson: JSON.parse(tj),
    tokenizerConfig: JSON.parse(tc),
    size: 512,
    ids: {},
  };
}

function encode(tok: TokenizerFiles, text: string): number[] {
  const t = new Tokenizer(tok.tokenizerJson as never, tok.tokenizerConfig as never);
  return t.encode(text).ids;
}

/** Loads tokenizer.json with @huggingface/tokenizers and checks that text survives a round trip. */
function checkTokenizer(name: string, tok: TokenizerFiles, texts: string[]): void {
  const t = new Tokenizer(tok.tokenizerJson as never, tok.tokenizerConfig as never);
  for (const text of texts) {
    const ids = t.encode(text).ids;
    const back = t.decode(ids, { skip_special_tokens: true });
    if (back !== text) throw new Error(`${name}: tokenizer round trip failed:\n  ${JSON.stringify(text)}\n  ${JSON.stringify(back)}`);
    if (ids.some((id) => id < 0 || id >= tok.size)) throw new Error(`${name}: id outside the vocabulary`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing a fixture

interface Fixture {
  name: string;
  description: string;
  config: HfConfig;
  tensors: TensorToWrite[];
  shards?: number;
  tokenizer: TokenizerFiles;
  /** Which tokenizer files to write (default: all of them). */
  tokenizerFiles?: string[];
  text: string;
  /** Cap on the number of tokens kept for expected.json. */
  maxTokens: number;
}

const sig7 = (x: number): number => Number(x.toPrecision(7));

/** A transformers 4 config rewritten as transformers 5.x's save_pretrained writes it. */
function transformers5Config(c: HfConfig, keepTop: readonly string[]): HfConfig {
  const out: HfConfig = {};
  const scaling = (c.rope_scaling ?? {}) as Record<string, unknown>;
  const rope: Record<string, unknown> = { ...scaling, rope_type: scaling.rope_type ?? scaling.type ?? 'default' };
  delete rope.type;
  const moved: Record<string, string> = {
    rope_theta: 'rope_theta', rotary_emb_base: 'rope_theta', partial_rotary_factor: 'partial_rotary_factor', rotary_pct: 'partial_rotary_factor',
  };
  for (const [k, v] of Object.entries(c)) {
    if (k === 'rope_scaling') continue;
    if (k === 'torch_dtype') out.dtype = v;
    else if (k in moved) {
      rope[moved[k]] = v;
      if (keepTop.includes(k)) out[k] = v;
    } else out[k] = v;
  }
  out.rope_parameters = rope;
  out.transformers_version = '5.18.0';
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function writeFixture(f: Fixture): { name: string; bytes: number; files: string[] } {
  const dir = join(OUT, f.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const written: Record<string, Uint8Array | string> = {};
  written['config.json'] = JSON.stringify(f.config, null, 2) + '\n';
  const meta = { format: 'pt' };
  if (f.shards) {
    const sh = writeShardedSafetensors(f.tensors, f.shards, meta);
    for (const s of sh.shards) written[s.name] = s.bytes;
    written['model.safetensors.index.json'] = sh.indexJson;
  } else {
    written['model.safetensors'] = writeSafetensors(f.tensors, meta);
  }
  for (const [file, content] of Object.entries(f.tokenizer.files)) {
    if (!f.tokenizerFiles || f.tokenizerFiles.includes(file)) written[file] = content;
  }

  // Expected outputs, from the weights as they were written (rounded to their dtype).
  const stored = new Map<string, RefTensor>();
  for (const [file, content] of Object.entries(written)) {
    if (file.endsWith('.safetensors')) {
      for (const [k, v] of parseSafetensorsRef(content as Uint8Array).tensors) stored.set(k, v);
    }
  }
  const ids = encode(f.tokenizer, f.text).slice(0, f.maxTokens);
  const out = referenceForward(f.config, stored, ids);
  const { logits, T, V } = out;
  const rows: number[][] = [];
  for (let t = 0; t < T; t++) rows.push(Array.from(logits.subarray(t * V, (t + 1) * V), sig7));
  const nll = logSoftmaxNllRef(logits.subarray(0, (T - 1) * V), ids.slice(1));
  const last = logits.subarray((T - 1) * V);
  const top5 = Array.from(last.keys())
    .sort((a, b) => last[b] - last[a])
    .slice(0, 5);
  const expected = {
    note:
      `Made by ${SCRIPT} (deterministic). Logits from src/core/reference/hf-model.ts (float64, HF ` +
      `semantics) on the stored weights, rounded to 7 significant digits. ids = the first ` +
      `${f.maxTokens} tokens of "text" as encoded by this folder's tokenizer` +
      (f.tokenizerFiles && !f.tokenizerFiles.includes('tokenizer.json') ? ' (vocab.json + merges.txt, GPT-2 BPE)' : '') +
      `. nll[t] = -log softmax(logits[t])[ids[t + 1]].`,
    model: f.name,
    description: f.description,
    text: f.text,
    ids,
    vocab_size: V,
    logits: rows,
    last_top5_ids: top5,
    nll: Array.from(nll, sig7),
    mean_nll: sig7(nll.reduce((a, b) => a + b, 0) / nll.length),
  };
  written['expected.json'] = JSON.stringify(expected) + '\n';

  let bytes = 0;
  for (const [file, content] of Object.entries(written)) {
    writeFileSync(join(dir, file), content);
    bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  }
  return { name: f.name, bytes, files: Object.keys(written).sort() };
}

// ---------------------------------------------------------------------------------------------
// Families

/** q/k projection scale: large enough that attention is far from uniform, so RoPE and masking
 * mistakes move the logits by much more than test tolerances. */
const QK_STD = 0.25;

interface LlamaDims {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim?: number;
  inter: number;
  layers: number;
  vocab: number;
  tied: boolean;
  qkvBias: boolean;
}

function llamaTensors(seed: number, dtype: DType, d: LlamaDims): TensorToWrite[] {
  const g = new Gen(seed, dtype);
  const D = d.headDim ?? d.hidden / d.heads;
  g.mat('model.embed_tokens.weight', [d.vocab, d.hidden], 0.2);
  for (let l = 0; l < d.layers; l++) {
    const p = `model.layers.${l}.`;
    g.gain(p + 'input_layernorm.weight', d.hidden);
    g.mat(p + 'self_attn.q_proj.weight', [d.heads * D, d.hidden], QK_STD);
    if (d.qkvBias) g.bias(p + 'self_attn.q_proj.bias', d.heads * D, 0.1);
    g.mat(p + 'self_attn.k_proj.weight', [d.kvHeads * D, d.hidden], QK_STD);
    if (d.qkvBias) g.bias(p + 'self_attn.k_proj.bias', d.kvHeads * D, 0.1);
    g.mat(p + 'self_attn.v_proj.weight', [d.kvHeads * D, d.hidden]);
    if (d.qkvBias) g.bias(p + 'self_attn.v_proj.bias', d.kvHeads * D, 0.1);
    g.mat(p + 'self_attn.o_proj.weight', [d.hidden, d.heads * D]);
    g.gain(p + 'post_attention_layernorm.weight', d.hidden);
    g.mat(p + 'mlp.gate_proj.weight', [d.inter, d.hidden]);
    g.mat(p + 'mlp.up_proj.weight', [d.inter, d.hidden]);
    g.mat(p + 'mlp.down_proj.weight', [d.hidden, d.inter]);
  }
  g.gain('model.norm.weight', d.hidden);
  if (!d.tied) g.mat('lm_head.weight', [d.vocab, d.hidden], 0.2);
  return g.tensors;
}

interface Gpt2Dims {
  embd: number;
  heads: number;
  layers: number;
  positions: number;
  vocab: number;
  inner: number;
}

function gpt2Tensors(seed: number, d: Gpt2Dims, prefix: string, buffers: boolean): TensorToWrite[] {
  const g = new Gen(seed, 'F32');
  const C = d.embd;
  g.mat(prefix + 'wte.weight', [d.vocab, C], 0.2);
  g.mat(prefix + 'wpe.weight', [d.positions, C], 0.1);
  const tril = new Float32Array(d.positions * d.positions);
  for (let i = 0; i < d.positions; i++) for (let j = 0; j <= i; j++) tril[i * d.positions + j] = 1;
  for (let l = 0; l < d.layers; l++) {
    const p = `${prefix}h.${l}.`;
    g.ln(p + 'ln_1', C);
    if (buffers) {
      // Causal-mask buffers as older transformers versions saved them (not parameters).
      g.fixed(p + 'attn.bias', [1, 1, d.positions, d.positions], tril);
      g.fixed(p + 'attn.masked_bias', [], Float32Array.of(-10000));
    }
    // Conv1D: (in, out); output columns are q | k | v, q and k drawn larger for peaked attention.
    g.mat(p + 'attn.c_attn.weight', [C, 3 * C], (i) => (i % (3 * C) < 2 * C ? QK_STD : 0.08));
    g.bias(p + 'attn.c_attn.bias', 3 * C, 0.1);
    g.mat(p + 'attn.c_proj.weight', [C, C]);
    g.bias(p + 'attn.c_proj.bias', C);
    g.ln(p + 'ln_2', C);
    g.mat(p + 'mlp.c_fc.weight', [C, d.inner]);
    g.bias(p + 'mlp.c_fc.bias', d.inner);
    g.mat(p + 'mlp.c_proj.weight', [d.inner, C]);
    g.bias(p + 'mlp.c_proj.bias', C);
  }
  g.ln(prefix + 'ln_f', C);
  return g.tensors;
}

interface OptDims {
  hidden: number;
  embedDim: number;
  heads: number;
  ffn: number;
  layers: number;
  vocab: number;
  positions: number;
  preLN: boolean;
}

function optTensors(seed: number, dtype: DType, d: OptDims, prefix: string): TensorToWrite[] {
  const g = new Gen(seed, dtype);
  const C = d.hidden;
  g.mat(prefix + 'embed_tokens.weight', [d.vocab, d.embedDim], 0.2);
  g.mat(prefix + 'embed_positions.weight', [d.positions + 2, C], 0.1);
  if (d.embedDim !== C) {
    g.mat(prefix + 'project_in.weight', [C, d.embedDim], 0.25);
    g.mat(prefix + 'project_out.weight', [d.embedDim, C], 0.25);
  }
  for (let l = 0; l < d.layers; l++) {
    const p = `${prefix}layers.${l}.`;
    for (const n of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) {
      g.mat(p + `self_attn.${n}.weight`, [C, C], n === 'q_proj' || n === 'k_proj' ? QK_STD : 0.08);
      g.bias(p + `self_attn.${n}.bias`, C, 0.05);
    }
    g.ln(p + 'self_attn_layer_norm', C);
    g.mat(p + 'fc1.weight', [d.ffn, C]);
    g.bias(p + 'fc1.bias', d.ffn, 0.05);
    g.mat(p + 'fc2.weight', [C, d.ffn]);
    g.bias(p + 'fc2.bias', C, 0.05);
    g.ln(p + 'final_layer_norm', C);
  }
  if (d.preLN) g.ln(prefix + 'final_layer_norm', C);
  return g.tensors;
}

interface NeoxDims {
  hidden: number;
  heads: number;
  inter: number;
  layers: number;
  vocab: number;
  rotaryNdims: number;
}

function neoxTensors(seed: number, dtype: DType, d: NeoxDims): TensorToWrite[] {
  const g = new Gen(seed, dtype);
  const C = d.hidden;
  g.mat('gpt_neox.embed_in.weight', [d.vocab, C], 0.2);
  const invFreq = new Float32Array(d.rotaryNdims / 2);
  for (let i = 0; i < invFreq.length; i++) invFreq[i] = 1 / Math.pow(10000, (2 * i) / d.rotaryNdims);
  for (let l = 0; l < d.layers; l++) {
    const p = `gpt_neox.layers.${l}.`;
    g.ln(p + 'input_layernorm', C);
    g.ln(p + 'post_attention_layernorm', C);
    // Buffers older Pythia checkpoints carry (the boolean attention.bias mask is left out).
    g.fixed(p + 'attention.masked_bias', [], Float32Array.of(-1e9));
    g.fixed(p + 'attention.rotary_emb.inv_freq', [invFreq.length], invFreq);
    // Rows are per head [q (D) | k (D) | v (D)]; q and k rows drawn larger for peaked attention.
    const D = C / d.heads;
    g.mat(p + 'attention.query_key_value.weight', [3 * C, C], (i) => (Math.floor(i / C) % (3 * D) < 2 * D ? QK_STD : 0.08));
    g.bias(p + 'attention.query_key_value.bias', 3 * C, 0.1);
    g.mat(p + 'attention.dense.weight', [C, C]);
    g.bias(p + 'attention.dense.bias', C);
    g.mat(p + 'mlp.dense_h_to_4h.weight', [d.inter, C]);
    g.bias(p + 'mlp.dense_h_to_4h.bias', d.inter);
    g.mat(p + 'mlp.dense_4h_to_h.weight', [C, d.inter]);
    g.bias(p + 'mlp.dense_4h_to_h.bias', C);
  }
  g.ln('gpt_neox.final_layer_norm', C);
  g.mat('embed_out.weight', [d.vocab, C], 0.2);
  return g.tensors;
}

interface PhiDims {
  hidden: number;
  heads: number;
  inter: number;
  layers: number;
  vocab: number;
}

function phiTensors(seed: number, dtype: DType, d: PhiDims): TensorToWrite[] {
  const g = new Gen(seed, dtype);
  const C = d.hidden;
  g.mat('model.embed_tokens.weight', [d.vocab, C], 0.2);
  for (let l = 0; l < d.layers; l++) {
    const p = `model.layers.${l}.`;
    g.ln(p + 'input_layernorm', C);
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'dense']) {
      g.mat(p + `self_attn.${n}.weight`, [C, C], n === 'q_proj' || n === 'k_proj' ? QK_STD : 0.08);
      g.bias(p + `self_attn.${n}.bias`, C, n === 'dense' ? 0.03 : 0.1);
    }
    g.mat(p + 'mlp.fc1.weight', [d.inter, C]);
    g.bias(p + 'mlp.fc1.bias', d.inter);
    g.mat(p + 'mlp.fc2.weight', [C, d.inter]);
    g.bias(p + 'mlp.fc2.bias', C);
  }
  g.ln('model.final_layernorm', C);
  g.mat('lm_head.weight', [d.vocab, C], 0.2);
  g.bias('lm_head.bias', d.vocab, 0.1);
  return g.tensors;
}

// ---------------------------------------------------------------------------------------------
// The fixtures

const STORY_TEXT = 'Once upon a time, there was a little girl named Lily.';
const BPE_TEXT = 'Once upon a time, the little dog saw a big red ball.';

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const stories = storiesTokenizer();
  const bpe = learnBpe(BPE_SAMPLE, 60);
  const gpt2Tok = byteLevelTokenizer(bpe, {
    leadingSpecials: [],
    trailingSpecials: ['<|endoftext|>'],
    tokenizerConfig: {
      add_bos_token: false,
      add_prefix_space: false,
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      clean_up_tokenization_spaces: false,
      model_max_length: 32,
      tokenizer_class: 'GPT2Tokenizer',
    },
  });
  const optTok = byteLevelTokenizer(bpe, {
    leadingSpecials: ['<s>', '<pad>', '</s>', '<unk>'],
    trailingSpecials: [],
    bosPrefix: '</s>',
    tokenizerConfig: {
      add_bos_token: true,
      add_prefix_space: false,
      bos_token: '</s>',
      eos_token: '</s>',
      pad_token: '<pad>',
      unk_token: '<unk>',
      clean_up_tokenization_spaces: false,
      model_max_length: 2048,
      tokenizer_class: 'GPT2Tokenizer',
    },
  });
  const neoxTok = byteLevelTokenizer(bpe, {
    leadingSpecials: ['<|endoftext|>', '<|padding|>'],
    trailingSpecials: [],
    tokenizerConfig: {
      add_bos_token: false,
      add_eos_token: false,
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      clean_up_tokenization_spaces: false,
      model_max_length: 2048,
      tokenizer_class: 'GPTNeoXTokenizer',
    },
  });
  const roundTrip = [BPE_TEXT, 'Hello world! 123 héllo 中文 “quotes” \n new line', BPE_SAMPLE];
  checkTokenizer('gpt2', gpt2Tok, roundTrip);
  checkTokenizer('opt', optTok, roundTrip);
  checkTokenizer('neox', neoxTok, roundTrip);
  checkTokenizer('stories', stories, [STORY_TEXT]);
  if (encode(optTok, 'a')[0] !== optTok.ids['</s>']) throw new Error('opt tokenizer does not prepend </s>');
  const padTo = (n: number, m: number) => Math.ceil(n / m) * m;

  const fixtures: Fixture[] = [];

  // --- Llama ---------------------------------------------------------------------------------
  const llamaBase = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    initializer_range: 0.02,
    attention_bias: false,
    attention_dropout: 0.0,
    mlp_bias: false,
    pretraining_tp: 1,
    use_cache: true,
    vocab_size: 512,
    num_hidden_layers: 2,
  };
  fixtures.push({
    name: 'tiny-llama',
    description: 'Llama, GQA 4 query / 2 KV heads (head_dim 8), untied lm_head, rope_theta 500000, F32.',
    config: {
      ...llamaBase,
      hidden_size: 32,
      intermediate_size: 64,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 256,
      rms_norm_eps: 1e-5,
      rope_theta: 500000.0,
      rope_scaling: null,
      tie_word_embeddings: false,
      torch_dtype: 'float32',
    },
    tensors: llamaTensors(101, 'F32', { hidden: 32, heads: 4, kvHeads: 2, inter: 64, layers: 2, vocab: 512, tied: false, qkvBias: false }),
    tokenizer: stories,
    text: STORY_TEXT,
    maxTokens: 8,
  });
  fixtures.push({
    name: 'tiny-llama-tied-bf16',
    description:
      'Llama, tied embeddings, BF16 storage, llama3 rope_scaling (factor 8, low 1, high 4, original 64), ' +
      'explicit head_dim 16 != hidden/heads (8), GQA 4/2.',
    config: {
      ...llamaBase,
      hidden_size: 32,
      intermediate_size: 64,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 16,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      rope_theta: 10000.0,
      rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64, rope_type: 'llama3' },
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
    },
    tensors: llamaTensors(202, 'BF16', { hidden: 32, heads: 4, kvHeads: 2, headDim: 16, inter: 64, layers: 2, vocab: 512, tied: true, qkvBias: false }),
    tokenizer: stories,
    text: STORY_TEXT,
    maxTokens: 8,
  });

  // --- Qwen2 ---------------------------------------------------------------------------------
  fixtures.push({
    name: 'tiny-qwen2',
    description: 'Qwen2, q/k/v biases (no o_proj bias), tied embeddings, GQA 4/2, rope_theta 1e6, F16.',
    config: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: 'silu',
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 256,
      max_window_layers: 2,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 1000000.0,
      sliding_window: 256,
      tie_word_embeddings: true,
      torch_dtype: 'float16',
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 512,
    },
    tensors: llamaTensors(303, 'F16', { hidden: 32, heads: 4, kvHeads: 2, inter: 64, layers: 2, vocab: 512, tied: true, qkvBias: true }),
    tokenizer: stories,
    text: STORY_TEXT,
    maxTokens: 8,
  });

  // --- GPT-2 ---------------------------------------------------------------------------------
  const gpt2Dims: Gpt2Dims = { embd: 32, heads: 4, layers: 2, positions: 32, vocab: gpt2Tok.size, inner: 128 };
  const gpt2Config = {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: gpt2Tok.ids['<|endoftext|>'],
    embd_pdrop: 0.1,
    eos_token_id: gpt2Tok.ids['<|endoftext|>'],
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt2',
    n_ctx: 32,
    n_embd: 32,
    n_head: 4,
    n_inner: null,
    n_layer: 2,
    n_positions: 32,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.1,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: gpt2Tok.size,
  };
  fixtures.push({
    name: 'tiny-gpt2',
    description:
      'GPT-2, names without "transformer." prefix (as the hub "gpt2" checkpoint), attn.bias / attn.masked_bias ' +
      'buffers present (masked_bias is a 0-d tensor), Conv1D weights (in, out), tied head, gelu_new, F32.',
    config: gpt2Config,
    tensors: gpt2Tensors(404, gpt2Dims, '', true),
    tokenizer: gpt2Tok,
    text: BPE_TEXT,
    maxTokens: 8,
  });
  fixtures.push({
    name: 'tiny-gpt2-sharded',
    description:
      'Same weights as tiny-gpt2 but named with the "transformer." prefix, no buffers, split over 2 shards with ' +
      'model.safetensors.index.json; tokenizer is vocab.json + merges.txt only (no tokenizer.json).',
    config: gpt2Config,
    tensors: gpt2Tensors(404, gpt2Dims, 'transformer.', false),
    shards: 2,
    tokenizer: gpt2Tok,
    tokenizerFiles: ['vocab.json', 'merges.txt'],
    text: BPE_TEXT,
    maxTokens: 8,
  });

  // --- OPT -----------------------------------------------------------------------------------
  const optVocab = padTo(optTok.size + 1, 8); // like OPT: 50265 tokens, vocab_size 50272
  const optBase = {
    _remove_final_layer_norm: false,
    activation_dropout: 0.0,
    activation_function: 'relu',
    architectures: ['OPTForCausalLM'],
    attention_dropout: 0.0,
    bos_token_id: 2,
    do_layer_norm_before: true,
    dropout: 0.1,
    enable_bias: true,
    eos_token_id: 2,
    init_std: 0.02,
    layer_norm_elementwise_affine: true,
    layerdrop: 0.0,
    max_position_embeddings: 32,
    model_type: 'opt',
    num_hidden_layers: 2,
    pad_token_id: 1,
    prefix: '</s>',
    use_cache: true,
    vocab_size: optVocab,
  };
  fixtures.push({
    name: 'tiny-opt',
    description:
      `OPT, pre-LN (do_layer_norm_before), learned positions with offset 2, names "decoder.*" without the "model." ` +
      `prefix (as facebook/opt-* checkpoints), tied head, F16; config vocab_size ${optVocab} > tokenizer size ${optTok.size}.`,
    config: {
      ...optBase,
      ffn_dim: 64,
      hidden_size: 32,
      num_attention_heads: 4,
      word_embed_proj_dim: 32,
      torch_dtype: 'float16',
    },
    tensors: optTensors(505, 'F16', { hidden: 32, embedDim: 32, heads: 4, ffn: 64, layers: 2, vocab: optVocab, positions: 32, preLN: true }, 'decoder.'),
    tokenizer: optTok,
    text: BPE_TEXT,
    maxTokens: 8,
  });
  fixtures.push({
    name: 'tiny-opt-350m-style',
    description:
      'OPT like opt-350m: post-LN (do_layer_norm_before false, so no decoder.final_layer_norm), word_embed_proj_dim 32 < ' +
      'hidden 40 with project_in / project_out, names "model.decoder.*", tied head, F32.',
    config: {
      ...optBase,
      do_layer_norm_before: false,
      ffn_dim: 40,
      hidden_size: 40,
      num_attention_heads: 4,
      word_embed_proj_dim: 32,
      torch_dtype: 'float32',
    },
    tensors: optTensors(606, 'F32', { hidden: 40, embedDim: 32, heads: 4, ffn: 40, layers: 2, vocab: optVocab, positions: 32, preLN: false }, 'model.decoder.'),
    tokenizer: optTok,
    text: BPE_TEXT,
    maxTokens: 8,
  });

  // --- GPT-NeoX ------------------------------------------------------------------------------
  const neoxVocab = padTo(neoxTok.size, 64); // like Pythia: 50277 tokens, vocab_size 50304
  const neoxBase = {
    architectures: ['GPTNeoXForCausalLM'],
    attention_bias: true,
    attention_dropout: 0.0,
    bos_token_id: 0,
    classifier_dropout: 0.1,
    eos_token_id: 0,
    hidden_act: 'gelu',
    hidden_dropout: 0.0,
    initializer_range: 0.02,
    layer_norm_eps: 1e-5,
    max_position_embeddings: 64,
    model_type: 'gpt_neox',
    num_attention_heads: 4,
    num_hidden_layers: 2,
    rope_scaling: null,
    rotary_emb_base: 10000,
    tie_word_embeddings: false,
    torch_dtype: 'float16',
    use_cache: true,
    vocab_size: neoxVocab,
  };
  fixtures.push({
    name: 'tiny-gpt-neox',
    description:
      `GPT-NeoX / Pythia, parallel residual, rotary_pct 0.25 (head_dim 16 -> 4 rotary dims), fused query_key_value ` +
      `(per-head q|k|v), exact-erf gelu, untied embed_out, attention.masked_bias and rotary_emb.inv_freq buffers, F16; ` +
      `config vocab_size ${neoxVocab} > tokenizer size ${neoxTok.size}.`,
    config: { ...neoxBase, hidden_size: 64, intermediate_size: 64, rotary_pct: 0.25, use_parallel_residual: true },
    tensors: neoxTensors(707, 'F16', { hidden: 64, heads: 4, inter: 64, layers: 2, vocab: neoxVocab, rotaryNdims: 4 }),
    tokenizer: neoxTok,
    text: BPE_TEXT,
    maxTokens: 8,
  });
  fixtures.push({
    name: 'tiny-gpt-neox-seq',
    description:
      'GPT-NeoX with use_parallel_residual false (sequential residual), hidden 32, head_dim 8, rotary_pct 0.5 ' +
      '(4 rotary dims), F16.',
    config: { ...neoxBase, hidden_size: 32, intermediate_size: 64, rotary_pct: 0.5, use_parallel_residual: false },
    tensors: neoxTensors(808, 'F16', { hidden: 32, heads: 4, inter: 64, layers: 2, vocab: neoxVocab, rotaryNdims: 4 }),
    tokenizer: neoxTok,
    text: BPE_TEXT,
    maxTokens: 8,
  });

  // --- Phi -----------------------------------------------------------------------------------
  const phiVocab = padTo(gpt2Tok.size, 64);
  fixtures.push({
    name: 'tiny-phi',
    description:
      `Phi (phi-1.5 / phi-2 layout), partial_rotary_factor 0.5 (head_dim 8 -> 4 rotary dims), one shared LayerNorm ` +
      `feeding attention and MLP in parallel, q/k/v/dense biases, gelu_new, lm_head with bias, ` +
      `num_key_value_heads null, F16; config vocab_size ${phiVocab} > tokenizer size ${gpt2Tok.size}.`,
    config: {
      architectures: ['PhiForCausalLM'],
      attention_dropout: 0.0,
      bos_token_id: gpt2Tok.ids['<|endoftext|>'],
      embd_pdrop: 0.0,
      eos_token_id: gpt2Tok.ids['<|endoftext|>'],
      hidden_act: 'gelu_new',
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 128,
      layer_norm_eps: 1e-5,
      max_position_embeddings: 64,
      model_type: 'phi',
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: null,
      partial_rotary_factor: 0.5,
      qk_layernorm: false,
      resid_pdrop: 0.1,
      rope_scaling: null,
      rope_theta: 10000.0,
      tie_word_embeddings: false,
      torch_dtype: 'float16',
      use_cache: true,
      vocab_size: phiVocab,
    },
    tensors: phiTensors(909, 'F16', { hidden: 32, heads: 4, inter: 128, layers: 2, vocab: phiVocab }),
    tokenizer: gpt2Tok,
    text: BPE_TEXT,
    maxTokens: 8,
  });

  // --- The same models with the config as transformers 5 writes it -----------------------------
  // rope_theta / rope_scaling / partial_rotary_factor / rotary_pct / rotary_emb_base move into one
  // rope_parameters object, torch_dtype becomes dtype; the weights are the twin's, so the logits
  // must be the twin's too.
  for (const [twin, keepTop] of [
    ['tiny-llama', []],
    ['tiny-llama-tied-bf16', []],
    ['tiny-qwen2', []],
    ['tiny-gpt-neox', []],
    // PhiConfig 5.x writes its top-level partial_rotary_factor beside the one in rope_parameters.
    ['tiny-phi', ['partial_rotary_factor']],
  ] as const) {
    const f = fixtures.find((x) => x.name === twin)!;
    fixtures.push({
      ...f,
      name: `${twin}-v5`,
      description: `${f.name} with its config.json in the transformers 5 form (rope_parameters, dtype); same weights and logits.`,
      config: transformers5Config(f.config, keepTop),
    });
  }

  let total = 0;
  for (const f of fixtures) {
    const r = writeFixture(f);
    total += r.bytes;
    console.log(`${r.name.padEnd(22)} ${(r.bytes / 1024).toFixed(1).padStart(7)} KiB  ${r.files.join(' ')}`);
  }
  console.log(`total ${(total / 1024).toFixed(1)} KiB`);
}

main();
