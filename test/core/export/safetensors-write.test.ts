import { describe, expect, it } from 'vitest';
import { BadOption } from '../../../src/core/errors.ts';
import { f32ToBf16, f32ToF16, type DType } from '../../../src/core/model/dtypes.ts';
import {
  shardFileName,
  writeSafetensors,
  writeShardedSafetensors,
  type TensorToWrite,
} from '../../../src/core/export/safetensors-write.ts';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Manual parse, independent of the engine's reader. */
function parse(bytes: Uint8Array) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const header = JSON.parse(headerText) as Record<string, Entry | Record<string, string>>;
  const dataStart = 8 + n;
  const raw = (name: string) => {
    const e = header[name] as Entry;
    return bytes.slice(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]);
  };
  return { n, headerText, header, dataStart, raw, dataLength: bytes.byteLength - dataStart };
}

function rnd(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648 - 0.5) * 4;
  }
  return out;
}

const tensors = (): TensorToWrite[] => [
  { name: 'a.weight', dtype: 'F32', shape: [3, 5], data: rnd(15, 1) },
  { name: 'b.half', dtype: 'F16', shape: [7], data: rnd(7, 2) },
  { name: 'c.bf', dtype: 'BF16', shape: [2, 3], data: rnd(6, 3) },
  { name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.of(-1e4) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
];

function u16s(b: Uint8Array): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 2 }, (_, i) => dv.getUint16(2 * i, true));
}

describe('writeSafetensors', () => {
  it('round-trips names, dtypes, shapes, offsets and bytes', () => {
    const ts = tensors();
    const file = writeSafetensors(ts, { format: 'pt', note: 'hi' });
    const p = parse(file);
    expect(p.header.__metadata__).toEqual({ format: 'pt', note: 'hi' });
    // Data in the given order, contiguous, no holes, covering the whole data section.
    let off = 0;
    for (const t of ts) {
      const e = p.header[t.name] as Entry;
      expect(e.dtype).toBe(t.dtype);
      expect(e.shape).toEqual(t.shape);
      expect(e.data_offsets[0]).toBe(off);
      off = e.data_offsets[1];
    }
    expect(off).toBe(p.dataLength);

    const f32 = new Float32Array(p.raw('a.weight').buffer);
    expect(Array.from(f32)).toEqual(Array.from(ts[0].data));
    expect(u16s(p.raw('b.half'))).toEqual(Array.from(ts[1].data, (x) => f32ToF16(x)));
    expect(u16s(p.raw('c.bf'))).toEqual(Array.from(ts[2].data, (x) => f32ToBf16(x)));
    expect(new Float32Array(p.raw('scalar').buffer)[0]).toBe(-1e4);
    expect(p.raw('empty').byteLength).toBe(0);
  });

  it('pads the header with spaces so data starts 8-byte aligned by default', () => {
    for (let k = 1; k <= 9; k++) {
      const file = writeSafetensors([{ name: 'x'.repeat(k), dtype: 'F16' as DType, shape: [k], data: rnd(k, k) }]);
      const p = parse(file);
      expect(p.dataStart % 8).toBe(0);
      const json = p.headerText.replace(/ +$/, '');
      expect(json.endsWith('}')).toBe(true);
      expect(p.headerText.length - json.length).toBeLessThan(8);
    }
  });

  it('alignHeader: false produces a data section that is never 8-byte aligned', () => {
    for (let k = 1; k <= 16; k++) {
      const file = writeSafetensors([{ name: 'n'.repeat(k), dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }], undefined, {
        alignHeader: false,
      });
      const p = parse(file);
      expect(p.dataStart % 8).not.toBe(0);
      expect(Array.from(new Float32Array(p.raw('n'.repeat(k)).buffer))).toEqual([1, 2]);
    }
  });

  it('omits __metadata__ when none is given', () => {
    const p = parse(writeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: Float32Array.of(3) }]));
    expect(Object.keys(p.header)).toEqual(['w']);
  });

  it('rejects inconsistent input', () => {
    expect(() => writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }])).toThrow(BadOption);
    const t = { name: 'w', dtype: 'F32' as DType, shape: [1], data: Float32Array.of(1) };
    expect(() => writeSafetensors([t, t])).toThrow(/twice/);
    expect(() => writeSafetensors([{ ...t, name: '__metadata__' }])).toThrow(BadOption);
    expect(() => writeSafetensors([{ ...t, dtype: 'I8' as DType }])).toThrow(BadOption);
  });
});

describe('writeShardedSafetensors', () => {
  it('splits tensors over N named shards and writes the index', () => {
    const ts = [...tensors(), { name: 'z.big', dtype: 'F32' as DType, shape: [40], data: rnd(40, 9) }];
    const sh = writeShardedSafetensors(ts, 3, { format: 'pt' });
    expect(sh.shards.map((s) => s.name)).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    expect(JSON.parse(sh.indexJson)).toEqual(sh.index);
    expect(Object.keys(sh.index.weight_map).sort()).toEqual(ts.map((t) => t.name).sort());
    const bytes = { F32: 4, F16: 2, BF16: 2 };
    expect(sh.index.metadata.total_size).toBe(ts.reduce((a, t) => a + t.data.length * bytes[t.dtype], 0));

    // Every shard parses, holds what the index says, and the order of tensors is kept.
    const seen: string[] = [];
    for (const s of sh.shards) {
      const p = parse(s.bytes);
      expect(p.dataStart % 8).toBe(0);
      const names = Object.keys(p.header).filter((k) => k !== '__metadata__');
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect(sh.index.weight_map[n]).toBe(s.name);
      seen.push(...names);
    }
    expect(seen).toEqual(ts.map((t) => t.name));
  });

  it('works for one shard and for one tensor per shard; rejects impossible splits', () => {
    const ts = tensors();
    expect(writeShardedSafetensors(ts, 1).shards).toHaveLength(1);
    const each = writeShardedSafetensors(ts, ts.length);
    expect(each.shards.map((s) => Object.keys(parse(s.bytes).header))).toEqual(ts.map((t) => [t.name]));
    expect(() => writeShardedSafetensors(ts, ts.length + 1)).toThrow(BadOption);
    expect(() => writeShardedSafetensors(ts, 0)).toThrow(BadOption);
    expect(shardFileName(2, 12)).toBe('model-00002-of-00012.safetensors');
  });
});

describe('raw tensors (any safetensors dtype, given as bytes)', () => {
  it('writes the bytes as they are, next to float tensors', () => {
    const i64 = new Uint8Array(new BigInt64Array([3n, -1n, 1n << 40n]).buffer);
    const u8 = new Uint8Array([0, 255, 7]);
    const bytes = writeSafetensors([
      { name: 'offsets', dtype: 'I64', shape: [3], bytes: i64 },
      { name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) },
      { name: 'mask', dtype: 'U8', shape: [1, 3], bytes: u8 },
    ]);
    const p = parse(bytes);
    expect(p.header.offsets).toMatchObject({ dtype: 'I64', shape: [3], data_offsets: [0, 24] });
    expect(p.header.mask).toMatchObject({ dtype: 'U8', shape: [1, 3], data_offsets: [32, 35] });
    expect(Array.from(new BigInt64Array(p.raw('offsets').buffer))).toEqual([3n, -1n, 1n << 40n]);
    expect(Array.from(p.raw('mask'))).toEqual([0, 255, 7]);
    expect(Array.from(new Float32Array(p.raw('w').buffer))).toEqual([1.5, -2]);
  });

  it('refuses bytes that do not fill the shape', () => {
    expect(() => writeSafetensors([{ name: 'm', dtype: 'I64', shape: [2], bytes: new Uint8Array(15) }])).toThrow(BadOption);
    expect(() => writeSafetensors([{ name: 'm', dtype: 'U8', shape: [2, 2], bytes: new Uint8Array(5) }])).toThrow(/needs 4 bytes but 5/);
  });
});
