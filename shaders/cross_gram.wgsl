// cross_gram: G = a · G + b · AᵀB, the cross-covariance of two activations over the same tokens,
// accumulated over calibration windows like SparseGPT's H (a = s/(s+1), b = 2/(s+1) for window s).
// With A = B = X it is SparseGPT's Hessian H = 2/n Σ XᵀX (ops.hessian); SparseLLM's least-squares
// refits use it with two inputs (zᵀX, sᵀX, Yᵀp: reduction over tokens, not features, so the matmul
// kernel, which reduces along rows of both operands, does not apply).
//   G[i, j] = a · G[i, j] + b · Σ_t A[t, i] · B[t, j]
// Algorithm: 64×64 tiles of G; the workgroup stages 16 tokens ×
// 64 columns of A (for its rows i) and of B (for its columns j) in workgroup memory as vec4s and
// each of the 16×16 threads keeps a 4×4 block in four vec4 registers. Bounds checked: any T, M, K.
// A may be a column window of a wider matrix: A[t, i] = A_stored[t · lda + aOff + i] (lda = 0: M).
// With transA, A is read as the transpose of a row-major (M, lda) matrix from column aOff:
// A[t, i] = A_stored[i · lda + aOff + t], so G = a·G + b·A_storedᵀ… gives training's linear input
// gradient dX = dY · W (dY: (T_tok, N) as A_stored with lda = N, W: (N, K) as B, reduction over N),
// one row chunk of a paged W at a time (aOff = the chunk's first row).
// Dispatch: (ceil(K / 64), ceil(M / 64)), workgroup 16×16.

#include "common/cross_gram_io.wgsl"

const TILE = 64u;
const TK = 16u;
var<workgroup> ai: array<vec4f, 256>; // [t][i / 4]
var<workgroup> bj: array<vec4f, 256>; // [t][j / 4]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i0 = wg.y * TILE;
  let j0 = wg.x * TILE;
  let tid = lid.y * 16u + lid.x;
  let lda = select(p.M, p.lda, p.lda != 0u);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var t0 = 0u; t0 < p.T; t0 += TK) {
    // 256 threads load 16 tokens × 64 columns of each side; consecutive threads, consecutive columns.
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      let tt = e / TILE;
      let c = e % TILE;
      let t = t0 + tt;
      var va = 0.0;
      var vb = 0.0;
      if (t < p.T) {
        if (i0 + c < p.M) {
          if (p.transA != 0u) { va = A[(i0 + c) * p.lda + p.aOff + t]; } else { va = A[t * lda + p.aOff + i0 + c]; }
        }
        if (j0 + c < p.K) { vb = B[t * p.K + j0 + c]; }
      }
      ai[tt * 16u + c / 4u][c % 4u] = va;
      bj[tt * 16u + c / 4u][c % 4u] = vb;
    }
    workgroupBarrier();
    for (var tt = 0u; tt < TK; tt++) {
      let x = ai[tt * 16u + lid.y];
      let y = bj[tt * 16u + lid.x];
      acc0 = fma(vec4f(x.x), y, acc0);
      acc1 = fma(vec4f(x.y), y, acc1);
      acc2 = fma(vec4f(x.z), y, acc2);
      acc3 = fma(vec4f(x.w), y, acc3);
    }
    workgroupBarrier();
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + lid.y * 4u + r;
    if (i >= p.M) { break; }
    let v4 = accs[r];
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + lid.x * 4u + c;
      if (j >= p.K) { break; }
      store_g(i, j, v4[c]);
    }
  }
}
