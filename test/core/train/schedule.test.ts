// The training protocol's schedules by hand: learning rate (warm-up, cosine), the windows of each
// step, gradual magnitude pruning's sparsity at every pruning step, and the refusals at entry.
import { describe, expect, test } from 'vitest';
import { BadOption } from '../../../src/core/errors';
import { OPTIONS } from '../../../src/core/options';
import {
  checkGmpSchedule, checkLrSchedule, gmpPlan, gmpSparsityAt, lrAt, prunedCount, windowsOfStep,
} from '../../../src/core/train/schedule';

describe('learning rate', () => {
  const s = { lr: 1e-3, warmup: 10, steps: 100 };
  test('linear warm-up lr·(t+1)/W, then cosine from lr at t = W to 0 at t = S', () => {
    expect(lrAt(0, s)).toBeCloseTo(1e-4, 15);
    expect(lrAt(9, s)).toBeCloseTo(1e-3, 15);
    expect(lrAt(10, s)).toBeCloseTo(1e-3, 15);
    // Half way through the decay: cos(π/2) = 0 → lr/2.
    expect(lrAt(55, s)).toBeCloseTo(5e-4, 15);
    expect(lrAt(100, s)).toBeCloseTo(0, 15);
    expect(lrAt(0, { ...s, warmup: 0 })).toBeCloseTo(1e-3, 15);
  });
  test('the defaults are the protocol of the README', () => {
    expect([OPTIONS.steps.default, OPTIONS.batch.default, OPTIONS.trainSeqlen.default, OPTIONS.lr.default, OPTIONS.warmup.default]).toEqual([100, 8, 128, 1e-3, 10]);
  });
  test('steps fewer than the warm-up are refused by name', () => {
    expect(() => checkLrSchedule({ lr: 1e-3, warmup: 10, steps: 5 })).toThrow(BadOption);
    expect(() => checkLrSchedule({ lr: 1e-3, warmup: 10, steps: 5 })).toThrow(/5 steps are fewer than the 10 warm-up steps/);
    expect(() => checkLrSchedule({ lr: 0, warmup: 0, steps: 5 })).toThrow(/Learning rate: --lr must be above 0/);
  });
});

describe('windows of a step', () => {
  test('(t·B + j) mod N', () => {
    expect(windowsOfStep(0, 3, 7)).toEqual([0, 1, 2]);
    expect(windowsOfStep(2, 3, 7)).toEqual([6, 0, 1]);
    expect(windowsOfStep(5, 4, 3)).toEqual([2, 0, 1, 2]);
    // Exact for steps far past 2^53 / B.
    const t = 2 ** 50 + 3;
    expect(windowsOfStep(t, 8, 1000)).toEqual(Array.from({ length: 8 }, (_, j) => Number((BigInt(t) * 8n + BigInt(j)) % 1000n)));
  });
  test('no window is refused', () => {
    expect(() => windowsOfStep(0, 8, 0)).toThrow(BadOption);
  });
});

describe('gradual magnitude pruning (Zhu & Gupta)', () => {
  const g = { final: 0.5, t0: 0, dt: 10, n: 7 };
  test('s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ at t0, t0 + Δt, …, t0 + nΔt; null between', () => {
    const plan = gmpPlan(g, 100);
    expect(plan.map((p) => p.step)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    plan.forEach(({ sparsity }, k) => expect(sparsity).toBeCloseTo(0.5 - 0.5 * (1 - k / 7) ** 3, 15));
    expect(plan[0].sparsity).toBe(0);
    expect(plan[7].sparsity).toBe(0.5);
    expect(gmpSparsityAt(5, g)).toBeNull();
    expect(gmpSparsityAt(80, g)).toBeNull();
    expect(gmpSparsityAt(12, { ...g, t0: 2, initial: 0.1 })).toBeCloseTo(0.5 + (0.1 - 0.5) * (1 - 1 / 7) ** 3, 15);
  });
  test('⌊s·numel⌋ weights pruned, float noise aside', () => {
    expect(prunedCount(0.5, 10)).toBe(5);
    expect(prunedCount(0.3, 10)).toBe(3);
    expect(prunedCount(0.29, 10)).toBe(2);
    expect(prunedCount(0.7, 64 * 172)).toBe(Math.floor(0.7 * 64 * 172));
  });
  test('a schedule that ends after the run is refused', () => {
    expect(() => checkGmpSchedule(g, 70)).toThrow(/last pruning step t0 \+ n·Δt = 0 \+ 7·10 = 70 is not before step 70/);
    expect(checkGmpSchedule(g, 71)).toBe(g);
    expect(() => checkGmpSchedule({ ...g, final: 1 }, 100)).toThrow(BadOption);
  });
});
