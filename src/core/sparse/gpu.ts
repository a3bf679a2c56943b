// GPU layouts of the sparse formats (formats.ts) and their upload, paged into row blocks.
//
// Values: f32 as their bits, f16 as halves packed two per u32 (value i in word i >> 1, low half
// when i is even). Every buffer is padded with zeros to a multiple of 16 bytes, so kernels may read
// it as array<vec4<u32>>. Per format, the buffers in binding order (after X at @binding(1)):
//
//   dense    [W]                 W (N, ldw) words: rows padded to 16 bytes (ldw = 4·ceil(K/4) for
//                                f32, 4·ceil(K/8) for f16), so every row starts on a vec4.
//   bitmask  [V, M, R]           V values, M (N, ceil(K/32)) mask words (bit j of word w of a row
//                                = column 32w + j), R (N) row offsets into V.
//   2:4      [V, M]              V (N, 2·Gp) values with rows padded to Gp = 8·ceil(K/32) groups
//                                (f32: 16·ceil(K/32) words per row; f16: 8·ceil(K/32), i.e. one
//                                u32 per group holding its two halves), M (N, ceil(K/32)) words of
//                                nibbles. A metadata word covers 32 columns, 16 values.
//   csr      [V, C, P]           V values, C column indices (u16 pairs when K <= 65535, else u32),
//                                P (N + 1) row pointers into V.
//   sell     [V, C, S]           V, C as csr but slot-major per slice of 32 rows (with padding),
//                                S (slices + 1) first entry of each slice.
//
// A matrix whose largest buffer would exceed ctx.pageBytes is split into row blocks, each a
// self-contained matrix of rows [row0, row0 + rows) with its own buffers (as GpuTensor chunks).
import type { GpuContext } from '../gpu/context';
import {
  type BitmaskMatrix, type CsrMatrix, type DenseMatrix, type FormatName, type SellMatrix, type Sparse24Matrix,
  type SparseMatrix, type ValueType, type Values, SELL_C, groups24, wordsPerRow,
} from '../model/sparse-formats';

export interface GpuSparseBlock {
  row0: number;
  rows: number;
  buffers: GPUBuffer[];
}

export interface GpuSparse {
  format: FormatName;
  N: number;
  K: number;
  dtype: ValueType;
  /** Stored values (all blocks). */
  nnz: number;
  /** Column indices are u16 pairs (csr). */
  idx16: boolean;
  blocks: GpuSparseBlock[];
  /** Bytes of all its GPU buffers. */
  bytes: number;
}

const pad4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** Values as u32 words (f32 bits, or f16 halves in pairs), zero-padded to a multiple of 4 words. */
export function packValues(values: Values): Uint32Array {
  if (values instanceof Float32Array) {
    const out = new Uint32Array(pad4(values.length));
    out.set(new Uint32Array(values.buffer, values.byteOffset, values.length));
    return out;
  }
  return packHalves(values);
}

/** u16 values packed two per u32 (low half first), zero-padded to a multiple of 4 words. */
export function packHalves(h: Uint16Array): Uint32Array {
  const out = new Uint32Array(pad4(Math.ceil(h.length / 2)));
  for (let i = 0; i < h.length; i += 2) out[i >> 1] = h[i] | ((i + 1 < h.length ? h[i + 1] : 0) << 16);
  return out;
}

function padded(a: Uint32Array): Uint32Array {
  if (a.length === pad4(a.length)) return a;
  const out = new Uint32Array(pad4(a.length));
  out.set(a);
  return out;
}

/** Words per row of the dense GPU layout. */
export function denseRowWords(K: number, dtype: ValueType): number {
  return dtype === 'f32' ? Math.ceil(K / 4) * 4 : Math.ceil(K / 8) * 4;
}

/** The bitmask of each row regrouped into u32 words (row r at r·ceil(K/32)). */
export function maskWords(m: BitmaskMatrix): Uint32Array {
  const bpr = Math.ceil(m.K / 8);
  const MW = wordsPerRow(m.K);
  const out = new Uint32Array(pad4(m.N * MW));
  for (let r = 0; r < m.N; r++) {
    for (let b = 0; b < bpr; b++) out[r * MW + (b >> 2)] |= m.bitmask[r * bpr + b] << (8 * (b & 3));
  }
  return out;
}

/** The GPU buffers' contents of a matrix, in binding order (see the header). */
export function gpuArrays(m: SparseMatrix): Uint32Array[] {
  const { N, K } = m;
  switch (m.format) {
    case 'dense': {
      const ldw = denseRowWords(K, m.dtype);
      const out = new Uint32Array(pad4(N * ldw));
      for (let r = 0; r < N; r++) {
        const row = packValues(m.values.subarray(r * K, (r + 1) * K));
        out.set(row.subarray(0, Math.min(row.length, ldw)), r * ldw);
      }
      return [out];
    }
    case 'bitmask':
      return [packValues(m.values), maskWords(m), padded(m.rowOffsets)];
    case '2:4': {
      const G = groups24(K);
      const MW = wordsPerRow(K);
      const Gp = MW * 8;
      // Values: rows padded from 2G to 2Gp values (f32 words, or one u32 per group for f16).
      const perRow = m.dtype === 'f32' ? 2 * Gp : Gp;
      const out = new Uint32Array(pad4(N * perRow));
      for (let r = 0; r < N; r++) {
        const row = packValues(m.values.subarray(r * 2 * G, (r + 1) * 2 * G));
        out.set(row.subarray(0, m.dtype === 'f32' ? 2 * G : G), r * perRow);
      }
      return [out, padded(m.meta)];
    }
    case 'csr': {
      const cols = m.colIdx instanceof Uint16Array ? packHalves(m.colIdx) : padded(m.colIdx);
      return [packValues(m.values), cols, padded(m.rowPtr)];
    }
    case 'sell': {
      const cols = m.colIdx instanceof Uint16Array ? packHalves(m.colIdx) : padded(m.colIdx);
      return [packValues(m.values), cols, padded(m.sliceOff)];
    }
  }
}

/** The rows [r0, r1) of a matrix as a standalone matrix of the same format. */
export function sliceRows(m: SparseMatrix, r0: number, r1: number): SparseMatrix {
  const N = r1 - r0;
  const { K, dtype } = m;
  switch (m.format) {
    case 'dense':
      return { format: 'dense', N, K, dtype, values: m.values.slice(r0 * K, r1 * K) } satisfies DenseMatrix;
    case 'bitmask': {
      const bpr = Math.ceil(K / 8);
      const v0 = N ? m.rowOffsets[r0] : 0;
      const v1 = r1 < m.N ? m.rowOffsets[r1] : m.values.length;
      const rowOffsets = m.rowOffsets.slice(r0, r1).map((o) => o - v0);
      return { format: 'bitmask', N, K, dtype, values: m.values.slice(v0, v1), bitmask: m.bitmask.slice(r0 * bpr, r1 * bpr), rowOffsets } satisfies BitmaskMatrix;
    }
    case '2:4': {
      const G = groups24(K);
      const MW = wordsPerRow(K);
      return { format: '2:4', N, K, dtype, values: m.values.slice(r0 * 2 * G, r1 * 2 * G), meta: m.meta.slice(r0 * MW, r1 * MW) } satisfies Sparse24Matrix;
    }
    case 'csr': {
      const e0 = m.rowPtr[r0];
      const e1 = m.rowPtr[r1];
      const rowPtr = m.rowPtr.slice(r0, r1 + 1).map((p) => p - e0);
      return { format: 'csr', N, K, dtype, values: m.values.slice(e0, e1), colIdx: m.colIdx.slice(e0, e1), rowPtr } satisfies CsrMatrix;
    }
    case 'sell': {
      // Blocks start on slice boundaries (rowBlocks cuts there).
      if (r0 % SELL_C !== 0 || (r1 % SELL_C !== 0 && r1 !== m.N)) throw new Error(`sell: rows ${r0}..${r1} do not start and end on slices`);
      const s0 = r0 / SELL_C;
      const s1 = Math.ceil(r1 / SELL_C);
      const e0 = m.sliceOff[s0];
      const e1 = m.sliceOff[s1];
      const sliceOff = m.sliceOff.slice(s0, s1 + 1).map((p) => p - e0);
      return { format: 'sell', N, K, dtype, values: m.values.slice(e0, e1), colIdx: m.colIdx.slice(e0, e1), sliceOff } satisfies SellMatrix;
    }
  }
}

/** Upper bound of the bytes row r adds to each GPU buffer of the format. */
function rowBytes(m: SparseMatrix, r: number): number[] {
  const vb = m.dtype === 'f32' ? 4 : 2;
  const MW = wordsPerRow(m.K);
  switch (m.format) {
    case 'dense': return [denseRowWords(m.K, m.dtype) * 4];
    case 'bitmask': {
      const n = (r + 1 < m.N ? m.rowOffsets[r + 1] : m.values.length) - m.rowOffsets[r];
      return [n * vb + 4, MW * 4, 4];
    }
    case '2:4': return [MW * 8 * 2 * vb, MW * 4];
    case 'csr': {
      const n = m.rowPtr[r + 1] - m.rowPtr[r];
      return [n * vb + 4, n * (m.colIdx instanceof Uint16Array ? 2 : 4) + 4, 4];
    }
    case 'sell': {
      // A slice's entries, charged to its first row (blocks cut only there).
      if (r % SELL_C !== 0) return [0, 0, 0];
      const s = r / SELL_C;
      const n = m.sliceOff[s + 1] - m.sliceOff[s];
      return [n * vb + 4, n * (m.colIdx instanceof Uint16Array ? 2 : 4) + 4, 4];
    }
  }
}

/** Row ranges whose buffers each fit in `limit` bytes (at least one row per block). */
export function rowBlocks(m: SparseMatrix, limit: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let r0 = 0;
  let acc: number[] = [];
  const slack = 64; // padding and the (N + 1)-th row pointer
  for (let r = 0; r < m.N; r++) {
    const b = rowBytes(m, r);
    const next = b.map((x, i) => x + (acc[i] ?? 0));
    const cut = m.format !== 'sell' || r % SELL_C === 0;
    if (r > r0 && cut && next.some((x) => x + slack > limit)) {
      out.push([r0, r]);
      r0 = r;
      acc = b;
    } else {
      acc = next;
    }
  }
  if (m.N > 0) out.push([r0, m.N]);
  return out;
}

/** Upload a matrix in its GPU layout, paged into row blocks of at most ctx.pageBytes per buffer. */
export function uploadSparse(ctx: GpuContext, m: SparseMatrix, label: string = m.format): GpuSparse {
  const blocks: GpuSparseBlock[] = [];
  let bytes = 0;
  for (const [r0, r1] of rowBlocks(m, ctx.pageBytes)) {
    const sub = r0 === 0 && r1 === m.N ? m : sliceRows(m, r0, r1);
    const buffers = gpuArrays(sub).map((a, i) => ctx.upload(a, `${label}[${r0}:${r1}].${i}`));
    bytes += buffers.reduce((s, b) => s + b.size, 0);
    blocks.push({ row0: r0, rows: r1 - r0, buffers });
  }
  const idx16 = (m.format === 'csr' || m.format === 'sell') && m.colIdx instanceof Uint16Array;
  return { format: m.format, N: m.N, K: m.K, dtype: m.dtype, nnz: m.values.length, idx16, blocks, bytes };
}

export function destroySparse(ctx: GpuContext, g: GpuSparse | undefined): void {
  if (g) for (const b of g.blocks) for (const buf of b.buffers) ctx.destroy(buf);
}
