// layernorm: Y[t, :] = (X[t, :] - mean) / sqrt(var + eps) * w + b   (biased variance, as torch)
// Two-pass in workgroup memory (mean, then the variance of the centred values) for accuracy.
// Dispatch: (ceil(T / (64 / RW))) workgroups of 64 threads, RW threads per row (row_reduce.wgsl:
// RW = 64, one row per workgroup and a tree in workgroup memory; RW = 1, a thread per row).
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
  let row = wg.x * (64u / RW) + li / RW;
  let lane = li % RW;
  // Threads past the last row read nothing but still join the reductions.
  let C = select(0u, p.C, row < p.T);
  let base = row * p.C;
  var s = 0.0;
  for (var c = lane; c < C; c += RW) { s += X[base + c]; }
  let mean = row_sum(li, s) / f32(p.C);
  var q = 0.0;
  for (var c = lane; c < C; c += RW) {
    let d = X[base + c] - mean;
    q = fma(d, d, q);
  }
  let rstd = inverseSqrt(row_sum(li, q) / f32(p.C) + p.eps);
  let hasBias = (p.flags & 1u) != 0u;
  for (var c = lane; c < C; c += RW) {
    var v = (X[base + c] - mean) * rstd * w[c];
    if (hasBias) { v += b[c]; }
    Y[base + c] = v;
  }
}
