// spmm_bitmask: Y[t, yCol0 + n] (+)= sum_k W[n, k] * X[t, k] + b[biasOff + n], W in the bitmask
// format (src/core/sparse/formats.ts). Prefill: T tokens at once.
// Algorithm: 64 (rows) x 64 (tokens) output tiles. Thread (rg, tg) of the 16 x 16 workgroup owns
// rows n0 + 4 rg .. + 3 and tokens t0 + 4 tg .. + 3: one vec4 accumulator (4 tokens) per row. K is
// walked in chunks of 32 columns = one mask word per row. Each chunk of X (64 tokens x 32 columns)
// is staged in workgroup memory with token quads contiguous (xs[kk][tg] = 4 tokens' x at column
// k0 + kk; the global reads run along k: coalesced), then every thread walks the set bits of its
// rows' mask words (firstTrailingBit) and for each nonzero reads its value once and fma's it with
// the vec4 of x at that column. A row's running value index (row_offsets[n] + bits seen) stays in a
// register. The 16 token-quad threads of a row read the same mask word and values (broadcast) and
// 16 consecutive vec4 of xs (no bank conflicts); per nonzero: 1 value, 1 vec4 load, 4 fma.
// STAGE = 0 skips the staging and its barriers and reads X directly (cached): the variant for
// software adapters, where barriers are expensive.
// Dispatch: (ceil(N / 64), ceil(T / 64)), workgroup 256.
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
const STAGE: u32 = 1u;
#include "common/spmm_tile.wgsl"
#include "common/sparse_val.wgsl"

// x of the thread's 4 tokens at column k0 + kk (< K: only set bits are visited).
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
  var vi: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    if (n0 + i < p.N) { vi[i] = R[n0 + i]; }
  }
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    if (STAGE == 1u) {
      stage(t0, k0, lid);
      workgroupBarrier();
    }
    let kc = k0 / 32u;
    for (var i = 0u; i < 4u; i++) {
      let n = n0 + i;
      if (n < p.N) {
        var m = M[n * p.MW + kc];
        var j = vi[i];
        var a = acc[i];
        while (m != 0u) {
          a = fma(vec4f(val(j)), xq(k0, firstTrailingBit(m), tg), a);
          j++;
          m &= m - 1u;
        }
        acc[i] = a;
        vi[i] = j;
      }
    }
    if (STAGE == 1u) { workgroupBarrier(); }
  }
  storeTile(n0, tq, acc);
}
