// cholesky_reverse: SparseGPT's upper factor of H⁻¹ from X = L'⁻¹ (L' the lower Cholesky factor
// of J(H + λI)J, J the reversal; src/core/prune/linalg.ts derives U = J X J), with its transpose
// for the lazy block update and its diagonal for the mask scores:
//   U[i, j] = X[n − 1 − i, n − 1 − j] for i ≤ j, else 0;   UT[j, i] = U[i, j];   D[i] = U[i, i]
// Dispatch: (ceil(n / 16), ceil(n / 16)), workgroup 16×16, one element each.

#include "common/factor_params.wgsl"
@group(0) @binding(1) var<storage, read> X: array<f32>;          // (n, n) lower
@group(0) @binding(2) var<storage, read_write> U: array<f32>;    // (n, n) upper
@group(0) @binding(3) var<storage, read_write> UT: array<f32>;   // (n, n) lower
@group(0) @binding(4) var<storage, read_write> D: array<f32>;    // (n)

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let i = gid.y;
  if (i >= p.n || j >= p.n) { return; }
  let v = select(0.0, X[(p.n - 1u - i) * p.n + p.n - 1u - j], i <= j);
  U[i * p.n + j] = v;
  UT[j * p.n + i] = v;
  if (i == j) { D[i] = v; }
}
