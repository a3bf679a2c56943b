// rmsnorm_backward: the input gradient of Y = X · r · w with r = rsqrt(mean(X²) + eps), per row:
//   g = dY ⊙ w;   dX = r · g − (r³ / C) · X · Σ_c g[c] X[c]
// and (μ = 0, r) per row for the weight gradient (norm_backward_w: dw[c] += Σ_t dY[t, c] X[t, c] r_t).
// Dispatch: (T) workgroups of 64 threads, one row each; tree reductions in workgroup memory.

struct Params {
  T: u32,
  C: u32,
  eps: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // (T, C) the norm's input
@group(0) @binding(2) var<storage, read> w: array<f32>;          // (C)
@group(0) @binding(3) var<storage, read> dY: array<f32>;         // (T, C)
@group(0) @binding(4) var<storage, read_write> dX: array<f32>;   // (T, C), added to when accumulate
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;  // (T, 2): 0, r per row

#include "common/row_reduce.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let base = wg.x * p.C;
  var ss = 0.0;
  var gx = 0.0;
  for (var c = li; c < p.C; c += 64u) {
    let x = X[base + c];
    ss = fma(x, x, ss);
    gx = fma(dY[base + c] * w[c], x, gx);
  }
  let r = inverseSqrt(row_sum(li, ss) / f32(p.C) + p.eps);
  let dot = row_sum(li, gx);
  let k = r * r * r / f32(p.C) * dot;
  for (var c = li; c < p.C; c += 64u) {
    var d = r * dY[base + c] * w[c] - k * X[base + c];
    if (p.accumulate != 0u) { d += dX[base + c]; }
    dX[base + c] = d;
  }
  if (li == 0u) {
    stats[2u * wg.x] = 0.0;
    stats[2u * wg.x + 1u] = r;
  }
}
