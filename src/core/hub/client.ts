// Reading a model repository from the Hugging Face Hub (or any server with its URL layout) with
// @huggingface/hub: the commit a revision names, the repository's files, and each file as a lazy
// Blob whose byte ranges are fetched on demand (so a download resumes where it stopped).
//
// The library reports failures as HubApiError with the HTTP status only; the Hub says what went
// wrong in its X-Error-Code header (GatedRepo, RepoNotFound, RevisionNotFound, EntryNotFound).
// Every request goes through `hubFetch`, which turns a failed response into a HubError with a
// message that says what to do, and an unreachable server into a NetworkError. The access token
// is sent to the Hub's origin only: fetch drops Authorization on the redirect to its CDN.
import { downloadFile, listFiles, modelInfo } from '@huggingface/hub';
import { BadOption, HubError, MissingFile, NetworkError } from '../errors';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubRef {
  /** "org/name" */
  repo: string;
  /** Branch, tag or commit; "main" when not given. */
  revision: string;
}

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** "org/name" or "org/name@revision" (also with an "hf:" prefix, as the CLI takes it). */
export function parseHubRef(text: string, revision?: string): HubRef {
  const s = text.trim().replace(/^hf:/, '').replace(/^https?:\/\/(?:www\.)?huggingface\.co\//, '');
  const at = s.indexOf('@');
  const repo = at >= 0 ? s.slice(0, at) : s;
  const rev = (revision?.trim() || (at >= 0 ? s.slice(at + 1) : '') || 'main').trim();
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => REPO_PART.test(p) && !p.includes('..'))) {
    throw new BadOption(`"${text.slice(0, 100)}" is not a Hub model id: write it as organisation/name, e.g. HuggingFaceTB/SmolLM2-135M (optionally @revision).`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(rev) || rev.includes('..')) throw new BadOption(`"${rev.slice(0, 100)}" is not a revision (a branch, tag or commit).`);
  return { repo, revision: rev };
}

export interface HubOptions {
  /** The Hub's address (HF_ENDPOINT); default https://huggingface.co. */
  hubUrl?: string;
  /** A user access token (hf_…), for gated and private models. */
  token?: string;
  /** The fetch to use (tests); default the global one. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /**
   * Errors hubFetch threw, kept here as well: the library's Blob.stream() passes on only their
   * message, and the downloader needs the named error back.
   */
  thrown?: Error[];
}

/** The normalised Hub address: no trailing slash, http(s) only. */
export function hubAddress(hubUrl?: string): string {
  const u = (hubUrl?.trim() || DEFAULT_HUB_URL).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new BadOption(`"${u.slice(0, 100)}" is not a Hub address (e.g. https://huggingface.co).`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new BadOption(`The Hub address must be http(s), found "${u.slice(0, 100)}".`);
  return u;
}

function checkToken(token?: string): string | undefined {
  const t = token?.trim();
  if (!t) return undefined;
  // @huggingface/hub refuses other tokens with a TypeError before any request.
  if (!/^hf_[A-Za-z0-9_-]{1,200}$/.test(t)) throw new BadOption('A Hugging Face access token starts with "hf_" (create one at huggingface.co/settings/tokens).');
  return t;
}

/**
 * A fetch that names what went wrong: a failed response becomes a HubError whose message says
 * what to do, a request that never reached the server a NetworkError. A 404 EntryNotFound passes
 * (the library turns it into null, a missing file), as do 206 and 416.
 */
export function hubFetch(repo: string, opts: HubOptions): typeof fetch {
  const base = hubAddress(opts.hubUrl);
  const f = opts.fetch ?? fetch;
  return async (input, init) => {
    let res: Response;
    try {
      res = await f(input, { ...init, signal: opts.signal ?? init?.signal });
    } catch (e) {
      if ((e as { name?: string })?.name === 'AbortError' || opts.signal?.aborted) throw e;
      const err = new NetworkError(
        `Could not reach the Hub at ${base} (${(e as Error)?.message ?? String(e)}). Check the connection; models kept in this browser or in the Hugging Face cache open without it.`,
      );
      opts.thrown?.push(err);
      throw err;
    }
    if (res.ok || res.status === 416) return res;
    const code = res.headers.get('X-Error-Code') ?? '';
    if (res.status === 404 && code === 'EntryNotFound') return res;
    const serverSays = (res.headers.get('X-Error-Message') ?? '').slice(0, 300);
    const err = hubError(repo, base, res.status, code, serverSays, !!opts.token);
    opts.thrown?.push(err);
    throw err;
  };
}

function hubError(repo: string, base: string, status: number, code: string, serverSays: string, withToken: boolean): HubError {
  const page = `${base}/${repo}`;
  if (code === 'GatedRepo') {
    return new HubError(
      status === 403
        ? `"${repo}" is a gated model and this token's account has not been granted access. Ask for access on ${page}, then try again.`
        : `"${repo}" is a gated model: accept its conditions on ${page}, then give an access token of that account.`,
    );
  }
  if (code === 'RevisionNotFound') return new HubError(`"${repo}" has no revision by that name (${serverSays || 'revision not found'}). Give a branch, tag or commit of the repository.`);
  if (code === 'RepoNotFound' || status === 404) {
    return new HubError(
      withToken
        ? `No model "${repo}" on ${base}, or this token cannot see it. Check the id.`
        : `No model "${repo}" on ${base}. Check the id; if it is a private model, give an access token.`,
    );
  }
  if (status === 401) return new HubError(`The Hub refused the access token (401${serverSays ? `: ${serverSays}` : ''}). Check the token, or leave it empty for a public model.`);
  if (status === 403) return new HubError(`The Hub refused access to "${repo}" (403${serverSays ? `: ${serverSays}` : ''}).`);
  const transient = (e: HubError) => Object.assign(e, { transient: true });
  if (status === 429) return transient(new HubError(`The Hub is limiting requests (429). Wait a minute and try again; a token raises the limit.`));
  const e = new HubError(`The Hub answered ${status} for "${repo}"${serverSays ? `: ${serverSays}` : ''}. Try again later.`);
  return status >= 500 ? transient(e) : e;
}

/** Errors of @huggingface/hub itself (a response it cannot read) under our names. */
async function named<T>(what: string, base: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof HubError || e instanceof NetworkError || e instanceof MissingFile) throw e;
    if ((e as { name?: string })?.name === 'AbortError') throw e;
    throw new HubError(`${what} failed: the answer of ${base} could not be read (${(e as Error)?.message?.slice(0, 200) ?? String(e)}).`);
  }
}

export interface HubFile {
  /** Path in the repository, e.g. "model-00001-of-00002.safetensors". */
  path: string;
  size: number;
  /** The name the Hugging Face cache gives its blob: the LFS sha256, else the git blob id. */
  etag: string;
  lfs: boolean;
}

export interface HubListing {
  repo: string;
  revision: string;
  /** The commit the revision names now: downloads read this commit, so files cannot change under them. */
  sha: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  files: HubFile[];
}

/** The commit a revision names, and every file of the repository at that commit. */
export async function listHubRepo(ref: HubRef, opts: HubOptions = {}): Promise<HubListing> {
  const hubUrl = hubAddress(opts.hubUrl);
  const accessToken = checkToken(opts.token);
  const f = hubFetch(ref.repo, { ...opts, hubUrl });
  const info = await named(`Reading "${ref.repo}"`, hubUrl, () =>
    modelInfo({ name: ref.repo, revision: ref.revision, hubUrl, accessToken, fetch: f, additionalFields: ['sha'] }),
  );
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new HubError(`${hubUrl} gave no commit for "${ref.repo}" at "${ref.revision}".`);
  const files: HubFile[] = [];
  await named(`Listing the files of "${ref.repo}"`, hubUrl, async () => {
    for await (const e of listFiles({ repo: ref.repo, revision: sha, recursive: true, hubUrl, accessToken, fetch: f })) {
      if (e.type !== 'file') continue;
      const etag = e.lfs?.oid ?? e.oid ?? '';
      if (!Number.isSafeInteger(e.size) || e.size < 0 || !/^[0-9a-f]{40,64}$/.test(etag)) throw new Error(`a file entry without size or id (${JSON.stringify(e).slice(0, 120)})`);
      files.push({ path: e.path, size: e.size, etag, lfs: !!e.lfs });
      if (files.length > 100_000) throw new Error('more than 100,000 files');
    }
  });
  return { repo: ref.repo, revision: ref.revision, sha, gated: info.gated ?? false, private: !!info.private, files };
}

/** One file of the commit as a lazy Blob (nothing is fetched until it is read; slices ask for byte ranges). */
export async function hubFileBlob(listing: HubListing, file: HubFile, opts: HubOptions = {}): Promise<Blob> {
  const hubUrl = hubAddress(opts.hubUrl);
  const accessToken = checkToken(opts.token);
  const blob = await named(`Opening ${file.path}`, hubUrl, () =>
    // xet: false keeps one download path (resolve → CDN with byte ranges), the one the tests serve.
    downloadFile({ repo: listing.repo, path: file.path, revision: listing.sha, hubUrl, accessToken, fetch: hubFetch(listing.repo, { ...opts, hubUrl }), xet: false }),
  );
  if (!blob) throw new MissingFile(`${file.path} is listed in "${listing.repo}" at ${listing.sha.slice(0, 12)} but the Hub does not serve it.`);
  if (blob.size !== file.size) throw new HubError(`${file.path}: the Hub listed ${file.size} bytes but serves ${blob.size}.`);
  return blob;
}
