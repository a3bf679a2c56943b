// Writes safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header, then the tensor bytes back to back with no holes.
//   header = { "__metadata__"?: {string: string}, name: { dtype, shape, data_offsets: [begin, end) } }
// Offsets are relative to the start of the data section. By default the JSON is padded with
// trailing spaces so that the data section starts on an 8-byte boundary (what the reference
// writer does). Used to export pruned models and to build test fixtures.
//
// Float tensors are given as f32 values and rounded to their storage dtype; tensors of any other
// safetensors dtype (the U8 bitmasks and I64 offsets of the compressed sparse export) are given as
// their little-endian bytes.

import { BadOption } from '../errors.ts';
import { DTYPE_BYTES, encodeFromF32, type DType } from '../model/dtypes.ts';

export interface TensorToWrite {
  name: string;
  /** Storage dtype; values are rounded to it (round to nearest even) from `data`. */
  dtype: DType;
  shape: number[];
  data: Float32Array;
}

/** Bytes per element of the dtypes a raw tensor may have. */
export const RAW_DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
} as const;
export type RawDType = keyof typeof RAW_DTYPE_BYTES;

/** A tensor given as its stored little-endian bytes (numel × element size of `dtype`). */
export interface RawTensorToWrite {
  name: string;
  dtype: RawDType;
  shape: number[];
  bytes: Uint8Array;
}

export type AnyTensorToWrite = TensorToWrite | RawTensorToWrite;

export interface WriteOptions {
  /**
   * true (default): pad the header with spaces so the data section starts 8-byte aligned.
   * false: leave it unaligned on purpose; when the unpadded JSON happens to end aligned, one space
   * is added so that data never starts on an 8-byte boundary (tests use this to exercise readers).
   */
  alignHeader?: boolean;
}

export interface SafetensorsIndex {
  metadata: { total_size: number };
  weight_map: Record<string, string>;
}

export interface ShardedSafetensors {
  /** Shard files named model-0000i-of-0000N.safetensors, in order. */
  shards: Array<{ name: string; bytes: Uint8Array }>;
  /** Parsed content of model.safetensors.index.json. */
  index: SafetensorsIndex;
  /** model.safetensors.index.json as text. */
  indexJson: string;
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function validate(tensors: AnyTensorToWrite[]): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (!t.name || t.name === '__metadata__') throw new BadOption(`Tensor name ${JSON.stringify(t.name)} cannot be written to safetensors.`);
    if (seen.has(t.name)) throw new BadOption(`Tensor ${t.name} appears twice; safetensors names must be unique.`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new BadOption(`Tensor ${t.name}: bad shape [${t.shape}].`);
    if ('bytes' in t) {
      if (!(t.dtype in RAW_DTYPE_BYTES)) throw new BadOption(`Tensor ${t.name}: dtype ${t.dtype} cannot be written.`);
      const want = numel(t.shape) * RAW_DTYPE_BYTES[t.dtype];
      if (t.bytes.byteLength !== want) {
        throw new BadOption(`Tensor ${t.name}: shape [${t.shape}] of ${t.dtype} needs ${want} bytes but ${t.bytes.byteLength} were given.`);
      }
      continue;
    }
    if (!(t.dtype in DTYPE_BYTES)) throw new BadOption(`Tensor ${t.name}: dtype ${t.dtype} is not one of F32, F16, BF16.`);
    if (numel(t.shape) !== t.data.length) {
      throw new BadOption(`Tensor ${t.name}: shape [${t.shape}] holds ${numel(t.shape)} values but ${t.data.length} were given.`);
    }
  }
}

/** Serialise tensors (in the given order) to one safetensors file. */
export function writeSafetensors(
  tensors: AnyTensorToWrite[],
  metadata?: Record<string, string>,
  options: WriteOptions = {},
): Uint8Array {
  validate(tensors);
  const align = options.alignHeader ?? true;
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new BadOption(`safetensors metadata values must be strings; "${k}" is ${typeof v}.`);
    }
    header.__metadata__ = metadata;
  }
  const encoded: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = 'bytes' in t ? t.bytes : encodeFromF32(t.data, t.dtype);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    encoded.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const misalign = (8 + json.byteLength) % 8;
  const pad = align ? (8 - misalign) % 8 : misalign === 0 ? 1 : 0;
  if (pad > 0) {
    const padded = new Uint8Array(json.byteLength + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let p = 8 + json.byteLength;
  for (const b of encoded) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}

/** "model-00002-of-00003.safetensors" (1-based shard number). */
export function shardFileName(i: number, n: number): string {
  const pad = (k: number) => String(k).padStart(5, '0');
  return `model-${pad(i)}-of-${pad(n)}.safetensors`;
}

/**
 * Split tensors (order kept) into `nShards` contiguous groups of roughly equal byte size, each
 * holding at least one tensor, and write one file per group plus the index
 * { metadata: { total_size }, weight_map: { tensor: file } }. total_size is the sum of the tensor
 * byte sizes, as transformers writes it.
 */
export function writeShardedSafetensors(
  tensors: TensorToWrite[],
  nShards: number,
  metadata?: Record<string, string>,
  options: WriteOptions = {},
): ShardedSafetensors {
  validate(tensors);
  if (!Number.isInteger(nShards) || nShards < 1 || nShards > tensors.length) {
    throw new BadOption(`Cannot split ${tensors.length} tensors into ${nShards} shards.`);
  }
  const sizes = tensors.map((t) => t.data.length * DTYPE_BYTES[t.dtype]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const groups: TensorToWrite[][] = [];
  let cur: TensorToWrite[] = [];
  let acc = 0;
  tensors.forEach((t, i) => {
    cur.push(t);
    acc += sizes[i];
    const remainingTensors = tensors.length - i - 1;
    const remainingShards = nShards - groups.length - 1;
    // Close the group once it reaches its share of the bytes, or when every later tensor is
    // needed to give each remaining shard one tensor.
    const target = (total * (groups.length + 1)) / nShards;
    if (remainingShards > 0 && (acc >= target || remainingTensors === remainingShards)) {
      groups.push(cur);
      cur = [];
    }
  });
  groups.push(cur);

  const weightMap: Record<string, string> = {};
  const shards = groups.map((g, i) => {
    const name = shardFileName(i + 1, nShards);
    for (const t of g) weightMap[t.name] = name;
    return { name, bytes: writeSafetensors(g, metadata, options) };
  });
  const index: SafetensorsIndex = { metadata: { total_size: total }, weight_map: weightMap };
  return { shards, index, indexJson: JSON.stringify(index, null, 2) + '\n' };
}
