// Units shared by every layer: the clock of timings and the way byte counts are written.

/** Milliseconds on the monotonic clock (browser, worker and Node alike). */
export function now(): number {
  return performance.now();
}

/** Binary-prefixed bytes: 1044992 → "1020.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * "8GB", "8 GiB", "512MiB", "1.5e9": a size in bytes (KB/MB/GB/TB powers of 1000, KiB… of 1024);
 * NaN when it is not one.
 */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([kmgt]i?b?|b)?\s*$/i.exec(text);
  if (!m) return NaN;
  const unit = (m[2] ?? 'b').toLowerCase().replace(/b$/, '');
  const pow = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit[0] ?? ''] ?? NaN;
  const base = unit.endsWith('i') ? 1024 : 1000;
  return Number(m[1]) * base ** pow;
}

/** "4.2 s", "3 min 05 s". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const r = Math.floor(s - m * 60);
  return `${m} min ${String(r).padStart(2, '0')} s`;
}
