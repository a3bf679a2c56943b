// A model as llama.cpp's GGUF: the metadata each of its architectures reads, the tensors under
// llama.cpp's names, built from the engine's canonical tensors (model/spec.ts), so the pruned
// zeros are written as they are. F32, or F16 for every 2-D tensor (norms, biases and learned
// positions stay F32, as llama.cpp's converter writes them).
//
// family   → llama.cpp architecture, and what changes on the way
//   llama  → "llama":   q/k rows permuted per head from rotate_half to llama.cpp's interleaved
//                       pairs (its rope for this architecture); llama3 rope scaling as the
//                       rope_freqs tensor (the per-frequency divisors); tied head: no output tensor
//   qwen2  → "qwen2":   as it is (rotate_half rope); as "llama" (permuted) when heads × head_dim
//                       differs from the hidden size or the rope is llama3, which "qwen2" cannot say
//   gpt2   → "gpt2":    q | k | v fused into attn_qkv; learned positions
//   gpt_neox → "gptneox": q | k | v fused (llama.cpp's order, not the per-head interleave of the
//                       checkpoint); partial rotary; parallel or sequential residual
//   phi    → "phi2":    separate q/k/v with biases; the head's bias; no ffn_norm (one shared norm)
//   opt    → refused:   llama.cpp has no OPT architecture (ReLU, positions offset by 2, post-LN)
// What llama.cpp computes differently is refused (gpt2's attention scaled by layer index, an
// activation its architecture does not use) or said in the notes (its GELU is the tanh form, so a
// model trained with the exact erf GELU runs with a slightly different activation).
import { UnsupportedArchitecture } from '../errors';
import { concat } from '../model/families/common';
import type { ModelSpec } from '../model/spec';
import { ropeInvFreq } from '../model/config';
import { ggufTokenizerMeta, type TokenizerFiles } from './gguf-tokenizer';
import type { GgufTensor, GgufType, GgufValue } from './gguf-writer';

export interface GgufSource {
  spec: ModelSpec;
  /** general.name */
  name: string;
  /** A canonical tensor's current values (f32, row-major in its canonical shape). */
  read(canonical: string): Promise<Float32Array>;
  tokenizer: TokenizerFiles;
}

export interface GgufModel {
  architecture: string;
  meta: Array<[string, GgufValue]>;
  tensors: GgufTensor[];
  /** What a user should know about the file (how llama.cpp will differ, if at all). */
  notes: string[];
}

/** Rows of a (heads·D, cols) matrix reordered per head from rotate_half halves to interleaved pairs. */
export function permuteRotary(data: Float32Array, heads: number, cols: number): Float32Array {
  const D = data.length / (heads * cols);
  const half = D / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      out.set(data.subarray((h * D + j) * cols, (h * D + j + 1) * cols), (h * D + 2 * j) * cols);
      out.set(data.subarray((h * D + half + j) * cols, (h * D + half + j + 1) * cols), (h * D + 2 * j + 1) * cols);
    }
  }
  return out;
}

function architectureOf(s: ModelSpec): string {
  switch (s.family) {
    case 'llama':
      return 'llama';
    case 'qwen2':
      return s.nHeads * s.headDim !== s.hidden || s.rope?.type === 'llama3' ? 'llama' : 'qwen2';
    case 'gpt2':
      return 'gpt2';
    case 'gpt_neox':
      return 'gptneox';
    case 'phi':
      return 'phi2';
    case 'opt':
      throw new UnsupportedArchitecture(
        'GGUF export: llama.cpp has no OPT architecture (ReLU MLPs, learned positions offset by 2, project_in/out), so an OPT model cannot run there. Export it as a Hugging Face folder (transformers, vLLM) instead.',
      );
  }
}

/** What llama.cpp would compute differently for this model, refused before any work. */
function check(s: ModelSpec, arch: string, notes: string[]): void {
  const family = `${s.family} (llama.cpp architecture "${arch}")`;
  if (arch === 'gpt2' || arch === 'gptneox' || arch === 'phi2') {
    if (s.act === 'gelu') notes.push(`llama.cpp computes GELU in its tanh form; this ${s.family} model uses the exact (erf) GELU, so its logits differ slightly there (about 1e-3).`);
    else if (s.act !== 'gelu_new') throw new UnsupportedArchitecture(`GGUF export: llama.cpp's ${family} uses a GELU MLP, but this model's activation is ${s.act}.`);
  }
  if (arch === 'gpt2') {
    const expected = 1 / Math.sqrt(s.headDim);
    if (s.attnScale.some((a) => Math.abs(a - expected) > 1e-12)) throw new UnsupportedArchitecture('GGUF export: llama.cpp scales GPT-2 attention by 1/sqrt(head_dim) only (this config sets scale_attn_by_inverse_layer_idx or turns scale_attn_weights off).');
  }
  if (s.rope?.type === 'llama3' && arch !== 'llama') throw new UnsupportedArchitecture(`GGUF export: llama3 rope scaling is written for llama.cpp's "llama" architecture only, not for ${family}.`);
  if (arch === 'llama' && s.rotaryDim !== s.headDim) throw new UnsupportedArchitecture(`GGUF export: llama.cpp's "llama" rotates whole heads; this model rotates ${s.rotaryDim} of ${s.headDim} dimensions.`);
  if ((arch === 'gpt2' || arch === 'gptneox' || arch === 'phi2' || arch === 'qwen2') && s.nHeads * s.headDim !== s.hidden) {
    throw new UnsupportedArchitecture(`GGUF export: llama.cpp's ${family} needs heads × head_dim = hidden size (${s.nHeads} × ${s.headDim} ≠ ${s.hidden}).`);
  }
}

/** The GGUF metadata and tensors of a model, in F32 or F16. */
export function ggufModel(src: GgufSource, fileType: GgufType): GgufModel {
  const s = src.spec;
  const arch = architectureOf(s);
  const notes: string[] = [];
  check(s, arch, notes);
  const a = (k: string) => `${arch}.${k}`;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const meta: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'str', value: arch }],
    ['general.name', { type: 'str', value: src.name }],
    ['general.file_type', u32(fileType === 'F16' ? 1 : 0)],
    ['general.quantization_version', u32(2)],
    [a('context_length'), u32(s.maxPositions)],
    [a('embedding_length'), u32(s.hidden)],
    [a('block_count'), u32(s.nLayers)],
    [a('feed_forward_length'), u32(s.ffn)],
    [a('attention.head_count'), u32(s.nHeads)],
    [a('attention.head_count_kv'), u32(s.nKvHeads)],
    [a('vocab_size'), u32(s.vocabSize)],
  ];
  if (s.norm === 'rms') meta.push([a('attention.layer_norm_rms_epsilon'), f32(s.normEps)]);
  else meta.push([a('attention.layer_norm_epsilon'), f32(s.normEps)]);
  if (arch === 'llama') meta.push([a('attention.key_length'), u32(s.headDim)], [a('attention.value_length'), u32(s.headDim)]);
  if (s.rope) {
    meta.push([a('rope.dimension_count'), u32(s.rotaryDim)], [a('rope.freq_base'), f32(s.rope.theta)]);
    if (s.rope.type === 'linear') meta.push([a('rope.scaling.type'), { type: 'str', value: 'linear' }], [a('rope.scaling.factor'), f32(s.rope.factor!)]);
  }
  if (arch === 'gptneox') meta.push([a('use_parallel_residual'), { type: 'bool', value: s.parallelResidual }]);
  meta.push(...ggufTokenizerMeta(src.tokenizer, { vocabSize: s.vocabSize, bosTokenId: s.bosTokenId, eosTokenId: s.eosTokenId }));

  const tensors: GgufTensor[] = [];
  // 2-D tensors take the file's type; 1-D ones (norms, biases, rope factors) and positions stay F32.
  const add = (name: string, shape: number[], data: () => Promise<Float32Array>, forceF32 = false) =>
    tensors.push({ name, shape, type: shape.length >= 2 && !forceF32 ? fileType : 'F32', data });
  const read = (n: string) => () => src.read(n);
  const zeros = (n: number) => async () => new Float32Array(n);
  const H = s.hidden, D = s.headDim, V = s.vocabSize, F = s.ffn;
  const qRows = s.nHeads * D, kvRows = s.nKvHeads * D;
  const permuted = arch === 'llama';

  add('token_embd.weight', [V, s.embedDim], read('embed.tokens'));
  if (s.position === 'learned') add('position_embd.weight', [s.maxPositions, H], read('embed.positions'), true);
  add('output_norm.weight', [H], read('final_norm.weight'));
  if (s.norm === 'layer') add('output_norm.bias', [H], read('final_norm.bias'));
  // llama, qwen2 and gpt2 read token_embd for a missing output; gptneox and phi2 need it written.
  if (!s.tiedEmbeddings) add('output.weight', [V, H], read('head.weight'));
  else if (arch === 'gptneox' || arch === 'phi2') add('output.weight', [V, H], read('embed.tokens'));
  if (arch === 'phi2') add('output.bias', [V], read('head.bias'));
  if (s.rope?.type === 'llama3') {
    // llama.cpp divides each rotary frequency by rope_freqs[i]: the plain frequency over the scaled one.
    const plain = ropeInvFreq({ ...s.rope, type: 'default' }, s.rotaryDim);
    add('rope_freqs.weight', [s.rotaryDim / 2], async () => Float32Array.from(plain, (f, i) => f / s.ropeInvFreq[i]));
  }

  for (let i = 0; i < s.nLayers; i++) {
    const c = `layers.${i}.`, g = `blk.${i}.`;
    add(`${g}attn_norm.weight`, [H], read(c + 'attn_norm.weight'));
    if (s.norm === 'layer') add(`${g}attn_norm.bias`, [H], read(c + 'attn_norm.bias'));
    if (arch === 'gpt2' || arch === 'gptneox') {
      add(`${g}attn_qkv.weight`, [qRows + 2 * kvRows, H], async () => concat(await Promise.all(['q', 'k', 'v'].map((x) => src.read(`${c}attn.${x}.weight`)))));
      // gptneox requires the bias; a model without one (attention_bias false) gets zeros, which are exact.
      add(
        `${g}attn_qkv.bias`,
        [qRows + 2 * kvRows],
        s.bias.qkv ? async () => concat(await Promise.all(['q', 'k', 'v'].map((x) => src.read(`${c}attn.${x}.bias`)))) : zeros(qRows + 2 * kvRows),
      );
    } else {
      for (const [x, rows, heads] of [['q', qRows, s.nHeads], ['k', kvRows, s.nKvHeads], ['v', kvRows, s.nKvHeads]] as const) {
        const perm = permuted && x !== 'v';
        add(`${g}attn_${x}.weight`, [rows, H], async () => (perm ? permuteRotary(await src.read(`${c}attn.${x}.weight`), heads, H) : src.read(`${c}attn.${x}.weight`)));
        if (s.bias.qkv) add(`${g}attn_${x}.bias`, [rows], async () => (perm ? permuteRotary(await src.read(`${c}attn.${x}.bias`), heads, 1) : src.read(`${c}attn.${x}.bias`)));
      }
    }
    add(`${g}attn_output.weight`, [H, qRows], read(c + 'attn.o.weight'));
    if (s.bias.o) add(`${g}attn_output.bias`, [H], read(c + 'attn.o.bias'));
    else if (arch === 'gptneox') add(`${g}attn_output.bias`, [H], zeros(H));
    if (!s.sharedNorm) {
      add(`${g}ffn_norm.weight`, [H], read(c + 'mlp_norm.weight'));
      if (s.norm === 'layer') add(`${g}ffn_norm.bias`, [H], read(c + 'mlp_norm.bias'));
    }
    if (s.gatedMlp) add(`${g}ffn_gate.weight`, [F, H], read(c + 'mlp.gate.weight'));
    add(`${g}ffn_up.weight`, [F, H], read(c + 'mlp.up.weight'));
    add(`${g}ffn_down.weight`, [H, F], read(c + 'mlp.down.weight'));
    if (s.bias.mlp) {
      if (s.gatedMlp) add(`${g}ffn_gate.bias`, [F], read(c + 'mlp.gate.bias'));
      add(`${g}ffn_up.bias`, [F], read(c + 'mlp.up.bias'));
      add(`${g}ffn_down.bias`, [H], read(c + 'mlp.down.bias'));
    }
  }
  if (s.family === 'qwen2' && arch === 'llama') notes.push('Written as llama.cpp\'s "llama" architecture (q/k rows permuted), since "qwen2" cannot describe heads × head_dim ≠ hidden size or llama3 rope scaling.');
  return { architecture: arch, meta, tensors, notes };
}
