// cholesky_panel: the block column below a factored diagonal block (blocked Cholesky, see
// cholesky_block.wgsl): for every row i ≥ k0 + kb, solve  x L_kkᵀ = A[i, k0:k0+kb]  in place
// (forward substitution along the row: x_c = (a_c − Σ_{c' < c} x_c' L[c, c']) / L[c, c]).
// Algorithm: one thread per row, L_kk (kb ≤ 32) in workgroup memory.
// Dispatch: (ceil((n − k0 − kb) / 64)), workgroup 64.

#include "common/cholesky_io.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let kb = p.kb;
  load_diag_block(li);
  let i = p.k0 + kb + wg.x * 64u + li;
  if (i >= p.n) { return; }
  let row = i * p.n + p.k0;
  for (var c = 0u; c < kb; c++) {
    var s = A[row + c];
    for (var q = 0u; q < c; q++) { s -= A[row + q] * blk[c * NB + q]; }
    A[row + c] = s / blk[c * NB + c];
  }
}
