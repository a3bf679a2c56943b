// What every CLI command shares: the parsed flags, required ones, text files, folders, output
// (one JSON object with --json, a line for people otherwise; progress and notes on stderr), and
// the options module's parsers (core/options.ts: the same ranges, defaults and messages as the page).
import fs from 'node:fs';
import path from 'node:path';
import { BadOption, MissingFile } from '../core/errors';
import { decodeTextFile } from '../core/eval/text';
import type { ExportFile } from '../core/export/hf';
import { OPTIONS, parseOption } from '../core/options';

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

/** Progress on stderr, on a terminal only and not with --json. */
export function progressLine(values: CliValues) {
  const live = !values.json && process.stderr.isTTY;
  return {
    update: (p: { detail?: string; done: number; total: number }) => {
      if (live) process.stderr.write(`\r${p.detail ?? `${p.done}/${p.total}`}      `);
    },
    end: () => {
      if (live) process.stderr.write('\n');
    },
  };
}

/** The evaluation options every command that measures perplexity takes. */
export function evalOptions(values: CliValues): { seqlen: number; maxWindows: number | undefined } {
  return { seqlen: parseOption(OPTIONS.seqlen, flag(values, 'seqlen')), maxWindows: parseOption(OPTIONS.maxWindows, flag(values, 'max-windows')) };
}
