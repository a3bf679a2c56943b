// spmv_sell: y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n], W in sliced ELL
// (SELL-32: slices of 32 rows padded to the slice's longest row, entries slot-major; padding has
// value 0 and a column >= K; src/core/sparse/formats.ts). Decode: T = 1; T > 1 runs one GEMV per
// token (grid y).
// Algorithm: a workgroup covers RW = 256 / L rows (whole slices: L <= 8) with L lanes per row;
// thread lid is row lid % RW, lane lid / RW, so the 32 consecutive threads of a lane read the same
// slot of 32 consecutive rows: 32 consecutive entries (coalesced, no row pointers). Lane l takes
// slots l, l + L, ...; a tree in workgroup memory (stride RW) reduces the L partial sums. L = 1 is
// the classic ELL thread-per-row kernel (no barrier).
// Dispatch: (ceil(N / RW), T), workgroup 256.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.
#include "common/sparse_params.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> V: array<u32>;        // (entries) values: f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read> C: array<u32>;        // (entries) columns: u16 pairs (IDX16) or u32
@group(0) @binding(4) var<storage, read> S: array<u32>;        // (slices + 1) first entry of each slice
@group(0) @binding(5) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(6) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const IDX16: u32 = 1u;
const L: u32 = 1u;   // lanes per row: 1, 2, 4, 8
const RW = 256u / L;
#include "common/spmv_reduce.wgsl"
#include "common/sparse_val.wgsl"

fn col(i: u32) -> u32 {
  if (IDX16 == 1u) { return (C[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu; }
  return C[i];
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid / RW;
  let n = wg.x * RW + lid % RW;
  let t = wg.y;
  let live = n < p.N;
  let xo = t * p.K;
  var acc = 0.0;
  if (live) {
    let off = S[n / 32u];
    let width = (S[n / 32u + 1u] - off) / 32u;
    let e0 = off + n % 32u;
    for (var j = lane; j < width; j += L) {
      let e = e0 + j * 32u;
      let c = col(e);
      if (c < p.K) { acc = fma(val(e), X[xo + c], acc); }
    }
  }
  reduceStore(lid, lane, RW, t, n, live, acc);
}
