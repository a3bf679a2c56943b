// Structured removal and its export: MLP neurons, attention heads (and the KV heads left without a
// query head) and token rows removed from a model. In memory the removal is zeros (see
// prune/contextual.ts); the export makes the model genuinely smaller where it can:
//   - neurons, when every layer removes the same number: gate/up rows (+bias) and down columns are
//     sliced out and the config's MLP width becomes F − r (intermediate_size, gpt2 n_inner,
//     opt ffn_dim);
//   - heads, for llama/qwen2 (whose config has a head_dim key), when every layer keeps the same
//     number of KV heads and every kept KV head the same number m of query heads: q rows and o
//     columns of the removed heads, k/v rows of the removed KV heads are sliced out, config gets
//     num_attention_heads = m · nKv', num_key_value_heads = nKv' and an explicit head_dim. GPT-2,
//     OPT, GPT-NeoX and Phi derive head_dim = hidden / heads (and size c_attn, q/k/v/out_proj and
//     query_key_value/dense as (hidden, hidden)), so fewer heads cannot be expressed: zeros;
//   - tokens are never sliced (the tokenizer would have to change): zero rows.
// Anything not sliced keeps its shape with zeros in place, and a warning says so.
// Slicing works on canonical tensors; the family's own TensorPlan for the smaller spec merges them
// back into the original HF names and layouts (GPT-2 Conv1D (in, out) and the fused c_attn,
// GPT-NeoX's per-head [q_h | k_h | v_h] rows), so this file knows no HF layout but Conv1D's shape.
import type { GpuModel } from '../nn/model';
import { type Cut, type ParamCounts, type StructuredRemoval, checkRemovalFits, cutTensor, cutsOf, storedAfter, structureOf, zeroedStored } from '../model/structure';
import { isSupportedDType, type DType } from '../model/dtypes';
import { currentValues, type ExportFile } from './hf';
import type { HFConfig, TensorPlan } from '../model/families';
import type { ModelFolder } from '../model/folder';
import { writeSafetensors, type TensorToWrite } from './safetensors-write';
import type { ModelSpec } from '../model/spec';

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------
// The export plan

/** Families whose config has a head_dim key that keeps the head size when the head count changes. */
const HEADS_EXPRESSIBLE: ReadonlySet<ModelSpec['family']> = new Set(['llama', 'qwen2']);

/** config.json key of the MLP width, per family. */
const FFN_KEY: Record<ModelSpec['family'], string> = {
  llama: 'intermediate_size',
  qwen2: 'intermediate_size',
  gpt2: 'n_inner',
  opt: 'ffn_dim',
  gpt_neox: 'intermediate_size',
  phi: 'intermediate_size',
};

interface StructuredPlan {
  /** The smaller model's spec (what the exported config.json describes). */
  spec: ModelSpec;
  config: HFConfig;
  slicing: { mlp: boolean; heads: boolean };
  cuts: Map<string, Cut>;
  warnings: string[];
}

/** What the export of `r` can slice for this folder's family; the new spec and config.json. */
function structuredPlan(folder: ModelFolder, r: StructuredRemoval): StructuredPlan {
  const s = folder.spec;
  checkRemovalFits(s, r);
  const structure = structureOf(s, r.layers);
  const warnings: string[] = [];
  const anyNeurons = r.layers.some((l) => l.neurons.length > 0);
  const anyHeads = r.layers.some((l) => l.heads.length > 0);
  const mlp = anyNeurons && structure.ffn !== null;
  if (anyNeurons && !mlp) {
    warnings.push(
      `The layers remove different numbers of MLP neurons (${r.layers.map((l) => l.neurons.length).join(', ')}), which one MLP width in config.json cannot express: the MLP keeps its width and the removed neurons are exported as zeros.`,
    );
  }
  let heads = false;
  if (anyHeads) {
    if (!HEADS_EXPRESSIBLE.has(s.family)) {
      warnings.push(
        `${s.family}: this family's config.json gives the head size as hidden_size / num_attention_heads (there is no head_dim key that Prune Studio reads for it), so fewer heads would change the head size: the removed attention heads are exported as zeros.`,
      );
    } else if (!structure.heads) {
      warnings.push(
        'The layers remove attention heads unevenly (different counts per layer, or per KV group), which one num_attention_heads / num_key_value_heads cannot express: the removed heads are exported as zeros.',
      );
    } else {
      heads = true;
    }
  }
  if (r.tokens.length) {
    warnings.push(
      `${r.tokens.length} token(s) the domain text never uses have zero embedding${s.tiedEmbeddings ? '' : ' and LM head'} rows; the vocabulary and the tokenizer keep their size.`,
    );
  }
  const spec: ModelSpec = { ...s };
  const config = JSON.parse(JSON.stringify(folder.config)) as HFConfig;
  if (mlp) {
    spec.ffn = structure.ffn!;
    config[FFN_KEY[s.family]] = spec.ffn;
  }
  if (heads) {
    spec.nHeads = structure.heads!.nHeads;
    spec.nKvHeads = structure.heads!.nKvHeads;
    config.num_attention_heads = spec.nHeads;
    config.num_key_value_heads = spec.nKvHeads;
    // hidden_size / num_attention_heads no longer gives the head size: state it.
    config.head_dim = s.headDim;
  }
  return { spec, config, slicing: { mlp, heads }, cuts: cutsOf(s, r, { mlp, heads }), warnings };
}

/** Stored HF shape of a single-part tensor whose canonical part has `canonical` shape. */
function hfShape(family: ModelSpec['family'], canonical: number[]): number[] {
  // GPT-2's Conv1D stores (in, out); every other family stores torch.nn.Linear's (out, in), the
  // canonical layout (see families/*.ts). Vectors are vectors.
  return canonical.length === 2 && family === 'gpt2' ? [canonical[1], canonical[0]] : canonical;
}

export type { ParamCounts } from '../model/structure';

/** Parameter count and bytes before and after exporting `r` (for the UI; no GPU work). */
export function paramCounts(folder: ModelFolder, r: StructuredRemoval): ParamCounts {
  const plan = structuredPlan(folder, r);
  const before = { params: 0, bytes: 0 };
  const after = { params: 0, bytes: 0, nonzero: 0 };
  let zeros = 0;
  for (const p of folder.plans) {
    const t = folder.tensors.get(p.hf)!;
    const n = numel(t.shape);
    const perValue = n > 0 ? (t.end - t.begin) / n : 0;
    let m = 0;
    for (const o of p.outputs) {
      const cut = plan.cuts.get(o.name);
      m += storedAfter(o.shape, cut);
      zeros += zeroedStored(o.shape, cut);
    }
    before.params += n;
    before.bytes += t.end - t.begin;
    after.params += m;
    after.bytes += m * perValue;
  }
  after.nonzero = after.params - zeros;
  return { before, after, smaller: plan.slicing, warnings: plan.warnings };
}

// ---------------------------------------------------------------------------------------------
// The export

export interface StructuredExport {
  files: ExportFile[];
  /** The exported config.json. */
  config: HFConfig;
  /** What could not be made smaller, and why (exported as zeros instead). */
  warnings: string[];
  counts: ParamCounts;
}

/** Files copied as they are (config.json is rewritten). */
const COPIED = /^(generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|vocab\.json|merges\.txt|tokenizer\.model|added_tokens\.json)$/;

/**
 * The model with `r` removed, as a Hugging Face folder: sliced where the removal is uniform and the
 * family's config can say it, zeros elsewhere (`warnings`). Tensors the removal touches are read
 * from the model on the GPU and the removal is applied again on the CPU (so the export is right
 * whether or not it was applied in memory); the others are read from the source files. One
 * model.safetensors with the original tensor names, order and dtypes; tokenizer and generation
 * files copied; config.json updated; prune_studio.json = `info` + what was removed.
 */
export async function exportStructured(
  folder: ModelFolder,
  model: GpuModel,
  r: StructuredRemoval,
  info: Record<string, unknown> = {},
): Promise<StructuredExport> {
  const plan = structuredPlan(folder, r);
  const names = new Set(folder.tensors.keys());
  const oldPlans = new Map(folder.plans.map((p) => [p.hf, p]));
  // The family's own plan for the smaller spec: its merge() writes each HF layout for the new sizes.
  const newPlans = new Map<string, TensorPlan>(folder.family.plan(plan.spec, names).map((p) => [p.hf, p]));
  const tensors: TensorToWrite[] = [];
  const unchanged = currentValues(folder, model, new Set());
  for (const t of folder.tensors.values()) {
    if (!isSupportedDType(t.dtype)) continue; // integer buffers are not weights (as exportHF)
    const old = oldPlans.get(t.name);
    if (!old || !old.outputs.some((o) => plan.cuts.has(o.name) && model.weights.has(o.name))) {
      tensors.push({ name: t.name, dtype: t.dtype as DType, shape: t.shape, data: await unchanged(t) });
      continue;
    }
    const np = newPlans.get(t.name);
    if (!np || np.outputs.length !== old.outputs.length) throw new Error(`internal: no plan for ${t.name} in the smaller model`);
    const parts: Float32Array[] = [];
    for (let j = 0; j < old.outputs.length; j++) {
      const o = old.outputs[j];
      const cut = plan.cuts.get(o.name);
      const x = await model.read(o.name);
      const c = cut ? cutTensor(x, o.shape, cut) : { data: x, shape: o.shape };
      if (numel(c.shape) !== numel(np.outputs[j].shape)) {
        throw new Error(`internal: ${o.name} is [${c.shape}] after the cut but the smaller model wants [${np.outputs[j].shape}]`);
      }
      parts.push(c.data);
    }
    const data = np.merge(parts);
    let shape = t.shape;
    if (data.length !== numel(t.shape)) {
      // Only unfused tensors change size: fused ones (c_attn, query_key_value) hold heads, which
      // those families never slice.
      if (np.outputs.length !== 1) throw new Error(`internal: fused tensor ${t.name} cannot change size`);
      shape = hfShape(folder.spec.family, np.outputs[0].shape);
    }
    tensors.push({ name: t.name, dtype: t.dtype as DType, shape, data });
  }
  const counts = paramCounts(folder, r);
  const enc = new TextEncoder();
  const files: ExportFile[] = [{ name: 'config.json', bytes: enc.encode(`${JSON.stringify(plan.config, null, 2)}\n`) }];
  for (const [name, f] of folder.files) if (COPIED.test(name)) files.push({ name, bytes: new Uint8Array(await f.slice(0, f.size)) });
  files.push({ name: 'model.safetensors', bytes: writeSafetensors(tensors, { format: 'pt', producer: 'prune-studio' }) });
  const meta = {
    producer: 'Prune Studio',
    ...info,
    structured: {
      smaller: plan.slicing,
      params: { before: counts.before.params, after: counts.after.params, nonzero: counts.after.nonzero },
      bytes: { before: counts.before.bytes, after: counts.after.bytes },
      removed: r.layers,
      tokens: r.tokens,
      warnings: plan.warnings,
    },
  };
  files.push({ name: 'prune_studio.json', bytes: enc.encode(`${JSON.stringify(meta, null, 2)}\n`) });
  return { files, config: plan.config, warnings: plan.warnings, counts };
}
