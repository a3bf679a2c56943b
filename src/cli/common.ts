// What every CLI command shares: the parsed flags, required ones, text files, folders, output
// (one JSON object with --json, a line for people otherwise; progress and notes on stderr), and
// the options module's parsers (core/options.ts: the same ranges, defaults and messages as the page).
import fs from 'node:fs';
import path from 'node:path';
import { BadOption, MissingFile } from '../core/errors';
import { decodeTextFile } from '../core/eval/text';
import type { ExportFile } from '../core/export/hf';
import { OPTIONS, parseOption } from '../core/options';
import type { Progress } from '../core/types';
import { formatSeconds } from '../core/units';

/** Every flag of every command (node:util parseArgs values). */
export interface CliValues {
  [flag: string]: string | boolean | undefined;
  json?: boolean;
}

export const flag = (v: CliValues, name: string): string | undefined => (typeof v[name] === 'string' ? (v[name] as string) : undefined);

export function need(v: CliValues, name: string): string {
  const s = flag(v, name);
  if (!s) throw new BadOption(`--${name} is required (npm run cli -- --help lists the options).`);
  return s;
}

export function readTextFile(p: string): string {
  if (!fs.existsSync(p)) throw new MissingFile(`Text file not found: ${p}`);
  return decodeTextFile(fs.readFileSync(p), p);
}

export function writeFolder(dir: string, files: ExportFile[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), f.bytes);
}

/** One JSON object on stdout with --json, else the human line. */
export function printer(values: CliValues): (obj: unknown, human: string) => void {
  return (obj, human) => process.stdout.write(values.json ? `${JSON.stringify(obj)}\n` : `${human}\n`);
}

/**
 * Progress on stderr: a live line on a terminal; elsewhere (CI logs, pipes) one line each time the
 * part before " · " changes (a new layer, a new phase), at most one a second. Each line has the
 * elapsed time and, once there is a rate to go on, the time left (from the work-weighted fraction).
 */
export function progressLine(values: CliValues, opts: { tty?: boolean; write?: (s: string) => void; clock?: () => number } = {}) {
  const live = opts.tty ?? process.stderr.isTTY;
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const clock = opts.clock ?? (() => performance.now());
  void values;
  const t0 = clock();
  let lastHead = '';
  let lastAt = -Infinity;
  return {
    update: (p: Progress) => {
      const t = clock();
      const elapsed = (t - t0) / 1000;
      const f = p.fraction ?? (p.total > 0 ? p.done / p.total : 0);
      const eta = f > 0.02 && elapsed > 1 ? (elapsed * (1 - f)) / f : null;
      const detail = p.detail ?? `${p.phase} ${p.done}/${p.total}`;
      const line = `${detail} · ${(100 * f).toFixed(0)} % · ${formatSeconds(elapsed)}${eta !== null ? `, about ${formatSeconds(eta)} left` : ''}`;
      if (live) {
        write(`\r${line.padEnd(100)}`);
        return;
      }
      const head = `${p.phase}:${detail.split(' · ')[0]}`;
      if (head === lastHead || t - lastAt < 1000) return;
      lastHead = head;
      lastAt = t;
      write(`${line}\n`);
    },
    end: () => {
      if (live) write('\n');
    },
  };
}

/** The evaluation options every command that measures perplexity takes. */
export function evalOptions(values: CliValues): { seqlen: number; maxWindows: number | undefined } {
  return { seqlen: parseOption(OPTIONS.seqlen, flag(values, 'seqlen')), maxWindows: parseOption(OPTIONS.maxWindows, flag(values, 'max-windows')) };
}
