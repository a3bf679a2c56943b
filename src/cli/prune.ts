// `prune` (magnitude, Wanda, SparseGPT, SparseLLM; contextual in contextual.ts) and `sweep`.
// prune --json: { method, sparsity, ppl, nll, windows, tokens, seconds, layers: [{ name (HF module),
// sparsity, rel_error, note?, mlp_error_per_alternation?, kept_alternation? }] }; sweep --json: an
// array of the same objects (the dense point first), N:M points with "pattern".
import type { Engine } from '../core/engine';
import { BadOption } from '../core/errors';
import { runSweep, sweepPoints, type SweepPointResult } from '../core/jobs/sweep';
import { OPTIONS, parseFactorisation, parseMethod, parseOption, parseOverrides, parseTarget, targetLabel } from '../core/options';
import type { SparseLlmOptions } from '../core/prune/sparsellm';
import type { SublayerReport } from '../core/prune/types';
import { type CliValues, evalOptions, flag, need, printer, progressLine, readTextFile, writeFolder } from './common';
import { loadOptions, withModel } from './load';

/** --sparsellm-keep last|best and --sparsellm-iterations N (SparseLLM only; defaults: the authors'). */
function sparsellmOptions(values: CliValues): Partial<SparseLlmOptions> | undefined {
  const o: Partial<SparseLlmOptions> = {};
  const keep = flag(values, 'sparsellm-keep');
  if (keep !== undefined) {
    if (keep !== 'last' && keep !== 'best') throw new BadOption(`--sparsellm-keep must be "last" (the authors') or "best" (the alternation with the lowest MLP error); got "${keep}".`);
    o.keep = keep;
  }
  if (flag(values, 'sparsellm-iterations') !== undefined) o.iterations = parseOption(OPTIONS.sparsellmIterations, flag(values, 'sparsellm-iterations'));
  return Object.keys(o).length ? o : undefined;
}

/** The calibration and SparseGPT options of prune and sweep. */
function commonOptions(values: CliValues) {
  return {
    calibSamples: parseOption(OPTIONS.calibSamples, flag(values, 'calib-samples')),
    seqlen: parseOption(OPTIONS.seqlen, flag(values, 'seqlen')),
    seed: parseOption(OPTIONS.seed, flag(values, 'seed')),
    percdamp: parseOption(OPTIONS.percdamp, flag(values, 'percdamp')),
    blocksize: parseOption(OPTIONS.blocksize, flag(values, 'blocksize')),
    ...(flag(values, 'factorisation') !== undefined ? { factorisation: parseFactorisation(flag(values, 'factorisation')!) } : {}),
    sparsellm: sparsellmOptions(values),
  };
}

function layersOut(engine: Engine, layers: SublayerReport[]) {
  return layers.map((l) => ({
    name: l.hf ?? engine.hfName(l.name), sparsity: l.sparsity, rel_error: l.rel_error, ...(l.note ? { note: l.note } : {}),
    // SparseLLM, on each MLP's down projection: ‖Y − Ŷ‖²/‖Y‖² after each alternation.
    ...(l.history ? { mlp_error_per_alternation: l.history, kept_alternation: l.kept } : {}),
  }));
}

export async function runPrune(values: CliValues): Promise<number> {
  const model = need(values, 'model');
  const calib = readTextFile(need(values, 'calib'));
  const evalText = flag(values, 'eval') ? readTextFile(flag(values, 'eval')!) : null;
  const common = commonOptions(values);
  const { maxWindows } = evalOptions(values);
  const method = parseMethod(need(values, 'method'));
  const target = parseTarget({ sparsity: flag(values, 'sparsity'), pattern: flag(values, 'pattern') });
  const skip = flag(values, 'skip-layers');
  const skipLayers = skip ? skip.split(',').map((x) => parseOption(OPTIONS.skipLayer, x)!) : undefined;
  const overrides = flag(values, 'override') ? parseOverrides(flag(values, 'override')!) : undefined;
  const out = flag(values, 'out');
  return withModel(model, async (engine) => {
    const progress = progressLine(values);
    const t0 = performance.now();
    const r = await engine.prune(calib, { method, target, ...common, skipLayers, overrides }, progress.update);
    const e = evalText ? await engine.perplexity(evalText, { seqlen: common.seqlen, maxWindows }, progress.update) : null;
    if (out) writeFolder(out, await engine.exportModel());
    progress.end();
    const sum = (k: 'statistics' | 'factorisation' | 'sweep' | 'reforward') => r.phases.reduce((acc, p) => acc + p[k], 0);
    const phases = { statistics: sum('statistics'), factorisation: sum('factorisation'), sweep: sum('sweep'), reforward: sum('reforward') };
    const json = {
      method, sparsity: r.sparsity, ppl: e?.ppl ?? null, nll: e?.nll ?? null, windows: e?.windows ?? null,
      tokens: e?.tokens ?? null, seconds: (performance.now() - t0) / 1000, layers: layersOut(engine, r.layers),
      // The prune's seconds by phase (other: the reports, backups and everything between), and its factorisations.
      prune_seconds: r.seconds,
      phases: { ...phases, other: Math.max(0, r.seconds - phases.statistics - phases.factorisation - phases.sweep - phases.reforward) },
      factorisations: r.factorisations,
    };
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    printer(values)(json, `${method} ${targetLabel(target)}: sparsity ${(r.sparsity * 100).toFixed(2)}%${e ? `, perplexity ${e.ppl.toFixed(4)}` : ''}, ${json.seconds.toFixed(1)} s${out ? `; exported to ${out}` : ''}`);
    return 0;
  }, loadOptions(values));
}

export async function runSweepCli(values: CliValues): Promise<number> {
  const model = need(values, 'model');
  const calib = readTextFile(need(values, 'calib'));
  const evalFile = flag(values, 'eval');
  if (!evalFile) throw new BadOption('sweep needs --eval FILE.');
  const evalText = readTextFile(evalFile);
  const common = commonOptions(values);
  const { maxWindows } = evalOptions(values);
  const methods = need(values, 'methods').split(',').map(parseMethod);
  const sparsities = (flag(values, 'sparsities') ?? '').split(',').filter(Boolean).map((x) => Number(x));
  const patterns = (flag(values, 'patterns') ?? '').split(',').filter(Boolean).map((p) => {
    const t = parseTarget({ pattern: p });
    return [(t as { n: number }).n, (t as { m: number }).m] as [number, number];
  });
  const points = sweepPoints(methods, sparsities, patterns);
  if (!points.length) throw new BadOption('sweep needs --sparsities and/or --patterns.');
  return withModel(model, async (engine) => {
    const progress = progressLine(values);
    const spec = { points, includeDense: !values['no-dense'], ...common, maxWindows };
    const onPoint = (p: SweepPointResult) => {
      if (!values.json) process.stderr.write(`${p.label}: sparsity ${(p.sparsity * 100).toFixed(2)}%, perplexity ${p.ppl.toFixed(4)}\n`);
    };
    const results = await runSweep(engine, { calibText: calib, evalText, spec }, { onPoint, onProgress: progress.update });
    const arr = results.map((p) => ({
      method: p.method, sparsity: p.sparsity, ppl: p.ppl, nll: p.nll, windows: p.windows, tokens: p.tokens,
      seconds: p.seconds, layers: layersOut(engine, p.layers), ...(p.target?.kind === 'nm' ? { pattern: `${p.target.n}:${p.target.m}` } : {}),
    }));
    printer(values)(arr, arr.map((p) => `${p.method}\t${(p.sparsity * 100).toFixed(2)}%\t${p.ppl.toFixed(4)}`).join('\n'));
    return 0;
  }, loadOptions(values));
}
