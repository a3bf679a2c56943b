// The factorisation uniform, the matrix A, and the diagonal block of A in workgroup memory, for the
// blocked Cholesky's per-block kernels (cholesky_block.wgsl, cholesky_panel.wgsl).
#include "common/factor_params.wgsl"
@group(0) @binding(1) var<storage, read_write> A: array<f32>;  // (n, n)

const NB = 32u;
var<workgroup> blk: array<f32, 1024>; // [r][c], NB × NB: A[k0 + r, k0 + c]

/** Stage the kb × kb diagonal block at (k0, k0) in `blk` (64 threads), then meet at a barrier. */
fn load_diag_block(li: u32) {
  for (var e = li; e < p.kb * p.kb; e += 64u) {
    let r = e / p.kb;
    let c = e % p.kb;
    blk[r * NB + c] = A[(p.k0 + r) * p.n + p.k0 + c];
  }
  workgroupBarrier();
}
