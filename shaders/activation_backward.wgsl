// activation_backward: the gradient of the MLP activation from its saved pre-activation X
// (and, gated, the up projection U), for Y = act(X) or Y = act(X) · U:
//   dX[i] = dY[i] · act'(X[i]) (· U[i] when gated);   dU[i] = dY[i] · act(X[i]) (gated only)
// (act and act' for each mode are in common/activation.wgsl).
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

#include "common/activation.wgsl"

@group(0) @binding(1) var<storage, read> X: array<f32>;          // (n) pre-activation
@group(0) @binding(2) var<storage, read> U: array<f32>;          // (n) when gated
@group(0) @binding(3) var<storage, read> dY: array<f32>;         // (n)
@group(0) @binding(4) var<storage, read_write> dX: array<f32>;   // (n)
@group(0) @binding(5) var<storage, read_write> dU: array<f32>;   // (n) when gated

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  let a = act_and_grad(X[i], p.mode);
  let g = dY[i];
  if (p.gated != 0u) {
    dX[i] = g * a.y * U[i];
    dU[i] = g * a.x;
  } else {
    dX[i] = g * a.y;
  }
}
