// Sparse formats on the CPU: exact round trips, the documented layouts (compressed-tensors'
// bitmask, 2:4 nibbles), rejection of non-2:4 matrices, byte sizes, GPU layouts and row blocks.
import { describe, expect, test } from 'vitest';
import { BadOption } from '../../../src/core/errors';
import { linearRef } from '../../../src/core/reference/kernels';
import { sparseLinearRef } from '../../../src/core/reference/sparse';
import {
  ALL_FORMATS, FORMATS, type FormatName, SELL_C, type ValueType, decode, encode, encode24, encodeBitmask, estimateBytes,
  formatBytes, is24, roundTo,
} from '../../../src/core/model/sparse-formats';
import { gpuArrays, maskWords, rowBlocks, sliceRows } from '../../../src/core/sparse/gpu';
import { prune24, pruneRandom, randomDense, sparsityOf } from '../../../src/core/sparse/synth';
import { maxRelErr, randn } from '../../helpers/gpu';

/** A pruned (N, K) matrix with some empty rows. */
function pruned(N: number, K: number, sparsity: number, seed: number, twoFour = false): Float32Array {
  let W = randomDense(N * K, seed);
  W = twoFour ? prune24(W, N, K, seed + 1) : pruneRandom(W, sparsity, seed + 1);
  if (twoFour && sparsity > 0.5) W = pruneRandom(W, (sparsity - 0.5) * 2, seed + 2);
  for (let r = 3; r < N; r += 7) W.fill(0, r * K, (r + 1) * K);
  return W;
}

const SHAPES: Array<[number, number]> = [[1, 1], [1, 5], [3, 7], [13, 33], [40, 64], [37, 100], [70, 257]];
const DTYPES: ValueType[] = ['f32', 'f16'];

test('the library offers dense, bitmask, 2:4 and CSR; sliced ELL only as the measured alternative', () => {
  expect(FORMATS).toEqual(['dense', 'bitmask', '2:4', 'csr']);
  expect(ALL_FORMATS).toEqual([...FORMATS, 'sell']);
});

describe('round trips are exact', () => {
  for (const format of ALL_FORMATS) {
    for (const dtype of DTYPES) {
      test.each(SHAPES)(`${format} ${dtype} %i×%i`, (N, K) => {
        for (const [s, seed] of [[0, 1], [0.5, 2], [0.99, 3], [1, 4]] as const) {
          const W = pruned(N, K, s, seed, format === '2:4');
          const m = encode(format, W, N, K, dtype);
          expect(decode(m)).toEqual(roundTo(W, dtype));
        }
      });
    }
  }
});

describe('bitmask: compressed-tensors sparse-bitmask layout', () => {
  test('README example: [[0, 0, 0], [1, 1, 1]]', () => {
    const m = encodeBitmask([0, 0, 0, 1, 1, 1], 2, 3);
    expect([...m.values]).toEqual([1, 1, 1]);
    expect([...m.bitmask]).toEqual([0, 7]); // numpy.packbits(..., bitorder="little")
    expect([...m.rowOffsets]).toEqual([0, 0]); // cumsum(row_counts) - row_counts
  });

  test('bits are LSB first, ceil(K/8) bytes per row; row offsets are exclusive prefix sums', () => {
    const K = 10;
    const W = new Float32Array(2 * K);
    W[1] = 2; W[8] = 3; W[K + 0] = 4; W[K + 7] = 5; W[K + 9] = 6;
    const m = encodeBitmask(W, 2, K);
    expect([...m.bitmask]).toEqual([0b10, 0b1, 0b10000001, 0b10]);
    expect([...m.rowOffsets]).toEqual([0, 2]);
    expect([...m.values]).toEqual([2, 3, 4, 5, 6]);
  });

  test('GPU mask words are the little-endian view of the bytes when K % 32 == 0', () => {
    const W = pruned(5, 64, 0.5, 9);
    const m = encodeBitmask(W, 5, 64);
    const words = maskWords(m);
    expect([...words.subarray(0, 10)]).toEqual([...new Uint32Array(m.bitmask.buffer, 0, 10)]);
  });

  test('-0 counts as zero (as tensor != 0); NaN as nonzero', () => {
    const m = encodeBitmask([-0, NaN, 1, 0], 1, 4);
    expect(m.values.length).toBe(2);
    expect(m.bitmask[0]).toBe(0b110);
  });
});

describe('2:4', () => {
  test('packing: two values per group, nibble i0 | i1 << 2, LSB nibble first', () => {
    const m = encode24([0, 5, 0, 7, 1, 0, 0, 0], 1, 8);
    // group 0 keeps positions 1, 3 (13); group 1 has one nonzero at 0, filled with position 1 (4).
    expect([...m.values]).toEqual([5, 7, 1, 0]);
    expect([...m.meta]).toEqual([13 | (4 << 4)]);
  });

  test('K not a multiple of 4: the last group is padded', () => {
    const W = [1, 0, 0, 2, 3, 4];
    const m = encode24(W, 1, 6);
    expect([...decode(m)]).toEqual(W);
    expect(m.values.length).toBe(4);
  });

  test('rejects a matrix with 3 nonzeros in a group, naming where', () => {
    const W = prune24(randomDense(4 * 16, 1), 4, 16, 2);
    W[2 * 16 + 9] = W[2 * 16 + 10] = W[2 * 16 + 11] = 1;
    expect(is24(W, 4, 16)).toBe(false);
    expect(() => encode24(W, 4, 16)).toThrow(BadOption);
    expect(() => encode24(W, 4, 16)).toThrow(/row 2, columns 8–11 hold [34] nonzero/);
    expect(() => encode24(randomDense(16, 3), 1, 16)).toThrow(/not 2:4 sparse/);
  });
});

describe('byte sizes', () => {
  const N = 768, K = 768;
  // Exactly 50% sparse: every other weight.
  const W = randomDense(N * K, 5).map((v, i) => (i % 2 ? v : 0));
  const dense = N * K * 2;

  test('50%-sparse f16: bitmask file <= 57% of dense f16, 2:4 <= 57%', () => {
    expect(sparsityOf(W)).toBe(0.5);
    const bm = formatBytes(encode('bitmask', W, N, K, 'f16'));
    const s24 = formatBytes(encode('2:4', W, N, K, 'f16'));
    expect(bm.disk / dense).toBeLessThanOrEqual(0.57);
    expect(s24.disk / dense).toBeLessThanOrEqual(0.57);
    expect(bm.gpu / dense).toBeLessThanOrEqual(0.57);
    expect(s24.gpu / dense).toBeLessThanOrEqual(0.57);
    // compressed-tensors' tensors exactly: values, u8 mask, int64 row_offsets, int64 shape.
    expect(bm.disk).toBe(N * K + N * (K / 8) + N * 8 + 16);
  });

  test.each(ALL_FORMATS)('%s: GPU bytes are the uploaded arrays, estimateBytes agrees', (format) => {
    for (const [n, k, s] of [[37, 100, 0.7], [64, 64, 0.5], [5, 3, 0]] as const) {
      for (const dtype of DTYPES) {
        const Wp = pruned(n, k, s, 6, format === '2:4');
        const m = encode(format, Wp, n, k, dtype);
        const b = formatBytes(m);
        expect(b.gpu).toBe(gpuArrays(m).reduce((a, x) => a + x.byteLength, 0));
        expect(estimateBytes(format, n, k, m.values.length, dtype)).toEqual(b);
      }
    }
  });
});

describe('GPU layouts and row blocks', () => {
  const N = 70, K = 45;
  test.each(ALL_FORMATS)('%s: row blocks are standalone matrices of the same rows', (format: FormatName) => {
    const W = pruned(N, K, 0.6, 7, format === '2:4');
    const m = encode(format, W, N, K, 'f16');
    const blocks = rowBlocks(m, 600);
    expect(blocks.length).toBeGreaterThan(2);
    expect(blocks[0][0]).toBe(0);
    expect(blocks.at(-1)?.[1]).toBe(N);
    const full = decode(m);
    for (const [r0, r1] of blocks) {
      if (format === 'sell') expect(r0 % SELL_C).toBe(0);
      const sub = sliceRows(m, r0, r1);
      expect(decode(sub)).toEqual(full.slice(r0 * K, r1 * K));
      for (const a of gpuArrays(sub)) expect(a.byteLength % 16).toBe(0);
    }
  });

  test('every array is padded to 16 bytes; dense rows to 16 bytes', () => {
    const m = encode('dense', randn(3 * 5, 1), 3, 5, 'f16');
    const [w] = gpuArrays(m);
    expect(w.length).toBe(3 * 4); // 5 halves -> one vec4<u32> per row
  });
});

describe('the float64 reference walks each format', () => {
  test.each(ALL_FORMATS)('%s matches linearRef of the decoded matrix', (format) => {
    const T = 3, N = 21, K = 38;
    const W = pruned(N, K, 0.6, 8, format === '2:4');
    const x = randn(T * K, 9), b = randn(N, 10), y0 = randn(T * N, 11);
    for (const dtype of DTYPES) {
      const m = encode(format, W, N, K, dtype);
      const ref = linearRef(x, T, K, decode(m), N, b).map((v, i) => v + y0[i]);
      expect(maxRelErr(sparseLinearRef(x, T, m, b, y0), ref).err).toBeLessThan(1e-12);
    }
  });
});
