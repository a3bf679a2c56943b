// The on-disk format of models kept in the browser's private storage (OPFS), shared by the page
// (keeping a dropped folder, listing, reopening) and the engine worker (Hub downloads):
//   prune-studio-models/<id>/<files>                  the model's files at their relative paths
//   prune-studio-models/<id>/prune-studio-kept.json   manifest, written last: the copy is complete
//   prune-studio-models/<id>/prune-studio-hub.json    Hub downloads only, written first: which
//                                                     repository and commit the files come from,
//                                                     so an interrupted download can resume
// The handle types are the parts of FileSystemDirectoryHandle / FileSystemFileHandle used, so the
// logic runs on a fake tree in unit tests.

export const KEPT_ROOT = 'prune-studio-models';

export const MANIFEST_NAME = 'prune-studio-kept.json';

export interface FileHandleLike {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<File>;
  /** Missing in browsers that only write OPFS files from workers. */
  createWritable?: () => Promise<WritableStream<Uint8Array>>;
}

export interface DirHandleLike {
  readonly kind: 'directory';
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirHandleLike>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandleLike>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  values(): AsyncIterable<DirHandleLike | FileHandleLike>;
}

export interface KeptManifest {
  v: 1;
  /** The model's name (its folder name), used as the folder prefix when reopening. */
  name: string;
  /** Paths relative to the model folder, with their sizes. */
  files: { path: string; bytes: number }[];
  bytes: number;
  keptAt: number;
  /** modelIdentity().fingerprint of the model when it was kept. */
  fingerprint: string;
}

/** A path's segments when it is safe to recreate (no empty, ".", ".." or backslash parts). */
export function safeSegments(rel: string): string[] | null {
  const parts = rel.split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\')) ? parts : null;
}

/** A folder name for a kept model: the model's name made safe, unique among `taken`. */
export function keptFolderName(name: string, taken: ReadonlySet<string>): string {
  const base = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'model';
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}-${i}`;
  return id;
}

export function validManifest(x: unknown): KeptManifest | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  if (o.v !== 1 || typeof o.name !== 'string' || !o.name || /[/\\]/.test(o.name) || typeof o.fingerprint !== 'string') return null;
  if (typeof o.keptAt !== 'number' || !Array.isArray(o.files)) return null;
  const files: KeptManifest['files'] = [];
  for (const f of o.files as unknown[]) {
    const e = f as Record<string, unknown> | null;
    if (!e || typeof e.path !== 'string' || !safeSegments(e.path) || typeof e.bytes !== 'number' || !(e.bytes >= 0)) return null;
    files.push({ path: e.path, bytes: e.bytes });
  }
  if (!files.length) return null;
  return { v: 1, name: o.name, files, bytes: files.reduce((s, f) => s + f.bytes, 0), keptAt: o.keptAt, fingerprint: o.fingerprint };
}

export const HUB_META_NAME = 'prune-studio-hub.json';

export interface HubMeta {
  v: 1;
  repo: string;
  /** The revision asked for (branch, tag or commit). */
  revision: string;
  /** The commit it named: the files are that commit's. */
  sha: string;
  hubUrl: string;
  startedAt: number;
}

export function validHubMeta(x: unknown): HubMeta | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  if (o.v !== 1 || typeof o.repo !== 'string' || !/^[^/]+\/[^/]+$/.test(o.repo) || typeof o.revision !== 'string' || typeof o.hubUrl !== 'string') return null;
  if (typeof o.sha !== 'string' || !/^[0-9a-f]{40}$/.test(o.sha) || typeof o.startedAt !== 'number') return null;
  return { v: 1, repo: o.repo, revision: o.revision, sha: o.sha, hubUrl: o.hubUrl, startedAt: o.startedAt };
}

/** The folder of a Hub download: one per repository and commit, so a second try resumes the first. */
export function hubFolderName(repo: string, sha: string): string {
  return `hub--${repo.replace('/', '--').replace(/[^A-Za-z0-9._-]+/g, '_')}--${sha.slice(0, 12)}`;
}
