// layernorm: Y[t, :] = (X[t, :] - mean) / sqrt(var + eps) * w + b   (biased variance, as torch)
// Two-pass in workgroup memory (mean, then the variance of the centred values) for accuracy.
// Dispatch: (ceil(T / (64 / RW))) workgroups of 64 threads, RW threads per row (row_reduce.wgsl:
// RW = 64, one row per workgroup and a tree in workgroup memory; RW = 1, a thread per row).
// flags: bit 0 = has bias.

#include "common/norm_io.wgsl"
@group(0) @binding(3) var<storage, read> b: array<f32>;        // (C) or unused
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;  // (T, C)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let rs = row_slot(wg.x, li, p.T, p.C);
  var s = 0.0;
  for (var c = rs.lane; c < rs.len; c += RW) { s += X[rs.base + c]; }
  let mean = row_sum(li, s) / f32(p.C);
  var q = 0.0;
  for (var c = rs.lane; c < rs.len; c += RW) {
    let d = X[rs.base + c] - mean;
    q = fma(d, d, q);
  }
  let rstd = inverseSqrt(row_sum(li, q) / f32(p.C) + p.eps);
  let hasBias = (p.flags & 1u) != 0u;
  for (var c = rs.lane; c < rs.len; c += RW) {
    var v = (X[rs.base + c] - mean) * rstd * w[c];
    if (hasBias) { v += b[c]; }
    Y[rs.base + c] = v;
  }
}
