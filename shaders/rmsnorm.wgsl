// rmsnorm: Y[t, :] = X[t, :] * rsqrt(mean(X[t, :]^2) + eps) * w   (Llama / Qwen2, computed in f32)
// Dispatch: (ceil(T / (64 / RW))) workgroups of 64 threads, RW threads per row (row_reduce.wgsl:
// RW = 64, one row per workgroup and a tree in workgroup memory; RW = 1, a thread per row).

#include "common/norm_io.wgsl"
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;  // (T, C)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let rs = row_slot(wg.x, li, p.T, p.C);
  var s = 0.0;
  for (var c = rs.lane; c < rs.len; c += RW) {
    let v = X[rs.base + c];
    s = fma(v, v, s);
  }
  let scale = inverseSqrt(row_sum(li, s) / f32(p.C) + p.eps);
  for (var c = rs.lane; c < rs.len; c += RW) {
    Y[rs.base + c] = X[rs.base + c] * scale * w[c];
  }
}
