// A training run on the engine (`finetune`): recover a pruned model with its zeros fixed, or prune
// it gradually by magnitude while it trains (GMP), on the protocol of the README ("Training"):
// the text tokenized once and cut into non-overlapping windows of T tokens, step t reading windows
// (t·B + j) mod N, AdamW with warm-up + cosine, the mean next-token cross-entropy per step, and
// held-out perplexity before and after (every `evalEvery` steps too).
import type { Engine } from '../engine';
import { BadOption, BadText, Cancelled, NumericalError, Paused, TooLargeForDevice } from '../errors';
import { firstNonFinite } from '../eval/diagnose';
import { type DistillTerm, OPTIONS, checkOption, distillLabel } from '../options';
import { linearNames, weightedSparsity } from '../model/spec';
import { type GmpSchedule, checkGmpSchedule, checkLrSchedule, gmpSparsityAt, lrAt, windowsOfStep } from '../train/schedule';
import { frozenNames } from '../train/frozen';
import { Trainer, type TrainState } from '../train/trainer';
import { formatBytes, now } from '../units';
import type { GpuModel } from '../nn/model';
import { trainPassBytes } from '../train/backward';
import type { TrainProtocol } from '../types';
import type { JobHooks } from './job';

export interface FinetuneInput extends TrainProtocol {
  trainText: string;
  /** Gradual magnitude pruning (from the weights as they are); none: the zeros at the start stay. */
  gmp?: GmpSchedule;
  /**
   * Distillation from the engine's teacher (Engine.loadTeacher): the loss adds KL(teacher ‖ model)
   * per predicted token ('kl') and/or SquareHead's per-layer normalised MSE to the teacher's
   * decoder-layer outputs ('squarehead'), each with weight 1.
   */
  distill?: readonly DistillTerm[];
  /** Held-out perplexity before and after (and every evalEvery steps). */
  evalText?: string;
  evalSeqlen: number;
  maxWindows?: number;
  evalEvery?: number;
  /** Take a checkpoint (FinetuneCheckpoint, given to onCheckpoint) every this many steps. */
  checkpointEvery?: number;
  /** Tensors left as they are: names or prefixes ("embed", "layers.0"; train/frozen.ts). */
  freeze?: string[];
  /** A cancelled run keeps the weights trained so far (the default) or reverts to those it started from. */
  onCancel?: 'keep' | 'revert';
  /**
   * GPU memory the run may use (bytes): a run predicted to need more is refused before any work,
   * with the sizes. WebGPU does not say how much memory a device has, so the user does.
   */
  memoryBudget?: number;
  /**
   * Activation recomputation: each decoder layer keeps only its input and runs its forward again
   * before its backward (about one more forward per step, the activations of one layer instead of
   * all). The weights come out the same, bit for bit.
   */
  recompute?: boolean;
}

/**
 * What a training run keeps on the GPU (bytes), from the shapes: weights, gradients, AdamW's two
 * moments, one window's activations; a teacher's weights (and, for SquareHead, its layers' outputs).
 */
export function trainingBytes(model: GpuModel, T: number, teacher: GpuModel | null, frozen: ReadonlySet<string>, squareHead = false, recompute = false): { params: number; trainable: number; weights: number; gradients: number; moments: number; activations: number; teacher: number; total: number } {
  let params = 0, trainable = 0;
  for (const [name, w] of model.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    params += n;
    if (!frozen.has(name)) trainable += n;
  }
  const pass = trainPassBytes(model.spec, params, T, model.logitRowsFor(T, teacher ?? undefined), recompute);
  const weights = 4 * params, gradients = 4 * params, moments = 8 * trainable;
  // The pass holds every gradient plus the activations; a teacher adds its weights and its logits' pass.
  const activations = pass - gradients;
  let teacherBytes = 0;
  if (teacher) for (const w of teacher.weights.values()) teacherBytes += 4 * w.shape.reduce((a, b) => a * b, 1);
  if (teacher && squareHead) teacherBytes += 4 * model.spec.nLayers * (T * model.spec.hidden + 2);
  return { params, trainable, weights, gradients, moments, activations, teacher: teacherBytes, total: weights + gradients + moments + activations + teacherBytes };
}

/**
 * A run part-way: the training state (weights, moments, masks, steps taken) and what the result
 * has gathered so far. The data position is the step itself (step t reads windows (t·B + j) mod N),
 * so a run resumed from it computes what the uninterrupted run would have.
 */
export interface FinetuneCheckpoint {
  step: number;
  ppl_start: number | null;
  losses: number[];
  kl: number[];
  /** SquareHead's loss per step so far (absent in checkpoints of runs without it). */
  features?: number[];
  evals: FinetuneResult['evals'];
  pruning: FinetuneResult['pruning'];
  /** Training seconds before this checkpoint. */
  seconds: number;
  /** The run it belongs to: a checkpoint resumes only the run with the same settings and texts. */
  run: RunKey;
  state: TrainState;
}

/** What must be equal for a checkpoint to continue a run: the settings, and the texts by fingerprint. */
export interface RunKey extends TrainProtocol {
  gmp: GmpSchedule | null;
  /** The distillation terms ("kl", "squarehead", "kl+squarehead") or null. */
  distill: string | null;
  /** Training text: its token count and FNV-1a hash of the ids. */
  trainTokens: number;
  trainHash: string;
  evalHash: string | null;
  evalSeqlen: number;
  maxWindows: number | null;
  freeze: string[];
}

function fnv1a(ids: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    let x = ids[i];
    for (let b = 0; b < 4; b++, x >>>= 8) h = Math.imul(h ^ (x & 0xff), 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function runKeyOf(input: FinetuneInput, trainIds: ArrayLike<number>, evalIds: ArrayLike<number> | null): RunKey {
  return {
    steps: input.steps, batch: input.batch, seqlen: input.seqlen, lr: input.lr, warmup: input.warmup, weightDecay: input.weightDecay, clip: input.clip,
    gmp: input.gmp ? { final: input.gmp.final, initial: input.gmp.initial ?? 0, t0: input.gmp.t0, dt: input.gmp.dt, n: input.gmp.n } : null,
    distill: distillLabel(input.distill), trainTokens: trainIds.length, trainHash: fnv1a(trainIds), evalHash: evalIds ? fnv1a(evalIds) : null,
    evalSeqlen: input.evalSeqlen, maxWindows: input.maxWindows ?? null, freeze: [...(input.freeze ?? [])].sort(),
  };
}

/** Refuse a checkpoint of another run, naming what differs. */
function checkSameRun(saved: RunKey, now: RunKey): void {
  const differ = (Object.keys(now) as Array<keyof RunKey>).filter((k) => JSON.stringify(saved[k] ?? null) !== JSON.stringify(now[k]));
  if (differ.length) {
    const say = (k: keyof RunKey) => (k === 'trainHash' || k === 'trainTokens' ? 'the training text' : k === 'evalHash' ? 'the evaluation text' : `${k} (${JSON.stringify(saved[k])} in the checkpoint, ${JSON.stringify(now[k])} now)`);
    throw new BadOption(`The checkpoint belongs to another run: ${[...new Set(differ.map(say))].join(', ')} differ. Resume with the run's own settings and texts, or start afresh.`);
  }
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
  /** KL distillation: the mean KL(teacher ‖ model) of each step (empty without it). */
  kl: number[];
  /** SquareHead: Σ over decoder layers of the normalised MSE to the teacher's output, per step (empty without it). */
  features: number[];
  evals: Array<{ step: number; ppl: number }>;
  /** GMP: the sparsity set at each pruning step. */
  pruning: Array<{ step: number; sparsity: number }>;
  /** Windows N the training text gave (step t reads (t·B + j) mod N). */
  windows: number;
  /** Each decoder linear at the end: its Hugging Face module name and its fraction of zeros. */
  layers: Array<{ name: string; hf: string; sparsity: number }>;
}

export interface FinetuneStep {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export interface FinetuneHooks extends JobHooks {
  onStep?: (s: FinetuneStep) => void;
  /** Each checkpoint as it is taken (every input.checkpointEvery steps); the run waits for it. */
  onCheckpoint?: (c: FinetuneCheckpoint) => void | Promise<void>;
  /** Continue a run from its checkpoint (same model, texts and input). */
  resume?: FinetuneCheckpoint;
  /** Asked before each step: true pauses the run (a checkpoint to onCheckpoint, then Paused is thrown). */
  shouldPause?: () => boolean;
}

export async function runFinetune(engine: Engine, input: FinetuneInput, { onProgress, signal, onStep, onCheckpoint, resume, shouldPause }: FinetuneHooks = {}): Promise<FinetuneResult> {
  const sched = checkLrSchedule({ lr: input.lr, warmup: input.warmup, steps: input.steps });
  if (input.gmp) checkGmpSchedule(input.gmp, input.steps);
  const T = input.seqlen, B = input.batch;
  const distill = input.distill?.length ? input.distill : null;
  const teacher = distill ? engine.teacher : null;
  if (distill && !teacher) throw new BadOption('Distillation needs a teacher: give --teacher DIR (the dense model), loaded before the run.');
  const squareHead = !!distill?.includes('squarehead');
  if (squareHead && teacher) {
    const s = engine.gpuModel!.spec, t = teacher.spec;
    if (s.nLayers !== t.nLayers || s.hidden !== t.hidden) {
      throw new BadOption(`SquareHead distils each decoder layer's output into the teacher's, so both need the same layers and width: the model has ${s.nLayers} layers of ${s.hidden}, the teacher ${t.nLayers} of ${t.hidden}. Use --distill kl.`);
    }
  }
  const ids = engine.encode(input.trainText);
  const N = Math.floor(ids.length / T);
  if (N < B) {
    throw new BadText(`The training text gives ${ids.length} tokens: ${N} window(s) of ${T}, fewer than one batch of ${B}. Give a longer text, a smaller --batch or a shorter --seqlen (the text needs at least ${B * T} tokens).`);
  }
  const windows = Array.from({ length: N }, (_, w) => ids.slice(w * T, (w + 1) * T));
  const run = runKeyOf(input, ids, input.evalText ? engine.encode(input.evalText) : null);
  if (resume) checkSameRun(resume.run, run);
  const evalOpts = { seqlen: input.evalSeqlen, maxWindows: input.maxWindows };
  const measure = async () => (input.evalText ? (await engine.perplexity(input.evalText, evalOpts, undefined, signal)).ppl : null);
  if (input.checkpointEvery !== undefined) checkOption(OPTIONS.checkpointEvery, input.checkpointEvery);
  if (resume && (resume.step < 0 || resume.step > input.steps)) throw new BadOption(`The checkpoint is at step ${resume.step}, outside this run's ${input.steps} steps.`);
  const frozen = input.freeze?.length ? frozenNames([...engine.gpuModel!.weights.keys()], input.freeze) : [];
  if (input.memoryBudget !== undefined) {
    const b = trainingBytes(engine.gpuModel!, T, teacher, new Set(frozen), squareHead, !!input.recompute);
    if (b.total > input.memoryBudget) {
      throw new TooLargeForDevice(
        `Training ${b.params.toLocaleString('en-US')} parameters on windows of ${T} tokens needs about ${formatBytes(b.total)} of GPU memory: weights ${formatBytes(b.weights)}, gradients ${formatBytes(b.gradients)}, AdamW moments ${formatBytes(b.moments)}, activations ${formatBytes(b.activations)}${b.teacher ? `, the teacher ${formatBytes(b.teacher)}` : ''}; the budget is ${formatBytes(input.memoryBudget)}. Use a shorter sequence length${input.recompute ? '' : ', activation recomputation (--recompute)'}, freeze tensors (their moments go), or a smaller model.`,
      );
    }
  }
  const pplStart = resume ? resume.ppl_start : await measure();

  const model = engine.beginTraining();
  let trainer: Trainer;
  try {
    trainer = await model.ctx.checked('allocating the training state (gradients, moments, activations)', () => Trainer.create(model, {
      seqlen: T, weightDecay: input.weightDecay, clip: input.clip, maskZeros: !input.gmp && !resume, frozen, recompute: !!input.recompute,
      ...(teacher && distill ? { teacher: { model: teacher, kl: distill.includes('kl'), squareHead } } : {}),
    }));
  } catch (e) {
    if (e instanceof TooLargeForDevice) {
      const params = [...model.weights.values()].reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
      throw new TooLargeForDevice(`${e.message} Training needs the weights, their gradients and two AdamW moments (${((params * 16) / 2 ** 20).toFixed(0)} MiB for ${params} parameters) plus the activations of one window of ${T} tokens.`);
    }
    throw e;
  }
  const losses: number[] = resume ? [...resume.losses] : [];
  const kls: number[] = resume ? [...resume.kl] : [];
  const features: number[] = resume ? [...(resume.features ?? [])] : [];
  const evals: FinetuneResult['evals'] = resume ? [...resume.evals] : [];
  const pruning: FinetuneResult['pruning'] = resume ? [...resume.pruning] : [];
  const before = resume?.seconds ?? 0;
  const t0 = now();
  const checkpoint = async (): Promise<FinetuneCheckpoint> => ({
    step: trainer.t, ppl_start: pplStart, losses: [...losses], kl: [...kls], features: [...features], evals: [...evals], pruning: [...pruning], seconds: before + (now() - t0) / 1000, run, state: await trainer.snapshot(),
  });
  let done = resume?.step ?? 0;
  // Whether the weights differ from the model's before the run (a resumed run's do).
  let changed = !!resume;
  const record = () =>
    engine.adoptTrained({
      steps: done, of_steps: input.steps, batch: B, seqlen: T, lr: input.lr, warmup: input.warmup, weight_decay: input.weightDecay, clip: input.clip,
      ...(input.gmp ? { gmp: input.gmp } : { masks: 'the zeros at the start' }),
      ...(distill ? { distill: distillLabel(distill) } : {}),
      ...(frozen.length ? { frozen } : {}),
    });
  try {
    // The weights as they were before this run (a cancel may revert to them), and what a
    // non-finite step rolls back to: the last checkpoint, or the start.
    const before0 = await checkpoint();
    if (resume) await trainer.restore(resume.state);
    let last = resume ?? before0;
    for (let t = done; t < input.steps; t++) {
      if (signal?.aborted) {
        if (input.onCancel === 'revert') {
          await trainer.restore(before0.state);
          changed = false;
          throw new Cancelled(`Training was cancelled after ${t} of ${input.steps} steps; the weights were reverted to those before the run.`);
        }
        throw new Cancelled(`Training was cancelled after ${t} of ${input.steps} steps; the weights are as trained so far.`);
      }
      if (shouldPause?.() && t > last.step) {
        last = await checkpoint();
        await onCheckpoint?.(last);
        throw new Paused(`Training paused at step ${t} of ${input.steps}; resume continues from there.`);
      }
      const s = input.gmp ? gmpSparsityAt(t, input.gmp) : null;
      if (s !== null) {
        await trainer.gmpPrune(s);
        pruning.push({ step: t, sparsity: s });
        changed = true;
      }
      const lr = lrAt(t, sched);
      const batch = windowsOfStep(t, B, N).map((j) => windows[j]);
      let r;
      try {
        r = await trainer.step(batch, lr);
      } catch (e) {
        if (!(e instanceof NumericalError)) throw e;
        const where = await overflowAt(engine, batch);
        await trainer.restore(last.state);
        done = last.step;
        changed = last.step > 0 || !!resume;
        losses.length = kls.length = features.length = 0;
        losses.push(...last.losses);
        kls.push(...last.kl);
        features.push(...(last.features ?? []));
        throw new NumericalError(
          `${e.message.replace(/; no update was made\.$/, '')}: ${where}. The weights, moments and masks were rolled back to ${last.step ? `the checkpoint of step ${last.step}` : 'the start of the run'}; try a lower learning rate, a longer warm-up or gradient clipping (1.0).`,
        );
      }
      done = t + 1;
      changed = true;
      losses.push(r.loss);
      if (r.kl !== null) kls.push(r.kl);
      if (r.features !== null) features.push(r.features);
      onStep?.({ step: t + 1, steps: input.steps, loss: r.loss, lr, gradNorm: r.gradNorm });
      onProgress?.({ phase: 'train', done: t + 1, total: input.steps, loss: r.loss, detail: `step ${t + 1}/${input.steps} · loss ${r.loss.toFixed(4)}` });
      if (input.evalEvery && (t + 1) % input.evalEvery === 0 && t + 1 < input.steps) {
        const ppl = await measure();
        if (ppl !== null) evals.push({ step: t + 1, ppl });
      }
      if (input.checkpointEvery && (t + 1) % input.checkpointEvery === 0 && t + 1 < input.steps) {
        last = await checkpoint();
        await onCheckpoint?.(last);
      }
    }
  } finally {
    trainer.dispose();
    // Weights changed from the first update (or pruning step) on: the engine must know, whatever stopped the run.
    if (changed) record();
  }
  const seconds = before + (now() - t0) / 1000;
  const layers: FinetuneResult['layers'] = [];
  for (let i = 0; i < model.spec.nLayers; i++) {
    for (const name of linearNames(model.spec, i)) {
      const w = await model.read(`${name}.weight`);
      layers.push({ name, hf: engine.hfName(name), sparsity: w.reduce((n, x) => n + (x === 0 ? 1 : 0), 0) / w.length });
    }
  }
  const sparsity = weightedSparsity(model.spec, layers);
  const tokens = input.steps * B * T;
  const ppl = await measure();
  if (ppl !== null) evals.push({ step: input.steps, ppl });
  return { ppl_start: pplStart, ppl, sparsity, steps: input.steps, tokens, seconds, tokens_per_s: tokens / seconds, losses, kl: kls, features, evals, pruning, windows: N, layers };
}

/** Where a step's forward pass first overflows, over its windows, in words. */
async function overflowAt(engine: Engine, batch: number[][]): Promise<string> {
  const model = engine.gpuModel!;
  for (let j = 0; j < batch.length; j++) {
    const where = await firstNonFinite(model, batch[j]);
    if (where === 'embedding') return `the forward pass overflows in the embedding (window ${j + 1} of the step)`;
    if (typeof where === 'number') return `the forward pass first overflows in decoder layer ${where} (${engine.layerLabel(where)}), window ${j + 1} of the step`;
  }
  return 'every decoder layer\'s output is finite on the step\'s windows, so the overflow is in the final norm, the head or the backward pass';
}
