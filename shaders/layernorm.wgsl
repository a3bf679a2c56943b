// layernorm: Y[t, :] = (X[t, :] - mean) / sqrt(var + eps) * w + b   (biased variance, as torch)
// Two-pass in workgroup memory (mean, then the variance of the centred values) for accuracy.
// Dispatch: (T) workgroups of 64 threads, one row each.
// flags: bit 0 = has bias.

struct Params {
  T: u32,
  C: u32,
  eps: f32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, C)
@group(0) @binding(2) var<storage, read> w: array<f32>;        // (C)
@group(0) @binding(3) var<storage, read> b: array<f32>;        // (C) or unused
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;  // (T, C)

#include "common/row_reduce.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let base = wg.x * p.C;
  var s = 0.0;
  for (var c = li; c < p.C; c += 64u) { s += X[base + c]; }
  let mean = row_sum(li, s) / f32(p.C);
  var q = 0.0;
  for (var c = li; c < p.C; c += 64u) {
    let d = X[base + c] - mean;
    q = fma(d, d, q);
  }
  let rstd = inverseSqrt(row_sum(li, q) / f32(p.C) + p.eps);
  let hasBias = (p.flags & 1u) != 0u;
  for (var c = li; c < p.C; c += 64u) {
    var v = (X[base + c] - mean) * rstd * w[c];
    if (hasBias) { v += b[c]; }
    Y[base + c] = v;
  }
}
