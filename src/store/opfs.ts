// Keeping model folders in this browser, in the Origin Private File System (OPFS), so a model can
// be reopened without dropping it again. Each kept model is one folder under prune-studio-models/:
// its files at their paths relative to the model folder, and a manifest (name, files, sizes,
// fingerprint) written last, so a folder without a manifest is a copy that was interrupted. Only
// what the studio reads is copied: the weight files of the loaded model and the small .json/.txt
// files (config, tokenizer); other files of the folder (README, .bin, .onnx…) are left out.
//
// Files are written from the page with FileSystemFileHandle.createWritable(), streaming each file
// (no whole file in memory). Browsers that offer OPFS writes only through
// createSyncAccessHandle() allow that in workers only; there the page says that keeping models
// is not supported. Opening a kept model gives File objects (getFile()) to the usual files source.
//
// The directory logic takes a minimal handle interface, so it runs in unit tests on a fake tree.
import { create } from 'zustand';
import { Cancelled, StorageError } from '../core/errors';
import type { ModelSummary } from '../core/types';
import type { ModelFile } from '../worker/protocol';
import { loadedModelSource, loadModelFiles } from './model-actions';
import { toShownError, type ShownError } from './errors';
import { modelIdentity } from './history';
import { useModel } from './model';
import {
  KEPT_ROOT, MANIFEST_NAME, keptFolderName, safeSegments, validManifest, type DirHandleLike, type FileHandleLike, type KeptManifest,
} from '../core/io/kept-format';
import { formatBytes } from '../core/units';

export { KEPT_ROOT, MANIFEST_NAME, keptFolderName, validManifest, type DirHandleLike, type FileHandleLike, type KeptManifest };

/** Files of these kinds are copied besides the weight files (config, tokenizer, generation). */
const SMALL_FILE = /\.(json|txt)$/i;

export interface KeptModel {
  /** The folder's name under prune-studio-models/. */
  id: string;
  name: string;
  bytes: number;
  files: number;
  keptAt: number | null;
  fingerprint: string | null;
  /** False for a copy that was interrupted (no manifest): it can only be removed. */
  complete: boolean;
}

export interface KeepPlanFile {
  file: Blob;
  /** Path relative to the model folder, e.g. "config.json". */
  rel: string;
  bytes: number;
}

export interface StorageInfo {
  usage: number;
  quota: number;
  /** navigator.storage.persisted(), when the browser tells. */
  persisted: boolean | null;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

const baseName = (p: string) => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);


/**
 * The files of a loaded folder worth keeping, at paths relative to the model folder: the weight
 * files the engine read (`weightFiles`, as in ModelSummary.files) and the .json/.txt files.
 */
export function planKeep(files: readonly ModelFile[], weightFiles: readonly string[]): KeepPlanFile[] {
  const tops = new Set(files.map((f) => (f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : '')));
  const [top] = [...tops];
  const strip = tops.size === 1 && top ? top.length + 1 : 0;
  const weights = new Set(weightFiles.map(baseName));
  const out: KeepPlanFile[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    const rel = f.path.slice(strip);
    const name = baseName(rel);
    if (!weights.has(name) && !SMALL_FILE.test(name)) continue;
    if (name === MANIFEST_NAME || !safeSegments(rel) || seen.has(rel)) continue;
    seen.add(rel);
    out.push({ file: f.file, rel, bytes: f.file.size });
  }
  return out;
}



// ---------------------------------------------------------------------------------------------
// Directory operations (on any DirHandleLike: the real OPFS root or a test fake)

const isNotFound = (e: unknown) => (e as { name?: string } | null)?.name === 'NotFoundError' || (e as { name?: string } | null)?.name === 'TypeMismatchError';

async function fileAt(dir: DirHandleLike, rel: string, create: boolean): Promise<FileHandleLike> {
  const parts = safeSegments(rel);
  if (!parts) throw new StorageError(`Refusing the unsafe path "${rel}".`);
  let d = dir;
  for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create });
  return d.getFileHandle(parts[parts.length - 1], { create });
}

async function readManifest(dir: DirHandleLike): Promise<KeptManifest | null> {
  try {
    const f = await (await dir.getFileHandle(MANIFEST_NAME)).getFile();
    return validManifest(JSON.parse(await f.text()));
  } catch {
    return null;
  }
}

async function dirBytes(dir: DirHandleLike): Promise<number> {
  let n = 0;
  for await (const h of dir.values()) n += h.kind === 'file' ? (await h.getFile()).size : await dirBytes(h);
  return n;
}

async function keptRoot(root: DirHandleLike, create: boolean): Promise<DirHandleLike | null> {
  try {
    return await root.getDirectoryHandle(KEPT_ROOT, { create });
  } catch (e) {
    if (!create && isNotFound(e)) return null;
    throw e;
  }
}

function unsupportedWrite(): StorageError {
  return new StorageError('This browser cannot write files to its private storage from the page (FileSystemFileHandle.createWritable is missing), so models cannot be kept here.');
}

async function writeBlob(fh: FileHandleLike, blob: Blob, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  if (typeof fh.createWritable !== 'function') throw unsupportedWrite();
  const w = await fh.createWritable();
  const count = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      onBytes(chunk.byteLength);
      c.enqueue(chunk);
    },
  });
  // pipeTo closes the writable when done (the file appears whole) and aborts it on an error
  // or a cancel (the partial write is discarded).
  await (blob.stream() as ReadableStream<Uint8Array>).pipeThrough(count).pipeTo(w, signal ? { signal } : {});
}

async function writeText(dir: DirHandleLike, name: string, text: string): Promise<void> {
  await writeBlob(await dir.getFileHandle(name, { create: true }), new Blob([text], { type: 'application/json' }), () => undefined);
}

export interface KeepOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Space the site may still use (navigator.storage.estimate), checked first and named in quota errors. */
  estimate?: () => Promise<StorageInfo | null>;
  now?: () => number;
}

function quotaError(name: string, total: number, est: StorageInfo | null): StorageError {
  const room = est && est.quota > 0 ? `, but this site may use only ${formatBytes(Math.max(0, est.quota - est.usage))} more in this browser (${formatBytes(est.usage)} of ${formatBytes(est.quota)} used)` : ', but the browser refused the space';
  return new StorageError(`Keeping ${name} needs ${formatBytes(total)}${room}. Remove kept models or free disk space, then try again.`);
}

/** Copy the planned files into a new folder (manifest last); on any failure nothing is left. */
export async function keepInto(root: DirHandleLike, plan: readonly KeepPlanFile[], meta: { name: string; fingerprint: string }, opts: KeepOptions = {}): Promise<KeptModel> {
  if (!plan.length) throw new StorageError(`${meta.name} has no files to keep.`);
  const total = plan.reduce((s, f) => s + f.bytes, 0);
  const before = opts.estimate ? await opts.estimate().catch(() => null) : null;
  if (before && before.quota > 0 && before.quota - before.usage < total) throw quotaError(meta.name, total, before);

  const top = (await keptRoot(root, true))!;
  const taken = new Set<string>();
  for await (const h of top.values()) taken.add(h.name);
  const id = keptFolderName(meta.name, taken);
  const dir = await top.getDirectoryHandle(id, { create: true });
  let done = 0;
  try {
    for (const f of plan) {
      if (opts.signal?.aborted) throw new Cancelled();
      const fh = await fileAt(dir, f.rel, true);
      await writeBlob(
        fh,
        f.file,
        (n) => {
          done += n;
          opts.onProgress?.(done, total);
        },
        opts.signal,
      );
    }
    const manifest: KeptManifest = { v: 1, name: meta.name, files: plan.map((f) => ({ path: f.rel, bytes: f.bytes })), bytes: total, keptAt: (opts.now ?? Date.now)(), fingerprint: meta.fingerprint };
    await writeText(dir, MANIFEST_NAME, JSON.stringify(manifest, null, 1));
    return { id, name: meta.name, bytes: total, files: plan.length, keptAt: manifest.keptAt, fingerprint: meta.fingerprint, complete: true };
  } catch (e) {
    // A partial copy is useless and takes space: remove it (best effort).
    await top.removeEntry(id, { recursive: true }).catch(() => undefined);
    const name = (e as { name?: string } | null)?.name;
    if (e instanceof Cancelled || name === 'AbortError' || opts.signal?.aborted) throw new Cancelled(`Keeping ${meta.name} was cancelled; nothing was kept.`);
    if (name === 'QuotaExceededError') throw quotaError(meta.name, total, opts.estimate ? await opts.estimate().catch(() => null) : null);
    if (e instanceof StorageError) throw e;
    throw new StorageError(`Keeping ${meta.name} failed after ${formatBytes(done)} of ${formatBytes(total)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The kept models, newest first; interrupted copies are listed as incomplete. */
export async function listKeptIn(root: DirHandleLike): Promise<KeptModel[]> {
  const top = await keptRoot(root, false);
  if (!top) return [];
  const out: KeptModel[] = [];
  for await (const h of top.values()) {
    if (h.kind !== 'directory') continue;
    const m = await readManifest(h);
    out.push(
      m
        ? { id: h.name, name: m.name, bytes: m.bytes, files: m.files.length, keptAt: m.keptAt, fingerprint: m.fingerprint, complete: true }
        : { id: h.name, name: h.name, bytes: await dirBytes(h).catch(() => 0), files: 0, keptAt: null, fingerprint: null, complete: false },
    );
  }
  return out.sort((a, b) => (b.keptAt ?? 0) - (a.keptAt ?? 0) || a.id.localeCompare(b.id));
}

/** The files of a kept model as the files source expects them ("<name>/<path>"), sizes checked. */
export async function keptFilesIn(root: DirHandleLike, id: string): Promise<{ name: string; files: ModelFile[] }> {
  const top = await keptRoot(root, false);
  let dir: DirHandleLike | null = null;
  try {
    dir = top ? await top.getDirectoryHandle(id) : null;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (!dir) throw new StorageError(`No kept model "${id}" in this browser (it may have been removed, or the site's data cleared).`);
  const m = await readManifest(dir);
  if (!m) throw new StorageError(`The kept copy "${id}" is incomplete (the copy was interrupted). Remove it and keep the model again.`);
  const files: ModelFile[] = [];
  for (const f of m.files) {
    let file: File;
    try {
      file = await (await fileAt(dir, f.path, false)).getFile();
    } catch (e) {
      if (isNotFound(e)) throw new StorageError(`The kept copy of ${m.name} lacks ${f.path}. Remove it and keep the model again.`);
      throw e;
    }
    if (file.size !== f.bytes) throw new StorageError(`The kept copy of ${m.name} is damaged: ${f.path} has ${file.size} bytes instead of ${f.bytes}. Remove it and keep the model again.`);
    files.push({ file, path: `${m.name}/${f.path}` });
  }
  return { name: m.name, files };
}

export async function removeKeptIn(root: DirHandleLike, id: string): Promise<void> {
  const top = await keptRoot(root, false);
  if (!top) return;
  try {
    await top.removeEntry(id, { recursive: true });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** A kept copy of this very model (same name and fingerprint) is in the list. */
export function isKept(summary: ModelSummary, models: readonly KeptModel[]): boolean {
  const fp = modelIdentity(summary).fingerprint;
  return models.some((m) => m.complete && m.name === summary.name && m.fingerprint === fp);
}

// ---------------------------------------------------------------------------------------------
// The page's state and actions

export type OpfsSupport = { canList: boolean; canWrite: boolean; reason: string | null };

export function opfsSupport(): OpfsSupport {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage || typeof storage.getDirectory !== 'function') {
    return { canList: false, canWrite: false, reason: 'This browser has no private file storage for sites (Origin Private File System), so models cannot be kept here.' };
  }
  const proto = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle?.prototype;
  if (!proto || !('createWritable' in proto)) return { canList: true, canWrite: false, reason: unsupportedWrite().message };
  return { canList: true, canWrite: true, reason: null };
}

export type KeptBusy = { op: 'keep'; name: string; done: number; total: number } | { op: 'open' | 'remove'; id: string } | null;

interface KeptState {
  support: OpfsSupport | null;
  models: KeptModel[];
  /** The list has been read at least once. */
  listed: boolean;
  storage: StorageInfo | null;
  busy: KeptBusy;
  error: ShownError | null;
  notice: string | null;
  set(patch: Partial<Omit<KeptState, 'set'>>): void;
}

export const useKept = create<KeptState>()((set) => ({
  support: null,
  models: [],
  listed: false,
  storage: null,
  busy: null,
  error: null,
  notice: null,
  set: (patch) => set(patch),
}));

async function opfsRoot(): Promise<DirHandleLike> {
  return (await navigator.storage.getDirectory()) as unknown as DirHandleLike;
}

export async function storageInfo(): Promise<StorageInfo | null> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage || typeof storage.estimate !== 'function') return null;
  try {
    const e = await storage.estimate();
    const persisted = typeof storage.persisted === 'function' ? await storage.persisted() : null;
    return { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted };
  } catch {
    return null;
  }
}

/** Read the kept models and the storage estimate again. */
export async function refreshKept(): Promise<void> {
  const support = opfsSupport();
  const st = useKept.getState();
  st.set({ support, storage: await storageInfo() });
  if (!support.canList) return;
  try {
    useKept.getState().set({ models: await listKeptIn(await opfsRoot()), listed: true });
  } catch (e) {
    useKept.getState().set({ listed: true, error: toShownError(new StorageError(`Could not list the kept models: ${e instanceof Error ? e.message : String(e)}`)) });
  }
}

let keepAbort: AbortController | null = null;

/** Copy the loaded model's files into this browser. */
export async function keepLoadedModel(): Promise<void> {
  const st = useKept.getState();
  if (st.busy) return;
  st.set({ error: null, notice: null });
  const summary = useModel.getState().summary;
  const src = loadedModelSource();
  const support = opfsSupport();
  const fail = (e: unknown) => useKept.getState().set({ error: toShownError(e) });
  if (!summary || !src || src.source.kind !== 'files') return fail(new StorageError('Only a model loaded from a folder or files can be kept; the demo model is built into the page.'));
  if (!support.canWrite) return fail(new StorageError(support.reason ?? 'Keeping models is not supported here.'));
  const plan = planKeep(src.source.files, summary.files);
  const total = plan.reduce((s, f) => s + f.bytes, 0);
  const ac = new AbortController();
  keepAbort = ac;
  st.set({ busy: { op: 'keep', name: summary.name, done: 0, total } });
  let last = 0;
  try {
    // Ask the browser not to evict this site's storage under pressure; it may say no (the copy is
    // still made, and the notice says it may be cleared).
    const persisted = typeof navigator.storage.persist === 'function' ? await navigator.storage.persist().catch(() => false) : false;
    const kept = await keepInto(
      await opfsRoot(),
      plan,
      { name: summary.name, fingerprint: modelIdentity(summary).fingerprint },
      {
        signal: ac.signal,
        estimate: storageInfo,
        onProgress: (done, t) => {
          // A few updates a second are enough for the bar.
          const now = performance.now();
          if (now - last < 100 && done < t) return;
          last = now;
          const b = useKept.getState().busy;
          if (b?.op === 'keep') useKept.getState().set({ busy: { ...b, done } });
        },
      },
    );
    useKept.getState().set({
      notice: `Kept ${kept.name} (${formatBytes(kept.bytes)}, ${kept.files} files) in this browser.${persisted ? '' : ' The browser did not grant persistent storage: it may remove kept models when disk space runs low.'}`,
    });
  } catch (e) {
    fail(e);
  } finally {
    keepAbort = null;
    useKept.getState().set({ busy: null });
    await refreshKept();
  }
}

export function cancelKeep(): void {
  keepAbort?.abort();
}

/** Load a kept model through the usual files source. */
export async function openKept(id: string): Promise<void> {
  const st = useKept.getState();
  if (st.busy) return;
  st.set({ error: null, notice: null, busy: { op: 'open', id } });
  let kept: { name: string; files: ModelFile[] };
  try {
    kept = await keptFilesIn(await opfsRoot(), id);
  } catch (e) {
    useKept.getState().set({ busy: null, error: toShownError(e) });
    return;
  }
  useKept.getState().set({ busy: null });
  // Load errors appear in the Model area, as for a dropped folder.
  await loadModelFiles(kept.files, `Kept in this browser: ${kept.name}`);
}

export async function removeKept(id: string): Promise<void> {
  const st = useKept.getState();
  if (st.busy) return;
  st.set({ error: null, notice: null, busy: { op: 'remove', id } });
  try {
    await removeKeptIn(await opfsRoot(), id);
  } catch (e) {
    useKept.getState().set({ error: toShownError(new StorageError(`Could not remove the kept model: ${e instanceof Error ? e.message : String(e)}`)) });
  } finally {
    useKept.getState().set({ busy: null });
    await refreshKept();
  }
}
