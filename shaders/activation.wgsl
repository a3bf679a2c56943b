// activation: X[i] = act(X[i]) (* U[i] when gated), in place on the MLP's hidden activations.
//   mode 0 gelu_new (tanh approximation, GPT-2 / Phi), 1 gelu (exact, erf; NeoX),
//   mode 2 relu (OPT), 3 silu (Llama / Qwen2 gate, with gated = 1: silu(gate) * up).
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

struct Params {
  n: u32,
  mode: u32,
  gated: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;  // (n)
@group(0) @binding(2) var<storage, read> U: array<f32>;        // (n) when gated, else unused

#include "common/erf.wgsl"

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  let x = X[i];
  var y = 0.0;
  switch (p.mode) {
    case 0u: {
      // tanh saturates to ±1 in f32 beyond |z| = 10; clamping avoids exp overflow in tanh.
      let z = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -10.0, 10.0);
      y = 0.5 * x * (1.0 + tanh(z));
    }
    case 1u: { y = 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476)); }
    case 2u: { y = max(x, 0.0); }
    default: { y = x / (1.0 + exp(-x)); }
  }
  if (p.gated != 0u) { y *= U[i]; }
  X[i] = y;
}
