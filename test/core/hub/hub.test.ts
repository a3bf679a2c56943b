// Models from the Hub, against a local server with the Hub's URL layout (test/helpers/mock-hub.ts):
// the listing, which files are downloaded, resume after a cut connection or a cancel, every
// refusal with its message, and the Hugging Face cache layout the CLI writes and reads offline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cancelled, HubError, MissingFile, NetworkError } from '../../../src/core/errors';
import { listHubRepo, parseHubRef, type HubFile } from '../../../src/core/hub/client';
import { downloadModel, type DownloadSink } from '../../../src/core/hub/download';
import { cachedSnapshot, hfHubCache, hfToken, openHubModel, repoCacheDir } from '../../../src/node/hub-cache';
import { FIXTURE_MODELS } from '../../helpers/fixtures';
import { MOCK_TOKENS, folderFiles, startMockHub, type MockHub } from '../../helpers/mock-hub';

let hub: MockHub;
const fixture = (n: string) => folderFiles(path.join(FIXTURE_MODELS, n));

beforeAll(async () => {
  hub = await startMockHub({ pageSize: 3 });
  hub.addRepo('org/tiny-llama', { files: { ...fixture('tiny-llama'), 'README.md': Buffer.from('# tiny'), 'pytorch_model.bin': Buffer.alloc(1000, 7) } });
  hub.addRepo('org/tiny-gpt2-sharded', { files: fixture('tiny-gpt2-sharded') });
  hub.addRepo('org/private', { files: fixture('tiny-llama'), access: 'private' });
  hub.addRepo('org/gated', { files: fixture('tiny-llama'), access: 'gated' });
  const { 'model.safetensors': _w, ...noWeights } = fixture('tiny-llama');
  hub.addRepo('org/bin-only', { files: { ...noWeights, 'pytorch_model.bin': Buffer.alloc(1000, 1) } });
});
afterAll(() => hub?.close());

/** Bytes in memory, kept across attempts as a partial download would be. */
function memorySink(): DownloadSink & { files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  return {
    files,
    have: async (f: HubFile) => files.get(f.path)?.length ?? 0,
    open: async (f: HubFile, at: number) => {
      let buf = (files.get(f.path) ?? Buffer.alloc(0)).subarray(0, at);
      files.set(f.path, buf);
      return {
        write: (c: Uint8Array) => {
          buf = Buffer.concat([buf, Buffer.from(c)]);
          files.set(f.path, buf);
        },
        close: () => undefined,
      };
    },
    finish: async () => undefined,
    readText: async (f: HubFile) => files.get(f.path)!.toString('utf8'),
  };
}

const opts = () => ({ hubUrl: hub.hubUrl, backoffMs: () => 5 });

describe('model ids', () => {
  test.each([
    ['org/name', { repo: 'org/name', revision: 'main' }],
    ['hf:org/name@v1.0', { repo: 'org/name', revision: 'v1.0' }],
    ['https://huggingface.co/HuggingFaceTB/SmolLM2-135M', { repo: 'HuggingFaceTB/SmolLM2-135M', revision: 'main' }],
    ['org/name@refs/pr/3', { repo: 'org/name', revision: 'refs/pr/3' }],
  ])('%s', (text, ref) => expect(parseHubRef(text)).toEqual(ref));
  test.each(['name-only', 'a/b/c', '../x/y', 'org/na me', ''])('refused: %j', (text) => expect(() => parseHubRef(text)).toThrow(/is not a Hub model id: write it as organisation\/name/));
});

describe('listing and download', () => {
  test('the commit and every file, over paged listings', async () => {
    const l = await listHubRepo(parseHubRef('org/tiny-llama'), opts());
    expect(l.sha).toBe(hub.repos.get('org/tiny-llama')!.sha);
    expect(l.files.map((f) => f.path).sort()).toEqual(Object.keys(hub.repos.get('org/tiny-llama')!.files).sort());
    expect(l.files.find((f) => f.path === 'model.safetensors')!.lfs).toBe(true);
    expect(hub.log.filter((x) => x.includes('/tree/')).length).toBeGreaterThan(1); // pages followed
  });

  test('only what a load reads, byte for byte; the token goes to the Hub, never to the CDN', async () => {
    const l = await listHubRepo(parseHubRef('org/tiny-llama'), opts());
    const sink = memorySink();
    const seen: number[] = [];
    const got = await downloadModel(l, sink, { ...opts(), token: MOCK_TOKENS.user, onProgress: (p) => seen.push(p.done) });
    expect(got.map((f) => f.path).sort()).toEqual(['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    for (const [p, b] of sink.files) expect(b.equals(hub.repos.get('org/tiny-llama')!.files[p]), p).toBe(true);
    expect(seen.at(-1)).toBe(got.reduce((s, f) => s + f.size, 0));
    expect(hub.log.some((x) => x.startsWith('cdn') && x.includes('[auth]'))).toBe(false);
    expect(hub.log.some((x) => x.includes('pytorch_model.bin') || x.includes('README'))).toBe(false);
  });

  test('a sharded model: the shards its index lists', async () => {
    const l = await listHubRepo(parseHubRef('org/tiny-gpt2-sharded'), opts());
    const sink = memorySink();
    const got = await downloadModel(l, sink, opts());
    expect(got.map((f) => f.path)).toEqual(['config.json', 'model.safetensors.index.json', 'vocab.json', 'merges.txt', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  });

  test('a connection cut mid-file resumes with a byte range from where it stopped', async () => {
    const l = await listHubRepo(parseHubRef('org/tiny-llama'), opts());
    const sink = memorySink();
    hub.log.length = 0;
    hub.faults.cutNextCdnAfter = 100_000;
    await downloadModel(l, sink, opts());
    const w = hub.repos.get('org/tiny-llama')!.files['model.safetensors'];
    expect(sink.files.get('model.safetensors')!.equals(w)).toBe(true);
    expect(hub.log.filter((x) => x.startsWith('cdn GET')).some((x) => x.includes(`[bytes=100000-${w.length - 1}]`))).toBe(true);
  });

  test('cancel keeps what arrived; the next download resumes from it', async () => {
    const l = await listHubRepo(parseHubRef('org/tiny-llama'), opts());
    const sink = memorySink();
    const ac = new AbortController();
    hub.faults.chunkDelayMs = 150;
    try {
      await expect(
        downloadModel(l, sink, { ...opts(), signal: ac.signal, onProgress: (p) => p.file === 'model.safetensors' && p.fileDone > 0 && ac.abort() }),
      ).rejects.toThrow(Cancelled);
    } finally {
      hub.faults.chunkDelayMs = 0;
    }
    const partial = sink.files.get('model.safetensors')!.length;
    expect(partial).toBeGreaterThan(0);
    hub.log.length = 0;
    await downloadModel(l, sink, opts());
    expect(sink.files.get('model.safetensors')!.equals(hub.repos.get('org/tiny-llama')!.files['model.safetensors'])).toBe(true);
    expect(hub.log.some((x) => x.includes(`[bytes=${partial}-`))).toBe(true);
  });

  test('a connection that keeps failing gives up with the bytes kept', async () => {
    const l = await listHubRepo(parseHubRef('org/tiny-llama'), opts());
    const sink = memorySink();
    await downloadModel(l, sink, opts());
    sink.files.delete('model.safetensors');
    hub.faults.down = true;
    try {
      await expect(downloadModel(l, sink, { ...opts(), retries: 2 })).rejects.toThrow(/The download of model\.safetensors stopped at 0 of 207,568 bytes \(The Hub answered 503 .*\)\. What arrived is kept: trying again resumes from there\./);
    } finally {
      hub.faults.down = false;
    }
  });
});

describe('refusals, each with what to do', () => {
  const list = (id: string, token?: string) => listHubRepo(parseHubRef(id), { ...opts(), token });
  const download = async (id: string, token?: string) => downloadModel(await list(id, token), memorySink(), { ...opts(), token });
  test.each([
    ['a missing model', () => list('org/nope'), HubError, /No model "org\/nope" on http:\/\/127\.0\.0\.1:\d+\. Check the id; if it is a private model, give an access token\./],
    ['a private model without a token', () => list('org/private'), HubError, /No model "org\/private" .* give an access token/],
    ['a missing model with a token', () => list('org/nope', MOCK_TOKENS.user), HubError, /No model "org\/nope" on .*, or this token cannot see it/],
    ['a gated model without a token', () => download('org/gated'), HubError, /"org\/gated" is a gated model: accept its conditions on http:\/\/.*\/org\/gated, then give an access token of that account\./],
    ['a gated model, token not granted', () => download('org/gated', MOCK_TOKENS.user), HubError, /"org\/gated" is a gated model and this token's account has not been granted access\. Ask for access on/],
    ['an unknown revision', () => listHubRepo(parseHubRef('org/tiny-llama@v9'), opts()), HubError, /"org\/tiny-llama" has no revision by that name \(Invalid rev id: v9\)/],
    ['a bad token', () => list('org/tiny-llama', 'hf_wrong'), HubError, /The Hub refused the access token \(401/],
    ['a token that is not one', () => list('org/tiny-llama', 'secret'), Error, /starts with "hf_"/],
    ['only pytorch_model.bin', () => download('org/bin-only'), HubError, /"org\/bin-only" has no \.safetensors weights \(only pytorch_model\.bin\)\. Prune Studio reads safetensors only/],
    ['no server', () => listHubRepo(parseHubRef('org/x'), { hubUrl: 'http://127.0.0.1:9' }), NetworkError, /Could not reach the Hub at http:\/\/127\.0\.0\.1:9/],
  ] as const)('%s', async (_what, run, cls, message) => {
    const e = await run().then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(cls);
    expect((e as Error).message).toMatch(message);
  });
  test('a gated model with a granted token downloads', async () => {
    const got = await download('org/gated', MOCK_TOKENS.granted);
    expect(got.length).toBe(5);
  });
});

describe('the Hugging Face cache (CLI)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-cache-'));
  const env = () => ({ HF_HOME: tmp, HF_ENDPOINT: hub.hubUrl });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('environment: HF_HUB_CACHE over HF_HOME, HF_TOKEN over the token file', () => {
    expect(hfHubCache({ HF_HOME: '/h' })).toBe('/h/hub');
    expect(hfHubCache({ HF_HOME: '/h', HF_HUB_CACHE: '/c' })).toBe('/c');
    fs.writeFileSync(path.join(tmp, 'token'), 'hf_fromfile\n');
    expect(hfToken({ HF_HOME: tmp })).toBe('hf_fromfile');
    expect(hfToken({ HF_HOME: tmp, HF_TOKEN: 'hf_env' })).toBe('hf_env');
    fs.rmSync(path.join(tmp, 'token'));
  });

  test("blobs, snapshots and refs as huggingface_hub writes them; offline and unreachable use the snapshot", async () => {
    const ref = parseHubRef('org/tiny-llama');
    const r = await openHubModel(ref, { env: env(), backoffMs: () => 5 });
    const repoDir = repoCacheDir('org/tiny-llama', env());
    const sha = hub.repos.get('org/tiny-llama')!.sha;
    expect(r.dir).toBe(path.join(repoDir, 'snapshots', sha));
    expect(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(sha);
    const link = path.join(r.dir, 'model.safetensors');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    const target = fs.readlinkSync(link);
    expect(target).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    expect(fs.readFileSync(link).equals(hub.repos.get('org/tiny-llama')!.files['model.safetensors'])).toBe(true);
    expect(fs.readdirSync(path.join(repoDir, 'blobs')).some((n) => n.endsWith('.incomplete'))).toBe(false);

    expect(cachedSnapshot(ref, env())).toBe(r.dir);
    const off = await openHubModel(ref, { env: { ...env(), HF_HUB_OFFLINE: '1' } });
    expect(off.dir).toBe(r.dir);
    const unreachable = await openHubModel(ref, { env: { HF_HOME: tmp, HF_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(unreachable.dir).toBe(r.dir);
    expect(unreachable.notes[0]).toMatch(/Could not reach the Hub .* Using the cached snapshot/);
    await expect(openHubModel(parseHubRef('org/other'), { env: { ...env(), HF_HUB_OFFLINE: '1' } })).rejects.toThrow(MissingFile);
  });

  test('a partial blob (.incomplete) is resumed', async () => {
    const ref = parseHubRef('org/tiny-gpt2-sharded');
    hub.faults.cutNextCdnAfter = 70_000;
    hub.faults.downAfterCut = true;
    const r = await openHubModel(ref, { env: env(), retries: 1, backoffMs: () => 5 }).catch((e: Error) => e);
    hub.faults.down = false;
    expect(r).toBeInstanceOf(NetworkError);
    expect((r as Error).message).toMatch(/stopped at 70,000 of/);
    const blobs = path.join(repoCacheDir('org/tiny-gpt2-sharded', env()), 'blobs');
    const part = fs.readdirSync(blobs).find((n) => n.endsWith('.incomplete'))!;
    expect(fs.statSync(path.join(blobs, part)).size).toBe(70_000);
    hub.log.length = 0;
    const ok = await openHubModel(ref, { env: env() });
    expect(hub.log.some((x) => x.includes('[bytes=70000-'))).toBe(true);
    expect(fs.readdirSync(ok.dir).sort()).toEqual(['config.json', 'merges.txt', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'vocab.json']);
  });
});
