// rmsnorm: Y[t, :] = X[t, :] * rsqrt(mean(X[t, :]^2) + eps) * w   (Llama / Qwen2, computed in f32)
// Dispatch: (T) workgroups of 64 threads, one row each; tree reduction in workgroup memory.

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
  let base = wg.x * p.C;
  var s = 0.0;
  for (var c = li; c < p.C; c += 64u) {
    let v = X[base + c];
    s = fma(v, v, s);
  }
  let scale = inverseSqrt(row_sum(li, s) / f32(p.C) + p.eps);
  for (var c = li; c < p.C; c += 64u) {
    Y[base + c] = X[base + c] * scale * w[c];
  }
}
