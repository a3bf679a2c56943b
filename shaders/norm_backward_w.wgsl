// norm_backward_w: the weight (and bias) gradients of RMSNorm and LayerNorm, accumulated, from
// the per-row statistics their input-gradient kernels saved (μ_t = 0 for RMSNorm):
//   dw[c] += Σ_t dY[t, c] · (X[t, c] − μ_t) · r_t;    db[c] += Σ_t dY[t, c]   (when hasBias)
// Dispatch: 1-D over C, 256 threads; each thread walks the T rows of its column (coalesced
// across threads).

struct Params {
  T: u32,
  C: u32,
  hasBias: u32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // (T, C)
@group(0) @binding(2) var<storage, read> dY: array<f32>;         // (T, C)
@group(0) @binding(3) var<storage, read> stats: array<f32>;      // (T, 2): μ_t, r_t
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;   // (C)
@group(0) @binding(5) var<storage, read_write> db: array<f32>;   // (C) when hasBias

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x * 256u + li;
  if (c >= p.C) { return; }
  var s = 0.0;
  var sb = 0.0;
  for (var t = 0u; t < p.T; t++) {
    let g = dY[t * p.C + c];
    s = fma(g * (X[t * p.C + c] - stats[2u * t]), stats[2u * t + 1u], s);
    sb += g;
  }
  dw[c] += s;
  if (p.hasBias != 0u) { db[c] += sb; }
}
