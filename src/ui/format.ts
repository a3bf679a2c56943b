// Number formatting for the model card and results.

const intFmt = new Intl.NumberFormat('en-US');

export function formatInt(n: number): string {
  return intFmt.format(n);
}

/** 260352 -> "260.4 K"; 494032768 -> "494.0 M". */
export function formatCompact(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(1)} ${u}`;
  return String(n);
}

export { formatBytes, formatSeconds } from '../core/units';

/** Enough significant digits to read, e.g. 12.3456 -> "12.346". */
export function formatMetric(x: number, digits = 5): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(digits)).toString();
}
