// trtri_offdiag: one block diagonal of the blocked triangular inverse X = L⁻¹ (L lower, blocks of
// NB; the blocks of X at distance < d from the diagonal already done), in two stages per d:
//   stage 0: S_b = Σ_{j ≤ m < i} L_im X_mj        (i = j + d, for every block column j)
//   stage 1: X_ij = −X_ii S_b
// which is row i of L X = I solved for X_ij. S holds (nblocks − d) blocks of NB × NB.
// Algorithm: each thread a 4 × 4 register block of one NB × NB block (no barriers); indices past
// n are clamped on load and skipped on store.
// Dispatch: (1, nblocks − d), workgroup 64: thread t of workgroup (0, j) owns rows 4·⌊t / 8⌋.. and
// columns 4·(t mod 8).. of block (j + d, j) (NB = 32: 8 × 8 threads of 4 × 4).

#include "common/factor_params.wgsl"
@group(0) @binding(1) var<storage, read> L: array<f32>;        // (n, n) lower
@group(0) @binding(2) var<storage, read_write> X: array<f32>;  // (n, n)
@group(0) @binding(3) var<storage, read_write> S: array<f32>;  // (nblocks − d, NB, NB)

const NB = 32u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let jb = wg.y;
  let ib = jb + p.k0; // p.k0: the distance d
  let r0 = ib * NB + (li / 8u) * 4u; // rows of X_ij (global)
  let c0 = jb * NB + (li % 8u) * 4u; // columns of X_ij (global)
  let sb = jb * NB * NB;
  let lr = (li / 8u) * 4u;           // rows within the block
  let lc = (li % 8u) * 4u;           // columns within the block
  if (r0 >= p.n || c0 >= p.n) { return; }
  var rr: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) { rr[r] = min(r0 + r, p.n - 1u) * p.n; }
  var cc: array<u32, 4>;
  for (var c = 0u; c < 4u; c++) { cc[c] = min(c0 + c, p.n - 1u); }
  var acc: array<vec4f, 4>;
  if (p.stage == 0u) {
    // Σ over the columns q of blocks j..i−1 of L's rows, X's rows q.
    let qEnd = min(ib * NB, p.n);
    for (var q = jb * NB; q < qEnd; q++) {
      let y = vec4f(X[q * p.n + cc[0]], X[q * p.n + cc[1]], X[q * p.n + cc[2]], X[q * p.n + cc[3]]);
      for (var r = 0u; r < 4u; r++) { acc[r] = fma(vec4f(L[rr[r] + q]), y, acc[r]); }
    }
    for (var r = 0u; r < 4u; r++) {
      for (var c = 0u; c < 4u; c++) { S[sb + (lr + r) * NB + lc + c] = acc[r][c]; }
    }
  } else {
    // −X_ii (lower: columns q ≤ row) times S_b.
    let kb = min(NB, p.n - ib * NB);
    for (var q = 0u; q < kb; q++) {
      let y = vec4f(S[sb + q * NB + lc], S[sb + q * NB + lc + 1u], S[sb + q * NB + lc + 2u], S[sb + q * NB + lc + 3u]);
      for (var r = 0u; r < 4u; r++) { acc[r] = fma(vec4f(X[rr[r] + ib * NB + q]), y, acc[r]); }
    }
    for (var e = 0u; e < 16u; e++) {
      let i = r0 + e / 4u;
      let j = c0 + e % 4u;
      if (i < p.n && j < p.n) { X[i * p.n + j] = -acc[e / 4u][e % 4u]; }
    }
  }
}
