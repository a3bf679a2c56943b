// The contract of cross_gram.wgsl and cross_gram_rb.wgsl (read cross_gram.wgsl's header):
//   G[i, j] = a · G[i, j] + b · Σ_t A[t, i] · B[t, j]
struct Params {
  T: u32,
  M: u32,
  K: u32,
  a: f32,
  b: f32,
  transA: u32,
  lda: u32,
  aOff: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;        // (T, M); transA: (M, lda)
@group(0) @binding(2) var<storage, read> B: array<f32>;        // (T, K)
@group(0) @binding(3) var<storage, read_write> G: array<f32>;  // (M, K)

/** Store one output: a = 0 overwrites (stale values, NaN or ∞, in G must not leak through 0 · G). */
fn store_g(i: u32, j: u32, v: f32) {
  let gi = i * p.K + j;
  G[gi] = select(p.a * G[gi], 0.0, p.a == 0.0) + p.b * v;
}
