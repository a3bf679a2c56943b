// select_pick: after a select_hist.wgsl pass, the bin holding the k-th smallest (0-based; k = state[0]
// among the scores that matched the prefix): state[0] −= the count of the bins below it,
// state[1] = state[1] << 8 | bin; the histogram is cleared for the next pass. After the fourth
// pass state[1] holds the bits of the k-th smallest score.
// Dispatch: (1), workgroup 1 (256 bins, read once).

@group(0) @binding(0) var<uniform> p: vec4u;                             // x: bins (256)
@group(0) @binding(1) var<storage, read_write> state: array<u32>;       // (4): k left, prefix
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>, 256>;

@compute @workgroup_size(1)
fn main() {
  let k = state[0];
  var below = 0u;
  var bin = 255u;
  for (var b = 0u; b < p.x; b++) {
    let c = atomicLoad(&hist[b]);
    if (below + c > k) {
      bin = b;
      break;
    }
    below += c;
  }
  state[0] = k - below;
  state[1] = (state[1] << 8u) | bin;
  for (var b = 0u; b < p.x; b++) { atomicStore(&hist[b], 0u); }
}
