// hessian: H = a · H + b · XᵀX, the running mean of calibration input outer products that
// SparseGPT needs (H = 2/n Σ XᵀX over n sequences: a = s/(s+1), b = 2/(s+1) for sequence s).
//   H[i, j] = a · H[i, j] + b · Σ_t X[t, i] · X[t, j]
// Algorithm: 64×64 tiles of H; the workgroup stages 16 tokens × 64 columns of X for its rows i and
// for its columns j in workgroup memory (as vec4s along i / j) and each of the 16×16 threads keeps
// a 4×4 block in four vec4 registers. Bounds checked, so any T and C work.
// Dispatch: (ceil(C / 64), ceil(C / 64)), workgroup 16×16.

struct Params {
  T: u32,
  C: u32,
  a: f32,
  b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, C)
@group(0) @binding(2) var<storage, read_write> H: array<f32>;  // (C, C)

const TILE = 64u;
const TK = 16u;
var<workgroup> xi: array<vec4f, 256>; // [t][i / 4]
var<workgroup> xj: array<vec4f, 256>; // [t][j / 4]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i0 = wg.y * TILE;
  let j0 = wg.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var t0 = 0u; t0 < p.T; t0 += TK) {
    // 256 threads load 16 tokens × 64 columns for each side; consecutive threads, consecutive columns.
    for (var r = 0u; r < 4u; r++) {
      let e = tid + r * 256u;
      let tt = e / TILE;
      let c = e % TILE;
      let t = t0 + tt;
      var vi = 0.0;
      var vj = 0.0;
      if (t < p.T) {
        if (i0 + c < p.C) { vi = X[t * p.C + i0 + c]; }
        if (j0 + c < p.C) { vj = X[t * p.C + j0 + c]; }
      }
      xi[tt * 16u + c / 4u][c % 4u] = vi;
      xj[tt * 16u + c / 4u][c % 4u] = vj;
    }
    workgroupBarrier();
    for (var tt = 0u; tt < TK; tt++) {
      let a = xi[tt * 16u + lid.y];
      let b = xj[tt * 16u + lid.x];
      acc0 = fma(vec4f(a.x), b, acc0);
      acc1 = fma(vec4f(a.y), b, acc1);
      acc2 = fma(vec4f(a.z), b, acc2);
      acc3 = fma(vec4f(a.w), b, acc3);
    }
    workgroupBarrier();
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + lid.y * 4u + r;
    if (i >= p.C) { break; }
    let v4 = accs[r];
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + lid.x * 4u + c;
      if (j >= p.C) { break; }
      let hi = i * p.C + j;
      H[hi] = p.a * H[hi] + p.b * v4[c];
    }
  }
}
