// spmm_sell: Y[t, yCol0 + n] (+)= sum_k W[n, k] * X[t, k] + b[biasOff + n], W in sliced ELL
// (SELL-32; src/core/sparse/formats.ts). Prefill: T tokens at once.
// Algorithm: the tiling of spmm_bitmask.wgsl (read its header): 64 (rows) x 64 (tokens) tiles,
// thread (rg, tg) owns 4 rows x 4 tokens, K walked in chunks of 32 columns staged in workgroup
// memory as token quads. Each row keeps a cursor (slot j) into its entries at
// S[slice] + j * 32 + n % 32; per chunk it consumes the entries whose column is below the chunk's
// end (columns are sorted; padding has a column >= K and ends the row). The 16 threads of a row read
// the same entries (broadcast). Identical to spmm_csr.wgsl but for the entry addressing.
// STAGE = 0 skips the staging and its barriers and reads X directly: the software variant.
// Dispatch: (ceil(N / 64), ceil(T / 64)), workgroup 256.
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
const STAGE: u32 = 1u;
#include "common/spmm_tile.wgsl"
#include "common/sparse_val.wgsl"

fn col(i: u32) -> u32 {
  if (IDX16 == 1u) { return (C[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu; }
  return C[i];
}

fn xq(k0: u32, kk: u32, tg: u32) -> vec4f {
  if (STAGE == 1u) { return xs[kk * 16u + tg]; }
  let k = k0 + kk;
  return vec4f(X[xoff.x + k], X[xoff.y + k], X[xoff.z + k], X[xoff.w + k]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tg = lid % 16u;
  let n0 = wg.x * 64u + (lid / 16u) * 4u;
  let t0 = wg.y * 64u;
  let tq = t0 + tg * 4u;
  setXoff(tq);
  var acc: array<vec4f, 4>;
  var cur: array<u32, 4>; // slot
  var end: array<u32, 4>; // slice width
  var e0: array<u32, 4>;  // first entry of the row
  for (var i = 0u; i < 4u; i++) {
    let n = n0 + i;
    if (n < p.N) {
      let off = S[n / 32u];
      end[i] = (S[n / 32u + 1u] - off) / 32u;
      e0[i] = off + n % 32u;
    }
  }
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    if (STAGE == 1u) {
      stage(t0, k0, lid);
      workgroupBarrier();
    }
    let kEnd = min(k0 + 32u, p.K);
    for (var i = 0u; i < 4u; i++) {
      var j = cur[i];
      let w = end[i];
      var a = acc[i];
      loop {
        if (j >= w) { break; }
        let e = e0[i] + j * 32u;
        let c = col(e);
        if (c >= kEnd) { break; }
        a = fma(vec4f(val(e)), xq(k0, c - k0, tg), a);
        j++;
      }
      acc[i] = a;
      cur[i] = j;
    }
    if (STAGE == 1u) { workgroupBarrier(); }
  }
  storeTile(n0, tq, acc);
}
