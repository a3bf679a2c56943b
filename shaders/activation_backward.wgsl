// activation_backward: the gradient of the MLP activation from its saved pre-activation X
// (and, gated, the up projection U), for Y = act(X) or Y = act(X) · U:
//   dX[i] = dY[i] · act'(X[i]) (· U[i] when gated);   dU[i] = dY[i] · act(X[i]) (gated only)
//   mode 0 gelu_new: ½(1 + tanh z) + ½ x (1 − tanh² z) · √(2/π)(1 + 3·0.044715 x²), z = √(2/π)(x + 0.044715 x³)
//   mode 1 gelu (erf): Φ(x) + x φ(x);  mode 2 relu: [x > 0];  mode 3 silu: σ(x)(1 + x(1 − σ(x)))
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

struct Params {
  n: u32,
  mode: u32,
  gated: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // (n) pre-activation
@group(0) @binding(2) var<storage, read> U: array<f32>;          // (n) when gated
@group(0) @binding(3) var<storage, read> dY: array<f32>;         // (n)
@group(0) @binding(4) var<storage, read_write> dX: array<f32>;   // (n)
@group(0) @binding(5) var<storage, read_write> dU: array<f32>;   // (n) when gated

#include "common/erf.wgsl"

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  let x = X[i];
  var y = 0.0;
  var dy = 0.0;
  switch (p.mode) {
    case 0u: {
      let k = 0.7978845608028654;
      let th = tanh(clamp(k * (x + 0.044715 * x * x * x), -10.0, 10.0));
      y = 0.5 * x * (1.0 + th);
      dy = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 0.134145 * x * x);
    }
    case 1u: {
      let cdf = 0.5 * (1.0 + erf_approx(x * 0.7071067811865476));
      y = x * cdf;
      dy = cdf + x * 0.3989422804014327 * exp(-0.5 * x * x);
    }
    case 2u: {
      y = max(x, 0.0);
      dy = select(0.0, 1.0, x > 0.0);
    }
    default: {
      let sg = 1.0 / (1.0 + exp(-x));
      y = x * sg;
      dy = sg * (1.0 + x * (1.0 - sg));
    }
  }
  let g = dY[i];
  if (p.gated != 0u) {
    dX[i] = g * dy * U[i];
    dU[i] = g * y;
  } else {
    dX[i] = g * dy;
  }
}
