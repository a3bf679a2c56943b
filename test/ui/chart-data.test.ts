// The sweep chart's data: series per method, N:M apart, dense point, comparable runs only.
import { describe, expect, it } from 'vitest';
import { chartData, yAxis } from '../../src/ui/prune/chart-data';
import { runFactory } from '../helpers/runs';

const run = runFactory();

describe('chartData', () => {
  it('is empty without measured runs', () => {
    expect(chartData([], {}).count).toBe(0);
    expect(chartData([run({ ppl: null })], {}).count).toBe(0);
  });

  it('groups by method, sorts by sparsity, keeps N:M apart, adds the dense point', () => {
    const runs = [
      run({ method: 'dense', target: null, sparsity: 0, ppl: 4 }),
      run({ method: 'wanda', sparsity: 0.7, ppl: 100 }),
      run({ method: 'wanda', sparsity: 0.3, ppl: 5 }),
      run({ method: 'magnitude', sparsity: 0.5, ppl: 30 }),
      run({ method: 'wanda', target: { kind: 'nm', n: 2, m: 4 }, sparsity: 0.5, ppl: 20 }),
    ];
    const d = chartData(runs, {});
    expect(d.count).toBe(5);
    expect(d.series.map((s) => s.method)).toEqual(['magnitude', 'wanda']);
    const wanda = d.series.find((s) => s.method === 'wanda')!;
    expect(wanda.unstructured.map((p) => p.x)).toEqual([30, 70]);
    expect(wanda.nm).toHaveLength(1);
    expect(wanda.nm[0].nm).toBe(true);
    expect(d.dense?.y).toBe(4);
    expect([d.yMin, d.yMax]).toEqual([4, 100]);
  });

  it('uses a dense measurement from the Evaluate area and hides runs measured differently', () => {
    const runs = [run({ evalKey: 'B', ppl: 3 }), run({ evalKey: 'A', ppl: 12 })];
    const d = chartData(runs, { A: 6, B: 2 });
    expect(d.count).toBe(2);
    expect(d.hidden).toBe(1);
    expect(d.dense?.ppl).toBe(6);
    expect(d.dense?.runId).toBeNull();
  });
});

describe('yAxis', () => {
  it('log: 1-2-5 ticks inside a padded domain', () => {
    const a = yAxis(3.7, 180, true);
    expect(a.domain[0]).toBeLessThan(3.7);
    expect(a.domain[1]).toBeGreaterThan(180);
    expect(a.ticks).toEqual([5, 10, 20, 50, 100, 200]);
  });

  it('log over a narrow range still has two ticks', () => {
    expect(yAxis(3.7, 3.9, true).ticks.length).toBeGreaterThanOrEqual(2);
  });

  it('linear: nice steps', () => {
    const a = yAxis(4, 100, false);
    expect(a.ticks[0]).toBeGreaterThanOrEqual(a.domain[0]);
    expect(a.ticks.at(-1)!).toBeLessThanOrEqual(a.domain[1]);
    expect(a.ticks.length).toBeGreaterThanOrEqual(3);
  });
});
