// rmsnorm: Y[t, :] = X[t, :] * rsqrt(mean(X[t, :]^2) + eps) * w   (Llama / Qwen2, computed in f32)
// Dispatch: (ceil(T / (64 / RW))) workgroups of 64 threads, RW threads per row (row_reduce.wgsl:
// RW = 64, one row per workgroup and a tree in workgroup memory; RW = 1, a thread per row).

struct Params {
  T: u32,
  C: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, C)
@group(0) @binding(2) var<storage, read> w: array<f32>;        // (C)
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;  // (T, C)

#include "common/row_reduce.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.x * (64u / RW) + li / RW;
  let lane = li % RW;
  // Threads past the last row read nothing but still join the reduction.
  let C = select(0u, p.C, row < p.T);
  let base = row * p.C;
  var s = 0.0;
  for (var c = lane; c < C; c += RW) {
    let v = X[base + c];
    s = fma(v, v, s);
  }
  let scale = inverseSqrt(row_sum(li, s) / f32(p.C) + p.eps);
  for (var c = lane; c < C; c += RW) {
    Y[base + c] = X[base + c] * scale * w[c];
  }
}
