// obs_sweep: SparseGPT's column loop over one block of B columns [i1, i1 + B) of W (R, C), as in
// sparsegpt.py fasterprune (Frantar & Alistarh 2023), for every row at once:
//   for i in block: w = W[r, i];  d = Hinv[i, i];
//     (N:M: at i % M == 0 the N smallest of w_j² / Hinv[j, j]² over the next M columns are masked)
//     q = masked ? 0 : w;  err = (w - q) / d;  W[r, i..] -= err · Hinv[i, i..];  W[r, i] = q
//     E[r, i - i1] = err;  loss[r] += (w - q)² / d² / 2
// The lazy update of the columns right of the block (W[:, i1+B:] -= E · Hinv[block, i1+B:]) is
// one strided matmul afterwards. Hinv is the upper Cholesky factor of H⁻¹ (row-major (C, C)).
// Unstructured masks are chosen over the whole block before the sweep and passed in `mask`.
// Dispatch: 1-D over rows, 64 threads (one row per thread; rows are independent).

struct Params {
  R: u32,
  C: u32,
  i1: u32,   // first column of the block
  B: u32,    // columns in this block
  n: u32,    // N of N:M (0: unstructured, use `mask`)
  m: u32,    // M of N:M (<= 32)
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;    // (R, C)
@group(0) @binding(2) var<storage, read> Hinv: array<f32>;       // (C, C), upper triangular
@group(0) @binding(3) var<storage, read> mask: array<u32>;       // (R, B): 1 = prune (unstructured)
@group(0) @binding(4) var<storage, read_write> E: array<f32>;    // (R, B) errors of the block
@group(0) @binding(5) var<storage, read_write> loss: array<f32>; // (R)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.R) { return; }
  let row = r * p.C;
  var nmMask = 0u; // bit k: column (group start + k) is pruned
  var lossSum = 0.0;
  for (var i = 0u; i < p.B; i++) {
    let col = p.i1 + i;
    if (p.n != 0u && i % p.m == 0u) {
      // Choose the N smallest scores of this group of M columns, from the current (updated) W.
      nmMask = 0u;
      let g = min(p.m, p.B - i);
      for (var k = 0u; k < p.n; k++) {
        var best = 0u;
        var bestScore = 3.0e38;
        for (var j = 0u; j < g; j++) {
          if ((nmMask & (1u << j)) != 0u) { continue; }
          let dj = Hinv[(col + j) * p.C + col + j];
          let wj = W[row + col + j];
          let s = wj * wj / (dj * dj);
          if (s < bestScore) { bestScore = s; best = j; }
        }
        nmMask |= 1u << best;
      }
    }
    var pruned = false;
    if (p.n != 0u) { pruned = (nmMask & (1u << (i % p.m))) != 0u; } else { pruned = mask[r * p.B + i] != 0u; }
    let w = W[row + col];
    let d = Hinv[col * p.C + col];
    let q = select(w, 0.0, pruned);
    let err = (w - q) / d;
    lossSum += (w - q) * (w - q) / (d * d) / 2.0;
    for (var j = i + 1u; j < p.B; j++) {
      W[row + p.i1 + j] -= err * Hinv[col * p.C + p.i1 + j];
    }
    W[row + col] = q;
    E[r * p.B + i] = err;
  }
  loss[r] += lossSum;
}
