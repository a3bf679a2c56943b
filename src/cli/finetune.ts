// `finetune`: train the model on a text (jobs/finetune.ts). Recovery of a pruned model keeps its
// zeros; --gmp prunes gradually by magnitude while training. --json prints
// { ppl_start, ppl, sparsity, steps, tokens, seconds, tokens_per_s, losses, kl, evals, pruning };
// --distill kl|squarehead|kl,squarehead --teacher DIR adds KL(teacher ‖ model) per predicted token
// and/or SquareHead (each decoder layer's normalised MSE to the teacher's output) to the loss;
// --from-scratch [--seed N] trains the folder's architecture from a fresh initialisation;
// --checkpoint FILE --checkpoint-every N keeps a checkpoint, --resume FILE continues from it.
import { BadOption } from '../core/errors';
import fs from 'node:fs';
import { decodeCheckpoint, encodeCheckpoint } from '../core/jobs/checkpoint';
import { runFinetune, type FinetuneCheckpoint } from '../core/jobs/finetune';
import { OPTIONS, parseDistill, parseOption } from '../core/options';
import { parseFreezeList } from '../core/train/frozen';
import { parseBytes } from '../core/units';
import { type CliValues, flag, need, printer, progressLine, readTextFile, writeFolder } from './common';
import { pathSource } from '../node/files';
import { folderFilesForCli, loadOptions, loadTeacherForCli, withEngine, withModel } from './load';
import { runDenseTwin, type TwinSide } from '../core/jobs/twin';

/** --gpu-memory 8GB: the run's memory budget (WebGPU cannot tell how much the device has). */
function gpuMemory(text: string | undefined): { memoryBudget?: number } {
  if (text === undefined) return {};
  const n = parseBytes(text);
  if (!Number.isFinite(n) || n <= 0) throw new BadOption(`--gpu-memory must be a size such as 8GB, 6GiB or 512MiB; got "${text}".`);
  return { memoryBudget: n };
}

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
    checkpointEvery: num(OPTIONS.checkpointEvery),
    freeze: parseFreezeList(flag(values, 'freeze')),
    ...gpuMemory(flag(values, 'gpu-memory')),
    ...(values.recompute ? { recompute: true } : {}),
  };
  const distillText = flag(values, 'distill');
  const distill = distillText !== undefined ? parseDistill(distillText) : undefined;
  const teacher = flag(values, 'teacher');
  if (distill && !teacher) throw new BadOption(`--distill ${distillText} needs --teacher DIR: the model to distil from (the dense model before pruning).`);
  if (teacher && !distill) throw new BadOption('--teacher is used only with --distill (kl, squarehead or kl,squarehead).');
  const run = { ...input, ...(distill ? { distill } : {}) };
  const out = flag(values, 'out');
  const ckFile = flag(values, 'checkpoint');
  if ((ckFile === undefined) !== (input.checkpointEvery === undefined)) throw new BadOption('--checkpoint FILE and --checkpoint-every N go together: where to write the checkpoint, and how often.');
  const resumeFile = flag(values, 'resume');
  if (resumeFile !== undefined && values['from-scratch']) throw new BadOption('--resume continues a run from its checkpoint (weights included); --from-scratch cannot be given with it.');
  if (resumeFile !== undefined && !fs.statSync(resumeFile, { throwIfNoEntry: false })?.isFile()) throw new BadOption(`--resume: there is no file ${resumeFile}.`);
  const resume = resumeFile !== undefined ? await decodeCheckpoint(pathSource(resumeFile), resumeFile) : undefined;
  if (values['dense-twin']) {
    if (!values['from-scratch'] || !input.gmp) throw new BadOption('--dense-twin compares a model trained from scratch with gradual pruning (--from-scratch --gmp S …) with a dense model of as many parameters as it keeps non-zeros.');
    if (distill || resume || ckFile || out) throw new BadOption('--dense-twin runs two trainings from scratch: --distill, --teacher, --checkpoint, --resume and --out do not apply to it.');
    const files = await folderFilesForCli(model);
    return withEngine(async (engine) => {
      const progress = progressLine(values);
      const r = await runDenseTwin(engine, files, { ...input, gmp: input.gmp!, seed: parseOption(OPTIONS.seed, flag(values, 'seed')) ?? 0 }, { onProgress: progress.update });
      progress.end();
      const line = (label: string, s: TwinSide) =>
        `${label}: hidden ${s.hidden}, ${s.heads} heads (${s.kvHeads} key/value), MLP ${s.ffn}, ${s.layers} layers; ${s.nonzeros.toLocaleString('en-US')} non-zero of ${s.params.toLocaleString('en-US')} parameters; loss ${s.result.losses[0].toFixed(4)} → ${s.result.losses.at(-1)!.toFixed(4)}, perplexity ${s.result.ppl_start?.toFixed(4) ?? '—'} → ${s.result.ppl?.toFixed(4) ?? '—'}`;
      printer(values)(r, `${line('sparse (GMP)', r.sparse)}\n${line('dense twin', r.dense)}`);
      return 0;
    });
  }
  return withModel(model, async (engine) => {
    if (teacher) await loadTeacherForCli(engine, teacher);
    if (values['from-scratch']) {
      const init = engine.reinitialize(parseOption(OPTIONS.seed, flag(values, 'seed')) ?? 0);
      process.stderr.write(`note: weights initialised afresh (normal, std ${init.std}), the folder's config and tokenizer kept\n`);
    }
    const progress = progressLine(values);
    // Written beside, then renamed: a run killed mid-write leaves the previous checkpoint whole.
    const onCheckpoint = ckFile
      ? (c: FinetuneCheckpoint) => {
          fs.writeFileSync(`${ckFile}.part`, encodeCheckpoint(c));
          fs.renameSync(`${ckFile}.part`, ckFile);
        }
      : undefined;
    const r = await runFinetune(engine, run, { onProgress: progress.update, onCheckpoint, resume });
    if (out) writeFolder(out, await engine.exportModel());
    progress.end();
    const f = (x: number | null) => (x === null ? '—' : x.toFixed(4));
    printer(values)(
      r,
      `${r.steps} steps, ${r.tokens} tokens in ${r.seconds.toFixed(1)} s (${r.tokens_per_s.toFixed(0)} tokens/s): loss ${f(r.losses[0])} → ${f(r.losses[r.losses.length - 1])}, perplexity ${f(r.ppl_start)} → ${f(r.ppl)}, sparsity ${(r.sparsity * 100).toFixed(2)}%${out ? `; written to ${out}` : ''}`,
    );
    return 0;
  }, { ...loadOptions(values), ...(values['from-scratch'] ? { configOnly: true } : {}) });
}
