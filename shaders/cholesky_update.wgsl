// cholesky_update: the trailing update of the blocked Cholesky after the block column k0..k0+kb:
//   A[i, j] −= Σ_{c < kb} A[i, k0 + c] · A[j, k0 + c]   for k0 + kb ≤ j ≤ i < n (the lower part).
// Algorithm: each thread a 4 × 4 register block of rows i0.. and columns j0.. (no barriers);
// blocks wholly above the diagonal return at once. Indices past the edge are clamped on load and
// skipped on store.
// Dispatch: (ceil(ceil(m / 4) / 16), ceil(ceil(m / 4) / 4)) with m = n − k0 − kb, workgroup 16×4.

#include "common/factor_params.wgsl"
@group(0) @binding(1) var<storage, read_write> A: array<f32>;  // (n, n)

@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.k0 + p.kb;
  let j0 = s + gid.x * 4u;
  let i0 = s + gid.y * 4u;
  if (i0 >= p.n || j0 >= p.n || j0 > i0 + 3u) { return; }
  var ri: array<u32, 4>;
  var rj: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) {
    ri[r] = min(i0 + r, p.n - 1u) * p.n + p.k0;
    rj[r] = min(j0 + r, p.n - 1u) * p.n + p.k0;
  }
  var acc: array<vec4f, 4>;
  for (var c = 0u; c < p.kb; c++) {
    let y = vec4f(A[rj[0] + c], A[rj[1] + c], A[rj[2] + c], A[rj[3] + c]);
    for (var r = 0u; r < 4u; r++) { acc[r] = fma(vec4f(A[ri[r] + c]), y, acc[r]); }
  }
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + r;
    if (i >= p.n) { break; }
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + c;
      if (j >= p.n || j > i) { break; }
      A[i * p.n + j] -= acc[r][c];
    }
  }
}
