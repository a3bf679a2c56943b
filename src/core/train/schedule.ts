// The training protocol's schedules, as pure functions of the step (README, "Training"):
// which windows a step reads, the learning rate (linear warm-up, then cosine to 0), and gradual
// magnitude pruning's sparsity (Zhu & Gupta 2017, "To prune, or not to prune", eq. 1):
//   s_t = s_f + (s_i − s_f) · (1 − (t − t0) / (n Δt))³   at t = t0, t0 + Δt, …, t0 + n Δt.
import { BadOption } from '../errors';
import { OPTIONS, checkOption } from '../options';

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Warm-up steps W. */
  warmup: number;
  /** Total steps S. */
  steps: number;
}

/** The learning rate of step t (0-based): lr·(t+1)/W for t < W, then lr·½(1 + cos(π(t − W)/(S − W))). */
export function lrAt(t: number, s: LrSchedule): number {
  if (t < s.warmup) return (s.lr * (t + 1)) / s.warmup;
  const span = s.steps - s.warmup;
  if (span <= 0) return s.lr;
  return s.lr * 0.5 * (1 + Math.cos((Math.PI * (t - s.warmup)) / span));
}

/** Checked once at a training run's entry: steps ≥ warm-up, each value in its option's range. */
export function checkLrSchedule(s: LrSchedule): LrSchedule {
  checkOption(OPTIONS.lr, s.lr);
  checkOption(OPTIONS.warmup, s.warmup);
  checkOption(OPTIONS.steps, s.steps);
  if (s.steps < s.warmup) {
    throw new BadOption(`Steps: ${s.steps} steps are fewer than the ${s.warmup} warm-up steps; give --steps of at least ${s.warmup} or a shorter --warmup.`);
  }
  return s;
}

/**
 * The windows of step t: (t·B + j) mod N for j = 0 … B−1, over N non-overlapping windows of the
 * tokenized text. The order depends on nothing else, so a resumed run reads what an uninterrupted
 * one would.
 */
export function windowsOfStep(t: number, batch: number, nWindows: number): number[] {
  if (nWindows < 1) throw new BadOption('The training text gives no window: it needs at least one window of the sequence length.');
  // t·B can pass 2^53 only after ~10^15 windows; mod first keeps it exact.
  const start = ((t % nWindows) * (batch % nWindows)) % nWindows;
  return Array.from({ length: batch }, (_, j) => (start + j) % nWindows);
}

export interface GmpSchedule {
  /** Final sparsity s_f. */
  final: number;
  /** Initial sparsity s_i (0: from dense). */
  initial?: number;
  /** First pruning step t0. */
  t0: number;
  /** Steps between pruning steps Δt. */
  dt: number;
  /** Pruning steps after t0: prunings happen at t0, t0 + Δt, …, t0 + n·Δt. */
  n: number;
}

/** GMP's target sparsity if step t is a pruning step (prune before its forward), else null. */
export function gmpSparsityAt(t: number, g: GmpSchedule): number | null {
  if (t < g.t0 || (t - g.t0) % g.dt !== 0) return null;
  const k = (t - g.t0) / g.dt;
  if (k > g.n) return null;
  const si = g.initial ?? 0;
  if (g.n === 0) return g.final;
  return g.final + (si - g.final) * (1 - k / g.n) ** 3;
}

/** Every pruning step of the schedule that falls before `steps`, with its sparsity. */
export function gmpPlan(g: GmpSchedule, steps: number): Array<{ step: number; sparsity: number }> {
  const out: Array<{ step: number; sparsity: number }> = [];
  for (let k = 0; k <= g.n; k++) {
    const step = g.t0 + k * g.dt;
    if (step >= steps) break;
    out.push({ step, sparsity: gmpSparsityAt(step, g)! });
  }
  return out;
}

/** Checked once at a run's entry: ranges, and a schedule that reaches s_f within the run. */
export function checkGmpSchedule(g: GmpSchedule, steps: number): GmpSchedule {
  checkOption(OPTIONS.gmp, g.final);
  checkOption(OPTIONS.gmpT0, g.t0);
  checkOption(OPTIONS.gmpDt, g.dt);
  checkOption(OPTIONS.gmpN, g.n);
  const last = g.t0 + g.n * g.dt;
  if (last >= steps) {
    throw new BadOption(`Gradual pruning: the last pruning step t0 + n·Δt = ${g.t0} + ${g.n}·${g.dt} = ${last} is not before step ${steps}; the run would end below the final sparsity. Give more --steps or a shorter schedule.`);
  }
  return g;
}

/** How many of a matrix's weights a sparsity prunes: ⌊s·numel⌋ (the smallest |w| first). */
export function prunedCount(sparsity: number, numel: number): number {
  // 0.5·10 must give 5, not 4 from 4.999…: round away float noise before the floor.
  return Math.floor(sparsity * numel + 1e-9);
}
