// ModelSpec: one description of a decoder-only transformer that covers every supported family.
// Family files (families/*.ts) turn a Hugging Face config.json into a ModelSpec and map HF tensor
// names onto the canonical tensor names below; the forward pass (nn/) only knows canonical names.
//
// Canonical tensors (all f32 on the GPU; every linear weight is (out, in), as in torch.nn.Linear):
//   embed.tokens          (V, E)        E = embedDim (OPT's word_embed_proj_dim, else hidden)
//   embed.positions       (P, H)        learned positions only (gpt2, opt)
//   embed.project_in      (H, E)        OPT when E != H
//   layers.{i}.attn_norm.{weight,bias}  (H)
//   layers.{i}.attn.{q,k,v}.{weight,bias}  q: (nHeads*headDim, H), k/v: (nKvHeads*headDim, H)
//   layers.{i}.attn.o.{weight,bias}     (H, nHeads*headDim)
//   layers.{i}.mlp_norm.{weight,bias}   (H)   absent when sharedNorm (phi)
//   layers.{i}.mlp.gate.{weight,bias}   (F, H) gated MLPs only (llama, qwen2)
//   layers.{i}.mlp.up.{weight,bias}     (F, H) fc1 / c_fc / dense_h_to_4h / up_proj
//   layers.{i}.mlp.down.{weight,bias}   (H, F) fc2 / c_proj / dense_4h_to_h / down_proj
//   final_norm.{weight,bias}            (H)
//   head.project_out                    (E, H) OPT when E != H
//   head.weight                         (V, E) absent when tiedEmbeddings (reads embed.tokens)
//   head.bias                           (V)    phi

import type { RopeParams } from './config';

export const FAMILIES = ['llama', 'qwen2', 'gpt2', 'opt', 'gpt_neox', 'phi'] as const;
export type Family = (typeof FAMILIES)[number];

export type Activation = 'silu' | 'gelu_new' | 'gelu' | 'relu';

export interface ModelSpec {
  family: Family;
  /** Parameter-free description for the model card. */
  architecture: string;
  vocabSize: number;
  hidden: number;
  /** Width of the token embedding and the LM head input (OPT's word_embed_proj_dim). */
  embedDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  /** MLP inner width. */
  ffn: number;
  norm: 'rms' | 'layer';
  normEps: number;
  act: Activation;
  /** down(act(gate(x)) * up(x)) instead of down(act(up(x))). */
  gatedMlp: boolean;
  position: 'rope' | 'learned';
  /** Rotary dimensions per head (rotate_half convention), <= headDim; 0 for learned positions. */
  rotaryDim: number;
  /** Rotary inverse frequencies, length rotaryDim / 2 (scaling variants already applied). */
  ropeInvFreq: number[];
  /** The rotary settings as read from the config (either form); null for learned positions. */
  rope: RopeParams | null;
  /** Which linears carry a bias (the config decides, as in transformers). */
  bias: { qkv: boolean; o: boolean; mlp: boolean };
  /** Learned-position index offset (OPT: 2). */
  positionOffset: number;
  maxPositions: number;
  /** x + attn(ln1(x)) + mlp(ln2(x)) (gpt_neox use_parallel_residual, phi). */
  parallelResidual: boolean;
  /** One norm feeds both attention and MLP (phi). */
  sharedNorm: boolean;
  /** false: post-LN (OPT do_layer_norm_before = false). */
  preNorm: boolean;
  finalNorm: boolean;
  tiedEmbeddings: boolean;
  /** Per-layer attention logit scale (1/sqrt(headDim), gpt2 may divide by layer index + 1). */
  attnScale: number[];
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** dtype of the stored weights, for the model card (most common one). */
  dtype: string;
  /** config.json's "dtype" (transformers 5) or "torch_dtype" (4): the dtype transformers computes in. */
  configDtype: string | null;
}

export function layerPrefix(i: number): string {
  return `layers.${i}.`;
}

/** Canonical names of the linear sublayers of decoder layer i, in execution order. */
export function linearNames(spec: ModelSpec, i: number): string[] {
  const p = layerPrefix(i);
  const mlp = spec.gatedMlp ? ['mlp.gate', 'mlp.up', 'mlp.down'] : ['mlp.up', 'mlp.down'];
  return ['attn.q', 'attn.k', 'attn.v', 'attn.o', ...mlp].map((n) => p + n);
}

/** Fraction of zeros over linear sublayers, each weighted by its size (0 when there are none). */
export function weightedSparsity(spec: ModelSpec, layers: Iterable<{ name: string; sparsity: number }>): number {
  let zeros = 0;
  let count = 0;
  for (const l of layers) {
    const [R, C] = linearShape(spec, l.name);
    zeros += l.sparsity * R * C;
    count += R * C;
  }
  return count ? zeros / count : 0;
}

/** Shape (out, in) of a canonical linear weight. */
export function linearShape(spec: ModelSpec, name: string): [number, number] {
  const short = name.replace(/^layers\.\d+\./, '');
  const { hidden: H, headDim: D, nHeads, nKvHeads, ffn: F } = spec;
  switch (short) {
    case 'attn.q':
      return [nHeads * D, H];
    case 'attn.k':
    case 'attn.v':
      return [nKvHeads * D, H];
    case 'attn.o':
      return [H, nHeads * D];
    case 'mlp.gate':
    case 'mlp.up':
      return [F, H];
    case 'mlp.down':
      return [H, F];
    default:
      throw new Error(`not a linear sublayer: ${name}`);
  }
}
