// spmv_csr: y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n], W in CSR (values,
// column indices as u16 pairs or u32, row pointers; src/core/sparse/formats.ts). Decode: T = 1;
// T > 1 runs one GEMV per token (grid y).
// Algorithm: "vector CSR": lane groups of L lanes per row (256 / L rows per workgroup); lane l
// takes entries P[n] + l, + L, ... so the L lanes read consecutive values and indices (coalesced)
// and gather x[col]; a tree in workgroup memory reduces the L partial sums. The host picks L from
// the mean row length (pruned LLM rows are long and near-uniform, so lanes stay busy). L = 1 (a
// thread per row, no barrier) is the variant for software adapters.
// Dispatch: (ceil(N / (256 / L)), T), workgroup 256.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.

struct Params {
  T: u32,       // tokens (rows of X and Y)
  N: u32,       // rows of W (output features in this block)
  K: u32,       // reduction length
  ldy: u32,     // row stride of Y
  yCol0: u32,   // first output column written
  biasOff: u32, // first bias element used
  flags: u32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> V: array<u32>;        // (nnz) values: f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read> C: array<u32>;        // (nnz) columns: u16 pairs (IDX16) or u32
@group(0) @binding(4) var<storage, read> P: array<u32>;        // (N + 1) row pointers
@group(0) @binding(5) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(6) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const IDX16: u32 = 1u;
const L: u32 = 4u;   // lanes per row: 1, 2, 4, ..., 256
const ROWS = 256u / L;
var<workgroup> red: array<f32, 256>;

fn val(i: u32) -> f32 {
  if (F16 == 1u) { return unpack2x16float(V[i >> 1u])[i & 1u]; }
  return bitcast<f32>(V[i]);
}

fn col(i: u32) -> u32 {
  if (IDX16 == 1u) { return (C[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu; }
  return C[i];
}

fn store(t: u32, n: u32, s: f32) {
  var v = s;
  if ((p.flags & 1u) != 0u) { v += B[p.biasOff + n]; }
  let yi = t * p.ldy + p.yCol0 + n;
  if ((p.flags & 2u) != 0u) { v += Y[yi]; }
  Y[yi] = v;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % L;
  let n = wg.x * ROWS + lid / L;
  let t = wg.y;
  let live = n < p.N;
  let xo = t * p.K;
  var acc = 0.0;
  if (live) {
    let e1 = P[n + 1u];
    for (var e = P[n] + lane; e < e1; e += L) {
      acc = fma(val(e), X[xo + col(e)], acc);
    }
  }
  if (L == 1u) {
    if (live) { store(t, n, acc); }
    return;
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = L / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lane == 0u && live) { store(t, n, red[lid]); }
}
