// GPT-NeoX (Pythia): fused query_key_value whose output rows are grouped per head as
// [q_h | k_h | v_h] (head_dim rows each), partial rotary (rotary_pct of each head, rotate_half),
// parallel residual x + attn(ln1(x)) + mlp(ln2(x)) by default, exact-erf gelu, untied embed_out.
// HF: models/gpt_neox/modeling_gpt_neox.py.
import type { ConfigFields } from '../config';
import { dropoutFields, readRope, ropeInvFreq, rotaryDims } from '../config';
import type { ModelSpec } from '../spec';
import { activation } from './gpt2';
import { type FamilyDef, type TensorPlan, layerCount, linear, norm, same, uniformScale } from './common';

function spec(c: ConfigFields, names: Set<string>): ModelSpec {
  const H = c.dim('hidden_size');
  const nHeads = c.dim('num_attention_heads');
  const nLayers = layerCount(c, 'num_hidden_layers', names);
  const D = H / nHeads;
  if (!Number.isInteger(D)) c.unsupported(`hidden_size ${H} not divisible by num_attention_heads ${nHeads}`);
  // transformers 4 wrote rotary_emb_base / rotary_pct (some versions also rope_theta /
  // partial_rotary_factor); transformers 5 writes them inside rope_parameters.
  const rope = readRope(c, { theta: ['rotary_emb_base', 'rope_theta'], partial: ['rotary_pct', 'partial_rotary_factor'], partialDefault: 0.25, wholeHead: false });
  const rotaryDim = rotaryDims(c, rope, D);
  const attnBias = c.bool('attention_bias', true);
  return {
    family: 'gpt_neox',
    architecture: 'GPTNeoXForCausalLM',
    vocabSize: c.dim('vocab_size'),
    hidden: H,
    embedDim: H,
    nLayers,
    nHeads,
    nKvHeads: nHeads,
    headDim: D,
    ffn: c.dim('intermediate_size'),
    norm: 'layer',
    normEps: c.num('layer_norm_eps', 1e-5),
    act: activation(c, 'hidden_act', 'gelu'),
    gatedMlp: false,
    position: 'rope',
    rotaryDim,
    ropeInvFreq: ropeInvFreq(rope, rotaryDim),
    rope,
    bias: { qkv: attnBias, o: attnBias, mlp: true },
    positionOffset: 0,
    maxPositions: c.dim('max_position_embeddings', 2048),
    parallelResidual: c.bool('use_parallel_residual', true),
    sharedNorm: false,
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

/** Rows of the fused (3H, ·) tensor regrouped from per-head [q|k|v] into q | k | v. */
function splitHeads(d: Float32Array, nHeads: number, D: number, cols: number): Float32Array[] {
  const H = nHeads * D;
  const out = [0, 1, 2].map(() => new Float32Array(H * cols));
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < 3; j++) {
      const src = (h * 3 + j) * D * cols;
      out[j].set(d.subarray(src, src + D * cols), h * D * cols);
    }
  }
  return out;
}

/** Inverse of splitHeads: q | k | v back into per-head [q_h | k_h | v_h] rows. */
function joinHeads(parts: Float32Array[], nHeads: number, D: number, cols: number): Float32Array {
  const out = new Float32Array(3 * nHeads * D * cols);
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < 3; j++) {
      out.set(parts[j].subarray(h * D * cols, (h + 1) * D * cols), (h * 3 + j) * D * cols);
    }
  }
  return out;
}

function plan(s: ModelSpec): TensorPlan[] {
  const H = s.hidden, F = s.ffn, D = s.headDim;
  const plans: TensorPlan[] = [same('gpt_neox.embed_in.weight', 'embed.tokens', [s.vocabSize, H])];
  for (let i = 0; i < s.nLayers; i++) {
    const hf = `gpt_neox.layers.${i}.`, c = `layers.${i}.`;
    norm(plans, hf + 'input_layernorm', c + 'attn_norm', H, true);
    plans.push({
      hf: hf + 'attention.query_key_value.weight',
      hfShape: [3 * H, H],
      outputs: ['q', 'k', 'v'].map((n) => ({ name: `${c}attn.${n}.weight`, shape: [H, H] })),
      split: (d) => splitHeads(d, s.nHeads, D, H),
      merge: (p) => joinHeads(p, s.nHeads, D, H),
    });
    if (s.bias.qkv) {
      plans.push({
        hf: hf + 'attention.query_key_value.bias',
        hfShape: [3 * H],
        outputs: ['q', 'k', 'v'].map((n) => ({ name: `${c}attn.${n}.bias`, shape: [H] })),
        split: (d) => splitHeads(d, s.nHeads, D, 1),
        merge: (p) => joinHeads(p, s.nHeads, D, 1),
      });
    }
    linear(plans, hf + 'attention.dense', c + 'attn.o', H, H, s.bias.o);
    norm(plans, hf + 'post_attention_layernorm', c + 'mlp_norm', H, true);
    linear(plans, hf + 'mlp.dense_h_to_4h', c + 'mlp.up', F, H, true);
    linear(plans, hf + 'mlp.dense_4h_to_h', c + 'mlp.down', H, F, true);
  }
  norm(plans, 'gpt_neox.final_layer_norm', 'final_norm', H, true);
  if (!s.tiedEmbeddings) plans.push(same('embed_out.weight', 'head.weight', [s.vocabSize, H]));
  return plans;
}

export const gptNeox: FamilyDef = {
  family: 'gpt_neox',
  modelTypes: ['gpt_neox'],
  fields: {
    configClass: 'GPTNeoXConfig',
    reads: [
      'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act',
      'max_position_embeddings', 'layer_norm_eps', 'tie_word_embeddings', 'use_parallel_residual', 'rope_parameters',
      'rope_scaling', 'rotary_emb_base', 'rope_theta', 'rotary_pct', 'partial_rotary_factor', 'attention_bias',
      'bos_token_id', 'eos_token_id',
    ],
    harmless: {
      ...dropoutFields('attention_dropout', 'hidden_dropout'),
      classifier_dropout: 'dropout of a classification head',
    },
  },
  spec,
  plan,
};
