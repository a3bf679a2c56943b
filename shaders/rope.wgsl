// rope: rotary position embedding, rotate_half convention (HF Llama, NeoX, Phi), in place on the
// first `rot` dims of each head:  x1' = x1 cos - x2 sin,  x2' = x2 cos + x1 sin, with x1 = x[i],
// x2 = x[i + rot/2], i < rot/2. The cos/sin table is computed on the CPU in float64 (GPU sin/cos
// lose accuracy at large angles), one row per token of this call.
// Dispatch: 1-D over T * nHeads * rot/2, 256 threads, folded into 2-D past 65535 groups.

struct Params {
  T: u32,
  nHeads: u32,
  headDim: u32,
  rot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;  // (T, nHeads, headDim)
@group(0) @binding(2) var<storage, read> cs: array<f32>;       // (T, rot/2, 2): cos, sin

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let half = p.rot / 2u;
  let idx = (wg.y * nwg.x + wg.x) * 256u + li;
  if (idx >= p.T * p.nHeads * half) { return; }
  let i = idx % half;
  let h = (idx / half) % p.nHeads;
  let t = idx / (half * p.nHeads);
  let base = (t * p.nHeads + h) * p.headDim;
  let c = cs[(t * half + i) * 2u];
  let s = cs[(t * half + i) * 2u + 1u];
  let x1 = X[base + i];
  let x2 = X[base + i + half];
  X[base + i] = x1 * c - x2 * s;
  X[base + i + half] = x2 * c + x1 * s;
}
