// Benchmark helpers: timing with GPU completion, medians, result files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuContext } from '../src/core/gpu/context';

export const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall time (ms) of `fn` after `warmup` runs, waiting for the GPU each time. */
export async function timeGpu(ctx: GpuContext, fn: () => void | Promise<void>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) {
    await fn();
    await ctx.finish();
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    await ctx.finish();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export function machine() {
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()}-${os.arch()}` };
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
}

/** Write a result JSON (bench/results/<name>-<adapter>.json, or `out`) and return its path. */
export function writeResult(name: string, adapter: string, data: unknown, out?: string): string {
  const p = out ?? path.join(RESULTS, `${name}-${slug(adapter)}.json`);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `${JSON.stringify(data, null, 2)}\n`);
  return p;
}

export function rand(n: number, seed: number, scale: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/**
 * Where the time of `fn` goes, per kernel: each dispatch is submitted alone and stamped when the
 * queue finishes it, so a kernel's share is the gap since the previous stamp (copies and clears
 * recorded before a dispatch count towards it). Slower than `fn` alone; for proportions, not totals.
 */
export async function kernelProfile(ctx: GpuContext, fn: () => Promise<unknown>): Promise<Array<{ kernel: string; ms: number; dispatches: number }>> {
  await ctx.finish();
  const dispatch = ctx.dispatch;
  const stamps: Array<Promise<[string, number]>> = [];
  ctx.dispatch = (shader, ...rest) => {
    dispatch.call(ctx, shader, ...rest);
    ctx.submit();
    stamps.push(ctx.device.queue.onSubmittedWorkDone().then(() => [shader, performance.now()]));
  };
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    ctx.dispatch = dispatch;
  }
  const by = new Map<string, { kernel: string; ms: number; dispatches: number }>();
  let prev = t0;
  for (const [kernel, t] of await Promise.all(stamps)) {
    const e = by.get(kernel) ?? { kernel, ms: 0, dispatches: 0 };
    e.ms += t - prev;
    e.dispatches++;
    by.set(kernel, e);
    prev = t;
  }
  return [...by.values()].sort((a, b) => b.ms - a.ms);
}
