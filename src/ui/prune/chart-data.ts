// The data of the sparsity-vs-perplexity chart, from the runs: one series per method (unstructured
// points joined by a line, N:M points apart), plus the dense reference point. Only runs measured
// like the latest one (same model, evaluation text, sequence length, windows) are comparable.
import { METHODS, type PruneMethod } from '../../core/prune/types';
import type { RunRecord } from '../../store/prune';

export interface ChartPoint {
  /** Achieved sparsity in percent. */
  x: number;
  /** Perplexity. */
  y: number;
  runId: number | null;
  method: PruneMethod | 'dense' | 'trained';
  label: string;
  nm: boolean;
  sparsity: number;
  ppl: number;
}

export interface MethodSeries {
  method: PruneMethod;
  unstructured: ChartPoint[];
  nm: ChartPoint[];
}

/** A trained point and the one-shot point its weights came from (drawn as a dashed arrow). */
export interface TrainLink {
  from: ChartPoint;
  to: ChartPoint;
}

export interface ChartData {
  series: MethodSeries[];
  dense: ChartPoint | null;
  /** Training runs (recovered, GMP), and the links to the points they started from. */
  trained: ChartPoint[];
  links: TrainLink[];
  /** Every plotted point, dense included. */
  count: number;
  evalLabel: string | null;
  /** Runs left out because they were measured differently. */
  hidden: number;
  yMin: number;
  yMax: number;
}

export function chartData(runs: readonly RunRecord[], dense: Readonly<Record<string, number>>): ChartData {
  const measured = runs.filter((r) => r.ppl !== null && Number.isFinite(r.ppl));
  const latest = measured.at(-1);
  const empty: ChartData = { series: [], dense: null, trained: [], links: [], count: 0, evalLabel: null, hidden: 0, yMin: 1, yMax: 10 };
  if (!latest) return empty;
  const key = latest.evalKey;
  const same = measured.filter((r) => r.evalKey === key);
  const point = (r: RunRecord): ChartPoint => ({
    x: r.sparsity * 100,
    y: r.ppl!,
    runId: r.id,
    method: r.method,
    label: r.label,
    nm: r.target?.kind === 'nm',
    sparsity: r.sparsity,
    ppl: r.ppl!,
  });
  const series: MethodSeries[] = [];
  for (const m of METHODS) {
    const pts = same.filter((r) => r.method === m).map(point);
    if (!pts.length) continue;
    series.push({ method: m, unstructured: pts.filter((p) => !p.nm).sort((a, b) => a.x - b.x), nm: pts.filter((p) => p.nm) });
  }
  const denseRun = [...same].reverse().find((r) => r.method === 'dense');
  const densePpl = denseRun?.ppl ?? dense[key];
  const densePoint: ChartPoint | null =
    densePpl !== undefined && densePpl !== null
      ? { x: 0, y: densePpl, runId: denseRun?.id ?? null, method: 'dense', label: 'dense', nm: false, sparsity: 0, ppl: densePpl }
      : null;
  const trained = same.filter((r) => r.method === 'trained').map(point);
  const byId = new Map([...series.flatMap((s) => [...s.unstructured, ...s.nm]), ...trained, ...(densePoint ? [densePoint] : [])].filter((p) => p.runId !== null).map((p) => [p.runId!, p]));
  const links: TrainLink[] = [];
  for (const r of same) {
    if (r.method !== 'trained') continue;
    const from = r.trained?.fromRunId != null ? byId.get(r.trained.fromRunId) : r.trained?.from === 'dense' ? (densePoint ?? undefined) : undefined;
    if (from) links.push({ from, to: byId.get(r.id)! });
  }
  const ys = [...series.flatMap((s) => [...s.unstructured, ...s.nm]), ...trained, ...(densePoint ? [densePoint] : [])].map((p) => p.y);
  const count = ys.length;
  return {
    series,
    dense: densePoint,
    trained,
    links,
    count,
    evalLabel: latest.evalLabel,
    hidden: measured.length - same.length,
    yMin: Math.min(...ys),
    yMax: Math.max(...ys),
  };
}

/** A y domain with some room, and ticks at 1-2-5 steps (log) or nice steps (linear). */
export function yAxis(yMin: number, yMax: number, log: boolean): { domain: [number, number]; ticks: number[] } {
  if (log) {
    const lo = Math.max(1e-9, yMin / 1.15);
    const hi = yMax * 1.15;
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo && v <= hi) ticks.push(Number(v.toPrecision(6)));
      }
    }
    // Few decades: add the ends so the axis is never bare.
    if (ticks.length < 2) {
      ticks.unshift(Number(lo.toPrecision(3)));
      ticks.push(Number(hi.toPrecision(3)));
    }
    return { domain: [lo, hi], ticks: [...new Set(ticks)].sort((a, b) => a - b) };
  }
  const span = Math.max(yMax - yMin, Math.abs(yMax) * 0.05, 1e-6);
  const lo = Math.max(0, yMin - span * 0.1);
  const hi = yMax + span * 0.1;
  const step0 = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) ticks.push(Number(v.toPrecision(6)));
  return { domain: [lo, hi], ticks };
}
