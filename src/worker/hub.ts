/// <reference lib="webworker" />
// Models opened by id from the Hugging Face Hub, in the engine worker: the files a load reads are
// downloaded into the browser's private storage (OPFS) with synchronous access handles, which
// write in place (a reload keeps every byte written, so the next try resumes from it), then read
// back as Files. Once the model has loaded, the copy gets the kept-model manifest: it appears among
// the kept models and opens offline. When the Hub cannot be reached, a complete copy of the same
// repository and revision is opened instead, with a note.
import { NetworkError, StorageError } from '../core/errors';
import { hubAddress, listHubRepo, parseHubRef, hubFileBlob, type HubFile, type HubListing } from '../core/hub/client';
import { downloadModel, planModelFiles, shardsOf, type DownloadProgress, type DownloadSink } from '../core/hub/download';
import { blobSource, type FileSource } from '../core/io/file-source';
import { HUB_META_NAME, KEPT_ROOT, MANIFEST_NAME, hubFolderName, validHubMeta, validManifest, type HubMeta, type KeptManifest } from '../core/io/kept-format';
import { modelFingerprint } from '../core/model/identity';
import type { ModelSummary } from '../core/types';

export interface HubSourceSpec {
  /** "org/name" or "org/name@revision". */
  id: string;
  revision?: string;
  hubUrl?: string;
  token?: string;
}

/** What the page shows before a download: the commit and the files, with what is already here. */
export interface HubListSummary {
  repo: string;
  revision: string;
  sha: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  /** Every file of the commit; `download` marks those a load reads. */
  files: Array<{ path: string; size: number; download: boolean }>;
  downloadBytes: number;
  /** Bytes of those already in this browser (a kept copy, or an interrupted download). */
  haveBytes: number;
}

interface SyncHandle {
  write(buf: Uint8Array, opts: { at: number }): number;
  truncate(n: number): void;
  flush(): void;
  close(): void;
}

async function keptRoot(): Promise<FileSystemDirectoryHandle> {
  if (!navigator.storage?.getDirectory) throw new StorageError('This browser has no private file storage for sites (OPFS), which models from the Hub are downloaded into.');
  return (await navigator.storage.getDirectory()).getDirectoryHandle(KEPT_ROOT, { create: true });
}

async function readJson(dir: FileSystemDirectoryHandle, name: string): Promise<unknown> {
  try {
    return JSON.parse(await (await (await dir.getFileHandle(name)).getFile()).text());
  } catch {
    return null;
  }
}

async function writeJson(dir: FileSystemDirectoryHandle, name: string, value: unknown): Promise<void> {
  const h = (await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle()) as unknown as SyncHandle;
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(value, null, 1));
    h.truncate(0);
    h.write(bytes, { at: 0 });
    h.flush();
  } finally {
    h.close();
  }
}

/** A DownloadSink over one OPFS folder (top-level files only, as the downloader selects). */
function opfsSink(dir: FileSystemDirectoryHandle): DownloadSink {
  const size = async (f: HubFile) => {
    try {
      return (await (await dir.getFileHandle(f.path)).getFile()).size;
    } catch {
      return 0;
    }
  };
  return {
    have: size,
    async open(f, at) {
      const h = (await (await dir.getFileHandle(f.path, { create: true })).createSyncAccessHandle()) as unknown as SyncHandle;
      h.truncate(at);
      let pos = at;
      return {
        write(chunk) {
          let off = 0;
          while (off < chunk.byteLength) off += h.write(chunk.subarray(off), { at: pos + off });
          pos += chunk.byteLength;
        },
        close() {
          h.flush();
          h.close();
        },
      };
    },
    async finish() {},
    async readText(f) {
      return (await (await dir.getFileHandle(f.path)).getFile()).text();
    },
  };
}

async function listing(spec: HubSourceSpec, signal: AbortSignal): Promise<HubListing> {
  return listHubRepo(parseHubRef(spec.id, spec.revision), { hubUrl: spec.hubUrl, token: spec.token, signal });
}

/** The files a load would read, and how much of them is already in this browser. */
export async function hubList(spec: HubSourceSpec, signal: AbortSignal): Promise<HubListSummary> {
  const l = await listing(spec, signal);
  const plan = planModelFiles(l);
  let wanted = [...plan.small, ...(Array.isArray(plan.weights) ? plan.weights : [])];
  if (plan.weights === 'index') {
    const index = plan.small.find((f) => f.path === 'model.safetensors.index.json')!;
    const text = await (await hubFileBlob(l, index, { hubUrl: spec.hubUrl, token: spec.token, signal })).text();
    wanted = [...plan.small, ...shardsOf(l, text)];
  }
  const names = new Set(wanted.map((f) => f.path));
  let haveBytes = 0;
  try {
    const sink = opfsSink(await (await keptRoot()).getDirectoryHandle(hubFolderName(l.repo, l.sha)));
    for (const f of wanted) haveBytes += Math.min(await sink.have(f), f.size);
  } catch {
    // Nothing of this commit here yet.
  }
  return {
    repo: l.repo,
    revision: l.revision,
    sha: l.sha,
    gated: l.gated,
    private: l.private,
    files: l.files.map((f) => ({ path: f.path, size: f.size, download: names.has(f.path) })),
    downloadBytes: wanted.reduce((s, f) => s + f.size, 0),
    haveBytes,
  };
}

export interface HubOpened {
  files: FileSource[];
  /** Said to the user with the model (an offline fallback). */
  notes: string[];
  /** After a successful load: mark the copy kept (manifest with the model's fingerprint). */
  keep(summary: ModelSummary): Promise<void>;
}

/** A complete kept copy of this repository and revision (the newest), for when the Hub is out of reach. */
async function keptCopy(repo: string, revision: string): Promise<{ dir: FileSystemDirectoryHandle; meta: HubMeta; manifest: KeptManifest } | null> {
  const root = await keptRoot();
  let best: { dir: FileSystemDirectoryHandle; meta: HubMeta; manifest: KeptManifest } | null = null;
  for await (const h of (root as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    if (h.kind !== 'directory') continue;
    const dir = h as FileSystemDirectoryHandle;
    const meta = validHubMeta(await readJson(dir, HUB_META_NAME));
    const manifest = validManifest(await readJson(dir, MANIFEST_NAME));
    if (!meta || !manifest || meta.repo !== repo || (meta.revision !== revision && meta.sha !== revision)) continue;
    if (!best || manifest.keptAt > best.manifest.keptAt) best = { dir, meta, manifest };
  }
  return best;
}

const filesOf = async (dir: FileSystemDirectoryHandle, name: string, paths: string[]) =>
  Promise.all(paths.map(async (p) => blobSource(await (await dir.getFileHandle(p)).getFile(), `${name}/${p}`)));

export async function openFromHub(spec: HubSourceSpec, signal: AbortSignal, onProgress: (p: DownloadProgress) => void): Promise<HubOpened> {
  const ref = parseHubRef(spec.id, spec.revision);
  const name = ref.repo.split('/')[1];
  let l: HubListing;
  try {
    l = await listing(spec, signal);
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    const copy = await keptCopy(ref.repo, ref.revision);
    if (!copy) throw e;
    return {
      files: await filesOf(copy.dir, copy.manifest.name, copy.manifest.files.map((f) => f.path)),
      notes: [`The Hub could not be reached, so the copy of ${ref.repo} kept in this browser was opened (commit ${copy.meta.sha.slice(0, 12)}, downloaded ${new Date(copy.manifest.keptAt).toISOString().slice(0, 10)}).`],
      keep: async () => undefined,
    };
  }
  const dir = await (await keptRoot()).getDirectoryHandle(hubFolderName(l.repo, l.sha), { create: true });
  if (!validHubMeta(await readJson(dir, HUB_META_NAME))) {
    const meta: HubMeta = { v: 1, repo: l.repo, revision: l.revision, sha: l.sha, hubUrl: hubAddress(spec.hubUrl), startedAt: Date.now() };
    await writeJson(dir, HUB_META_NAME, meta);
  }
  const got = await downloadModel(l, opfsSink(dir), { hubUrl: spec.hubUrl, token: spec.token, signal, onProgress });
  return {
    files: await filesOf(dir, name, got.map((f) => f.path)),
    notes: [],
    keep: async (summary) => {
      const manifest: KeptManifest = {
        v: 1,
        name: summary.name,
        files: got.map((f) => ({ path: f.path, bytes: f.size })),
        bytes: got.reduce((s, f) => s + f.size, 0),
        keptAt: Date.now(),
        fingerprint: modelFingerprint(summary),
      };
      await writeJson(dir, MANIFEST_NAME, manifest);
    },
  };
}
