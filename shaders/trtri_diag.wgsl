// trtri_diag: the inverses of the diagonal blocks of a lower triangular L (the first step of the
// blocked triangular inverse X = L⁻¹, src/core/prune/gpu-factor.ts):  X_bb = L_bb⁻¹  for every
// block b of NB rows (the last may be smaller), lower, written into X (its upper part left alone).
// Algorithm: one workgroup per block, L_bb in workgroup memory; thread c solves L_bb x = e_c by
// forward substitution (x_r = (δ_rc − Σ_{c ≤ q < r} L[r, q] x_q) / L[r, r], r ≥ c), keeping x in
// column c of a workgroup array (no thread reads another's column).
// Dispatch: (ceil(n / NB)), workgroup 32.

#include "common/factor_params.wgsl"
@group(0) @binding(1) var<storage, read> L: array<f32>;        // (n, n) lower
@group(0) @binding(2) var<storage, read_write> X: array<f32>;  // (n, n)

const NB = 32u;
var<workgroup> l: array<f32, 1024>; // [r][q]
var<workgroup> x: array<f32, 1024>; // [r][c]

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b0 = wg.x * NB;
  let kb = min(NB, p.n - b0);
  for (var e = li; e < kb * kb; e += 32u) {
    let r = e / kb;
    let q = e % kb;
    l[r * NB + q] = L[(b0 + r) * p.n + b0 + q];
  }
  workgroupBarrier();
  let c = li;
  if (c < kb) {
    for (var r = c; r < kb; r++) {
      var s = select(0.0, 1.0, r == c);
      for (var q = c; q < r; q++) { s -= l[r * NB + q] * x[q * NB + c]; }
      let v = s / l[r * NB + r];
      x[r * NB + c] = v;
      X[(b0 + r) * p.n + b0 + c] = v;
    }
  }
}
