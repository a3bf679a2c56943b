// Shared helpers of the end-to-end tests.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page, type TestInfo } from '@playwright/test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEMO_FILES = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
];

/** Collect the page's console errors and uncaught exceptions; a test expects the list empty at its end. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Open the studio, wait for the demo model and both token counts, then use the small settings. */
export async function openStudio(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('model-card')).toBeVisible();
  await expect(page.getByTestId('calib-token-count')).toHaveAttribute('data-tokens', /^\d+$/);
  await expect(page.getByTestId('token-count')).toHaveAttribute('data-tokens', /^\d+$/);
  await useSmallSettings(page);
}

/**
 * Take the File System Access API away before the page loads, so saves are plain downloads the
 * test can catch (headless Chromium has no one to answer a save dialog).
 */
export async function useDownloads(page: Page): Promise<void> {
  await page.addInitScript(() => {
    for (const name of ['showSaveFilePicker', 'showDirectoryPicker']) {
      delete (window as unknown as Record<string, unknown>)[name];
      delete (Window.prototype as unknown as Record<string, unknown>)[name];
      Object.defineProperty(window, name, { value: undefined, configurable: true });
    }
  });
}

/** Screenshot one area (by test id) into the test's output folder and attach it to the report. */
export async function shoot(page: Page, testInfo: TestInfo, testId: string, name: string): Promise<void> {
  const body = await page.getByTestId(testId).screenshot({ path: testInfo.outputPath(`${name}.png`) });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}

/** Keep a JSON artifact (<name>.json in the test's output folder) and attach it to the report. */
export async function saveJson(testInfo: TestInfo, name: string, value: unknown): Promise<void> {
  const file = testInfo.outputPath(`${name}.json`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  await testInfo.attach(name, { path: file, contentType: 'application/json' });
}

export interface SavedDownload {
  name: string;
  /** Where it was saved, under the test's output folder. */
  path: string;
}

/**
 * Save every download the page starts from now on, as it arrives, into the test's output folder
 * `dir`. `downloads` fills as the files are written; `settled(n)` waits until n downloads have
 * started and all of them are written (an export starts one download per file).
 */
export function collectDownloads(page: Page, testInfo: TestInfo, dir: string): { downloads: SavedDownload[]; settled(count: number): Promise<void> } {
  const downloads: SavedDownload[] = [];
  const saved: Promise<void>[] = [];
  page.on('download', (d) => {
    const name = d.suggestedFilename();
    const file = testInfo.outputPath(dir, name);
    saved.push(d.saveAs(file).then(() => void downloads.push({ name, path: file })));
  });
  return {
    downloads,
    async settled(count: number) {
      await expect.poll(() => saved.length, { timeout: 30_000 }).toBe(count);
      await Promise.all(saved);
    },
  };
}

/**
 * Drop files saved on disk (an export's downloads) back onto the model drop zone, named
 * "<folder>/<file>" as a dropped folder's files arrive. The bytes cross into the page as base64.
 */
export async function dropSavedFiles(page: Page, files: readonly SavedDownload[], folder: string): Promise<void> {
  const list = files.map((d) => ({ name: `${folder}/${d.name}`, b64: readFileSync(d.path).toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    const zone = document.querySelector('[data-testid="drop-zone"]')!;
    for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
  }, list);
}

export interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The JSON header of a safetensors file (name → entry, without __metadata__) and where the data starts. */
export function safetensorsHeader(bytes: Buffer): { header: Record<string, HeaderEntry>; dataStart: number } {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, HeaderEntry>;
  delete header.__metadata__;
  return { header, dataStart: 8 + n };
}

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

/**
 * Fill the sweep form: the `methods` ticked and the other built-in methods unticked, the
 * sparsities (comma-separated), no N:M patterns, and the dense point measured first.
 */
export async function fillSweep(page: Page, methods: readonly string[], sparsities: string): Promise<void> {
  for (const m of ['magnitude', 'wanda', 'sparsegpt', 'sparsellm']) {
    const box = page.getByTestId(`sweep-method-${m}`);
    await (methods.includes(m) ? box.check() : box.uncheck());
  }
  await page.getByTestId('sweep-sparsities').fill(sparsities);
  await page.getByTestId('sweep-patterns').fill('');
  await page.getByTestId('sweep-dense').check();
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
