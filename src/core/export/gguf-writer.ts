// The GGUF container (version 3), as llama.cpp's gguf.cpp reads it. Little-endian throughout:
//   "GGUF" u32 version=3  u64 n_tensors  u64 n_kv
//   n_kv × (string key, u32 value type, value)        string = u64 byte length + UTF-8
//   n_tensors × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset)
//   zero padding to ALIGNMENT, then each tensor's bytes, each padded to ALIGNMENT
// ne is the reversed torch shape (ne[0] varies fastest), so a row-major (out, in) weight is
// written as it is with ne = [in, out]. Offsets are relative to the data section and must be the
// running sum of the padded sizes in tensor order (llama.cpp checks this exactly).
//
// Tensor data is produced lazily, one tensor at a time: ggufChunks yields the file as pieces, so
// a writer can stream a model larger than memory to disk.
import { f32ToF16 } from '../model/dtypes';

export const GGUF_ALIGNMENT = 32;

export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'i32[]'; value: ArrayLike<number> }
  | { type: 'f32[]'; value: ArrayLike<number> }
  | { type: 'str[]'; value: readonly string[] };

export type GgufType = 'F32' | 'F16';

export interface GgufTensor {
  /** llama.cpp's name, at most 63 bytes. */
  name: string;
  /** Torch order (outermost first). */
  shape: number[];
  type: GgufType;
  /** Row-major f32 values in `shape`. */
  data: () => Promise<Float32Array>;
}

// GGUF value type ids (gguf.h) and ggml tensor type ids.
const VT = { u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10 } as const;
const GGML_TYPE: Record<GgufType, number> = { F32: 0, F16: 1 };

const pad = (n: number) => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;

/** Bytes appended into growing pages (metadata of large vocabularies runs to megabytes). */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number) {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number) {
    this.room(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number) {
    this.room(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number) {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  u8(v: number) {
    this.room(1);
    this.buf[this.length++] = v;
  }
  raw(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  str(s: string) {
    const b = utf8.encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const utf8 = new TextEncoder();

function writeValue(out: Bytes, v: GgufValue): void {
  switch (v.type) {
    case 'u32':
      if (!(Number.isInteger(v.value) && v.value >= 0 && v.value <= 0xffffffff)) throw new Error(`GGUF: ${v.value} is not a u32`);
      out.u32(VT.u32);
      out.u32(v.value);
      return;
    case 'i32':
      out.u32(VT.i32);
      out.i32(v.value);
      return;
    case 'f32':
      out.u32(VT.f32);
      out.f32(v.value);
      return;
    case 'bool':
      out.u32(VT.bool);
      out.u8(v.value ? 1 : 0);
      return;
    case 'str':
      out.u32(VT.str);
      out.str(v.value);
      return;
    case 'i32[]':
    case 'f32[]':
    case 'str[]': {
      out.u32(VT.arr);
      out.u32(v.type === 'i32[]' ? VT.i32 : v.type === 'f32[]' ? VT.f32 : VT.str);
      out.u64(v.value.length);
      if (v.type === 'str[]') for (const s of v.value) out.str(s);
      else if (v.type === 'i32[]') for (let i = 0; i < v.value.length; i++) out.i32(v.value[i]);
      else for (let i = 0; i < v.value.length; i++) out.f32(v.value[i]);
      return;
    }
  }
}

const tensorBytes = (t: GgufTensor) => t.shape.reduce((a, b) => a * b, 1) * (t.type === 'F16' ? 2 : 4);

/** The file's size in bytes, without producing it. */
export function ggufSize(meta: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): number {
  return pad(ggufHeader(meta, tensors).length) + tensors.reduce((s, t) => s + pad(tensorBytes(t)), 0);
}

function ggufHeader(meta: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): Uint8Array {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`GGUF: tensor ${t.name} appears twice`);
    seen.add(t.name);
    if (utf8.encode(t.name).length > 63) throw new Error(`GGUF: tensor name ${t.name} is longer than 63 bytes`);
    if (t.shape.length < 1 || t.shape.length > 4) throw new Error(`GGUF: tensor ${t.name} has ${t.shape.length} dimensions (1 to 4)`);
  }
  const out = new Bytes();
  out.raw(utf8.encode('GGUF'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(meta.length);
  for (const [key, value] of meta) {
    out.str(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) out.u64(d);
    out.u32(GGML_TYPE[t.type]);
    out.u64(offset);
    offset += pad(tensorBytes(t));
  }
  return out.bytes();
}

function encode(t: GgufTensor, data: Float32Array): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`GGUF: tensor ${t.name} has ${data.length} values for shape [${t.shape.join(', ')}]`);
  if (t.type === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const h = new Uint16Array(n);
  for (let i = 0; i < n; i++) h[i] = f32ToF16(data[i]);
  return new Uint8Array(h.buffer);
}

/** The file, piece by piece: the header, then each tensor (read when its turn comes) with its padding. */
export async function* ggufChunks(meta: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): AsyncGenerator<Uint8Array> {
  const header = ggufHeader(meta, tensors);
  yield header;
  if (pad(header.length) > header.length) yield new Uint8Array(pad(header.length) - header.length);
  for (const t of tensors) {
    const bytes = encode(t, await t.data());
    yield bytes;
    if (pad(bytes.length) > bytes.length) yield new Uint8Array(pad(bytes.length) - bytes.length);
  }
}

/** The whole file in memory (small models, tests, the page's download). */
export async function ggufBytes(meta: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): Promise<Uint8Array> {
  const out = new Uint8Array(ggufSize(meta, tensors));
  let o = 0;
  for await (const c of ggufChunks(meta, tensors)) {
    out.set(c, o);
    o += c.length;
  }
  if (o !== out.length) throw new Error(`GGUF: wrote ${o} bytes, expected ${out.length}`);
  return out;
}
