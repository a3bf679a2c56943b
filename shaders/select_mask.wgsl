// select_mask: the mask of a threshold selection (thresholdMask in src/core/prune/select.ts):
//   mask[i] = 1 (prune) where S[i] ≤ the k-th smallest score (its bits in state[1], from the four
//   select_hist / select_pick passes), else 0.  Ties at the threshold are all pruned, as there.
// With zero = 1 the buffer is the weight itself (f32 bits) and the pruned entries are set to 0.
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

struct Params {
  n: u32,
  zero: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;            // (n) scores ≥ 0
@group(0) @binding(2) var<storage, read> state: array<u32>;        // (4): _, threshold bits
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;   // (n) 1 = prune; zero: the weight's bits

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  let pruned = bitcast<u32>(S[i]) <= state[1];
  if (p.zero != 0u) {
    if (pruned) { mask[i] = 0u; } // +0.0
  } else {
    mask[i] = select(0u, 1u, pruned);
  }
}
