// spmm_24: Y[t, yCol0 + n] (+)= sum_k W[n, k] * X[t, k] + b[biasOff + n], W in the 2:4 format
// (src/core/sparse/formats.ts; GPU rows padded to whole metadata words). Prefill: T tokens at once.
// Algorithm: the tiling of spmm_bitmask.wgsl (read its header): 64 (rows) x 64 (tokens) tiles,
// thread (rg, tg) owns 4 rows x 4 tokens, K walked in chunks of 32 columns staged in workgroup
// memory as token quads. A chunk is one metadata word per row (8 groups) and 16 values, read as
// 4 (f32) or 2 (f16) aligned vec4 loads shared by the 16 threads of the row (broadcast); each group
// adds two fma of a value with the vec4 of x at its column 4g + i0 / 4g + i1. Every row has the
// same work (no data-dependent loops, no divergence). Padding columns past K have zero values and
// read staged zeros (or, unstaged, a bounds check).
// STAGE = 0 skips the staging and its barriers and reads X directly: the software variant.
// Dispatch: (ceil(N / 64), ceil(T / 64)), workgroup 256.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.
#include "common/sparse_params.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> V: array<vec4u>;      // (N, 16 MW) f32 or (N, 8 MW) f16-pair words
@group(0) @binding(3) var<storage, read> M: array<u32>;        // (N, MW) nibbles i0 | i1 << 2
@group(0) @binding(4) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const STAGE: u32 = 1u;
#include "common/spmm_tile.wgsl"

fn xq(k0: u32, kk: u32, tg: u32) -> vec4f {
  if (STAGE == 1u) { return xs[kk * 16u + tg]; }
  let k = k0 + kk;
  if (k >= p.K) { return vec4f(0.0); }
  return vec4f(X[xoff.x + k], X[xoff.y + k], X[xoff.z + k], X[xoff.w + k]);
}

// a += both products of group g (values v, nibble nibs >> 4g).
fn grp(a: vec4f, v: vec2f, nibs: u32, g: u32, k0: u32, tg: u32) -> vec4f {
  let nib = nibs >> (4u * g);
  let kk = 4u * g;
  let r = fma(vec4f(v.x), xq(k0, kk + (nib & 3u), tg), a);
  return fma(vec4f(v.y), xq(k0, kk + ((nib >> 2u) & 3u), tg), r);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tg = lid % 16u;
  let n0 = wg.x * 64u + (lid / 16u) * 4u;
  let t0 = wg.y * 64u;
  let tq = t0 + tg * 4u;
  setXoff(tq);
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    if (STAGE == 1u) {
      stage(t0, k0, lid);
      workgroupBarrier();
    }
    let kc = k0 / 32u;
    for (var i = 0u; i < 4u; i++) {
      let n = n0 + i;
      if (n < p.N) {
        let nibs = M[n * p.MW + kc];
        var a = acc[i];
        if (F16 == 1u) {
          let vb = (n * p.MW + kc) * 2u;
          for (var h = 0u; h < 2u; h++) {
            let q = V[vb + h];
            for (var c = 0u; c < 4u; c++) {
              a = grp(a, unpack2x16float(q[c]), nibs, 4u * h + c, k0, tg);
            }
          }
        } else {
          let vb = (n * p.MW + kc) * 4u;
          for (var h = 0u; h < 4u; h++) {
            let q = bitcast<vec4f>(V[vb + h]);
            a = grp(a, q.xy, nibs, 2u * h, k0, tg);
            a = grp(a, q.zw, nibs, 2u * h + 1u, k0, tg);
          }
        }
        acc[i] = a;
      }
    }
    if (STAGE == 1u) { workgroupBarrier(); }
  }
  storeTile(n0, tq, acc);
}
