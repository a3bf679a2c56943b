// norm_backward: the input gradient of RMSNorm (Y = X·r·w, r = rsqrt(mean(X²) + eps)) and of
// LayerNorm (Y = x̂·w + b, x̂ = (X − μ)·r, r = rsqrt(var + eps), biased variance as torch), per row,
// in one form (μ = 0 and no mean(g) term for RMSNorm):
//   g = dY ⊙ w;   dX = r · (g − [layer] mean(g) − x̂ · mean(g ⊙ x̂))
// For RMSNorm this is r·g − (r³/C)·X·Σ g X. The row's (μ, r) go to `stats` for the weight and
// bias gradients (norm_backward_w).
// Dispatch: (ceil(T / (64 / RW))) workgroups of 64 threads, RW threads per row (row_reduce.wgsl:
// RW = 64, one row per workgroup and trees in workgroup memory; RW = 1, a thread per row).

#include "common/norm_io.wgsl"
@group(0) @binding(3) var<storage, read> dY: array<f32>;           // (T, C)
@group(0) @binding(4) var<storage, read_write> dX: array<f32>;     // (T, C)
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;  // (T, 2): μ, r per row

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let rs = row_slot(wg.x, li, p.T, p.C);
  let n = f32(p.C);
  let layer = (p.flags & 2u) != 0u;
  var mu = 0.0;
  if (layer) {
    var s = 0.0;
    for (var c = rs.lane; c < rs.len; c += RW) { s += X[rs.base + c]; }
    mu = row_sum(li, s) / n;
  }
  var v = 0.0;
  for (var c = rs.lane; c < rs.len; c += RW) {
    let d = X[rs.base + c] - mu;
    v = fma(d, d, v);
  }
  let r = inverseSqrt(row_sum(li, v) / n + p.eps);
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = rs.lane; c < rs.len; c += RW) {
    let g = dY[rs.base + c] * w[c];
    sg += g;
    sgx = fma(g, (X[rs.base + c] - mu) * r, sgx);
  }
  let mg = select(0.0, row_sum(li, sg) / n, layer);
  let mgx = row_sum(li, sgx) / n;
  for (var c = rs.lane; c < rs.len; c += RW) {
    let xh = (X[rs.base + c] - mu) * r;
    var d = r * (dY[rs.base + c] * w[c] - mg - xh * mgx);
    if ((p.flags & 1u) != 0u) { d += dX[rs.base + c]; }
    dX[rs.base + c] = d;
  }
  if (rs.lane == 0u && rs.row < p.T) {
    stats[2u * rs.row] = mu;
    stats[2u * rs.row + 1u] = r;
  }
}
