// rmsnorm_backward_w: the weight gradient of RMSNorm, accumulated:
//   dw[c] += Σ_t dY[t, c] · X[t, c] · r_t      (r_t from rmsnorm_backward)
// Dispatch: 1-D over C, 256 threads; each thread walks the T rows of its column (coalesced
// across threads).

struct Params {
  T: u32,
  C: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // (T, C)
@group(0) @binding(2) var<storage, read> dY: array<f32>;         // (T, C)
@group(0) @binding(3) var<storage, read> rs: array<f32>;         // (T)
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;   // (C)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x * 256u + li;
  if (c >= p.C) { return; }
  var s = 0.0;
  for (var t = 0u; t < p.T; t++) {
    s = fma(dY[t * p.C + c] * X[t * p.C + c], rs[t], s);
  }
  dw[c] += s;
}
