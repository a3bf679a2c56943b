// activation: X[i] = act(X[i]) (* U[i] when gated), in place on the MLP's hidden activations
// (the modes are in common/activation.wgsl).
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

#include "common/activation.wgsl"

@group(0) @binding(1) var<storage, read_write> X: array<f32>;  // (n)
@group(0) @binding(2) var<storage, read> U: array<f32>;        // (n) when gated, else unused

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  var y = act_and_grad(X[i], p.mode).x;
  if (p.gated != 0u) { y *= U[i]; }
  X[i] = y;
}
