// A local server with the Hugging Face Hub's URL layout, for the tests (never the real Hub):
//   hub origin  GET /api/models/{org}/{name}/revision/{rev}     model info with the commit sha
//               GET /api/models/{org}/{name}/tree/{rev}?recursive=true   listing, paged by Link
//               GET|HEAD /{org}/{name}/resolve/{rev}/{path}     small files served here (byte
//                                                               ranges); LFS files 302 to the CDN
//   cdn origin  GET /blobs/{sha256}                              LFS content, byte ranges
// with the Hub's errors (X-Error-Code GatedRepo / RepoNotFound / RevisionNotFound /
// EntryNotFound, 401 / 403 / 404), CORS on both origins, and faults: a connection cut after N
// bytes of the next CDN download, or every request refused with 503.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export type Access = 'public' | 'private' | 'gated';

export interface MockRepo {
  files: Record<string, Buffer>;
  access?: Access;
  /** Commit of "main" (default: a hash of the content). */
  sha?: string;
}

/** Tokens the mock knows: a user, and a user granted access to the gated repositories. */
export const MOCK_TOKENS = { user: 'hf_mockuser', granted: 'hf_mockgranted' } as const;

export interface MockHub {
  hubUrl: string;
  cdnUrl: string;
  /** Every request: "<origin> <METHOD> <url> [range]". */
  log: string[];
  faults: {
    /** Cut the next CDN download after this many bytes of its body (once). */
    cutNextCdnAfter: number | null;
    /** Answer every request with 503 (a server that is down). */
    down: boolean;
    /** Go down (as `down`) right after the next cut. */
    downAfterCut: boolean;
    /** Per CDN response, wait this long between 64 KiB chunks (a slow link). */
    chunkDelayMs: number;
  };
  repos: Map<string, MockRepo & { sha: string }>;
  addRepo(id: string, repo: MockRepo): void;
  close(): Promise<void>;
}

/** The files of a folder on disk (top level only), as a mock repository's files. */
export function folderFiles(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const n of fs.readdirSync(dir)) if (fs.statSync(path.join(dir, n)).isFile()) out[n] = fs.readFileSync(path.join(dir, n));
  return out;
}

const isLfs = (p: string) => /\.(safetensors|bin|gguf|pt)$/.test(p);
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const gitOid = (b: Buffer) => crypto.createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

const EXPOSE = 'X-Repo-Commit, X-Request-Id, X-Error-Code, X-Error-Message, ETag, Link, Accept-Ranges, Content-Range, Content-Length, X-Linked-Size, X-Linked-ETag, Location';

function cors(res: http.ServerResponse) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSE);
}

/**
 * Both servers listen on 127.0.0.1; `hubName` / `cdnName` are the host names in their URLs (the
 * e2e page reaches the hub as localhost and the CDN as 127.0.0.1: two origins, as on the Hub).
 */
export async function startMockHub(opts: { hubPort?: number; cdnPort?: number; hubName?: string; cdnName?: string; pageSize?: number } = {}): Promise<MockHub> {
  const log: string[] = [];
  const faults: MockHub['faults'] = { cutNextCdnAfter: null, down: false, downAfterCut: false, chunkDelayMs: 0 };
  const repos = new Map<string, MockRepo & { sha: string }>();
  const blobs = new Map<string, Buffer>();
  const pageSize = opts.pageSize ?? 3;
  let hubUrl = '';
  let cdnUrl = '';

  const addRepo = (id: string, repo: MockRepo) => {
    const sha = repo.sha ?? crypto.createHash('sha1').update(id).update(JSON.stringify(Object.keys(repo.files).sort())).digest('hex');
    for (const [p, b] of Object.entries(repo.files)) if (isLfs(p)) blobs.set(sha256(b), b);
    repos.set(id, { ...repo, sha });
  };

  const sendError = (res: http.ServerResponse, status: number, code: string | null, message: string, json: boolean) => {
    cors(res);
    if (code) res.setHeader('X-Error-Code', code);
    res.setHeader('X-Error-Message', message);
    res.setHeader('Content-Type', json ? 'application/json' : 'text/plain; charset=utf-8');
    res.writeHead(status).end(json ? JSON.stringify({ error: message }) : message);
  };

  /** Bytes with single-range support; `cut` destroys the socket after that many body bytes. */
  const sendBytes = (req: http.IncomingMessage, res: http.ServerResponse, buf: Buffer, headers: Record<string, string>, cut: number | null) => {
    cors(res);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    let start = 0;
    let end = buf.length - 1;
    let status = 200;
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      start = m[1] === '' ? Math.max(0, buf.length - Number(m[2])) : Number(m[1]);
      end = m[1] !== '' && m[2] !== '' ? Math.min(Number(m[2]), buf.length - 1) : buf.length - 1;
      if (start >= buf.length || start > end) {
        res.setHeader('Content-Range', `bytes */${buf.length}`);
        res.writeHead(416).end();
        return;
      }
      status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${buf.length}`);
    }
    res.setHeader('Content-Length', String(end - start + 1));
    res.writeHead(status);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const body = buf.subarray(start, end + 1);
    const limit = cut !== null && cut < body.length ? cut : body.length;
    const chunk = 64 * 1024;
    let at = 0;
    const pump = () => {
      while (at < limit) {
        const part = body.subarray(at, Math.min(limit, at + chunk));
        at += part.length;
        const ok = res.write(part);
        if (faults.chunkDelayMs > 0 && at < limit) {
          setTimeout(pump, faults.chunkDelayMs);
          return;
        }
        if (!ok) {
          res.once('drain', pump);
          return;
        }
      }
      if (limit < body.length) setTimeout(() => res.destroy(), 10);
      else res.end();
    };
    pump();
  };

  const who = (req: http.IncomingMessage): 'user' | 'granted' | 'invalid' | null => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return null;
    return m[1] === MOCK_TOKENS.granted ? 'granted' : m[1] === MOCK_TOKENS.user ? 'user' : 'invalid';
  };

  const hub = http.createServer((req, res) => {
    log.push(`hub ${req.method} ${req.url}${req.headers.range ? ` [${req.headers.range}]` : ''}${req.headers.authorization ? ' [auth]' : ''}`);
    if (req.method === 'OPTIONS') {
      cors(res);
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Range, Accept, Content-Type');
      res.writeHead(204).end();
      return;
    }
    if (faults.down) return sendError(res, 503, null, 'Service unavailable', false);
    const u = new URL(req.url ?? '/', hubUrl);
    const p = decodeURIComponent(u.pathname);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)\/?$/.exec(p);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p);
    const id = api?.[1] ?? resolve?.[1];
    if (!id) return sendError(res, 404, null, 'Not found', false);
    const repo = repos.get(id);
    const user = who(req);
    const json = !!api;
    if (user === 'invalid') return sendError(res, 401, null, 'Invalid credentials in Authorization header', json);
    if (!repo || (repo.access === 'private' && !user)) {
      // As the Hub: a private repository and a missing one look the same without a token.
      return sendError(res, user ? 404 : 401, 'RepoNotFound', 'Repository not found', json);
    }
    const rev = api?.[3] ?? resolve![2];
    if (rev !== 'main' && rev !== repo.sha) return sendError(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`, json);
    if (api) {
      cors(res);
      res.setHeader('Content-Type', 'application/json');
      if (api[2] === 'revision') {
        res.writeHead(200).end(
          JSON.stringify({ _id: '0'.repeat(24), id, sha: repo.sha, private: repo.access === 'private', gated: repo.access === 'gated' ? 'manual' : false, downloads: 0, likes: 0, lastModified: '2026-01-01T00:00:00.000Z', pipeline_tag: 'text-generation' }),
        );
        return;
      }
      const entries = Object.entries(repo.files)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([path, b]) => (isLfs(path) ? { type: 'file', path, size: b.length, oid: gitOid(Buffer.from(`lfs ${sha256(b)}`)), lfs: { oid: sha256(b), size: b.length, pointerSize: 130 } } : { type: 'file', path, size: b.length, oid: gitOid(b) }));
      const cursor = Number(u.searchParams.get('cursor') ?? 0);
      if (cursor + pageSize < entries.length) {
        const next = new URL(u.href);
        next.searchParams.set('cursor', String(cursor + pageSize));
        res.setHeader('Link', `<${next.href}>; rel="next"`);
      }
      res.writeHead(200).end(JSON.stringify(entries.slice(cursor, cursor + pageSize)));
      return;
    }
    const file = resolve![3];
    const body = repo.files[file];
    if (!body) return sendError(res, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`, false);
    if (repo.access === 'gated' && user !== 'granted') {
      return user
        ? sendError(res, 403, 'GatedRepo', `Access to model ${id} is restricted and you are not in the authorized list. Visit ${hubUrl}/${id} to ask for access.`, false)
        : sendError(res, 401, 'GatedRepo', `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`, false);
    }
    if (isLfs(file)) {
      cors(res);
      res.setHeader('Location', `${cdnUrl}/blobs/${sha256(body)}`);
      res.setHeader('X-Repo-Commit', repo.sha);
      res.setHeader('X-Linked-Etag', `"${sha256(body)}"`);
      res.setHeader('X-Linked-Size', String(body.length));
      res.writeHead(302).end();
      return;
    }
    sendBytes(req, res, body, { ETag: `"${gitOid(body)}"`, 'X-Repo-Commit': repo.sha }, null);
  });

  const cdn = http.createServer((req, res) => {
    log.push(`cdn ${req.method} ${req.url}${req.headers.range ? ` [${req.headers.range}]` : ''}${req.headers.authorization ? ' [auth]' : ''}`);
    if (req.method === 'OPTIONS') {
      cors(res);
      res.setHeader('Access-Control-Allow-Headers', 'Range, Accept');
      res.writeHead(204).end();
      return;
    }
    if (faults.down) return sendError(res, 503, null, 'Service unavailable', false);
    const m = /^\/blobs\/([0-9a-f]{64})$/.exec(new URL(req.url ?? '/', cdnUrl).pathname);
    const body = m ? blobs.get(m[1]) : undefined;
    if (!body) return sendError(res, 404, null, 'No such blob', false);
    let cut: number | null = null;
    if (req.method === 'GET' && faults.cutNextCdnAfter !== null && (req.headers.range ?? '') !== 'bytes=0-0') {
      cut = faults.cutNextCdnAfter;
      faults.cutNextCdnAfter = null;
      if (faults.downAfterCut) {
        faults.down = true;
        faults.downAfterCut = false;
      }
    }
    sendBytes(req, res, body, { ETag: `"${m![1]}"` }, cut);
  });

  const listen = (s: http.Server, port: number, host: string) =>
    new Promise<number>((ok, fail) => {
      s.once('error', fail);
      s.listen(port, host, () => ok((s.address() as AddressInfo).port));
    });
  hubUrl = `http://${opts.hubName ?? '127.0.0.1'}:${await listen(hub, opts.hubPort ?? 0, '127.0.0.1')}`;
  cdnUrl = `http://${opts.cdnName ?? '127.0.0.1'}:${await listen(cdn, opts.cdnPort ?? 0, '127.0.0.1')}`;
  return {
    hubUrl,
    cdnUrl,
    log,
    faults,
    repos,
    addRepo,
    close: async () => {
      hub.closeAllConnections();
      cdn.closeAllConnections();
      await Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]);
    },
  };
}
