// cholesky_block: the lower Cholesky factor of one diagonal block of A in place (the blocked
// right-looking factorisation of SparseGPT's J(H + λI)J, src/core/prune/gpu-factor.ts):
//   A[k0:k0+kb, k0:k0+kb] = L L_ᵀ  →  L (lower; the block's upper part set to 0).
// The trailing updates of the blocks to its left are already applied. A pivot that is not positive
// (or not finite) records its index + 1 in status[0] (the first one only) and the factorisation
// goes on with 1 there, so the host reads one word at the end and retries with more dampening.
// Algorithm: one workgroup of 64 threads; the block (kb ≤ 32) in workgroup memory; per column j,
// the pivot, the column below it scaled, then the rank-1 update of the rest (thread per row).
// Dispatch: (1), workgroup 64.

#include "common/cholesky_io.wgsl"
@group(0) @binding(2) var<storage, read_write> status: array<u32>;  // (1): first bad pivot + 1, or 0

var<workgroup> piv: f32;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let kb = p.kb;
  load_diag_block(li);
  for (var j = 0u; j < kb; j++) {
    if (li == 0u) {
      var d = blk[j * NB + j];
      if (!(d > 0.0) || d > 3.0e38) {
        if (status[0] == 0u) { status[0] = p.k0 + j + 1u; }
        d = 1.0;
      }
      piv = sqrt(d);
      blk[j * NB + j] = piv;
    }
    workgroupBarrier();
    let l = piv;
    let i = j + 1u + li;
    if (i < kb) { blk[i * NB + j] = blk[i * NB + j] / l; }
    workgroupBarrier();
    if (i < kb) {
      let lij = blk[i * NB + j];
      for (var c = j + 1u; c <= i; c++) { blk[i * NB + c] -= lij * blk[c * NB + j]; }
    }
    workgroupBarrier();
  }
  for (var e = li; e < kb * kb; e += 64u) {
    let r = e / kb;
    let c = e % kb;
    A[(p.k0 + r) * p.n + p.k0 + c] = select(0.0, blk[r * NB + c], c <= r);
  }
}
