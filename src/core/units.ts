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
