// Sparse weight formats: CPU encoders from a dense pruned matrix, decoders back, and byte sizes.
//
// Every format describes one weight W of shape (N, K) = (out features, in features), row-major as
// nn.Linear stores it. Values are f32, or f16 kept as IEEE half bit patterns (Uint16Array; on the
// GPU two halves are packed per u32, low half first, because shader-f16 is often missing). A weight
// is "zero" when `w === 0` (so -0 is zero too, as compressed-tensors' `tensor != 0`); NaN counts as
// nonzero. Decoding gives back exactly the encoded values (f16: the f16-rounded values).
//
// Formats (the GPU layouts are in gpu.ts, the kernels in kernels.ts):
//
// * dense    values (N, K).
//
// * bitmask  compressed-tensors' `sparse-bitmask` (BitmaskCompressor): `compressed` = the nonzero
//            values in row-major order; `bitmask` (N, ceil(K/8)) u8 = numpy.packbits(W != 0,
//            axis=-1, bitorder="little"): element k of row r is bit (k & 7) of byte
//            r·ceil(K/8) + (k >> 3), least significant bit first; `row_offsets` (N) = index in
//            `compressed` of each row's first value (exclusive prefix sum of the row counts; int64
//            on disk); `shape` = [N, K] (int64). On the GPU the mask of each row is regrouped into
//            ceil(K/32) u32 words, bit j of word w = element 32w + j (the little-endian view of the
//            bytes), so a row starts on a word.
//
// * 2:4      semi-structured: at most 2 nonzeros in every group of 4 consecutive weights of a row
//            (groups g = 0 .. G-1, G = ceil(K/4); a last partial group is padded with zeros).
//            `values` (N, 2G): the two kept values of each group, lower position first. `meta`
//            (N, ceil(G/8)) u32: one 4-bit nibble per group, group g of a row in word g >> 3 at bits
//            4·(g & 7) .. 4·(g & 7) + 3 (least significant nibble first); nibble = i0 | (i1 << 2),
//            i0 < i1 the positions (0..3) of the two kept values inside the group. A group with
//            fewer than two nonzeros keeps zeros at the lowest free positions, so every group has
//            exactly two (value, position) pairs and decoding is exact. 1 bit of metadata per
//            weight, like compressed-tensors' `sparse-24-bitmask` (whose mask has the same size).
//            The encoder rejects a matrix with a group of 3 or 4 nonzeros (BadOption).
//
// * csr      compressed sparse rows: `values` (nnz), `colIdx` (nnz) u16 when K <= 65535 (else u32),
//            `rowPtr` (N + 1) u32.
//
// * sell     sliced ELL (SELL-C, C = 32): rows in slices of 32, each slice padded to its longest
//            row and stored slot-major (entry j of the 32 rows contiguous); `values`, `colIdx`
//            (u16 when K < 65535, padding column = sellPad(K)), `sliceOff` (S + 1).
//
// csr and sell are the two row-compressed candidates; the library's row format is CSR (kernels.ts
// says why). sell stays, outside FORMATS, so that bench/spmm.ts can re-check the choice on GPUs.
//
// Byte sizes (formatBytes / estimateBytes): `disk` = bytes of the tensors a safetensors file would
// hold (bitmask: exactly compressed-tensors' tensors, int64 row_offsets and shape included);
// `gpu` = bytes of the GPU buffers of gpu.ts's layout (rows padded to 16 bytes or a mask word where
// the kernels need it, each buffer rounded up to 16 bytes). For a 50%-sparse f16 matrix with
// K = 768 the bitmask file is 56.8% of the dense f16 bytes, 2:4 is 56.3%, CSR (u16 indices) 100%:
// row formats only pay off well past 50% sparsity.
import { BadOption } from '../errors';
import { f16ToF32, f32ToF16 } from './dtypes';

export type ValueType = 'f32' | 'f16';
export type FormatName = 'dense' | 'bitmask' | '2:4' | 'csr' | 'sell';
/** The formats the library offers (for the UI): dense, bitmask, 2:4 and the row format, CSR. */
export const FORMATS: readonly FormatName[] = ['dense', 'bitmask', '2:4', 'csr'];
/** FORMATS plus sliced ELL, the row format measured against CSR and not chosen (kernels.ts). */
export const ALL_FORMATS: readonly FormatName[] = [...FORMATS, 'sell'];

/** Stored values: f32 numbers, or f16 bit patterns. */
export type Values = Float32Array | Uint16Array;

interface MatrixBase {
  /** Rows (out features). */
  N: number;
  /** Columns (in features). */
  K: number;
  dtype: ValueType;
  values: Values;
}

export interface DenseMatrix extends MatrixBase {
  format: 'dense';
}

export interface BitmaskMatrix extends MatrixBase {
  format: 'bitmask';
  /** (N, ceil(K / 8)) bytes, LSB first. */
  bitmask: Uint8Array;
  /** (N) index of each row's first value in `values`. */
  rowOffsets: Uint32Array;
}

export interface Sparse24Matrix extends MatrixBase {
  format: '2:4';
  /** (N, ceil(G / 8)) words of 4-bit position pairs, G = ceil(K / 4). */
  meta: Uint32Array;
}

export interface CsrMatrix extends MatrixBase {
  format: 'csr';
  /** (N + 1) offsets into `values` / `colIdx`. */
  rowPtr: Uint32Array;
  /** (nnz) column of each value, u16 when K <= 65535. */
  colIdx: Uint16Array | Uint32Array;
}

/** Rows per slice of the sliced-ELL format. */
export const SELL_C = 32;

export interface SellMatrix extends MatrixBase {
  format: 'sell';
  /** (S + 1) first entry of each slice of SELL_C rows, S = ceil(N / SELL_C). */
  sliceOff: Uint32Array;
  /** Entry j of row r at sliceOff[r / C] + j·C + r % C; padding has value 0 and column sellPad(K). */
  colIdx: Uint16Array | Uint32Array;
}

export type SparseMatrix = DenseMatrix | BitmaskMatrix | Sparse24Matrix | CsrMatrix | SellMatrix;

/** Column index of sliced-ELL padding entries (never a real column). */
export const sellPad = (K: number) => (K < 0xffff ? 0xffff : 0xffffffff);

export const VALUE_BYTES: Record<ValueType, number> = { f32: 4, f16: 2 };

/** Groups of four per row in the 2:4 format. */
export const groups24 = (K: number) => Math.ceil(K / 4);
/** u32 words per row of the GPU bitmask and of the 2:4 metadata (32 columns each). */
export const wordsPerRow = (K: number) => Math.ceil(K / 32);

function checkShape(W: ArrayLike<number>, N: number, K: number, what: string): void {
  if (!Number.isInteger(N) || !Number.isInteger(K) || N < 0 || K < 0) throw new BadOption(`${what}: bad shape ${N}×${K}`);
  if (W.length !== N * K) throw new BadOption(`${what}: the matrix has ${W.length} values, expected ${N}×${K} = ${N * K}`);
}

function allocValues(n: number, dtype: ValueType): Values {
  return dtype === 'f32' ? new Float32Array(n) : new Uint16Array(n);
}

/** Store v at values[i] in the matrix's dtype. */
function put(values: Values, i: number, v: number): void {
  values[i] = values instanceof Float32Array ? v : f32ToF16(v);
}

/** The stored value i as a number (f16 decoded). */
export function valueAt(values: Values, i: number): number {
  return values instanceof Float32Array ? values[i] : f16ToF32(values[i]);
}

/** Round f32 values to the precision of a dtype (what decode(encode(W)) gives back). */
export function roundTo(W: Float32Array, dtype: ValueType): Float32Array {
  if (dtype === 'f32') return W.slice();
  const out = new Float32Array(W.length);
  for (let i = 0; i < W.length; i++) out[i] = f16ToF32(f32ToF16(W[i]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoders

export function encodeDense(W: ArrayLike<number>, N: number, K: number, dtype: ValueType = 'f32'): DenseMatrix {
  checkShape(W, N, K, 'dense');
  const values = allocValues(N * K, dtype);
  for (let i = 0; i < N * K; i++) put(values, i, W[i]);
  return { format: 'dense', N, K, dtype, values };
}

export function encodeBitmask(W: ArrayLike<number>, N: number, K: number, dtype: ValueType = 'f32'): BitmaskMatrix {
  checkShape(W, N, K, 'bitmask');
  const bpr = Math.ceil(K / 8);
  const bitmask = new Uint8Array(N * bpr);
  const rowOffsets = new Uint32Array(N);
  const nnz = countNonzeros(W);
  const values = allocValues(nnz, dtype);
  let nz = 0;
  for (let r = 0; r < N; r++) {
    rowOffsets[r] = nz;
    const o = r * K;
    for (let k = 0; k < K; k++) {
      const v = W[o + k];
      if (v !== 0) {
        bitmask[r * bpr + (k >> 3)] |= 1 << (k & 7);
        put(values, nz++, v);
      }
    }
  }
  return { format: 'bitmask', N, K, dtype, values, bitmask, rowOffsets };
}

export function encode24(W: ArrayLike<number>, N: number, K: number, dtype: ValueType = 'f32'): Sparse24Matrix {
  checkShape(W, N, K, '2:4');
  const G = groups24(K);
  const MW = wordsPerRow(K);
  const values = allocValues(N * 2 * G, dtype);
  const meta = new Uint32Array(N * MW);
  const pos = [0, 0];
  for (let r = 0; r < N; r++) {
    const o = r * K;
    for (let g = 0; g < G; g++) {
      const k0 = 4 * g;
      let c = 0;
      for (let i = 0; i < 4 && k0 + i < K; i++) {
        if (W[o + k0 + i] !== 0) {
          if (c === 2) {
            const nz = [0, 1, 2, 3].filter((j) => k0 + j < K && W[o + k0 + j] !== 0).length;
            throw new BadOption(
              `This matrix is not 2:4 sparse: row ${r}, columns ${k0}–${Math.min(k0 + 3, K - 1)} hold ${nz} nonzero weights, and the 2:4 format keeps at most 2 of every 4 consecutive weights. Prune with a 2:4 pattern first, or use the bitmask or CSR format.`,
            );
          }
          pos[c++] = i;
        }
      }
      // Fill up to two positions with the lowest free ones (they hold zeros, or lie past K).
      for (let i = 0; c < 2; i++) if (c === 0 || pos[0] !== i) pos[c++] = i;
      const [i0, i1] = pos[0] < pos[1] ? [pos[0], pos[1]] : [pos[1], pos[0]];
      const vi = (r * G + g) * 2;
      put(values, vi, k0 + i0 < K ? W[o + k0 + i0] : 0);
      put(values, vi + 1, k0 + i1 < K ? W[o + k0 + i1] : 0);
      meta[r * MW + (g >> 3)] |= (i0 | (i1 << 2)) << (4 * (g & 7));
    }
  }
  return { format: '2:4', N, K, dtype, values, meta };
}

export function encodeCsr(W: ArrayLike<number>, N: number, K: number, dtype: ValueType = 'f32'): CsrMatrix {
  checkShape(W, N, K, 'csr');
  const nnz = countNonzeros(W);
  const values = allocValues(nnz, dtype);
  const colIdx = K <= 0xffff ? new Uint16Array(nnz) : new Uint32Array(nnz);
  const rowPtr = new Uint32Array(N + 1);
  let nz = 0;
  for (let r = 0; r < N; r++) {
    rowPtr[r] = nz;
    const o = r * K;
    for (let k = 0; k < K; k++) {
      const v = W[o + k];
      if (v !== 0) {
        colIdx[nz] = k;
        put(values, nz++, v);
      }
    }
  }
  rowPtr[N] = nz;
  return { format: 'csr', N, K, dtype, values, rowPtr, colIdx };
}

export function encodeSell(W: ArrayLike<number>, N: number, K: number, dtype: ValueType = 'f32'): SellMatrix {
  checkShape(W, N, K, 'sell');
  const C = SELL_C;
  const S = Math.ceil(N / C);
  const counts = new Uint32Array(N);
  for (let r = 0; r < N; r++) for (let k = 0; k < K; k++) if (W[r * K + k] !== 0) counts[r]++;
  const sliceOff = new Uint32Array(S + 1);
  for (let s = 0; s < S; s++) {
    let w = 0;
    for (let r = s * C; r < Math.min(N, (s + 1) * C); r++) w = Math.max(w, counts[r]);
    sliceOff[s + 1] = sliceOff[s] + w * C;
  }
  const E = sliceOff[S];
  const values = allocValues(E, dtype);
  const pad = sellPad(K);
  const colIdx = pad === 0xffff ? new Uint16Array(E).fill(pad) : new Uint32Array(E).fill(pad);
  for (let r = 0; r < N; r++) {
    const base = sliceOff[Math.floor(r / C)] + (r % C);
    let j = 0;
    for (let k = 0; k < K; k++) {
      const v = W[r * K + k];
      if (v !== 0) {
        colIdx[base + j * C] = k;
        put(values, base + j * C, v);
        j++;
      }
    }
  }
  return { format: 'sell', N, K, dtype, values, sliceOff, colIdx };
}

/** Encode a dense (N, K) matrix in any format. */
export function encode(format: FormatName, W: ArrayLike<number>, N: number, K: number, dtype: ValueType = 'f32'): SparseMatrix {
  switch (format) {
    case 'dense': return encodeDense(W, N, K, dtype);
    case 'bitmask': return encodeBitmask(W, N, K, dtype);
    case '2:4': return encode24(W, N, K, dtype);
    case 'csr': return encodeCsr(W, N, K, dtype);
    case 'sell': return encodeSell(W, N, K, dtype);
  }
}

export function countNonzeros(W: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < W.length; i++) if (W[i] !== 0) n++;
  return n;
}

/** Whether every group of 4 consecutive weights in each row has at most 2 nonzeros. */
export function is24(W: ArrayLike<number>, N: number, K: number): boolean {
  for (let r = 0; r < N; r++) {
    for (let k0 = 0; k0 < K; k0 += 4) {
      let c = 0;
      for (let i = 0; i < 4 && k0 + i < K; i++) if (W[r * K + k0 + i] !== 0) c++;
      if (c > 2) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Decoder

/** The dense (N, K) f32 matrix a format holds. */
export function decode(m: SparseMatrix): Float32Array {
  const { N, K, values } = m;
  const W = new Float32Array(N * K);
  switch (m.format) {
    case 'dense':
      for (let i = 0; i < N * K; i++) W[i] = valueAt(values, i);
      break;
    case 'bitmask': {
      const bpr = Math.ceil(K / 8);
      for (let r = 0; r < N; r++) {
        let vi = m.rowOffsets[r];
        for (let k = 0; k < K; k++) if ((m.bitmask[r * bpr + (k >> 3)] >> (k & 7)) & 1) W[r * K + k] = valueAt(values, vi++);
      }
      break;
    }
    case '2:4': {
      const G = groups24(K);
      const MW = wordsPerRow(K);
      for (let r = 0; r < N; r++) {
        for (let g = 0; g < G; g++) {
          const nib = (m.meta[r * MW + (g >> 3)] >>> (4 * (g & 7))) & 15;
          const vi = (r * G + g) * 2;
          const k0 = 4 * g;
          if (k0 + (nib & 3) < K) W[r * K + k0 + (nib & 3)] = valueAt(values, vi);
          if (k0 + (nib >> 2) < K) W[r * K + k0 + (nib >> 2)] = valueAt(values, vi + 1);
        }
      }
      break;
    }
    case 'csr':
      for (let r = 0; r < N; r++) for (let e = m.rowPtr[r]; e < m.rowPtr[r + 1]; e++) W[r * K + m.colIdx[e]] = valueAt(values, e);
      break;
    case 'sell': {
      const pad = sellPad(K);
      for (let r = 0; r < N; r++) {
        const s = Math.floor(r / SELL_C);
        const w = (m.sliceOff[s + 1] - m.sliceOff[s]) / SELL_C;
        for (let j = 0; j < w; j++) {
          const e = m.sliceOff[s] + j * SELL_C + (r % SELL_C);
          if (m.colIdx[e] !== pad) W[r * K + m.colIdx[e]] = valueAt(values, e);
        }
      }
      break;
    }
  }
  return W;
}

// ---------------------------------------------------------------------------------------------
// Byte sizes

export interface FormatBytes {
  /** Bytes of the tensors as a file stores them. */
  disk: number;
  /** Bytes of the GPU buffers (gpu.ts's layout, one block). */
  gpu: number;
}

const r16 = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

/**
 * Bytes of a format for an (N, K) matrix with `nnz` nonzeros, without encoding it (for the UI).
 * `nnz` is ignored by the dense and 2:4 formats; for sell it is the stored entries, padding
 * included (nnz is a lower bound).
 */
export function estimateBytes(format: FormatName, N: number, K: number, nnz: number, dtype: ValueType): FormatBytes {
  const vb = VALUE_BYTES[dtype];
  const words = (halfs: number) => Math.ceil(halfs / 2) * 4; // bytes of halves packed 2 per u32
  const shape = 2 * 8;
  switch (format) {
    case 'dense': {
      // GPU rows padded to 16 bytes.
      const rowBytes = dtype === 'f32' ? Math.ceil(K / 4) * 16 : Math.ceil(K / 8) * 16;
      return { disk: N * K * vb, gpu: r16(N * rowBytes) };
    }
    case 'bitmask':
      return {
        disk: nnz * vb + N * Math.ceil(K / 8) + N * 8 + shape,
        gpu: r16(dtype === 'f32' ? nnz * 4 : words(nnz)) + r16(N * wordsPerRow(K) * 4) + r16(N * 4),
      };
    case '2:4': {
      const G = groups24(K);
      const Gp = wordsPerRow(K) * 8; // GPU rows padded to whole metadata words (8 groups)
      return {
        disk: N * 2 * G * vb + N * Math.ceil(G / 2) + shape,
        gpu: r16(N * 2 * Gp * vb) + r16(N * wordsPerRow(K) * 4),
      };
    }
    case 'csr': {
      const ib = K <= 0xffff ? 2 : 4;
      return {
        disk: nnz * vb + nnz * ib + (N + 1) * 4 + shape,
        gpu: r16(dtype === 'f32' ? nnz * 4 : words(nnz)) + r16(ib === 2 ? words(nnz) : nnz * 4) + r16((N + 1) * 4),
      };
    }
    case 'sell': {
      const ib = K < 0xffff ? 2 : 4;
      const S = Math.ceil(N / SELL_C);
      return {
        disk: nnz * vb + nnz * ib + (S + 1) * 4 + shape,
        gpu: r16(dtype === 'f32' ? nnz * 4 : words(nnz)) + r16(ib === 2 ? words(nnz) : nnz * 4) + r16((S + 1) * 4),
      };
    }
  }
}

/** Bytes of an encoded matrix on disk and on the GPU. */
export function formatBytes(m: SparseMatrix): FormatBytes {
  const nnz = m.format === 'bitmask' || m.format === 'csr' || m.format === 'sell' ? m.values.length : 0;
  return estimateBytes(m.format, m.N, m.K, nnz, m.dtype);
}
