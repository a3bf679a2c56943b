// cross_gram_rb: the same contract as cross_gram.wgsl (read its header), another kernel variant:
//   G[i, j] = a · G[i, j] + b · Σ_t A[t, i] · B[t, j]
//   (A[t, i] = A_stored[t · lda + aOff + i]; with transA, A_stored[i · lda + aOff + t])
// Algorithm: no workgroup memory and no barriers; each thread computes a 4 (i) × 4 (j) register
// block, reading four values of A and four of B per token and accumulating 16 products per token
// in four vec4 registers, tokens in order (the sums are those of cross_gram.wgsl, bit for bit).
// Chosen where barriers are expensive (software adapters run a workgroup's barriers as fiber
// switches), as matmul_rb.wgsl is for the forward. Indices past the edge are clamped on load and
// skipped on store.
// Dispatch: (ceil(ceil(K / 4) / 64), ceil(M / 4)), workgroup 64.

#include "common/cross_gram_io.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j0 = gid.x * 4u;
  let i0 = gid.y * 4u;
  if (j0 >= p.K || i0 >= p.M) { return; }
  let lda = select(p.M, p.lda, p.lda != 0u);
  let i1 = min(i0 + 1u, p.M - 1u);
  let i2 = min(i0 + 2u, p.M - 1u);
  let i3 = min(i0 + 3u, p.M - 1u);
  let j1 = min(j0 + 1u, p.K - 1u);
  let j2 = min(j0 + 2u, p.K - 1u);
  let j3 = min(j0 + 3u, p.K - 1u);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  // A[t, i] = A_stored[ai + t · at] for row i's offset ai: along t with transA, across rows without.
  let trans = p.transA != 0u;
  let at = select(lda, 1u, trans);
  let a0 = select(p.aOff + i0, i0 * lda + p.aOff, trans);
  let a1 = select(p.aOff + i1, i1 * lda + p.aOff, trans);
  let a2 = select(p.aOff + i2, i2 * lda + p.aOff, trans);
  let a3 = select(p.aOff + i3, i3 * lda + p.aOff, trans);
  for (var t = 0u; t < p.T; t++) {
    let bt = t * p.K;
    let y = vec4f(B[bt + j0], B[bt + j1], B[bt + j2], B[bt + j3]);
    let o = t * at;
    acc0 = fma(vec4f(A[a0 + o]), y, acc0);
    acc1 = fma(vec4f(A[a1 + o]), y, acc1);
    acc2 = fma(vec4f(A[a2 + o]), y, acc2);
    acc3 = fma(vec4f(A[a3 + o]), y, acc3);
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + r;
    if (i >= p.M) { break; }
    let v4 = accs[r];
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + c;
      if (j >= p.K) { break; }
      store_g(i, j, v4[c]);
    }
  }
}
