// spmv_bitmask: y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n], W in the bitmask
// format (compressed-tensors' sparse-bitmask, mask regrouped into u32 words per row; see
// src/core/sparse/formats.ts). Decode: T = 1; T > 1 runs one GEMV per token (grid y).
// Algorithm: lane groups of L lanes per row (256 / L rows per workgroup). Lane l owns a contiguous
// segment of S = ceil(MW / L) mask words of its row. (1) Each lane counts the set bits of its
// segment; (2) an exclusive scan of the counts over the group (Hillis-Steele in workgroup memory,
// log2 L steps) gives the index of the lane's first value: row_offsets[n] + count before it; (3)
// the lane walks its words' set bits (firstTrailingBit), reading values in order (the segments of
// consecutive lanes are consecutive in V) and gathering x at 32w + bit; (4) a tree reduction of
// the L partial sums. The mask is read twice (the second time from cache): 1 bit per weight.
// L = 1 (a thread per row, no scan, no barrier) is the variant for software adapters.
// Dispatch: (ceil(N / (256 / L)), T), workgroup 256.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.
#include "common/sparse_params.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> V: array<u32>;        // (nnz) values: f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read> M: array<u32>;        // (N, MW) mask words, LSB = lowest column
@group(0) @binding(4) var<storage, read> R: array<u32>;        // (N) index in V of each row's first value
@group(0) @binding(5) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(6) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const L: u32 = 4u;   // lanes per row: 1, 2, 4, ..., 256
const ROWS = 256u / L;
#include "common/spmv_reduce.wgsl"
var<workgroup> scan: array<u32, 256>;

#include "common/sparse_val.wgsl"

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % L;
  let n = wg.x * ROWS + lid / L;
  let t = wg.y;
  let live = n < p.N;
  let xo = t * p.K;
  let mo = n * p.MW;
  let S = (p.MW + L - 1u) / L;
  let w0 = min(lane * S, p.MW);
  let w1 = min(w0 + S, p.MW);
  var j = 0u;
  if (live) { j = R[n]; }
  if (L > 1u) {
    var cnt = 0u;
    if (live) {
      for (var w = w0; w < w1; w++) { cnt += countOneBits(M[mo + w]); }
    }
    scan[lid] = cnt;
    workgroupBarrier();
    for (var s = 1u; s < L; s <<= 1u) {
      var v = scan[lid];
      if (lane >= s) { v += scan[lid - s]; }
      workgroupBarrier();
      scan[lid] = v;
      workgroupBarrier();
    }
    j += scan[lid] - cnt;
  }
  var acc = 0.0;
  if (live) {
    for (var w = w0; w < w1; w++) {
      var m = M[mo + w];
      let kb = xo + w * 32u;
      while (m != 0u) {
        acc = fma(val(j), X[kb + firstTrailingBit(m)], acc);
        j++;
        m &= m - 1u;
      }
    }
  }
  reduceStore(lid, lane, 1u, t, n, live, acc);
}
