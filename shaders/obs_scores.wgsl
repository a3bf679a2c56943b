// obs_scores: SparseGPT's unstructured mask scores of one block of columns [i1, i1 + b) of W (R, C),
// from the current (already updated) weights, as sparsegpt.py ranks them:
//   S[r · b + j] = W[r, i1 + j]² / Hinv[i1 + j, i1 + j]²
// Dispatch: 1-D over R · b, 256 threads, folded into 2-D past 65535 groups.

struct Params {
  R: u32,
  C: u32,
  i1: u32,
  b: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<f32>;          // (R, C)
@group(0) @binding(2) var<storage, read> Hinv: array<f32>;       // (C, C), upper
@group(0) @binding(3) var<storage, read_write> S: array<f32>;    // (R, b)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = (wg.y * nwg.x + wg.x) * 256u + li;
  if (e >= p.R * p.b) { return; }
  let col = p.i1 + e % p.b;
  let x = W[(e / p.b) * p.C + col];
  let d = Hinv[col * p.C + col];
  S[e] = (x * x) / (d * d);
}
