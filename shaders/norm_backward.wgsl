// norm_backward: the input gradient of RMSNorm (Y = X·r·w, r = rsqrt(mean(X²) + eps)) and of
// LayerNorm (Y = x̂·w + b, x̂ = (X − μ)·r, r = rsqrt(var + eps), biased variance as torch), per row,
// in one form (μ = 0 and no mean(g) term for RMSNorm):
//   g = dY ⊙ w;   dX = r · (g − [layer] mean(g) − x̂ · mean(g ⊙ x̂))
// For RMSNorm this is r·g − (r³/C)·X·Σ g X. The row's (μ, r) go to `stats` for the weight and
// bias gradients (norm_backward_w).
// Dispatch: (ceil(T / (64 / RW))) workgroups of 64 threads, RW threads per row (row_reduce.wgsl:
// RW = 64, one row per workgroup and trees in workgroup memory; RW = 1, a thread per row).

struct Params {
  T: u32,
  C: u32,
  eps: f32,
  /** bit 0: add to dX; bit 1: LayerNorm (else RMSNorm). */
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;            // (T, C) the norm's input
@group(0) @binding(2) var<storage, read> w: array<f32>;            // (C)
@group(0) @binding(3) var<storage, read> dY: array<f32>;           // (T, C)
@group(0) @binding(4) var<storage, read_write> dX: array<f32>;     // (T, C)
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;  // (T, 2): μ, r per row

#include "common/row_reduce.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.x * (64u / RW) + li / RW;
  let lane = li % RW;
  // Threads past the last row read nothing but still join the reductions.
  let C = select(0u, p.C, row < p.T);
  let base = row * p.C;
  let n = f32(p.C);
  let layer = (p.flags & 2u) != 0u;
  var mu = 0.0;
  if (layer) {
    var s = 0.0;
    for (var c = lane; c < C; c += RW) { s += X[base + c]; }
    mu = row_sum(li, s) / n;
  }
  var v = 0.0;
  for (var c = lane; c < C; c += RW) {
    let d = X[base + c] - mu;
    v = fma(d, d, v);
  }
  let r = inverseSqrt(row_sum(li, v) / n + p.eps);
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = lane; c < C; c += RW) {
    let g = dY[base + c] * w[c];
    sg += g;
    sgx = fma(g, (X[base + c] - mu) * r, sgx);
  }
  let mg = select(0.0, row_sum(li, sg) / n, layer);
  let mgx = row_sum(li, sgx) / n;
  for (var c = lane; c < C; c += RW) {
    let xh = (X[base + c] - mu) * r;
    var d = r * (dY[base + c] * w[c] - mg - xh * mgx);
    if ((p.flags & 1u) != 0u) { d += dX[base + c]; }
    dX[base + c] = d;
  }
  if (lane == 0u && row < p.T) {
    stats[2u * row] = mu;
    stats[2u * row + 1u] = r;
  }
}
