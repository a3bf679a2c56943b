import { describe, expect, it } from 'vitest';
import {
  attentionRef,
  conv1dRef,
  erf,
  geluErf,
  geluErfRef,
  geluNew,
  geluNewRef,
  layerNormRef,
  linearRef,
  logSoftmaxNllRef,
  relu,
  reluRef,
  rmsNormRef,
  ropeInvFreqRef,
  ropeRef,
  silu,
  siluRef,
} from '../../../src/core/reference/kernels.ts';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-14) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
};

describe('linear algebra', () => {
  it('linearRef computes x W^T + b with W as (N, K)', () => {
    // x: (2, 3), W: (2, 3)
    const x = [1, 2, 3, 4, 5, 6];
    const W = new Float32Array([1, 0, -1, 0.5, 0.5, 0.5]);
    close(linearRef(x, 2, 3, W, 2), [-2, 3, -2, 7.5]);
    close(linearRef(x, 2, 3, W, 2, [10, 20]), [8, 23, 8, 27.5]);
    expect(() => linearRef(x, 2, 3, W, 3)).toThrow();
  });

  it('conv1dRef uses W stored (in, out)', () => {
    // W (3, 2) is the transpose of the nn.Linear weight above.
    const Wt = [1, 0.5, 0, 0.5, -1, 0.5];
    close(conv1dRef([1, 2, 3], 1, 3, Wt, 2, [1, 1]), [-1, 4]);
  });
});

describe('norms', () => {
  it('layerNormRef uses the biased variance', () => {
    const x = [1, 2, 3, 4];
    const s = Math.sqrt(1.25);
    close(layerNormRef(x, 1, 4, null, null, 0), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    close(layerNormRef(x, 1, 4, [2, 2, 2, 2], [1, 1, 1, 1], 0), [1 - 3 / s, 1 - 1 / s, 1 + 1 / s, 1 + 3 / s]);
    // eps enters under the square root
    close(layerNormRef([0, 2], 1, 2, null, null, 3), [-1 / 2, 1 / 2]);
  });

  it('rmsNormRef is x / sqrt(mean(x^2) + eps) * w', () => {
    close(rmsNormRef([3, 4], 1, 2, [1, 2], 0), [3 / Math.sqrt(12.5), 8 / Math.sqrt(12.5)]);
    close(rmsNormRef([3, 4, 0, 0], 2, 2, [1, 1], 1), [3 / Math.sqrt(13.5), 4 / Math.sqrt(13.5), 0, 0]);
  });
});

describe('ropeRef (rotate_half)', () => {
  it('pairs dim i with i + rotaryDim/2 at angle (pos0 + t) * invFreq[i]', () => {
    // one token, one head, headDim 4, full rotary, pos0 = 1
    const inv = [1, 0.5];
    close(ropeRef([1, 0, 0, 0], 1, 1, 4, 4, inv, 1), [Math.cos(1), 0, Math.sin(1), 0]);
    close(ropeRef([0, 1, 0, 0], 1, 1, 4, 4, inv, 1), [0, Math.cos(0.5), 0, Math.sin(0.5)]);
    close(ropeRef([0, 0, 1, 0], 1, 1, 4, 4, inv, 1), [-Math.sin(1), 0, Math.cos(1), 0]);
  });

  it('leaves dims past rotaryDim alone and rotates every head the same way', () => {
    // T = 2, 2 heads, headDim 4, rotaryDim 2
    const x = [1, 0, 7, 8, 1, 0, 9, 10, 1, 0, 7, 8, 1, 0, 9, 10];
    const out = ropeRef(x, 2, 2, 4, 2, [1], 0);
    close(out, [1, 0, 7, 8, 1, 0, 9, 10, Math.cos(1), Math.sin(1), 7, 8, Math.cos(1), Math.sin(1), 9, 10]);
    expect(x[8]).toBe(1); // input untouched
  });

  it('preserves norms and default frequencies follow base^(-2i/dim)', () => {
    const inv = ropeInvFreqRef(8, 10000);
    expect(inv).toHaveLength(4);
    expect(inv[0]).toBe(1);
    expect(inv[1]).toBeCloseTo(0.1, 15);
    const x = [0.3, -1, 2, 0.5, 0.1, 0.7, -0.2, 1.5];
    const y = ropeRef(x, 1, 1, 8, 8, inv, 17);
    const n = (a: ArrayLike<number>) => Math.hypot(...Array.from(a));
    expect(n(y)).toBeCloseTo(n(x), 13);
  });
});

describe('attentionRef', () => {
  it('is causal with a float64 softmax', () => {
    // T = 2, H = Hkv = 1, D = 1; q = 1, keys 0 and ln 3 -> row 1 weights 1/4, 3/4
    const q = [1, 1];
    const k = [0, Math.log(3)];
    const v = [10, 20];
    close(attentionRef(q, k, v, 2, 2, 1, 1, 1, 1, 0), [10, 17.5]);
    // scale multiplies the scores
    close(attentionRef(q, [0, 2 * Math.log(3)], v, 2, 2, 1, 1, 1, 0.5, 0), [10, 17.5]);
  });

  it('maps query head h to KV head floor(h / (H / Hkv))', () => {
    // T = 1, H = 4, Hkv = 2, D = 1: heads 0,1 read kv 0; heads 2,3 read kv 1
    const out = attentionRef([1, 1, 1, 1], [0, 0], [5, 6], 1, 1, 4, 2, 1, 1, 0);
    close(out, [5, 5, 6, 6]);
  });

  it('pos0 places queries after cached keys', () => {
    // Three tokens computed at once vs. the last one alone with the first two as cache.
    const q = [0.1, 0.2, 0.3, -0.4, 0.5, 0.6];
    const k = [0.7, -0.8, 0.9, 1.0, -1.1, 1.2];
    const v = [1, 2, 3, 4, 5, 6];
    const full = attentionRef(q, k, v, 3, 3, 1, 1, 2, 0.7, 0);
    const last = attentionRef(q.slice(4), k, v, 1, 3, 1, 1, 2, 0.7, 2);
    close(last, full.subarray(4), 1e-15);
    expect(() => attentionRef(q.slice(4), k, v, 1, 2, 1, 1, 2, 0.7, 2)).toThrow();
  });
});

describe('activations', () => {
  it('erf is accurate to ~1e-15', () => {
    const known: Array<[number, number]> = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-2, -0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
    ];
    for (const [x, want] of known) expect(Math.abs(erf(x) - want)).toBeLessThan(2e-15);
  });

  it('gelu variants, silu and relu', () => {
    expect(geluErf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(geluErf(-1)).toBeCloseTo(-0.15865525393145707, 14);
    expect(geluNew(1)).toBeCloseTo(0.8411919906082768, 14);
    expect(geluNew(-3)).toBeCloseTo(-0.0036373920817729943, 14);
    expect(silu(1)).toBeCloseTo(0.7310585786300049, 15);
    expect(relu(-2)).toBe(0);
    expect(relu(2)).toBe(2);
    close(geluErfRef([1, -1]), [geluErf(1), geluErf(-1)], 0);
    close(geluNewRef([1]), [geluNew(1)], 0);
    close(siluRef([1]), [silu(1)], 0);
    close(reluRef([-1, 3]), [0, 3], 0);
  });
});

describe('logSoftmaxNllRef', () => {
  it('returns logsumexp - logit[target] per row', () => {
    const nll = logSoftmaxNllRef([0, 0, 0, Math.log(3), 1000, 0], [0, 1, 0]);
    close(nll, [Math.log(2), -Math.log(3 / 4), 0], 1e-15);
    expect(() => logSoftmaxNllRef([0, 0], [2])).toThrow();
  });
});
