// matmul_rb: the same contract as matmul.wgsl (read its header), another kernel variant:
//   Y[t, yCol0 + n] (+/-)= sum_k X[t, k] * W[wOff + n * ldw + k] + B[biasOff + n]
// Algorithm: no workgroup memory and no barriers; each thread computes a 4 (rows) × 4 (cols)
// register block, reading four rows of X and four rows of W along k and accumulating 16 products
// per k in four vec4 registers. Chosen where barriers are expensive (software adapters such as
// SwiftShader run a workgroup's barriers as fiber switches); on GPUs matmul.wgsl's shared tiles
// win. Rows/cols past the edge are clamped on load and skipped on store.
// Dispatch: (ceil(ceil(N / 4) / 64), ceil(T / 4)), workgroup 64.

struct Params {
  T: u32,
  N: u32,
  K: u32,
  ldy: u32,
  yCol0: u32,
  biasOff: u32,
  flags: u32,
  ldw: u32,
  wOff: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> W: array<f32>;        // (N, K), row stride ldw
@group(0) @binding(3) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;  // (T, ldy)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let t0 = gid.y * 4u;
  if (n0 >= p.N || t0 >= p.T) { return; }
  // Clamped row indices: out-of-range rows/cols read a valid row and are not stored.
  let w0 = p.wOff + n0 * p.ldw;
  let w1 = p.wOff + min(n0 + 1u, p.N - 1u) * p.ldw;
  let w2 = p.wOff + min(n0 + 2u, p.N - 1u) * p.ldw;
  let w3 = p.wOff + min(n0 + 3u, p.N - 1u) * p.ldw;
  let x0 = t0 * p.K;
  let x1 = min(t0 + 1u, p.T - 1u) * p.K;
  let x2 = min(t0 + 2u, p.T - 1u) * p.K;
  let x3 = min(t0 + 3u, p.T - 1u) * p.K;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let w = vec4f(W[w0 + k], W[w1 + k], W[w2 + k], W[w3 + k]);
    a0 = fma(vec4f(X[x0 + k]), w, a0);
    a1 = fma(vec4f(X[x1 + k]), w, a1);
    a2 = fma(vec4f(X[x2 + k]), w, a2);
    a3 = fma(vec4f(X[x3 + k]), w, a3);
  }
  let hasBias = (p.flags & 1u) != 0u;
  let accumulate = (p.flags & 2u) != 0u;
  let subtract = (p.flags & 4u) != 0u;
  let accs = array<vec4f, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let t = t0 + i;
    if (t >= p.T) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = n0 + j;
      if (c >= p.N) { break; }
      var v = accs[i][j];
      if (hasBias) { v += B[p.biasOff + c]; }
      if (subtract) { v = -v; }
      let yi = t * p.ldy + p.yCol0 + c;
      if (accumulate) { v += Y[yi]; }
      Y[yi] = v;
    }
  }
}
