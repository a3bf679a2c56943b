// spmv_24: y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n], W in the 2:4 format
// (src/core/sparse/formats.ts: two values per group of 4 columns, a 4-bit nibble i0 | i1 << 2 of
// positions per group, 8 nibbles per u32; GPU rows padded to whole metadata words). Decode: T = 1;
// T > 1 runs one GEMV per token (grid y).
// Algorithm: lane groups of L lanes per row (256 / L rows per workgroup). A metadata word covers 32
// columns = 8 groups = 16 values = 64 bytes (f32) or 32 bytes (f16), read as 4 or 2 aligned vec4
// loads; lane l takes words l, l + L, ... (consecutive lanes read consecutive 64/32-byte blocks:
// coalesced) and gathers the two x values of each group at 4g + i0, 4g + i1 (same 128-byte span
// of x). The L partial sums are reduced by a tree in workgroup memory. No data-dependent loops:
// every row has the same work. L = 1 (a thread per row, no barrier) is the software variant.
// Dispatch: (ceil(N / (256 / L)), T), workgroup 256.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.
#include "common/sparse_params.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> V: array<vec4u>;      // (N, 16 MW) f32 or (N, 8 MW) f16-pair words
@group(0) @binding(3) var<storage, read> M: array<u32>;        // (N, MW) nibbles i0 | i1 << 2
@group(0) @binding(4) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const L: u32 = 4u;   // lanes per row: 1, 2, 4, ..., 256
const ROWS = 256u / L;
#include "common/spmv_reduce.wgsl"

fn xat(xo: u32, k: u32) -> f32 {
  if (k < p.K) { return X[xo + k]; }
  return 0.0;
}

// The two products of group g (columns kb + 4g ..) whose values are v and nibble is nibs >> 4g.
fn grp(v: vec2f, nibs: u32, g: u32, xo: u32, kb: u32) -> f32 {
  let nib = nibs >> (4u * g);
  let k = kb + 4u * g;
  return v.x * xat(xo, k + (nib & 3u)) + v.y * xat(xo, k + ((nib >> 2u) & 3u));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % L;
  let n = wg.x * ROWS + lid / L;
  let t = wg.y;
  let live = n < p.N;
  let xo = t * p.K;
  var acc = 0.0;
  if (live) {
    for (var m = lane; m < p.MW; m += L) {
      let nibs = M[n * p.MW + m];
      let kb = m * 32u;
      if (F16 == 1u) {
        let vb = (n * p.MW + m) * 2u;
        for (var h = 0u; h < 2u; h++) {
          let q = V[vb + h];
          for (var c = 0u; c < 4u; c++) {
            acc += grp(unpack2x16float(q[c]), nibs, 4u * h + c, xo, kb);
          }
        }
      } else {
        let vb = (n * p.MW + m) * 4u;
        for (var h = 0u; h < 4u; h++) {
          let q = bitcast<vec4f>(V[vb + h]);
          acc += grp(q.xy, nibs, 2u * h, xo, kb) + grp(q.zw, nibs, 2u * h + 1u, xo, kb);
        }
      }
    }
  }
  reduceStore(lid, lane, 1u, t, n, live, acc);
}
