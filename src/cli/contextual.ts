// `prune --method contextual`: contextual (structured) pruning from the CLI (core in
// src/core/prune/contextual.ts, the run in contextual-run.ts). Prints one JSON object with --json:
//   { method: "contextual", fraction | threshold, head_fraction | head_threshold, scoring, gqa,
//     ppl, nll, windows, tokens            (the domain evaluation text, --eval; null without it)
//     ppl_general                          (--eval-general; null without it)
//     params_before, params_after, params_nonzero, bytes_before, bytes_after   (the smaller export)
//     removed: {neurons, heads, kv_heads, tokens}, total: {…same keys},
//     per_layer: [{layer, neurons, heads, kv_heads}], config: {ffn, heads, kv_heads} (exported),
//     uniform, smaller: {mlp, heads}, sparsity (zeros over the linear sublayers in memory),
//     seconds, layers: [{name (HF module), sparsity}], warnings, out }
// --out DIR writes the smaller model (Engine.exportSmaller): a Hugging Face folder with the
// smaller intermediate_size (and heads, for llama/qwen2) where every layer removes alike.
import { BadOption } from '../core/errors';
import type { ExportFile } from '../core/export/hf';
import type { ContextualScoring, GqaMode } from '../core/prune/contextual';
import { type ContextualRunOptions, runContextualJob } from '../core/jobs/contextual';
import { createNodeEngine } from '../node/engine';
import { loadModelForCli } from './load';

/** The parsed options `prune --method contextual` reads (node:util parseArgs values). */
export interface ContextualCliValues {
  model?: string;
  calib?: string;
  eval?: string;
  'eval-general'?: string;
  seqlen?: string;
  'max-windows'?: string;
  'calib-samples'?: string;
  seed?: string;
  fraction?: string;
  threshold?: string;
  'head-fraction'?: string;
  'head-threshold'?: string;
  scoring?: string;
  gqa?: string;
  'zero-unused-tokens'?: boolean;
  out?: string;
  json?: boolean;
}

/** main.ts's helpers (main.ts runs on import, so they are passed in rather than imported). */
export interface CliHelpers {
  need(v: string | undefined, name: string): string;
  readTextFile(p: string): string;
  int(v: string | undefined, name: string, fallback?: number): number | undefined;
  nonNegInt(v: string, name: string): number;
  writeFolder(dir: string, files: ExportFile[]): void;
  print(obj: Record<string, unknown>, human: string): void;
}

/** A number option; the core checks its range (a fraction in [0, 1), a threshold ≥ 0). */
function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new BadOption(`--${name} must be a number (got "${v}").`);
  return x;
}

function parseScoring(v: string | undefined): ContextualScoring | undefined {
  if (v === undefined) return undefined;
  if (v === 'mean' || v === 'mean-abs') return 'mean-abs';
  if (v === 'wanda') return 'wanda';
  throw new BadOption(`--scoring must be "mean" (mean |activation|) or "wanda" (structured Wanda); got "${v}".`);
}

function parseGqa(v: string | undefined): GqaMode | undefined {
  if (v === undefined) return undefined;
  if (v === 'whole-groups' || v === 'within-groups') return v;
  throw new BadOption(`--gqa must be "whole-groups" or "within-groups"; got "${v}".`);
}

/** The run's options from the command line (BadOption for malformed values). */
export function contextualOptionsOf(values: ContextualCliValues, h: Pick<CliHelpers, 'int' | 'nonNegInt'>): ContextualRunOptions {
  const fraction = num(values.fraction, 'fraction');
  const threshold = num(values.threshold, 'threshold');
  if ((fraction === undefined) === (threshold === undefined)) {
    throw new BadOption('prune --method contextual needs either --fraction (e.g. 0.3) or --threshold (a score, e.g. 0.01), not both.');
  }
  const o: ContextualRunOptions = {
    calibSamples: h.int(values['calib-samples'], 'calib-samples', 32)!,
    seqlen: h.int(values.seqlen, 'seqlen', 256)!,
  };
  if (values.seed !== undefined) o.seed = h.nonNegInt(values.seed, 'seed');
  if (fraction !== undefined) o.fraction = fraction;
  if (threshold !== undefined) o.threshold = threshold;
  const hf = num(values['head-fraction'], 'head-fraction');
  const ht = num(values['head-threshold'], 'head-threshold');
  if (hf !== undefined) o.headFraction = hf;
  if (ht !== undefined) o.headThreshold = ht;
  const scoring = parseScoring(values.scoring);
  if (scoring) o.scoring = scoring;
  const gqa = parseGqa(values.gqa);
  if (gqa) o.gqa = gqa;
  if (values['zero-unused-tokens']) o.zeroUnusedTokens = true;
  return o;
}

export async function runContextualCli(values: ContextualCliValues, h: CliHelpers): Promise<number> {
  const modelDir = h.need(values.model, 'model');
  const calib = h.readTextFile(h.need(values.calib, 'calib'));
  const domain = values.eval ? h.readTextFile(values.eval) : null;
  const general = values['eval-general'] ? h.readTextFile(values['eval-general']) : null;
  const options = contextualOptionsOf(values, h);
  const maxWindows = h.int(values['max-windows'], 'max-windows');
  const engine = await createNodeEngine();
  try {
    await loadModelForCli(engine, modelDir);
    const progress = (p: { detail?: string; done: number; total: number }) => {
      if (!values.json && process.stderr.isTTY) process.stderr.write(`\r${p.detail ?? `${p.done}/${p.total}`}      `);
    };
    const t0 = performance.now();
    const evaluate = domain || general ? { domain, general, seqlen: options.seqlen, ...(maxWindows !== undefined ? { maxWindows } : {}), dense: false } : null;
    const { report: r, pruned } = await runContextualJob(engine, calib, options, evaluate, progress);
    if (values.out) h.writeFolder(values.out, (await engine.exportSmaller()).files);
    if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
    const s = r.summary;
    const d = pruned.domain;
    const out = {
      method: 'contextual',
      ...(r.mode === 'fraction' ? { fraction: r.neuronTarget, head_fraction: r.headTarget } : { threshold: r.neuronTarget, head_threshold: r.headTarget }),
      scoring: r.scoring,
      gqa: r.gqa,
      ppl: d?.ppl ?? null,
      nll: d?.nll ?? null,
      windows: d?.windows ?? null,
      tokens: d?.tokens ?? null,
      ppl_general: pruned.general?.ppl ?? null,
      params_before: r.counts.before.params,
      params_after: r.counts.after.params,
      params_nonzero: r.counts.after.nonzero,
      bytes_before: r.counts.before.bytes,
      bytes_after: r.counts.after.bytes,
      removed: { neurons: s.neurons.removed, heads: s.heads.removed, kv_heads: s.kvHeads.removed, tokens: s.tokens.removed },
      total: { neurons: s.neurons.total, heads: s.heads.total, kv_heads: s.kvHeads.total, tokens: s.tokens.total },
      per_layer: r.removed.map((l, layer) => ({ layer, neurons: l.neurons, heads: l.heads, kv_heads: l.kvHeads })),
      config: { ffn: r.exported.ffn, heads: r.exported.heads, kv_heads: r.exported.kvHeads },
      uniform: r.uniform,
      smaller: r.counts.smaller,
      sparsity: r.sparsity,
      seconds: (performance.now() - t0) / 1000,
      layers: r.layers.map((l) => ({ name: l.hf ?? l.name, sparsity: l.sparsity })),
      warnings: r.warnings,
      out: values.out ?? null,
    };
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    const target = r.mode === 'fraction' ? `fraction ${r.neuronTarget}` : `threshold ${r.neuronTarget}`;
    const ppls = [d ? `domain perplexity ${d.ppl.toFixed(4)}` : '', pruned.general ? `general perplexity ${pruned.general.ppl.toFixed(4)}` : ''].filter(Boolean).join(', ');
    h.print(
      out,
      `contextual ${target}: removed ${s.neurons.removed}/${s.neurons.total} neurons, ${s.heads.removed}/${s.heads.total} heads; ` +
        `parameters ${r.counts.before.params.toLocaleString()} → ${r.counts.after.params.toLocaleString()}, bytes ${r.counts.before.bytes.toLocaleString()} → ${r.counts.after.bytes.toLocaleString()}` +
        `${r.uniform ? '' : ' (non-uniform: zeros in place)'}${ppls ? `; ${ppls}` : ''}${values.out ? `; smaller model exported to ${values.out}` : ''}`,
    );
    return 0;
  } finally {
    engine.dispose();
  }
}
