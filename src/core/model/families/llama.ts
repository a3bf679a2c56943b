// Llama (and Qwen2, which is Llama with q/k/v biases): RMSNorm, rotate_half RoPE over the whole
// head, GQA, SwiGLU MLP, tied or untied head. HF: models/llama/modeling_llama.py, qwen2/.
import type { ConfigFields } from '../config';
import { dropoutFields, readRope, ropeInvFreq } from '../config';
import type { ModelSpec } from '../spec';
import { type FamilyDef, type TensorPlan, layerCount, linear, norm, same, uniformScale } from './common';

function llamaSpec(c: ConfigFields, names: Set<string>, family: 'llama' | 'qwen2'): ModelSpec {
  const hidden = c.dim('hidden_size');
  const nHeads = c.dim('num_attention_heads');
  const nKvHeads = c.dim('num_key_value_heads', nHeads);
  // transformers: head_dim from the config when given (Qwen2 reads it with getattr), else hidden / heads.
  const headDim = c.dim('head_dim', Math.floor(hidden / nHeads));
  const nLayers = layerCount(c, 'num_hidden_layers', names);
  if (nHeads % nKvHeads !== 0) c.unsupported(`num_attention_heads ${nHeads} not divisible by num_key_value_heads ${nKvHeads}`);
  const act = c.str('hidden_act', 'silu');
  if (act !== 'silu') c.unsupported(`hidden_act "${act}" (llama-style MLPs use silu)`);
  if (family === 'qwen2') {
    // Qwen2 uses a sliding window only when use_sliding_window is set, on the layers from max_window_layers on.
    if (c.bool('use_sliding_window', false)) c.unsupported('use_sliding_window = true (sliding-window attention)');
    c.get('sliding_window');
    c.get('max_window_layers');
    const types = c.get('layer_types');
    if (types !== undefined) {
      if (!Array.isArray(types)) c.unsupported(`layer_types that is not a list`);
      const other = types.find((t) => t !== 'full_attention');
      if (other !== undefined) c.unsupported(`layer_types entry ${JSON.stringify(other)?.slice(0, 40)} (only "full_attention" is implemented)`);
    }
  }
  const rope = readRope(c, { theta: ['rope_theta'], partial: ['partial_rotary_factor'], partialDefault: 1, wholeHead: true });
  // HF: a tied head reads embed_tokens even when the checkpoint also stores lm_head.weight.
  const tied = c.bool('tie_word_embeddings', false);
  return {
    family,
    architecture: family === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM',
    vocabSize: c.dim('vocab_size'),
    hidden,
    embedDim: hidden,
    nLayers,
    nHeads,
    nKvHeads,
    headDim,
    ffn: c.dim('intermediate_size'),
    norm: 'rms',
    normEps: c.num('rms_norm_eps', 1e-6),
    act: 'silu',
    gatedMlp: true,
    position: 'rope',
    rotaryDim: headDim,
    ropeInvFreq: ropeInvFreq(rope, headDim),
    rope,
    positionOffset: 0,
    maxPositions: c.dim('max_position_embeddings', 2048),
    parallelResidual: false,
    sharedNorm: false,
    preNorm: true,
    finalNorm: true,
    tiedEmbeddings: tied,
    attnScale: uniformScale(nLayers, headDim),
    bosTokenId: c.optId('bos_token_id'),
    eosTokenId: c.optId('eos_token_id'),
    // llama: attention_bias gives q/k/v/o biases, mlp_bias gate/up/down; qwen2: q/k/v always.
    bias: family === 'llama'
      ? { qkv: c.bool('attention_bias', false), o: c.bool('attention_bias', false), mlp: c.bool('mlp_bias', false) }
      : { qkv: true, o: false, mlp: false },
    dtype: 'F32',
    configDtype: null,
  };
}

function llamaPlan(s: ModelSpec): TensorPlan[] {
  const plans: TensorPlan[] = [];
  const H = s.hidden, D = s.headDim, b = s.bias;
  plans.push(same('model.embed_tokens.weight', 'embed.tokens', [s.vocabSize, H]));
  for (let i = 0; i < s.nLayers; i++) {
    const hf = `model.layers.${i}.`, c = `layers.${i}.`;
    norm(plans, hf + 'input_layernorm', c + 'attn_norm', H, false);
    linear(plans, hf + 'self_attn.q_proj', c + 'attn.q', s.nHeads * D, H, b.qkv);
    linear(plans, hf + 'self_attn.k_proj', c + 'attn.k', s.nKvHeads * D, H, b.qkv);
    linear(plans, hf + 'self_attn.v_proj', c + 'attn.v', s.nKvHeads * D, H, b.qkv);
    linear(plans, hf + 'self_attn.o_proj', c + 'attn.o', H, s.nHeads * D, b.o);
    norm(plans, hf + 'post_attention_layernorm', c + 'mlp_norm', H, false);
    linear(plans, hf + 'mlp.gate_proj', c + 'mlp.gate', s.ffn, H, b.mlp);
    linear(plans, hf + 'mlp.up_proj', c + 'mlp.up', s.ffn, H, b.mlp);
    linear(plans, hf + 'mlp.down_proj', c + 'mlp.down', H, s.ffn, b.mlp);
  }
  norm(plans, 'model.norm', 'final_norm', H, false);
  if (!s.tiedEmbeddings) plans.push(same('lm_head.weight', 'head.weight', [s.vocabSize, H]));
  return plans;
}

const TP = 'tensor-parallel slicing of the same products (transformers 5 ignores it)';

export const llama: FamilyDef = {
  family: 'llama',
  modelTypes: ['llama'],
  fields: {
    configClass: 'LlamaConfig',
    reads: [
      'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
      'head_dim', 'hidden_act', 'max_position_embeddings', 'rms_norm_eps', 'tie_word_embeddings', 'rope_parameters',
      'rope_scaling', 'rope_theta', 'partial_rotary_factor', 'attention_bias', 'mlp_bias', 'bos_token_id', 'eos_token_id',
    ],
    harmless: { ...dropoutFields('attention_dropout'), pretraining_tp: TP },
  },
  spec: (c, n) => llamaSpec(c, n, 'llama'),
  plan: llamaPlan,
};

export const qwen2: FamilyDef = {
  family: 'qwen2',
  modelTypes: ['qwen2'],
  fields: {
    configClass: 'Qwen2Config',
    reads: [
      'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
      'head_dim', 'hidden_act', 'max_position_embeddings', 'rms_norm_eps', 'tie_word_embeddings', 'rope_parameters',
      'rope_scaling', 'rope_theta', 'partial_rotary_factor', 'use_sliding_window', 'sliding_window', 'max_window_layers',
      'layer_types', 'bos_token_id', 'eos_token_id',
    ],
    harmless: { ...dropoutFields('attention_dropout'), use_mrope: 'multimodal rotary sections (Qwen2-VL); the text model ignores it' },
  },
  spec: (c, n) => llamaSpec(c, n, 'qwen2'),
  plan: llamaPlan,
};
