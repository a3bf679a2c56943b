// select_hist: one pass of a radix select for the k-th smallest of n non-negative f32 scores (their
// bit patterns order as u32 do): pass p counts, among the scores whose top 8·p bits equal the
// prefix found so far (state[1]), each value of the next 8 bits:
//   hist[(bits >> (24 − 8p)) & 255] += 1   where  p = 0 or  bits >> (32 − 8p) == state[1]
// select_pick.wgsl then chooses the bin holding the k-th; four passes give its exact bits.
// Algorithm: a histogram per workgroup in workgroup memory (each thread a grid-stride run), added
// into the global one at the end.
// Dispatch: (min(ceil(n / 256), 1024)), workgroup 256.

struct Params {
  n: u32,
  pass_: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;                 // (n) scores ≥ 0
@group(0) @binding(2) var<storage, read> state: array<u32>;             // (4): k left, prefix
@group(0) @binding(3) var<storage, read_write> hist: array<atomic<u32>, 256>;

var<workgroup> counts: array<atomic<u32>, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let shift = 24u - 8u * p.pass_;
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    let v = bitcast<u32>(S[i]);
    if (p.pass_ == 0u || (v >> (shift + 8u)) == state[1]) { atomicAdd(&counts[(v >> shift) & 255u], 1u); }
  }
  workgroupBarrier();
  let c = atomicLoad(&counts[li]);
  if (c != 0u) { atomicAdd(&hist[li], c); }
}
