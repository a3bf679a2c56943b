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
import type { ContextualScoring, GqaMode } from '../core/prune/contextual';
import { type ContextualRunOptions, runContextualJob } from '../core/jobs/contextual';
import { OPTIONS, parseOption } from '../core/options';
import { type CliValues, evalOptions, flag, need, printer, progressLine, readTextFile, writeFolder } from './common';
import { loadOptions, withModel } from './load';

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
function contextualOptionsOf(values: CliValues): ContextualRunOptions {
  const fraction = num(flag(values, 'fraction'), 'fraction');
  const threshold = num(flag(values, 'threshold'), 'threshold');
  if ((fraction === undefined) === (threshold === undefined)) {
    throw new BadOption('prune --method contextual needs either --fraction (e.g. 0.3) or --threshold (a score, e.g. 0.01), not both.');
  }
  const o: ContextualRunOptions = {
    calibSamples: parseOption(OPTIONS.calibSamples, flag(values, 'calib-samples')),
    seqlen: parseOption(OPTIONS.seqlen, flag(values, 'seqlen')),
  };
  const seed = parseOption(OPTIONS.seed, flag(values, 'seed'));
  if (seed !== undefined) o.seed = seed;
  if (fraction !== undefined) o.fraction = fraction;
  if (threshold !== undefined) o.threshold = threshold;
  const hf = num(flag(values, 'head-fraction'), 'head-fraction');
  const ht = num(flag(values, 'head-threshold'), 'head-threshold');
  if (hf !== undefined) o.headFraction = hf;
  if (ht !== undefined) o.headThreshold = ht;
  const scoring = parseScoring(flag(values, 'scoring'));
  if (scoring) o.scoring = scoring;
  const gqa = parseGqa(flag(values, 'gqa'));
  if (gqa) o.gqa = gqa;
  if (values['zero-unused-tokens']) o.zeroUnusedTokens = true;
  return o;
}

export async function runContextualCli(values: CliValues): Promise<number> {
  const modelDir = need(values, 'model');
  const calib = readTextFile(need(values, 'calib'));
  const domain = flag(values, 'eval') ? readTextFile(flag(values, 'eval')!) : null;
  const general = flag(values, 'eval-general') ? readTextFile(flag(values, 'eval-general')!) : null;
  const options = contextualOptionsOf(values);
  const { maxWindows } = evalOptions(values);
  const out = flag(values, 'out');
  return withModel(modelDir, async (engine) => {
    const progress = progressLine(values);
    const t0 = performance.now();
    const evaluate = domain || general ? { domain, general, seqlen: options.seqlen, ...(maxWindows !== undefined ? { maxWindows } : {}), dense: false } : null;
    const { report: r, pruned } = await runContextualJob(engine, { calibText: calib, options, evaluate }, { onProgress: progress.update });
    if (out) writeFolder(out, (await engine.exportSmaller()).files);
    progress.end();
    const s = r.summary;
    const d = pruned.domain;
    const json = {
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
      out: out ?? null,
    };
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    const target = r.mode === 'fraction' ? `fraction ${r.neuronTarget}` : `threshold ${r.neuronTarget}`;
    const ppls = [d ? `domain perplexity ${d.ppl.toFixed(4)}` : '', pruned.general ? `general perplexity ${pruned.general.ppl.toFixed(4)}` : ''].filter(Boolean).join(', ');
    printer(values)(
      json,
      `contextual ${target}: removed ${s.neurons.removed}/${s.neurons.total} neurons, ${s.heads.removed}/${s.heads.total} heads; ` +
        `parameters ${r.counts.before.params.toLocaleString()} → ${r.counts.after.params.toLocaleString()}, bytes ${r.counts.before.bytes.toLocaleString()} → ${r.counts.after.bytes.toLocaleString()}` +
        `${r.uniform ? '' : ' (non-uniform: zeros in place)'}${ppls ? `; ${ppls}` : ''}${out ? `; smaller model exported to ${out}` : ''}`,
    );
    return 0;
  }, loadOptions(values));
}
