// Shared helpers of the end-to-end tests.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page } from '@playwright/test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEMO_FILES = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
];

export interface FileOverride {
  /** Replace the file's content with this text. */
  text?: string;
  /** Keep only the first N bytes. */
  truncateTo?: number;
}

/**
 * Drop files onto the model drop zone with a real DataTransfer: the files of the demo model are
 * fetched from the page's own server, optionally altered, wrapped as File objects and dispatched
 * in dragenter / dragover / drop events.
 */
export async function dropModelFiles(
  page: Page,
  opts: {
    files?: string[];
    overrides?: Record<string, FileOverride>;
    testId?: string;
    /** Name the files "<folder>/<file>", as a dropped folder's files arrive. */
    folder?: string;
  } = {},
): Promise<void> {
  await page.evaluate(
    async ({ files, overrides, testId, folder }) => {
      const dt = new DataTransfer();
      for (const name of files) {
        const res = await fetch(new URL(`models/stories260K/${name}`, document.baseURI));
        if (!res.ok) throw new Error(`fetch ${name}: HTTP ${res.status}`);
        let blob = await res.blob();
        const o = overrides[name];
        if (o?.text !== undefined) blob = new Blob([o.text], { type: 'application/json' });
        if (o?.truncateTo !== undefined) blob = blob.slice(0, o.truncateTo);
        dt.items.add(new File([blob], folder ? `${folder}/${name}` : name));
      }
      const zone = document.querySelector(`[data-testid="${testId}"]`);
      if (!zone) throw new Error(`no element with data-testid=${testId}`);
      for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
      }
    },
    { files: opts.files ?? DEMO_FILES, overrides: opts.overrides ?? {}, testId: opts.testId ?? 'drop-zone', folder: opts.folder ?? '' },
  );
}

export interface CliRun {
  ok: boolean;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Run `npm run cli -- <args>` in the repo (asynchronously, so the browser keeps running). */
export function runCli(args: string[], timeoutMs = 600_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'cli', '--', ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr), error: err ? String(err.message) : undefined }),
    );
  });
}

/** The JSON object a `--json` CLI run printed (the whole stdout, or its last JSON line). */
export function parseCliJson(stdout: string): unknown {
  const s = stdout.trim();
  try {
    return JSON.parse(s);
  } catch {
    /* fall through */
  }
  const lines = s.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    try {
      return JSON.parse(lines.slice(i).join('\n'));
    } catch {
      /* keep looking */
    }
  }
  const a = s.indexOf('{');
  const b = s.lastIndexOf('}');
  if (a >= 0 && b > a) return JSON.parse(s.slice(a, b + 1));
  throw new Error(`no JSON object in CLI output:\n${stdout.slice(0, 2000)}`);
}

/** First numeric property `key` found in a JSON value (depth-first). */
export function findNumber(v: unknown, key: string): number | undefined {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o[key] === 'number') return o[key] as number;
    for (const x of Object.values(o)) {
      const r = findNumber(x, key);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** Small runs for SwiftShader: calibration 4 × 64 tokens, evaluation 2 windows of 64. */
export const SMALL = { calibSamples: 4, seqlen: 64, maxWindows: 2 } as const;

export async function useSmallSettings(page: Page): Promise<void> {
  await page.getByTestId('calib-samples').fill(String(SMALL.calibSamples));
  await page.getByTestId('prune-seqlen').fill(String(SMALL.seqlen));
  await page.getByTestId('max-windows').fill(String(SMALL.maxWindows));
}

/** Measure perplexity in the Evaluate area and return it (full precision). */
export async function measurePerplexity(page: Page): Promise<number> {
  const result = page.getByTestId('ppl-result');
  const before = (await result.count()) ? await result.getAttribute('data-call-id') : null;
  await page.getByTestId('measure-ppl').click();
  // Each measurement has its own call id: wait for a result that is not the previous one.
  await expect(result).toHaveAttribute('data-call-id', before === null ? /\d+/ : new RegExp(`^(?!${before}$)\\d+$`), { timeout: 240_000 });
  const raw = await page.getByTestId('ppl-value').getAttribute('data-value');
  const ppl = Number(raw);
  if (!Number.isFinite(ppl)) throw new Error(`perplexity is not a number: ${raw}`);
  return ppl;
}
