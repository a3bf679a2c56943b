// Float64 CPU references of the sparse linear kernels (shaders/gemv*.wgsl, spmv_*.wgsl,
// spmm_*.wgsl). Each walks its format's own structure (mask bits, 2:4 nibbles, CSR pointers) as the
// format's documentation in src/core/sparse/formats.ts describes it, rather than decoding to a
// dense matrix first, so a test against linearRef(decode(m)) also checks the format itself.
// Shapes: x (T, K), W (N, K), bias (N), y (T, N); f16 values are decoded exactly.
import { f16ToF32 } from '../model/dtypes';
import { SELL_C, type SparseMatrix, type Values, sellPad } from '../model/sparse-formats';
import type { Vec } from './kernels';

const at = (v: Values, i: number): number => (v instanceof Float32Array ? v[i] : f16ToF32(v[i]));

/**
 * y = x Wᵀ + b (+ y0 when given) with W in any format of formats.ts.
 * x: (T, K), bias: (N) or null, y0: (T, N) or null -> (T, N).
 */
export function sparseLinearRef(x: Vec, T: number, m: SparseMatrix, bias?: Vec | null, y0?: Vec | null): Float64Array {
  const { N, K } = m;
  if (x.length < T * K) throw new Error(`sparseLinearRef: x has ${x.length} values, expected ${T}x${K}`);
  if (bias && bias.length !== N) throw new Error(`sparseLinearRef: bias has ${bias.length} values, expected ${N}`);
  const y = new Float64Array(T * N);
  // For each row: the (column, value) pairs the format stores, in increasing column order.
  const cols: number[] = [];
  const vals: number[] = [];
  for (let n = 0; n < N; n++) {
    cols.length = 0;
    vals.length = 0;
    rowEntries(m, n, cols, vals);
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let j = 0; j < cols.length; j++) s += vals[j] * x[t * K + cols[j]];
      if (bias) s += bias[n];
      if (y0) s += y0[t * N + n];
      y[t * N + n] = s;
    }
  }
  return y;
}

/** Append the stored (column, value) pairs of row n (columns < K only). */
function rowEntries(m: SparseMatrix, n: number, cols: number[], vals: number[]): void {
  const { K } = m;
  switch (m.format) {
    case 'dense':
      for (let k = 0; k < K; k++) {
        cols.push(k);
        vals.push(at(m.values, n * K + k));
      }
      return;
    case 'bitmask': {
      // Bits LSB first in bytes of ceil(K/8) per row; values in row-major order from row_offsets[n].
      const bpr = Math.ceil(K / 8);
      let vi = m.rowOffsets[n];
      for (let k = 0; k < K; k++) {
        if ((m.bitmask[n * bpr + (k >> 3)] >> (k & 7)) & 1) {
          cols.push(k);
          vals.push(at(m.values, vi++));
        }
      }
      return;
    }
    case '2:4': {
      // Group g: nibble (meta word g >> 3, bits 4(g & 7)..) = i0 | i1 << 2; values 2g, 2g + 1.
      const G = Math.ceil(K / 4);
      const MW = Math.ceil(K / 32);
      for (let g = 0; g < G; g++) {
        const nib = (m.meta[n * MW + (g >> 3)] >>> (4 * (g & 7))) & 15;
        const pos = [nib & 3, nib >> 2];
        for (let j = 0; j < 2; j++) {
          const k = 4 * g + pos[j];
          if (k < K) {
            cols.push(k);
            vals.push(at(m.values, (n * G + g) * 2 + j));
          }
        }
      }
      return;
    }
    case 'csr':
      for (let e = m.rowPtr[n]; e < m.rowPtr[n + 1]; e++) {
        cols.push(m.colIdx[e]);
        vals.push(at(m.values, e));
      }
      return;
    case 'sell': {
      // Slot j of row n at sliceOff[s] + j·C + n mod C, s = n div C; padding has column sellPad(K).
      const s = Math.floor(n / SELL_C);
      const width = (m.sliceOff[s + 1] - m.sliceOff[s]) / SELL_C;
      for (let j = 0; j < width; j++) {
        const e = m.sliceOff[s] + j * SELL_C + (n % SELL_C);
        if (m.colIdx[e] === sellPad(K)) continue;
        cols.push(m.colIdx[e]);
        vals.push(at(m.values, e));
      }
      return;
    }
  }
}
