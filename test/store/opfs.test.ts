// Keeping models in the Origin Private File System, on an in-memory directory tree with the same
// contract (NotFoundError, createWritable that commits on close and discards on abort, a quota):
// which files are kept, folder names, the round trip keep → list → open, interrupted and damaged
// copies, quota errors with sizes, cancellation, and browsers that cannot write from the page.
import { describe, expect, it } from 'vitest';
import { Cancelled, StorageError } from '../../src/core/errors';
import {
  KEPT_ROOT,
  MANIFEST_NAME,
  keepInto,
  keptFilesIn,
  keptFolderName,
  listKeptIn,
  planKeep,
  removeKeptIn,
  validManifest,
  type DirHandleLike,
  type FileHandleLike,
} from '../../src/store/opfs';
import type { ModelFile } from '../../src/worker/protocol';

const notFound = (name: string) => new DOMException(`${name} was not found.`, 'NotFoundError');

/** Bytes written so far across the tree, against an optional quota. */
class Disk {
  used = 0;
  constructor(readonly quota = Infinity) {}
}

class FakeFile implements FileHandleLike {
  readonly kind = 'file' as const;
  data = new Uint8Array(0);
  createWritable?: () => Promise<WritableStream<Uint8Array>>;
  constructor(
    readonly name: string,
    private disk: Disk,
    writable = true,
  ) {
    if (writable) this.createWritable = () => Promise.resolve(this.writable());
  }
  async getFile(): Promise<File> {
    return new File([this.data], this.name);
  }
  private writable(): WritableStream<Uint8Array> {
    // Like Chromium: writes go to a swap file; close() commits it, abort() throws it away.
    const chunks: Uint8Array[] = [];
    let size = 0;
    const disk = this.disk;
    return new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (disk.used + chunk.byteLength > disk.quota) throw new DOMException('Quota exceeded.', 'QuotaExceededError');
        disk.used += chunk.byteLength;
        size += chunk.byteLength;
        chunks.push(chunk.slice());
      },
      close: () => {
        const out = new Uint8Array(size);
        let o = 0;
        for (const c of chunks) {
          out.set(c, o);
          o += c.byteLength;
        }
        disk.used -= this.data.byteLength;
        this.data = out;
      },
      abort: () => {
        disk.used -= size;
      },
    });
  }
}

class FakeDir implements DirHandleLike {
  readonly kind = 'directory' as const;
  children = new Map<string, FakeDir | FakeFile>();
  constructor(
    readonly name: string,
    readonly disk = new Disk(),
    private writable = true,
  ) {}
  /** The child `name` of the kind asked for, made when `create`; the errors OPFS throws otherwise. */
  private child<T extends FakeDir | FakeFile>(name: string, kind: new (name: string, disk: Disk, writable: boolean) => T, create: boolean | undefined): T {
    const c = this.children.get(name);
    if (c instanceof kind) return c;
    if (c) throw new DOMException(`${name} is a ${c instanceof FakeDir ? 'folder' : 'file'}.`, 'TypeMismatchError');
    if (!create) throw notFound(name);
    const made = new kind(name, this.disk, this.writable);
    this.children.set(name, made);
    return made;
  }
  async getDirectoryHandle(name: string, o: { create?: boolean } = {}): Promise<FakeDir> {
    return this.child(name, FakeDir, o.create);
  }
  async getFileHandle(name: string, o: { create?: boolean } = {}): Promise<FakeFile> {
    return this.child(name, FakeFile, o.create);
  }
  async removeEntry(name: string, o: { recursive?: boolean } = {}): Promise<void> {
    const c = this.children.get(name);
    if (!c) throw notFound(name);
    if (c instanceof FakeDir && c.children.size && !o.recursive) throw new DOMException('Not empty.', 'InvalidModificationError');
    this.disk.used -= c instanceof FakeFile ? c.data.byteLength : c.bytes();
    this.children.delete(name);
  }
  async *values(): AsyncIterable<FakeDir | FakeFile> {
    yield* [...this.children.values()];
  }
  bytes(): number {
    let n = 0;
    for (const c of this.children.values()) n += c instanceof FakeFile ? c.data.byteLength : c.bytes();
    return n;
  }
}

function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 31 + seed) & 255;
  return a;
}

/** A dropped folder "tiny/…" with what a model folder usually holds. */
function droppedFolder(): ModelFile[] {
  const f = (path: string, data: Uint8Array<ArrayBuffer> | string) => ({ path, file: new Blob([data]) });
  return [
    f('tiny/config.json', '{"model_type":"llama"}'),
    f('tiny/tokenizer.json', '{"model":{}}'),
    f('tiny/tokenizer_config.json', '{}'),
    f('tiny/model-00001-of-00002.safetensors', bytes(300_000, 1)),
    f('tiny/model-00002-of-00002.safetensors', bytes(70_000, 2)),
    f('tiny/model.safetensors.index.json', '{"weight_map":{}}'),
    f('tiny/merges.txt', 'a b'),
    f('tiny/README.md', '# tiny'),
    f('tiny/pytorch_model.bin', bytes(1000, 3)),
    f('tiny/onnx/model.onnx', bytes(1000, 4)),
    f('tiny/onnx/config.json', '{}'),
  ];
}
const WEIGHTS = ['tiny/model-00001-of-00002.safetensors', 'tiny/model-00002-of-00002.safetensors'];

async function blobBytes(b: Blob): Promise<Uint8Array> {
  return new Uint8Array(await b.arrayBuffer());
}

describe('what is kept', () => {
  it('keeps the weight files and the .json/.txt files, relative to the model folder', () => {
    const plan = planKeep(droppedFolder(), WEIGHTS);
    expect(plan.map((p) => p.rel).sort()).toEqual(
      [
        'config.json',
        'merges.txt',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'onnx/config.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    expect(plan.find((p) => p.rel === 'model-00001-of-00002.safetensors')!.bytes).toBe(300_000);
  });

  it('keeps picked files without a folder as they are, and refuses unsafe paths', () => {
    const plan = planKeep(
      [
        { path: 'config.json', file: new Blob(['{}']) },
        { path: 'model.safetensors', file: new Blob(['x']) },
        { path: 'other.safetensors', file: new Blob(['unused weights']) },
      ],
      ['model.safetensors'],
    );
    expect(plan.map((p) => p.rel)).toEqual(['config.json', 'model.safetensors']);
    const unsafe = planKeep(
      [
        { path: 'a/../config.json', file: new Blob(['{}']) },
        { path: 'b/config.json', file: new Blob(['{}']) },
      ],
      [],
    );
    expect(unsafe.map((p) => p.rel)).toEqual(['b/config.json']);
  });

  it('names folders safely and uniquely', () => {
    expect(keptFolderName('stories260K', new Set())).toBe('stories260K');
    expect(keptFolderName('Qwen/Qwen2 0.5B', new Set())).toBe('Qwen_Qwen2_0.5B');
    expect(keptFolderName('..', new Set())).toBe('model');
    expect(keptFolderName('.hidden', new Set())).toBe('hidden');
    expect(keptFolderName('tiny', new Set(['tiny', 'tiny-2']))).toBe('tiny-3');
  });

  it('accepts only well-formed manifests', () => {
    const good = { v: 1, name: 'tiny', files: [{ path: 'config.json', bytes: 2 }], bytes: 2, keptAt: 1, fingerprint: 'f' };
    expect(validManifest(good)).toEqual(good);
    expect(validManifest({ ...good, v: 2 })).toBeNull();
    expect(validManifest({ ...good, name: 'a/b' })).toBeNull();
    expect(validManifest({ ...good, files: [] })).toBeNull();
    expect(validManifest({ ...good, files: [{ path: '../x', bytes: 1 }] })).toBeNull();
    expect(validManifest({ ...good, files: [{ path: 'x', bytes: -1 }] })).toBeNull();
    expect(validManifest('tiny')).toBeNull();
  });
});

describe('keep, list, open, remove', () => {
  it('round-trips a model folder with progress, and lists it', async () => {
    const root = new FakeDir('');
    const files = droppedFolder();
    const plan = planKeep(files, WEIGHTS);
    const total = plan.reduce((s, f) => s + f.bytes, 0);
    const progress: number[] = [];
    const kept = await keepInto(root, plan, { name: 'tiny', fingerprint: 'fp1' }, { onProgress: (d) => progress.push(d), now: () => 1234 });
    expect(kept).toEqual({ id: 'tiny', name: 'tiny', bytes: total, files: plan.length, keptAt: 1234, fingerprint: 'fp1', complete: true });
    expect(progress.at(-1)).toBe(total);
    expect(progress.every((d, i) => i === 0 || d >= progress[i - 1])).toBe(true);

    const dir = (await root.getDirectoryHandle(KEPT_ROOT)).children.get('tiny') as FakeDir;
    expect(dir.children.has(MANIFEST_NAME)).toBe(true);
    expect(dir.children.has('README.md')).toBe(false);
    expect(await listKeptIn(root)).toEqual([kept]);

    const opened = await keptFilesIn(root, 'tiny');
    expect(opened.name).toBe('tiny');
    expect(opened.files.map((f) => f.path).sort()).toEqual(plan.map((p) => `tiny/${p.rel}`).sort());
    for (const f of opened.files) {
      const src = files.find((x) => x.path === f.path)!;
      expect(Buffer.from(await blobBytes(f.file)).equals(Buffer.from(await blobBytes(src.file))), f.path).toBe(true);
    }

    // A second copy of the same name gets its own folder.
    const again = await keepInto(root, plan, { name: 'tiny', fingerprint: 'fp1' }, { now: () => 2000 });
    expect(again.id).toBe('tiny-2');
    expect((await listKeptIn(root)).map((m) => m.id)).toEqual(['tiny-2', 'tiny']);

    await removeKeptIn(root, 'tiny');
    await removeKeptIn(root, 'not-there');
    expect((await listKeptIn(root)).map((m) => m.id)).toEqual(['tiny-2']);
  });

  it('lists nothing before anything was kept', async () => {
    expect(await listKeptIn(new FakeDir(''))).toEqual([]);
    await expect(keptFilesIn(new FakeDir(''), 'tiny')).rejects.toThrow(StorageError);
  });

  it('lists an interrupted copy as incomplete and refuses to open it', async () => {
    const root = new FakeDir('');
    const top = await root.getDirectoryHandle(KEPT_ROOT, { create: true });
    const part = await top.getDirectoryHandle('half', { create: true });
    const w = await (await part.getFileHandle('config.json', { create: true })).createWritable!();
    const writer = w.getWriter();
    await writer.write(new Uint8Array(10));
    await writer.close();
    expect(await listKeptIn(root)).toEqual([{ id: 'half', name: 'half', bytes: 10, files: 0, keptAt: null, fingerprint: null, complete: false }]);
    await expect(keptFilesIn(root, 'half')).rejects.toThrow(/incomplete/);
  });

  it('refuses a damaged copy (a file shorter than the manifest says)', async () => {
    const root = new FakeDir('');
    await keepInto(root, planKeep(droppedFolder(), WEIGHTS), { name: 'tiny', fingerprint: 'fp' });
    const dir = (await root.getDirectoryHandle(KEPT_ROOT)).children.get('tiny') as FakeDir;
    (dir.children.get('config.json') as FakeFile).data = new Uint8Array(3);
    await expect(keptFilesIn(root, 'tiny')).rejects.toThrow(/damaged: config.json has 3 bytes/);
    dir.children.delete('tokenizer.json');
    await expect(keptFilesIn(root, 'tiny')).rejects.toThrow(StorageError);
  });
});

describe('failures', () => {
  it('names the sizes when the quota is too small, checked before copying', async () => {
    const root = new FakeDir('');
    const plan = planKeep(droppedFolder(), WEIGHTS);
    const err = await keepInto(root, plan, { name: 'tiny', fingerprint: 'fp' }, { estimate: async () => ({ usage: 900 * 1024, quota: 1024 * 1024, persisted: false }) }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.name).toBe('StorageError');
    expect(err.message).toMatch(/Keeping tiny needs 361\.\d KiB, but this site may use only 124\.0 KiB more in this browser \(900\.0 KiB of 1\.0 MiB used\)/);
    expect(await listKeptIn(root)).toEqual([]);
  });

  it('turns a quota error while writing into a named error and leaves nothing behind', async () => {
    const root = new FakeDir('', new Disk(100_000));
    const plan = planKeep(droppedFolder(), WEIGHTS);
    const err = await keepInto(root, plan, { name: 'tiny', fingerprint: 'fp' }, { estimate: async () => ({ usage: 0, quota: 0, persisted: null }) }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.message).toMatch(/Keeping tiny needs 361\.\d KiB, but the browser refused the space/);
    expect(await listKeptIn(root)).toEqual([]);
    expect(root.disk.used).toBe(0);
  });

  it('cancels mid-copy and removes the partial folder', async () => {
    const root = new FakeDir('');
    const ac = new AbortController();
    const err = await keepInto(root, planKeep(droppedFolder(), WEIGHTS), { name: 'tiny', fingerprint: 'fp' }, {
      signal: ac.signal,
      onProgress: (done) => {
        if (done > 1000) ac.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(Cancelled);
    expect(err.message).toMatch(/nothing was kept/);
    expect(await listKeptIn(root)).toEqual([]);
  });

  it('says so where files cannot be written from the page', async () => {
    const root = new FakeDir('', new Disk(), false);
    const err = await keepInto(root, planKeep(droppedFolder(), WEIGHTS), { name: 'tiny', fingerprint: 'fp' }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.message).toMatch(/createWritable is missing/);
    expect(await listKeptIn(root)).toEqual([]);
  });
});
