// Models from the Hugging Face Hub in Node, kept in the Hugging Face cache exactly as the Python
// huggingface_hub lays it out, so the CLI and transformers share downloads:
//   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
//     models--{org}--{name}/blobs/{etag}               file content (etag: LFS sha256 or git blob id)
//     models--{org}--{name}/blobs/{etag}.incomplete    a download in progress (resumed from its size)
//     models--{org}--{name}/snapshots/{commit}/{path}  relative symlink to ../../blobs/{etag}
//     models--{org}--{name}/refs/{revision}            the commit the revision named when downloaded
// Environment: HF_ENDPOINT (the Hub's address), HF_TOKEN (else the token file $HF_HOME/token, or
// HF_TOKEN_PATH), HF_HUB_OFFLINE=1 (never contact the Hub: open the cached snapshot).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HubError, MissingFile, NetworkError } from '../core/errors';
import { hubAddress, listHubRepo, type HubFile, type HubRef } from '../core/hub/client';
import { downloadModel, type DownloadProgress, type DownloadSink } from '../core/hub/download';

type Env = Record<string, string | undefined>;

export function hfHome(env: Env = process.env): string {
  return env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
}

export function hfHubCache(env: Env = process.env): string {
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || path.join(hfHome(env), 'hub');
}

export function hfToken(env: Env = process.env): string | undefined {
  const t = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (t) return t.trim();
  const file = env.HF_TOKEN_PATH || path.join(hfHome(env), 'token');
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

const truthy = (v?: string) => !!v && /^(1|true|yes|on)$/i.test(v.trim());

export function repoCacheDir(repo: string, env: Env = process.env): string {
  return path.join(hfHubCache(env), `models--${repo.replace('/', '--')}`);
}

const isCommit = (rev: string) => /^[0-9a-f]{40}$/.test(rev);

/** The cached snapshot of a revision, when the cache has one with a config.json. */
export function cachedSnapshot(ref: HubRef, env: Env = process.env): string | null {
  const dir = repoCacheDir(ref.repo, env);
  let sha = isCommit(ref.revision) ? ref.revision : null;
  if (!sha) {
    try {
      sha = fs.readFileSync(path.join(dir, 'refs', ref.revision), 'utf8').trim();
    } catch {
      return null;
    }
  }
  const snap = path.join(dir, 'snapshots', sha);
  return fs.existsSync(path.join(snap, 'config.json')) ? snap : null;
}

/** A DownloadSink writing the cache layout above for one commit. */
export function hfCacheSink(repo: string, sha: string, env: Env = process.env): DownloadSink {
  const dir = repoCacheDir(repo, env);
  const blob = (f: HubFile) => path.join(dir, 'blobs', f.etag);
  const size = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.size ?? null;
  return {
    async have(f) {
      return size(blob(f)) ?? size(blob(f) + '.incomplete') ?? 0;
    },
    async open(f, at) {
      fs.mkdirSync(path.join(dir, 'blobs'), { recursive: true });
      const part = blob(f) + '.incomplete';
      const fh = await fs.promises.open(part, at > 0 ? 'r+' : 'w');
      if (at > 0) await fh.truncate(at);
      let pos = at;
      return {
        async write(chunk) {
          let off = 0;
          while (off < chunk.byteLength) {
            const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off, pos);
            off += bytesWritten;
            pos += bytesWritten;
          }
        },
        close: () => fh.close(),
      };
    },
    async finish(f) {
      const b = blob(f);
      if (size(b) === null) fs.renameSync(b + '.incomplete', b);
      const link = path.join(dir, 'snapshots', sha, f.path);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.rmSync(link, { force: true });
      try {
        fs.symlinkSync(path.relative(path.dirname(link), b), link);
      } catch {
        fs.copyFileSync(b, link); // file systems without symbolic links
      }
    },
    async readText(f) {
      return fs.readFileSync(blob(f), 'utf8');
    },
  };
}

export interface HubOpenResult {
  dir: string;
  repo: string;
  sha: string;
  /** Said to the user (offline fallback, …). */
  notes: string[];
}

/**
 * The folder of a Hub model in the Hugging Face cache, downloading (or resuming) what is missing.
 * Offline (HF_HUB_OFFLINE=1), or when the Hub cannot be reached, a cached snapshot is used.
 */
export async function openHubModel(
  ref: HubRef,
  opts: { env?: Env; onProgress?: (p: DownloadProgress) => void; signal?: AbortSignal; fetch?: typeof fetch; retries?: number; backoffMs?: (k: number) => number } = {},
): Promise<HubOpenResult> {
  const env = opts.env ?? process.env;
  const cached = () => cachedSnapshot(ref, env);
  if (truthy(env.HF_HUB_OFFLINE)) {
    const dir = cached();
    if (!dir) throw new MissingFile(`HF_HUB_OFFLINE is set and the Hugging Face cache (${hfHubCache(env)}) has no snapshot of ${ref.repo}@${ref.revision}. Download it once with the Hub reachable.`);
    return { dir, repo: ref.repo, sha: path.basename(dir), notes: [`offline (HF_HUB_OFFLINE): using the cached snapshot ${path.basename(dir).slice(0, 12)}`] };
  }
  const hubUrl = hubAddress(env.HF_ENDPOINT);
  const token = hfToken(env);
  let listing;
  try {
    listing = await listHubRepo(ref, { hubUrl, token, fetch: opts.fetch, signal: opts.signal });
  } catch (e) {
    const dir = e instanceof NetworkError ? cached() : null;
    if (!dir) throw e;
    return { dir, repo: ref.repo, sha: path.basename(dir), notes: [`${(e as Error).message} Using the cached snapshot ${path.basename(dir).slice(0, 12)} of ${ref.repo}@${ref.revision}.`] };
  }
  const sink = hfCacheSink(ref.repo, listing.sha, env);
  await downloadModel(listing, sink, { hubUrl, token, fetch: opts.fetch, signal: opts.signal, onProgress: opts.onProgress, retries: opts.retries, backoffMs: opts.backoffMs });
  if (ref.revision !== listing.sha) {
    const refs = path.join(repoCacheDir(ref.repo, env), 'refs', ref.revision);
    fs.mkdirSync(path.dirname(refs), { recursive: true });
    fs.writeFileSync(refs, listing.sha);
  }
  const dir = path.join(repoCacheDir(ref.repo, env), 'snapshots', listing.sha);
  if (!fs.existsSync(path.join(dir, 'config.json'))) throw new HubError(`The download of ${ref.repo} ended without config.json in ${dir}.`);
  return { dir, repo: ref.repo, sha: listing.sha, notes: [] };
}
