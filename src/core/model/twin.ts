// The dense twin of a sparse model: a narrower model of the same family and depth whose parameter
// count equals the sparse model's non-zeros (every parameter outside the decoder linears stays
// dense in both). Used to test whether pruning during training (GMP) beats training a small dense
// model of the same size on the same tokens. The twin keeps the head size and the layer count,
// takes fewer attention heads (key/value heads in the same ratio, dividing them), and an MLP width
// solved exactly for the count; among head counts it picks the one whose MLP-to-hidden ratio is
// nearest the original's.
import { BadOption } from '../errors';
import { ConfigFields, type HFConfig } from './config';
import { familyFor } from './families';
import { anyTensorNames } from './folder';
import { linearNames, linearShape, type ModelSpec } from './spec';

/** Config keys of the sizes the twin changes, per family. */
const KEYS: Record<string, { hidden: string; heads: string; kv?: string; ffn: string; headDim?: string; proj?: string }> = {
  llama: { hidden: 'hidden_size', heads: 'num_attention_heads', kv: 'num_key_value_heads', ffn: 'intermediate_size', headDim: 'head_dim' },
  qwen2: { hidden: 'hidden_size', heads: 'num_attention_heads', kv: 'num_key_value_heads', ffn: 'intermediate_size' },
  gpt_neox: { hidden: 'hidden_size', heads: 'num_attention_heads', ffn: 'intermediate_size' },
  phi: { hidden: 'hidden_size', heads: 'num_attention_heads', kv: 'num_key_value_heads', ffn: 'intermediate_size' },
  gpt2: { hidden: 'n_embd', heads: 'n_head', ffn: 'n_inner' },
  opt: { hidden: 'hidden_size', heads: 'num_attention_heads', ffn: 'ffn_dim', proj: 'word_embed_proj_dim' },
};

function specOf(config: HFConfig): ModelSpec {
  const fam = familyFor(config);
  return fam.spec(new ConfigFields(config, fam.fields.aliases), anyTensorNames());
}

/** Parameters of a config's model (every tensor its family plans). */
export function parameterCount(config: HFConfig): number {
  const fam = familyFor(config);
  const names = anyTensorNames();
  const spec = fam.spec(new ConfigFields(config, fam.fields.aliases), names);
  return fam.plan(spec, names).reduce((n, p) => n + p.hfShape.reduce((a, b) => a * b, 1), 0);
}

/** Weights of the decoder linears (what pruning removes a fraction of). */
export function decoderLinearCount(spec: ModelSpec): number {
  let n = 0;
  for (let i = 0; i < spec.nLayers; i++) for (const name of linearNames(spec, i)) n += linearShape(spec, name).reduce((a, b) => a * b, 1);
  return n;
}

export interface DenseTwin {
  config: HFConfig;
  /** The twin's parameters (all dense). */
  params: number;
  /** The sparse model's parameters and non-zeros at the sparsity. */
  sparseParams: number;
  sparseNonzeros: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  ffn: number;
}

/** The dense twin of `config` pruned to `sparsity` in its decoder linears. */
export function denseTwin(config: HFConfig, sparsity: number): DenseTwin {
  const spec = specOf(config);
  const keys = KEYS[spec.family];
  if (!keys) throw new BadOption(`A dense twin is not defined for the ${spec.family} family.`);
  if (spec.embedDim !== spec.hidden && keys.proj) throw new BadOption('A dense twin of an OPT model with project_in/out (word_embed_proj_dim ≠ hidden_size) is not supported.');
  const sparseParams = parameterCount(config);
  const linear = decoderLinearCount(spec);
  const target = sparseParams - Math.floor(sparsity * linear);
  const d = spec.headDim, ratio = spec.ffn / spec.hidden;
  let best: DenseTwin | null = null;
  for (let h = spec.nHeads; h >= 1; h--) {
    // Key/value heads in the original ratio, dividing the query heads.
    let kv = Math.max(1, Math.round((spec.nKvHeads * h) / spec.nHeads));
    while (h % kv) kv--;
    const H = h * d;
    const at = (F: number): HFConfig => ({
      ...config,
      [keys.hidden]: H,
      [keys.heads]: h,
      ...(keys.kv && config[keys.kv] !== undefined ? { [keys.kv]: kv } : {}),
      ...(keys.headDim && config[keys.headDim] !== undefined ? { [keys.headDim]: d } : {}),
      ...(keys.proj && config[keys.proj] !== undefined ? { [keys.proj]: H } : {}),
      [keys.ffn]: F,
    });
    // The count is linear in the MLP width at a fixed hidden size: solve for it.
    const p1 = parameterCount(at(1)), p2 = parameterCount(at(2));
    const F = Math.round(1 + (target - p1) / (p2 - p1));
    if (F < 1) continue;
    const twin = at(F);
    const cand: DenseTwin = { config: twin, params: parameterCount(twin), sparseParams, sparseNonzeros: target, heads: h, kvHeads: keys.kv ? kv : h, hidden: H, ffn: F };
    if (!best || Math.abs(Math.log(F / H / ratio)) < Math.abs(Math.log(best.ffn / best.hidden / ratio))) best = cand;
  }
  if (!best) throw new BadOption(`At ${(sparsity * 100).toFixed(0)} % sparsity the non-zeros (${target.toLocaleString('en-US')}) are fewer than the parameters of a one-head model of this depth: no dense twin.`);
  return best;
}
