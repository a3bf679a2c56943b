// matmul: Y[t, yCol0 + n] (+/-)= sum_k X[t, k] * W[wOff + n * ldw + k] + B[biasOff + n]
// The linear layer of every transformer block (nn.Linear layout: W is (out, in)).
// Algorithm: 64×64 output tiles; each workgroup stages 64×16 slices of X and W in workgroup memory
// (stored k-major as vec4s) and each of its 16×16 threads accumulates a 4×4 register block
// (rows 4·ly.., cols 4·lx..) in four vec4 registers, two vec4 loads per k. Bounds are checked on every edge, so any
// T, N, K work. Paged weights (out-feature chunks) write their column range via yCol0 / biasOff.
// Dispatch: (ceil(N / 64), ceil(T / 64)), workgroup 16×16.
// flags: bit 0 = add bias, bit 1 = accumulate into Y (residual add), bit 2 = subtract instead
// (Y -= X Wᵀ; SparseGPT's lazy block update). ldw / wOff select a sub-block of a larger W.

struct Params {
  T: u32,       // rows of X and Y
  N: u32,       // rows of W (output features in this chunk)
  K: u32,       // reduction length
  ldy: u32,     // row stride of Y
  yCol0: u32,   // first output column written
  biasOff: u32, // first bias element used
  flags: u32,
  ldw: u32,     // row stride of W
  wOff: u32,    // first element of W used
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> W: array<f32>;        // (N, K), row stride ldw
@group(0) @binding(3) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const TILE = 64u;
const TK = 16u;
var<workgroup> xs: array<vec4f, 256>; // [k][row / 4]: 16 × 16 vec4 = 64 rows × 16 k
var<workgroup> ws: array<vec4f, 256>; // [k][col / 4]: 64 cols × 16 k

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // 256 threads stage 1024 values of each tile; consecutive threads read consecutive k.
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
      let r = e / TK;
      let kk = e % TK;
      let gk = k0 + kk;
      var xv = 0.0;
      var wv = 0.0;
      if (row0 + r < p.T && gk < p.K) { xv = X[(row0 + r) * p.K + gk]; }
      if (col0 + r < p.N && gk < p.K) { wv = W[p.wOff + (col0 + r) * p.ldw + gk]; }
      xs[kk * 16u + r / 4u][r % 4u] = xv;
      ws[kk * 16u + r / 4u][r % 4u] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a = xs[kk * 16u + lid.y];
      let b = ws[kk * 16u + lid.x];
      acc0 = fma(vec4f(a.x), b, acc0);
      acc1 = fma(vec4f(a.y), b, acc1);
      acc2 = fma(vec4f(a.z), b, acc2);
      acc3 = fma(vec4f(a.w), b, acc3);
    }
    workgroupBarrier();
  }
  let hasBias = (p.flags & 1u) != 0u;
  let accumulate = (p.flags & 2u) != 0u;
  let subtract = (p.flags & 4u) != 0u;
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= p.T) { break; }
    let v4 = accs[i];
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c >= p.N) { break; }
      var v = v4[j];
      if (hasBias) { v += B[p.biasOff + c]; }
      if (subtract) { v = -v; }
      let yi = r * p.ldy + p.yCol0 + c;
      if (accumulate) { v += Y[yi]; }
      Y[yi] = v;
    }
  }
}
