// Phi (phi-1, phi-1.5, phi-2; HF model_type "phi"): one LayerNorm feeding attention and MLP in
// parallel, h = x + attn(ln(x)) + mlp(ln(x)); partial rotary (partial_rotary_factor, rotate_half);
// q/k/v/dense and fc1/fc2 with biases; final_layernorm; lm_head with bias.
// HF: models/phi/modeling_phi.py.
import type { ConfigFields } from '../config';
import { dropoutFields, readRope, ropeInvFreq, rotaryDims } from '../config';
import type { ModelSpec } from '../spec';
import { activation } from './gpt2';
import { type FamilyDef, type TensorPlan, layerCount, linear, norm, same, uniformScale } from './common';

function spec(c: ConfigFields, names: Set<string>): ModelSpec {
  const H = c.dim('hidden_size');
  const nHeads = c.dim('num_attention_heads');
  const nKvHeads = c.dim('num_key_value_heads', nHeads);
  const nLayers = layerCount(c, 'num_hidden_layers', names);
  const D = H / nHeads;
  if (!Number.isInteger(D)) c.unsupported(`hidden_size ${H} not divisible by num_attention_heads ${nHeads}`);
  if (nHeads % nKvHeads !== 0) c.unsupported(`num_attention_heads ${nHeads} not divisible by num_key_value_heads ${nKvHeads}`);
  if (c.bool('qk_layernorm', false)) c.unsupported('qk_layernorm = true');
  const rope = readRope(c, { theta: ['rope_theta'], partial: ['partial_rotary_factor'], partialDefault: 0.5, wholeHead: false });
  const rotaryDim = rotaryDims(c, rope, D);
  return {
    family: 'phi',
    architecture: 'PhiForCausalLM',
    vocabSize: c.dim('vocab_size'),
    hidden: H,
    embedDim: H,
    nLayers,
    nHeads,
    nKvHeads,
    headDim: D,
    ffn: c.dim('intermediate_size'),
    norm: 'layer',
    normEps: c.num('layer_norm_eps', 1e-5),
    act: activation(c, 'hidden_act', 'gelu_new'),
    gatedMlp: false,
    position: 'rope',
    rotaryDim,
    ropeInvFreq: ropeInvFreq(rope, rotaryDim),
    rope,
    bias: { qkv: true, o: true, mlp: true },
    positionOffset: 0,
    maxPositions: c.dim('max_position_embeddings', 2048),
    parallelResidual: true,
    sharedNorm: true,
    preNorm: true,
    finalNorm: true,
    tiedEmbeddings: c.bool('tie_word_embeddings', false),
    attnScale: uniformScale(nLayers, D),
    bosTokenId: c.optId('bos_token_id'),
    eosTokenId: c.optId('eos_token_id'),
    dtype: 'F32',
    configDtype: null,
  };
}

function plan(s: ModelSpec): TensorPlan[] {
  const H = s.hidden, F = s.ffn, D = s.headDim;
  const plans: TensorPlan[] = [same('model.embed_tokens.weight', 'embed.tokens', [s.vocabSize, H])];
  for (let i = 0; i < s.nLayers; i++) {
    const hf = `model.layers.${i}.`, c = `layers.${i}.`;
    norm(plans, hf + 'input_layernorm', c + 'attn_norm', H, true);
    linear(plans, hf + 'self_attn.q_proj', c + 'attn.q', s.nHeads * D, H, true);
    linear(plans, hf + 'self_attn.k_proj', c + 'attn.k', s.nKvHeads * D, H, true);
    linear(plans, hf + 'self_attn.v_proj', c + 'attn.v', s.nKvHeads * D, H, true);
    linear(plans, hf + 'self_attn.dense', c + 'attn.o', H, s.nHeads * D, true);
    linear(plans, hf + 'mlp.fc1', c + 'mlp.up', F, H, true);
    linear(plans, hf + 'mlp.fc2', c + 'mlp.down', H, F, true);
  }
  norm(plans, 'model.final_layernorm', 'final_norm', H, true);
  if (!s.tiedEmbeddings) plans.push(same('lm_head.weight', 'head.weight', [s.vocabSize, H]));
  // PhiForCausalLM's lm_head always has a bias, tied weight or not.
  plans.push(same('lm_head.bias', 'head.bias', [s.vocabSize]));
  return plans;
}

export const phi: FamilyDef = {
  family: 'phi',
  modelTypes: ['phi'],
  fields: {
    configClass: 'PhiConfig',
    reads: [
      'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
      'hidden_act', 'max_position_embeddings', 'layer_norm_eps', 'tie_word_embeddings', 'rope_parameters', 'rope_scaling',
      'rope_theta', 'partial_rotary_factor', 'qk_layernorm', 'bos_token_id', 'eos_token_id',
    ],
    harmless: dropoutFields('resid_pdrop', 'embd_pdrop', 'attention_dropout'),
  },
  spec,
  plan,
};
