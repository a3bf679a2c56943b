// GPT-2: LayerNorm, learned positions, Conv1D weights stored (in, out), fused c_attn (C, 3C)
// whose output columns are q | k | v, gelu_new, tied head. HF: models/gpt2/modeling_gpt2.py.
// The hub's own "gpt2" checkpoint has no "transformer." prefix; exports from GPT2LMHeadModel do.
import type { ConfigFields } from '../config';
import { dropoutFields } from '../config';
import type { Activation, ModelSpec } from '../spec';
import { type FamilyDef, type TensorPlan, concat, findPrefix, layerCount, same, transpose, transposed } from './common';

export function activation(c: ConfigFields, key: string, fallback: string): Activation {
  const a = c.str(key, fallback);
  switch (a) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_new';
    case 'gelu':
      return 'gelu';
    case 'relu':
      return 'relu';
    case 'silu':
    case 'swish':
      return 'silu';
    default:
      return c.unsupported(`activation "${a.slice(0, 40)}" (supported: gelu_new, gelu_pytorch_tanh, gelu, relu, silu)`);
  }
}

function spec(c: ConfigFields, names: Set<string>): ModelSpec {
  const H = c.dim('n_embd');
  const nHeads = c.dim('n_head');
  const nLayers = layerCount(c, 'n_layer', names);
  const D = H / nHeads;
  if (!Number.isInteger(D)) c.unsupported(`n_embd ${H} not divisible by n_head ${nHeads}`);
  const scaleWeights = c.bool('scale_attn_weights', true);
  const byLayer = c.bool('scale_attn_by_inverse_layer_idx', false);
  const attnScale = Array.from({ length: nLayers }, (_, i) => (scaleWeights ? 1 / Math.sqrt(D) : 1) / (byLayer ? i + 1 : 1));
  return {
    family: 'gpt2',
    architecture: 'GPT2LMHeadModel',
    vocabSize: c.dim('vocab_size'),
    hidden: H,
    embedDim: H,
    nLayers,
    nHeads,
    nKvHeads: nHeads,
    headDim: D,
    ffn: c.dim('n_inner', 4 * H),
    norm: 'layer',
    normEps: c.num('layer_norm_epsilon', 1e-5),
    act: activation(c, 'activation_function', 'gelu_new'),
    gatedMlp: false,
    position: 'learned',
    rotaryDim: 0,
    ropeInvFreq: [],
    rope: null,
    bias: { qkv: true, o: true, mlp: true },
    positionOffset: 0,
    maxPositions: c.dim('n_positions', 1024),
    parallelResidual: false,
    sharedNorm: false,
    preNorm: true,
    finalNorm: true,
    // GPT2LMHeadModel ties lm_head to wte unless tie_word_embeddings is false (then lm_head.weight is stored).
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    attnScale,
    bosTokenId: c.optId('bos_token_id'),
    eosTokenId: c.optId('eos_token_id'),
    dtype: 'F32',
    configDtype: null,
  };
}

function plan(s: ModelSpec, names: Set<string>): TensorPlan[] {
  const p = findPrefix(names, ['transformer.', ''], 'wte.weight', 'GPT-2');
  const H = s.hidden, F = s.ffn;
  const plans: TensorPlan[] = [
    same(`${p}wte.weight`, 'embed.tokens', [s.vocabSize, H]),
    same(`${p}wpe.weight`, 'embed.positions', [s.maxPositions, H]),
  ];
  const ln = (hf: string, c: string) => {
    plans.push(same(`${hf}.weight`, `${c}.weight`, [H]), same(`${hf}.bias`, `${c}.bias`, [H]));
  };
  for (let i = 0; i < s.nLayers; i++) {
    const hf = `${p}h.${i}.`, c = `layers.${i}.`;
    ln(hf + 'ln_1', c + 'attn_norm');
    // c_attn.weight: (H, 3H) in Conv1D layout; transposed it is (3H, H) with rows q | k | v.
    plans.push({
      hf: hf + 'attn.c_attn.weight',
      hfShape: [H, 3 * H],
      outputs: ['q', 'k', 'v'].map((n) => ({ name: `${c}attn.${n}.weight`, shape: [H, H] })),
      split: (d) => {
        const t = transpose(d, H, 3 * H);
        return [0, 1, 2].map((j) => t.slice(j * H * H, (j + 1) * H * H));
      },
      merge: (p) => transpose(concat(p), 3 * H, H),
    });
    plans.push({
      hf: hf + 'attn.c_attn.bias',
      hfShape: [3 * H],
      outputs: ['q', 'k', 'v'].map((n) => ({ name: `${c}attn.${n}.bias`, shape: [H] })),
      split: (d) => [0, 1, 2].map((j) => d.slice(j * H, (j + 1) * H)),
      merge: concat,
    });
    plans.push(transposed(hf + 'attn.c_proj.weight', c + 'attn.o.weight', H, H));
    plans.push(same(hf + 'attn.c_proj.bias', c + 'attn.o.bias', [H]));
    ln(hf + 'ln_2', c + 'mlp_norm');
    plans.push(transposed(hf + 'mlp.c_fc.weight', c + 'mlp.up.weight', F, H));
    plans.push(same(hf + 'mlp.c_fc.bias', c + 'mlp.up.bias', [F]));
    plans.push(transposed(hf + 'mlp.c_proj.weight', c + 'mlp.down.weight', H, F));
    plans.push(same(hf + 'mlp.c_proj.bias', c + 'mlp.down.bias', [H]));
  }
  ln(`${p}ln_f`, 'final_norm');
  if (!s.tiedEmbeddings) plans.push(same('lm_head.weight', 'head.weight', [s.vocabSize, H]));
  return plans;
}

const SUMMARY = 'the sequence-summary head of GPT2DoubleHeadsModel; the LM head does not use it';

export const gpt2: FamilyDef = {
  family: 'gpt2',
  modelTypes: ['gpt2'],
  fields: {
    configClass: 'GPT2Config',
    reads: [
      'vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'n_inner', 'activation_function', 'layer_norm_epsilon',
      'scale_attn_weights', 'scale_attn_by_inverse_layer_idx', 'tie_word_embeddings', 'add_cross_attention',
      'bos_token_id', 'eos_token_id',
    ],
    harmless: {
      ...dropoutFields('resid_pdrop', 'embd_pdrop', 'attn_pdrop'),
      summary_type: SUMMARY, summary_use_proj: SUMMARY, summary_activation: SUMMARY, summary_proj_to_labels: SUMMARY,
      summary_first_dropout: SUMMARY,
      reorder_and_upcast_attn: 'computes attention in f32, which the engine always does',
      n_ctx: 'an old name of n_positions that transformers no longer reads',
    },
    aliases: { hidden_size: 'n_embd', max_position_embeddings: 'n_positions', num_attention_heads: 'n_head', num_hidden_layers: 'n_layer' },
  },
  spec,
  plan,
};
