// OPT: learned positions with offset 2, q/k/v/out biases, ReLU MLP (fc1, fc2), pre-LN
// (do_layer_norm_before) or post-LN (opt-350m), project_in/project_out when
// word_embed_proj_dim != hidden_size, tied head. HF: models/opt/modeling_opt.py.
import type { ConfigFields } from '../config';
import { dropoutFields } from '../config';
import type { ModelSpec } from '../spec';
import { activation } from './gpt2';
import { type FamilyDef, type TensorPlan, findPrefix, layerCount, linear, norm, same, uniformScale } from './common';

function spec(c: ConfigFields, names: Set<string>): ModelSpec {
  const H = c.dim('hidden_size');
  const nHeads = c.dim('num_attention_heads');
  const nLayers = layerCount(c, 'num_hidden_layers', names);
  const D = H / nHeads;
  if (!Number.isInteger(D)) c.unsupported(`hidden_size ${H} not divisible by num_attention_heads ${nHeads}`);
  const pre = c.bool('do_layer_norm_before', true);
  if (!c.bool('layer_norm_elementwise_affine', true)) c.unsupported('layer_norm_elementwise_affine = false');
  const bias = c.bool('enable_bias', true);
  return {
    family: 'opt',
    architecture: 'OPTForCausalLM',
    vocabSize: c.dim('vocab_size'),
    hidden: H,
    embedDim: c.dim('word_embed_proj_dim', H),
    nLayers,
    nHeads,
    nKvHeads: nHeads,
    headDim: D,
    ffn: c.dim('ffn_dim'),
    norm: 'layer',
    normEps: 1e-5,
    act: activation(c, 'activation_function', 'relu'),
    gatedMlp: false,
    position: 'learned',
    rotaryDim: 0,
    ropeInvFreq: [],
    rope: null,
    bias: { qkv: bias, o: bias, mlp: bias },
    positionOffset: 2,
    maxPositions: c.dim('max_position_embeddings', 2048),
    parallelResidual: false,
    sharedNorm: false,
    preNorm: pre,
    finalNorm: pre && !c.bool('_remove_final_layer_norm', false),
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    attnScale: uniformScale(nLayers, D),
    bosTokenId: c.optId('bos_token_id'),
    eosTokenId: c.optId('eos_token_id'),
    dtype: 'F32',
    configDtype: null,
  };
}

function plan(s: ModelSpec, names: Set<string>): TensorPlan[] {
  const p = findPrefix(names, ['model.decoder.', 'decoder.'], 'embed_tokens.weight', 'OPT');
  const H = s.hidden, E = s.embedDim, F = s.ffn, b = s.bias;
  const plans: TensorPlan[] = [
    same(`${p}embed_tokens.weight`, 'embed.tokens', [s.vocabSize, E]),
    same(`${p}embed_positions.weight`, 'embed.positions', [s.maxPositions + s.positionOffset, H]),
  ];
  if (E !== H) plans.push(same(`${p}project_in.weight`, 'embed.project_in', [H, E]));
  for (let i = 0; i < s.nLayers; i++) {
    const hf = `${p}layers.${i}.`, c = `layers.${i}.`;
    norm(plans, hf + 'self_attn_layer_norm', c + 'attn_norm', H, true);
    linear(plans, hf + 'self_attn.q_proj', c + 'attn.q', H, H, b.qkv);
    linear(plans, hf + 'self_attn.k_proj', c + 'attn.k', H, H, b.qkv);
    linear(plans, hf + 'self_attn.v_proj', c + 'attn.v', H, H, b.qkv);
    linear(plans, hf + 'self_attn.out_proj', c + 'attn.o', H, H, b.o);
    norm(plans, hf + 'final_layer_norm', c + 'mlp_norm', H, true);
    linear(plans, hf + 'fc1', c + 'mlp.up', F, H, b.mlp);
    linear(plans, hf + 'fc2', c + 'mlp.down', H, F, b.mlp);
  }
  if (s.finalNorm) norm(plans, `${p}final_layer_norm`, 'final_norm', H, true);
  if (E !== H) plans.push(same(`${p}project_out.weight`, 'head.project_out', [E, H]));
  if (!s.tiedEmbeddings) plans.push(same('lm_head.weight', 'head.weight', [s.vocabSize, E]));
  return plans;
}

export const opt: FamilyDef = {
  family: 'opt',
  modelTypes: ['opt'],
  fields: {
    configClass: 'OPTConfig',
    reads: [
      'vocab_size', 'hidden_size', 'num_hidden_layers', 'ffn_dim', 'max_position_embeddings', 'do_layer_norm_before',
      '_remove_final_layer_norm', 'word_embed_proj_dim', 'num_attention_heads', 'activation_function', 'enable_bias',
      'layer_norm_elementwise_affine', 'tie_word_embeddings', 'bos_token_id', 'eos_token_id',
    ],
    harmless: {
      ...dropoutFields('dropout', 'attention_dropout', 'activation_dropout', 'layerdrop'),
      init_std: 'the initialisation of new weights; loaded weights are used as they are',
    },
  },
  spec,
  plan,
};
