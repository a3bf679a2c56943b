// spmv_csr: y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n], W in CSR (values,
// column indices as u16 pairs or u32, row pointers; src/core/sparse/formats.ts). Decode: T = 1;
// T > 1 runs one GEMV per token (grid y).
// Algorithm: "vector CSR": lane groups of L lanes per row (256 / L rows per workgroup); lane l
// takes entries P[n] + l, + L, ... so the L lanes read consecutive values and indices (coalesced)
// and gather x[col]; a tree in workgroup memory reduces the L partial sums. The host picks L from
// the mean row length (pruned LLM rows are long and near-uniform, so lanes stay busy). L = 1 (a
// thread per row, no barrier) is the variant for software adapters.
// Dispatch: (ceil(N / (256 / L)), T), workgroup 256.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.
#include "common/sparse_params.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> V: array<u32>;        // (nnz) values: f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read> C: array<u32>;        // (nnz) columns: u16 pairs (IDX16) or u32
@group(0) @binding(4) var<storage, read> P: array<u32>;        // (N + 1) row pointers
@group(0) @binding(5) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(6) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const IDX16: u32 = 1u;
const L: u32 = 4u;   // lanes per row: 1, 2, 4, ..., 256
const ROWS = 256u / L;
#include "common/spmv_reduce.wgsl"
#include "common/sparse_val.wgsl"

fn col(i: u32) -> u32 {
  if (IDX16 == 1u) { return (C[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu; }
  return C[i];
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
    let e1 = P[n + 1u];
    for (var e = P[n] + lane; e < e1; e += L) {
      acc = fma(val(e), X[xo + col(e)], acc);
    }
  }
  reduceStore(lid, lane, 1u, t, n, live, acc);
}
