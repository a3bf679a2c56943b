// `finetune`: train the model on a text (jobs/finetune.ts). Recovery of a pruned model keeps its
// zeros; --gmp prunes gradually by magnitude while training. --json prints
// { ppl_start, ppl, sparsity, steps, tokens, seconds, tokens_per_s, losses, evals, pruning }.
import { runFinetune } from '../core/jobs/finetune';
import { OPTIONS, parseOption } from '../core/options';
import { type CliValues, flag, need, printer, progressLine, readTextFile, writeFolder } from './common';
import { withModel } from './load';

export async function runFinetuneCli(values: CliValues): Promise<number> {
  const model = need(values, 'model');
  const trainText = readTextFile(need(values, 'train'));
  const evalFile = flag(values, 'eval');
  const evalText = evalFile ? readTextFile(evalFile) : undefined;
  const num = (o: (typeof OPTIONS)[keyof typeof OPTIONS]) => parseOption(o, flag(values, o.flag));
  const input = {
    trainText,
    steps: num(OPTIONS.steps)!,
    batch: num(OPTIONS.batch)!,
    seqlen: num(OPTIONS.trainSeqlen)!,
    lr: num(OPTIONS.lr)!,
    warmup: num(OPTIONS.warmup)!,
    weightDecay: num(OPTIONS.weightDecay)!,
    clip: num(OPTIONS.clip)!,
    gmp: flag(values, 'gmp') !== undefined
      ? { final: num(OPTIONS.gmp)!, t0: num(OPTIONS.gmpT0)!, dt: num(OPTIONS.gmpDt)!, n: num(OPTIONS.gmpN)! }
      : undefined,
    evalText,
    evalSeqlen: num(OPTIONS.evalSeqlen)!,
    maxWindows: num(OPTIONS.maxWindows),
    evalEvery: num(OPTIONS.evalEvery),
  };
  const out = flag(values, 'out');
  return withModel(model, async (engine) => {
    const progress = progressLine(values);
    const r = await runFinetune(engine, input, { onProgress: progress.update });
    if (out) writeFolder(out, await engine.exportModel());
    progress.end();
    const f = (x: number | null) => (x === null ? '—' : x.toFixed(4));
    printer(values)(
      r,
      `${r.steps} steps, ${r.tokens} tokens in ${r.seconds.toFixed(1)} s (${r.tokens_per_s.toFixed(0)} tokens/s): loss ${f(r.losses[0])} → ${f(r.losses[r.losses.length - 1])}, perplexity ${f(r.ppl_start)} → ${f(r.ppl)}, sparsity ${(r.sparsity * 100).toFixed(2)}%${out ? `; written to ${out}` : ''}`,
    );
    return 0;
  });
}
