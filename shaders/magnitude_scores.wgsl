// magnitude_scores: magnitude pruning's scores of a weight (wanda's prune_magnitude): S[i] = |W[i]|.
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

@group(0) @binding(0) var<uniform> p: vec4u;                    // x: n
@group(0) @binding(1) var<storage, read> W: array<f32>;          // (n)
@group(0) @binding(2) var<storage, read_write> S: array<f32>;    // (n)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.x) { return; }
  S[i] = abs(W[i]);
}
