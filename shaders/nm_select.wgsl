// nm_select: an N:M mask (nmMask in src/core/prune/select.ts), applied in place: in each row of
// W (R, C), of every M consecutive inputs (the last group may be narrower) the N lowest scores
// s_j = |W[r, j]| · scale[j] are set to 0; on equal scores the lower column goes first.
// Algorithm: one thread per (row, group); an input is pruned when fewer than min(N, width) inputs of
// its group come before it in (score, column) order. M ≤ 32, so the group's mask is one u32.
// Dispatch: 1-D over R · ceil(C / M) threads, 256 per workgroup, folded into 2-D past 65535 groups.

struct Params {
  R: u32,
  C: u32,
  N: u32,
  M: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scale: array<f32>;        // (C) per-input factor ≥ 0
@group(0) @binding(2) var<storage, read_write> W: array<f32>;      // (R, C), pruned in place

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = (wg.y * nwg.x + wg.x) * 256u + li;
  let groups = (p.C + p.M - 1u) / p.M;
  if (g >= p.R * groups) { return; }
  let r = g / groups;
  let c0 = (g % groups) * p.M;
  let width = min(p.M, p.C - c0);
  let n = min(p.N, width);
  let base = r * p.C + c0;
  var pruned = 0u;
  for (var j = 0u; j < width; j++) {
    let sj = abs(W[base + j]) * scale[c0 + j];
    var before = 0u;
    for (var i = 0u; i < width; i++) {
      let si = abs(W[base + i]) * scale[c0 + i];
      if (si < sj || (si == sj && i < j)) { before++; }
    }
    if (before < n) { pruned |= 1u << j; }
  }
  for (var j = 0u; j < width; j++) {
    if ((pruned & (1u << j)) != 0u) { W[base + j] = 0.0; }
  }
}
