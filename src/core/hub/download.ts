// Downloading the files of a Hub model that Prune Studio reads, into a sink that keeps what has
// arrived (the browser's private storage, or the Hugging Face cache on disk), so that a cut
// connection, a cancel or a reload resumes from the last byte written instead of from zero.
//
// Which files: config.json; the safetensors weights (the shards model.safetensors.index.json
// lists, else model.safetensors, else every top-level *.safetensors); the tokenizer files;
// generation_config.json and prune_studio.json when present. Small files first, then the
// weights, each from `sink.have()` bytes on, with byte-range requests. A connection that drops
// mid-file is retried (up to `retries` times in a row without progress, with back-off).
import { Cancelled, HubError, MissingFile, NetworkError, throwIfCancelled } from '../errors';
import type { DownloadProgress } from '../types';
import { hubFileBlob, type HubFile, type HubListing, type HubOptions } from './client';

/** Files read besides the weights, when the repository has them. */
const SMALL_FILES = [
  'config.json',
  'model.safetensors.index.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'prune_studio.json',
];
const OTHER_WEIGHTS = /\.(bin|pt|pth|ckpt|gguf|onnx|h5|msgpack)$/i;

export interface SinkWriter {
  write(chunk: Uint8Array): Promise<void> | void;
  close(): Promise<void> | void;
}

/** Where downloaded bytes go; keeps partial files between attempts (and, where it can, reloads). */
export interface DownloadSink {
  /** Bytes already held for this file (all of it when complete). */
  have(file: HubFile): Promise<number>;
  /** A writer appending at byte `at` (= have(); 0 starts the file over). */
  open(file: HubFile, at: number): Promise<SinkWriter>;
  /** The file is complete (have() === size). */
  finish(file: HubFile): Promise<void>;
  /** A complete small file's text (the shard index). */
  readText(file: HubFile): Promise<string>;
}

export type { DownloadProgress } from '../types';

export interface DownloadOptions extends HubOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Attempts per file in a row that make no progress before giving up (default 5). */
  retries?: number;
  /** Back-off before retry k (ms); default 250·2^k. */
  backoffMs?: (attempt: number) => number;
  now?: () => number;
}

const top = (f: HubFile) => !f.path.includes('/');

/**
 * The files a model load reads, checked before any download: config.json must be there, and
 * safetensors weights (a repository with only pytorch_model.bin or other formats is refused by
 * name). The shards of an index are added once the index is read (see downloadModel).
 */
export function planModelFiles(listing: HubListing): { small: HubFile[]; weights: HubFile[] | 'index' } {
  const byPath = new Map(listing.files.filter(top).map((f) => [f.path, f]));
  if (!byPath.has('config.json')) {
    throw new MissingFile(`"${listing.repo}" has no config.json at ${listing.revision}, so it is not a transformers model folder Prune Studio can read.`);
  }
  const small = SMALL_FILES.map((n) => byPath.get(n)).filter((f): f is HubFile => !!f);
  if (byPath.has('model.safetensors.index.json')) return { small, weights: 'index' };
  const single = byPath.get('model.safetensors');
  const weights = single ? [single] : [...byPath.values()].filter((f) => f.path.endsWith('.safetensors')).sort((a, b) => (a.path < b.path ? -1 : 1));
  if (!weights.length) {
    const other = [...byPath.keys()].filter((p) => OTHER_WEIGHTS.test(p));
    throw new HubError(
      `"${listing.repo}" has no .safetensors weights${other.length ? ` (only ${other.slice(0, 3).join(', ')})` : ''}. Prune Studio reads safetensors only; a repository with pytorch_model.bin can be converted with transformers' save_pretrained(safe_serialization=True), or another revision may have safetensors (many repositories have a "refs/pr/N" conversion).`,
    );
  }
  return { small, weights };
}

/** The shard files a model.safetensors.index.json lists, looked up in the listing. */
export function shardsOf(listing: HubListing, indexText: string): HubFile[] {
  let j: unknown;
  try {
    j = JSON.parse(indexText);
  } catch (e) {
    throw new HubError(`"${listing.repo}": model.safetensors.index.json is not valid JSON (${(e as Error).message.slice(0, 80)}).`);
  }
  const map = (j as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null) throw new HubError(`"${listing.repo}": model.safetensors.index.json has no "weight_map" object.`);
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  const byPath = new Map(listing.files.filter(top).map((f) => [f.path, f]));
  const out: HubFile[] = [];
  for (const n of names) {
    const f = typeof n === 'string' ? byPath.get(n) : undefined;
    if (!f) throw new MissingFile(`"${listing.repo}": model.safetensors.index.json lists the shard ${JSON.stringify(n).slice(0, 80)}, which the repository does not have at ${listing.sha.slice(0, 12)}.`);
    out.push(f);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A dropped connection, an unreachable server, or a server error that may pass. */
const isRetryable = (e: unknown) => e instanceof NetworkError || e instanceof TypeError || (e instanceof HubError && e.transient);

/**
 * Download what a model load reads into `sink`, resuming every partial file. Returns the files
 * (all complete in the sink). Throws HubError / NetworkError / MissingFile with what to do,
 * Cancelled when the signal fires (what arrived stays in the sink).
 */
export async function downloadModel(listing: HubListing, sink: DownloadSink, opts: DownloadOptions = {}): Promise<HubFile[]> {
  const plan = planModelFiles(listing);
  const now = opts.now ?? (() => performance.now());
  const retries = opts.retries ?? 5;
  const backoff = opts.backoffMs ?? ((k: number) => 250 * 2 ** k);

  let files = [...plan.small, ...(Array.isArray(plan.weights) ? plan.weights : [])];
  // Bytes of the whole download: the index's shards are counted once it is read.
  let total = files.reduce((s, f) => s + f.size, 0);
  const held = new Map<string, number>();
  for (const f of files) held.set(f.path, Math.min(await sink.have(f), f.size));
  const doneBytes = () => [...held.values()].reduce((s, n) => s + n, 0);

  // Rate over a sliding window of (time, bytes) samples.
  const samples: Array<[number, number]> = [];
  let lastReport = -Infinity;
  let finished = 0;
  const report = (file: HubFile, force = false) => {
    const t = now();
    const d = doneBytes();
    samples.push([t, d]);
    while (samples.length > 2 && t - samples[0][0] > 3000) samples.shift();
    if (!force && t - lastReport < 100) return;
    lastReport = t;
    const [t0, d0] = samples[0];
    const rate = t - t0 > 200 ? ((d - d0) * 1000) / (t - t0) : 0;
    opts.onProgress?.({ done: d, total, file: file.path, fileDone: held.get(file.path) ?? 0, fileTotal: file.size, bytesPerSecond: rate, files: finished, fileCount: files.length });
  };

  const fetchOne = async (file: HubFile) => {
    let failures = 0;
    for (;;) {
      throwIfCancelled(opts.signal);
      let at = await sink.have(file);
      if (at > file.size) at = 0; // not this file: start over
      held.set(file.path, at);
      if (at === file.size) break;
      const before = at;
      const thrown: Error[] = [];
      try {
        const blob = await hubFileBlob(listing, file, { ...opts, thrown });
        const stream = (at > 0 ? blob.slice(at) : blob).stream() as ReadableStream<Uint8Array>;
        const reader = stream.getReader();
        const w = await sink.open(file, at);
        try {
          for (;;) {
            if (opts.signal?.aborted) {
              await reader.cancel().catch(() => undefined);
              throw new Cancelled();
            }
            const { done, value } = await reader.read();
            if (done) break;
            if (at + value.byteLength > file.size) throw new HubError(`${file.path}: the Hub sent more than the ${file.size} bytes it listed.`);
            await w.write(value);
            at += value.byteLength;
            held.set(file.path, at);
            report(file);
          }
        } finally {
          await w.close();
        }
        if (at !== file.size) throw new NetworkError(`${file.path}: the connection ended after ${at} of ${file.size} bytes.`);
      } catch (caught) {
        // Blob.stream() rejects with the message of the error our fetch threw: take the error back.
        const e = typeof caught === 'string' ? (thrown.find((t) => t.message === caught) ?? new NetworkError(`${file.path}: ${caught.slice(0, 200)}`)) : caught;
        if (e instanceof Cancelled || opts.signal?.aborted || (e as { name?: string })?.name === 'AbortError') {
          throw new Cancelled(`The download of "${listing.repo}" was cancelled; what arrived is kept and the next try resumes from it.`);
        }
        if (!isRetryable(e)) throw e;
        failures = (await sink.have(file)) > before ? 0 : failures + 1;
        if (failures >= retries) {
          const have = await sink.have(file);
          throw new NetworkError(
            `The download of ${file.path} stopped at ${have.toLocaleString('en-US')} of ${file.size.toLocaleString('en-US')} bytes (${(e as Error).message.slice(0, 160)}). What arrived is kept: trying again resumes from there.`,
          );
        }
        await new Promise((r) => setTimeout(r, backoff(failures)));
        continue;
      }
    }
    await sink.finish(file);
    finished++;
    report(file, true);
  };

  for (const f of plan.small) await fetchOne(f);
  if (plan.weights === 'index') {
    const index = plan.small.find((f) => f.path === 'model.safetensors.index.json')!;
    const shards = shardsOf(listing, await sink.readText(index));
    for (const f of shards) held.set(f.path, Math.min(await sink.have(f), f.size));
    files = [...plan.small, ...shards];
    total = files.reduce((s, f) => s + f.size, 0);
    for (const f of shards) await fetchOne(f);
  } else {
    for (const f of plan.weights) await fetchOne(f);
  }
  return files;
}
