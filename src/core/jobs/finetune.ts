// A training run on the engine (`finetune`): recover a pruned model with its zeros fixed, or prune
// it gradually by magnitude while it trains (GMP), on the protocol of the README ("Training"):
// the text tokenized once and cut into non-overlapping windows of T tokens, step t reading windows
// (t·B + j) mod N, AdamW with warm-up + cosine, the mean next-token cross-entropy per step, and
// held-out perplexity before and after (every `evalEvery` steps too).
import type { Engine } from '../engine';
import { BadOption, BadText, Cancelled, TooLargeForDevice } from '../errors';
import { linearNames, weightedSparsity } from '../model/spec';
import { type GmpSchedule, checkGmpSchedule, checkLrSchedule, gmpSparsityAt, lrAt, windowsOfStep } from '../train/schedule';
import { Trainer } from '../train/trainer';
import { now } from '../units';
import type { JobHooks } from './job';

export interface FinetuneInput {
  trainText: string;
  steps: number;
  batch: number;
  seqlen: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  /** Gradual magnitude pruning (from the weights as they are); none: the zeros at the start stay. */
  gmp?: GmpSchedule;
  /** Knowledge distillation from the engine's teacher (Engine.loadTeacher): loss + KL(teacher ‖ model). */
  distill?: 'kl';
  /** Held-out perplexity before and after (and every evalEvery steps). */
  evalText?: string;
  evalSeqlen: number;
  maxWindows?: number;
  evalEvery?: number;
}

export interface FinetuneResult {
  ppl_start: number | null;
  ppl: number | null;
  /** Fraction of zeros over the decoder linears at the end. */
  sparsity: number;
  steps: number;
  tokens: number;
  seconds: number;
  tokens_per_s: number;
  /** Mean cross-entropy of each step. */
  losses: number[];
  /** Distillation: the mean KL(teacher ‖ model) of each step (empty without a teacher). */
  kl: number[];
  evals: Array<{ step: number; ppl: number }>;
  /** GMP: the sparsity set at each pruning step. */
  pruning: Array<{ step: number; sparsity: number }>;
}

export interface FinetuneStep {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export async function runFinetune(
  engine: Engine,
  input: FinetuneInput,
  { onProgress, signal, onStep }: JobHooks & { onStep?: (s: FinetuneStep) => void } = {},
): Promise<FinetuneResult> {
  const sched = checkLrSchedule({ lr: input.lr, warmup: input.warmup, steps: input.steps });
  if (input.gmp) checkGmpSchedule(input.gmp, input.steps);
  const T = input.seqlen, B = input.batch;
  const teacher = input.distill ? engine.teacher : null;
  if (input.distill && !teacher) throw new BadOption('Distillation needs a teacher: give --teacher DIR (the dense model), loaded before the run.');
  const ids = engine.encode(input.trainText);
  const N = Math.floor(ids.length / T);
  if (N < B) {
    throw new BadText(`The training text gives ${ids.length} tokens: ${N} window(s) of ${T}, fewer than one batch of ${B}. Give a longer text, a smaller --batch or a shorter --seqlen (the text needs at least ${B * T} tokens).`);
  }
  const windows = Array.from({ length: N }, (_, w) => ids.slice(w * T, (w + 1) * T));
  const evalOpts = { seqlen: input.evalSeqlen, maxWindows: input.maxWindows };
  const measure = async () => (input.evalText ? (await engine.perplexity(input.evalText, evalOpts, undefined, signal)).ppl : null);
  const pplStart = await measure();

  const model = engine.beginTraining();
  let trainer: Trainer;
  try {
    trainer = await model.ctx.checked('allocating the training state (gradients, moments, activations)', () => Trainer.create(model, {
      seqlen: T, weightDecay: input.weightDecay, clip: input.clip, maskZeros: !input.gmp, ...(teacher ? { teacher } : {}),
    }));
  } catch (e) {
    if (e instanceof TooLargeForDevice) {
      const params = [...model.weights.values()].reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
      throw new TooLargeForDevice(`${e.message} Training needs the weights, their gradients and two AdamW moments (${((params * 16) / 2 ** 20).toFixed(0)} MiB for ${params} parameters) plus the activations of one window of ${T} tokens.`);
    }
    throw e;
  }
  const losses: number[] = [];
  const kls: number[] = [];
  const evals: FinetuneResult['evals'] = [];
  const pruning: FinetuneResult['pruning'] = [];
  const t0 = now();
  let done = 0;
  const record = () =>
    engine.adoptTrained({
      steps: done, of_steps: input.steps, batch: B, seqlen: T, lr: input.lr, warmup: input.warmup, weight_decay: input.weightDecay, clip: input.clip,
      ...(input.gmp ? { gmp: input.gmp } : { masks: 'the zeros at the start' }),
      ...(input.distill ? { distill: input.distill } : {}),
    });
  try {
    for (let t = 0; t < input.steps; t++) {
      if (signal?.aborted) throw new Cancelled(`Training was cancelled after ${t} of ${input.steps} steps; the weights are as trained so far.`);
      const s = input.gmp ? gmpSparsityAt(t, input.gmp) : null;
      if (s !== null) {
        await trainer.gmpPrune(s);
        pruning.push({ step: t, sparsity: s });
      }
      const lr = lrAt(t, sched);
      const r = await trainer.step(windowsOfStep(t, B, N).map((j) => windows[j]), lr);
      done = t + 1;
      losses.push(r.loss);
      if (r.kl !== null) kls.push(r.kl);
      onStep?.({ step: t + 1, steps: input.steps, loss: r.loss, lr, gradNorm: r.gradNorm });
      onProgress?.({ phase: 'train', done: t + 1, total: input.steps, loss: r.loss, detail: `step ${t + 1}/${input.steps} · loss ${r.loss.toFixed(4)}` });
      if (input.evalEvery && (t + 1) % input.evalEvery === 0 && t + 1 < input.steps) {
        const ppl = await measure();
        if (ppl !== null) evals.push({ step: t + 1, ppl });
      }
    }
  } finally {
    trainer.dispose();
    // Weights changed from the first update (or pruning step) on: the engine must know, whatever stopped the run.
    if (done > 0 || pruning.length) record();
  }
  const seconds = (now() - t0) / 1000;
  const layers: Array<{ name: string; sparsity: number }> = [];
  for (let i = 0; i < model.spec.nLayers; i++) {
    for (const name of linearNames(model.spec, i)) {
      const w = await model.read(`${name}.weight`);
      layers.push({ name, sparsity: w.reduce((n, x) => n + (x === 0 ? 1 : 0), 0) / w.length });
    }
  }
  const sparsity = weightedSparsity(model.spec, layers);
  const tokens = input.steps * B * T;
  const ppl = await measure();
  if (ppl !== null) evals.push({ step: input.steps, ppl });
  return { ppl_start: pplStart, ppl, sparsity, steps: input.steps, tokens, seconds, tokens_per_s: tokens / seconds, losses, kl: kls, evals, pruning };
}
