// An llm-compressor recipe (YAML) that repeats a studio prune run on a larger model on a GPU
// cluster: the same method, sparsity or N:M pattern, calibration samples and sequence length.
//
// What the recipe relies on (llm-compressor, vllm-project/llm-compressor, src/llmcompressor):
// - Layout: recipe.Recipe.from_dict reads every top-level `<name>_stage` mapping and, inside it,
//   every `<group>_modifiers` mapping of `ModifierClassName: {fields}`; `args` is a free mapping
//   of recipe arguments. So: `sparsity_stage: sparsity_modifiers: SparseGPTModifier: …`.
// - SparseGPTModifier (modifiers/pruning/sparsegpt): sparsity, mask_structure ("0:0" =
//   unstructured, "N:M" = N pruned in every M consecutive inputs of a row, as topk(prune_n,
//   largest=False) in sgpt_sparsify.py), block_size, dampening_frac (a fraction of
//   mean(diag H), as the studio's percdamp), targets (["Linear"] by default: module class names,
//   names or "re:" regexes matched with re.match), ignore. Modules are pruned per decoder layer
//   in sequence, as the studio's driver does.
// - WandaPruningModifier (modifiers/pruning/wanda): the same fields minus block_size and
//   dampening_frac; |W|·‖X‖₂ per output row, N:M per group (wanda_sparsify.py).
// - MagnitudePruningModifier (modifiers/pruning/magnitude): targets (parameter names or regexes),
//   init_sparsity, final_sparsity, start, end, update_scheduler, mask_structure ("unstructured",
//   "channel", "filter", "block_…": no N:M). It is a training-time modifier: its masks are
//   computed when it starts but applied to the weights only on optimizer steps (or forward hooks
//   enabled by the trainer), so oneshot() leaves the weights dense. The recipe says so.
// - oneshot(...) calibration arguments (args/dataset_arguments.py): num_calibration_samples,
//   max_seq_length, concatenate_data, shuffle_calibration_samples.
// Strings are single-quoted: PyYAML (YAML 1.1) would read a plain 2:4 as the base-60 integer 124.
import { stringify } from 'yaml';
import { BadOption } from '../errors';
import { modulePathName } from './compressed';
import type { PruneMethod, PruneRun, Target } from '../options';
import { OPTIONS } from '../options';
import type { TrainProtocol } from '../types';

/** A run as the recipe records it; a random calibration seed becomes llm-compressor's shuffle. */
export interface RecipeInput extends PruneRun {
  /** Model family in the studio (llama, qwen2, gpt2, opt, gpt_neox, phi): module paths. */
  family?: string;
  /**
   * Hugging Face module names of the pruned sublayers ("model.layers.0.self_attn.q_proj",
   * "h.0.attn.c_attn[q]"): the magnitude recipe's parameter targets.
   */
  modules?: string[];
  /** A training run after (or, for GMP, instead of) the one-shot stage: the recipe's train stage. */
  training?: RecipeTraining;
  /** For the header: what the studio measured. */
  about?: {
    model?: string;
    appVersion?: string;
    date?: string;
    achievedSparsity?: number;
    ppl?: number | null;
    evalLabel?: string;
    calibLabel?: string;
    /** Extra lines (e.g. "dampening and block size were not recorded: defaults shown"). */
    notes?: string[];
  };
}

/** The studio's training protocol (jobs/finetune.ts), for the train stage and its arguments. */
export interface RecipeTraining extends TrainProtocol {
  /** recover: the one-shot stage, then training with its zeros fixed; gmp: gradual pruning while training. */
  mode: 'recover' | 'gmp';
  /** Windows N of the training text: llm-compressor counts start / end / update in epochs of ⌈N / B⌉ steps. */
  windows: number;
  gmp?: { final: number; t0: number; dt: number; n: number };
}

export const MODIFIER_NAMES: Record<PruneMethod, string> = {
  sparsegpt: 'SparseGPTModifier',
  wanda: 'WandaPruningModifier',
  magnitude: 'MagnitudePruningModifier',
  // llm-compressor has no SparseLLM modifier: the recipe runs SparseGPT (SparseLLM's alternation 0).
  sparsellm: 'SparseGPTModifier',
};

/** Module path of the decoder layers and the heads (never pruned) per family. */
const LAYOUT: Record<string, { layers: string; targets: string[]; ignore: string[] }> = {
  llama: { layers: 'model.layers', targets: ['Linear'], ignore: ['re:.*lm_head'] },
  qwen2: { layers: 'model.layers', targets: ['Linear'], ignore: ['re:.*lm_head'] },
  phi: { layers: 'model.layers', targets: ['Linear'], ignore: ['re:.*lm_head'] },
  // GPT-2's attention and MLP are transformers' Conv1D; its head is a Linear.
  gpt2: { layers: 'transformer.h', targets: ['Conv1D'], ignore: ['re:.*lm_head'] },
  // OPT-350m-style models have Linear project_in / project_out outside the decoder layers.
  opt: { layers: 'model.decoder.layers', targets: ['Linear'], ignore: ['re:.*lm_head', 're:.*project_in', 're:.*project_out'] },
  gpt_neox: { layers: 'gpt_neox.layers', targets: ['Linear'], ignore: ['re:.*embed_out'] },
};
const GENERIC = { layers: '', targets: ['Linear'], ignore: ['re:.*lm_head'] };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** "0:0" (unstructured) or "N:M", llm-compressor's mask_structure. */
export function maskStructure(t: Target): string {
  return t.kind === 'nm' ? `${t.n}:${t.m}` : '0:0';
}

/** The fraction of weights removed: the unstructured target, or N/M. */
export function targetSparsity(t: Target): number {
  return t.kind === 'nm' ? t.n / t.m : t.sparsity;
}

/** One module path split at its decoder-layer index: "model.layers" + "self_attn.q_proj". */
function splitLayer(path: string): { layers: string; rest: string } | null {
  const m = /^(.*?)\.(\d+)\.(.+)$/.exec(path);
  return m ? { layers: m[1], rest: m[3] } : null;
}

function layersPrefix(input: RecipeInput): string {
  const fromFamily = input.family ? LAYOUT[input.family]?.layers : undefined;
  if (fromFamily) return fromFamily;
  for (const m of input.modules ?? []) {
    const s = splitLayer(modulePathName(input.family ?? '', m.replace(/\[.*\]$/, '')));
    if (s) return s.layers;
  }
  return '';
}

/** ignore entries for skipped decoder layers: "re:model\.layers\.3\." (re.match: a prefix). */
function skipPatterns(input: RecipeInput): string[] {
  const skip = [...new Set(input.skipLayers ?? [])].sort((a, b) => a - b);
  const prefix = layersPrefix(input);
  return skip.map((i) => (prefix ? `re:${escapeRe(prefix)}\\.${i}\\.` : `re:.*\\.(layers|h)\\.${i}\\.`));
}

/** Parameter regexes of the pruned weights, one per sublayer kind, skipped layers excluded. */
function magnitudeTargets(input: RecipeInput): string[] {
  const skip = [...new Set(input.skipLayers ?? [])].sort((a, b) => a - b);
  const layerIndex = skip.length ? `(?!(?:${skip.join('|')})\\.)\\d+` : '\\d+';
  const out = new Set<string>();
  for (const m of input.modules ?? []) {
    const path = modulePathName(input.family ?? '', m.replace(/\[.*\]$/, ''));
    const s = splitLayer(path);
    out.add(s ? `re:${escapeRe(s.layers)}\\.${layerIndex}\\.${escapeRe(s.rest)}\\.weight$` : `re:${escapeRe(path)}\\.weight$`);
  }
  if (!out.size) throw new BadOption('A magnitude recipe needs the module names of the pruned sublayers, and this run has none.');
  return [...out];
}

const fmtPct = (x: number) => `${Math.round(x * 10000) / 100}%`;

function header(input: RecipeInput, args: Record<string, unknown>): string[] {
  const a = input.about ?? {};
  const what = input.target.kind === 'nm' ? `${input.target.n}:${input.target.m} (N:M)` : `${fmtPct(input.target.sparsity)} unstructured`;
  const lines = [
    `llm-compressor recipe written by Prune Studio${a.appVersion ? ` ${a.appVersion}` : ''}${a.date ? ` on ${a.date}` : ''}.`,
    `It repeats a run of the studio on a larger model: ${MODIFIER_NAMES[input.method]}, ${what}.`,
  ];
  if (a.model) {
    const measured = [
      a.achievedSparsity !== undefined ? `${fmtPct(a.achievedSparsity)} zeros in the pruned layers` : '',
      a.ppl !== undefined && a.ppl !== null ? `perplexity ${a.ppl.toPrecision(6)}` : '',
    ].filter(Boolean);
    lines.push(`Studio run: ${a.model}${measured.length ? `: ${measured.join(', ')}` : ''}${a.evalLabel ? ` (${a.evalLabel})` : ''}.`);
  }
  lines.push(
    `Calibration in the studio: ${a.calibLabel ?? `${input.calibSamples} × ${input.seqlen} tokens`},`,
    input.seed === undefined ? '  the first windows of the text.' : `  random windows (seed ${input.seed}); llm-compressor shuffles with its own generator.`,
  );
  if (input.skipLayers?.length) lines.push(`Decoder layers left dense: ${[...input.skipLayers].sort((x, y) => x - y).join(', ')}.`);
  for (const n of a.notes ?? []) lines.push(n);
  lines.push(
    '',
    'Run it (the same calibration settings are under `args` below; llm-compressor ignores',
    'recipe args it does not use, so they can also be read back and passed on):',
    '  import yaml',
    '  from datasets import load_dataset',
    '  from llmcompressor import oneshot',
    '  ds = load_dataset("text", data_files={"train": "calibration.txt"})["train"]',
    '  oneshot(',
    '      model="<model id or path>",',
    '      dataset=ds,',
    '      recipe="recipe.yaml",',
    ...(input.training ? [`      stage='${input.method === 'magnitude' ? 'pruning_stage' : 'sparsity_stage'}',`] : []),
    ...Object.entries(args).map(([k, v]) => `      ${k}=${typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)},`),
    '      output_dir="<model>-pruned",',
    '  )',
    '  # or: oneshot(model=..., dataset=ds, recipe="recipe.yaml", **yaml.safe_load(open("recipe.yaml"))["args"])',
    'concatenate_data joins the text and cuts it into max_seq_length-token windows, as the studio does.',
  );
  return lines;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * The train stage and the lines of the header that say how to run it. llm-compressor's training
 * (train(), on transformers' Trainer) calls its modifiers at every step with the epoch as index
 * (Trainer.state.epoch = steps done / ⌈N / B⌉), so the studio's step numbers become epochs here:
 * GMP's MagnitudePruningModifier with the cubic scheduler, init 0, at start = t0/E, end =
 * (t0 + nΔt)/E, update = Δt/E prunes to s_f(1 − (1 − k/n)³) at step t0 + kΔt, as the studio does.
 */
function trainStage(input: RecipeInput, t: RecipeTraining): { stage: Record<string, unknown>; lines: string[] } {
  const epoch = Math.ceil(t.windows / t.batch);
  const targets = magnitudeTargets(input);
  let modifier: Record<string, unknown>;
  if (t.mode === 'gmp') {
    const g = t.gmp;
    if (!g) throw new BadOption('A gradual-pruning recipe needs its schedule (final sparsity, t0, Δt, n).');
    modifier = {
      MagnitudePruningModifier: {
        targets,
        init_sparsity: 0,
        final_sparsity: g.final,
        start: round(g.t0 / epoch),
        end: round((g.t0 + g.n * g.dt) / epoch),
        update: round(g.dt / epoch),
        update_scheduler: 'cubic',
        mask_structure: 'unstructured',
      },
    };
  } else {
    // Masks from the zeros the one-shot stage left (|w| > ε), applied after every optimizer step.
    modifier = { ConstantPruningModifier: { targets, start: 0 } };
  }
  const hf: Record<string, string | number> = {
    learning_rate: t.lr,
    max_steps: t.steps,
    warmup_steps: t.warmup,
    lr_scheduler_type: "'cosine'",
    per_device_train_batch_size: t.batch,
    weight_decay: t.weightDecay,
    max_grad_norm: t.clip,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
  };
  const lines = [
    '',
    `Training in the studio: ${t.steps} steps × ${t.batch} windows of ${t.seqlen} tokens (${t.windows} windows in the text, read in order`,
    `and cyclically), AdamW lr ${t.lr} with ${t.warmup} warm-up steps then cosine to 0, weight decay ${t.weightDecay}, clip ${t.clip || 'none'}.`,
    t.mode === 'gmp'
      ? `Gradual magnitude pruning to ${fmtPct(t.gmp!.final)} at steps ${t.gmp!.t0}, ${t.gmp!.t0 + t.gmp!.dt}, …, ${t.gmp!.t0 + t.gmp!.n * t.gmp!.dt}: in epochs of ${epoch} steps below.`
      : 'The zeros of the one-shot stage stay zero while it trains (ConstantPruningModifier).',
    'Train it (transformers.Trainer arguments; Trainer shuffles the windows, the studio reads them in order):',
    '  from llmcompressor import train',
    '  train(',
    `      model="<${t.mode === 'gmp' ? 'model id or path' : 'output_dir of the oneshot stage'}>",`,
    '      dataset=ds,',
    '      recipe="recipe.yaml",',
    "      stage='finetuning_stage',",
    `      max_seq_length=${t.seqlen},`,
    '      concatenate_data=True,',
    ...Object.entries(hf).map(([k, v]) => `      ${k}=${v},`),
    '      output_dir="<model>-trained",',
    '  )',
  ];
  return { stage: { finetuning_stage: { finetuning_modifiers: modifier } }, lines };
}

/** The recipe as YAML text: a comment header, `args`, the one-shot stage and (for a training run) the train stage. */
export function llmCompressorRecipe(input: RecipeInput): string {
  if (input.training?.mode === 'gmp') {
    const { stage, lines } = trainStage(input, input.training);
    const a = input.about ?? {};
    const head = [
      `llm-compressor recipe written by Prune Studio${a.appVersion ? ` ${a.appVersion}` : ''}${a.date ? ` on ${a.date}` : ''}.`,
      `It repeats a training run of the studio on a larger model: gradual magnitude pruning (Zhu & Gupta) while it trains.`,
      ...(a.model ? [`Studio run: ${a.model}${a.achievedSparsity !== undefined ? `: ${fmtPct(a.achievedSparsity)} zeros` : ''}${a.ppl != null ? `, perplexity ${a.ppl.toPrecision(6)}` : ''}${a.evalLabel ? ` (${a.evalLabel})` : ''}.`] : []),
      ...(a.notes ?? []),
      ...lines,
    ];
    const body = stringify(stage, { defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' } as const);
    return `${head.map((l) => (l ? `# ${l}` : '#')).join('\n')}\n\n${body}`;
  }
  const layout = (input.family && LAYOUT[input.family]) || GENERIC;
  const args: Record<string, number | boolean> = {
    num_calibration_samples: input.calibSamples,
    max_seq_length: input.seqlen,
    concatenate_data: true,
    shuffle_calibration_samples: input.seed !== undefined,
  };
  const lines = header(input, args);
  const sparsity = targetSparsity(input.target);
  let stage: Record<string, unknown>;
  if (input.method === 'magnitude') {
    lines.push(
      '',
      'NOTE: MagnitudePruningModifier is not oneshot-capable. It computes its masks when it starts',
      'but applies them to the weights only on optimizer steps, so oneshot() leaves the model dense:',
      'use it in a training run (start/end are steps), or prune with WandaPruningModifier, the',
      'calibration-aware method closest to magnitude.',
      'It prunes the smallest |w| of each weight matrix, as the studio does for unstructured targets.',
    );
    if (input.target.kind === 'nm') {
      lines.push(
        `NOT EQUIVALENT: its mask_structure has no N:M form, so this recipe prunes ${fmtPct(sparsity)} of each`,
        `matrix unstructured instead of ${input.target.n} of every ${input.target.m} inputs. For N:M use`,
        `WandaPruningModifier or SparseGPTModifier with mask_structure '${maskStructure(input.target)}'.`,
      );
    }
    stage = {
      pruning_stage: {
        pruning_modifiers: {
          MagnitudePruningModifier: {
            targets: magnitudeTargets(input),
            init_sparsity: sparsity,
            final_sparsity: sparsity,
            start: 0,
            end: 1,
            mask_structure: 'unstructured',
          },
        },
      },
    };
  } else {
    const fields: Record<string, unknown> = { sparsity, mask_structure: maskStructure(input.target) };
    if (input.method === 'sparsegpt' || input.method === 'sparsellm') {
      fields.block_size = input.blocksize ?? OPTIONS.blocksize.default;
      fields.dampening_frac = input.percdamp ?? OPTIONS.percdamp.default;
      lines.push('', 'The studio retries a failed Cholesky factorisation with 10x dampening; llm-compressor does not.');
    }
    if (input.method === 'sparsellm') {
      lines.push(
        'NOT EQUIVALENT: llm-compressor has no SparseLLM modifier. This recipe runs SparseGPT with the same',
        "target, which is SparseLLM's first alternation; SparseLLM's MLP refits (github.com/BaiTheBest/SparseLLM)",
        'are not part of it.',
      );
    }
    fields.targets = layout.targets;
    fields.ignore = [...layout.ignore, ...skipPatterns(input)];
    stage = { sparsity_stage: { sparsity_modifiers: { [MODIFIER_NAMES[input.method]]: fields } } };
  }
  if (input.training) {
    const t = trainStage(input, input.training);
    lines.push(...t.lines);
    stage = { ...stage, ...t.stage };
  }
  const opts = { defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' } as const;
  const body = stringify({ args, ...stage }, opts);
  return `${lines.map((l) => (l ? `# ${l}` : '#')).join('\n')}\n\n${body}`;
}
