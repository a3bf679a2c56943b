// row_select: Wanda's per-row mask (rowwiseMask in src/core/prune/select.ts), applied in place:
// in each row r of W (R, C) the k lowest scores s_j = |W[r, j]| · scale[j] are set to 0, ties
// broken by column (the lowest first), as the published code's stable sort does.
// Algorithm: one workgroup per row. A radix select over the scores' bits (non-negative f32 values
// order as their u32 bits do): four passes of a 256-bin histogram in workgroup memory give the bits
// t of the (k − 1)-th smallest score and its rank q among the scores equal to t. Then each thread
// takes a contiguous run of columns and counts its ties; an exclusive prefix over the threads gives
// the rank of each run's first tie; every score < t and the ties of rank ≤ q are zeroed.
// Dispatch: (R) workgroups, folded into 2-D past 65535; workgroup 256. 1 ≤ k ≤ C.

struct Params {
  R: u32,
  C: u32,
  k: u32,
  _p: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scale: array<f32>;        // (C) per-input factor ≥ 0
@group(0) @binding(2) var<storage, read_write> W: array<f32>;      // (R, C), pruned in place

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> prefix: u32;          // the score bits found so far
var<workgroup> left: u32;            // the rank sought among the scores matching the prefix
var<workgroup> ties: array<u32, 256>;

fn score_bits(i: u32, j: u32) -> u32 {
  return bitcast<u32>(abs(W[i]) * scale[j]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.y * nwg.x + wg.x;
  if (r >= p.R) { return; }
  let base = r * p.C;
  if (li == 0u) {
    prefix = 0u;
    left = p.k - 1u;
  }
  for (var pass_ = 0u; pass_ < 4u; pass_++) {
    atomicStore(&hist[li], 0u);
    workgroupBarrier();
    let shift = 24u - 8u * pass_;
    let pre = prefix;
    for (var j = li; j < p.C; j += 256u) {
      let v = score_bits(base + j, j);
      if (pass_ == 0u || (v >> (shift + 8u)) == pre) { atomicAdd(&hist[(v >> shift) & 255u], 1u); }
    }
    workgroupBarrier();
    if (li == 0u) {
      let k = left;
      var below = 0u;
      var bin = 255u;
      for (var b = 0u; b < 256u; b++) {
        let c = atomicLoad(&hist[b]);
        if (below + c > k) {
          bin = b;
          break;
        }
        below += c;
      }
      left = k - below;
      prefix = (prefix << 8u) | bin;
    }
    workgroupBarrier();
  }
  let t = prefix;
  let need = left + 1u;     // ties to prune, the lowest columns first
  let run = (p.C + 255u) / 256u;
  let j0 = min(li * run, p.C);
  let j1 = min(j0 + run, p.C);
  var c = 0u;
  for (var j = j0; j < j1; j++) {
    if (score_bits(base + j, j) == t) { c++; }
  }
  ties[li] = c;
  workgroupBarrier();
  if (li == 0u) {
    var s = 0u;
    for (var i = 0u; i < 256u; i++) {
      let x = ties[i];
      ties[i] = s;
      s += x;
    }
  }
  workgroupBarrier();
  var rank = ties[li];
  for (var j = j0; j < j1; j++) {
    let v = score_bits(base + j, j);
    if (v < t || (v == t && rank < need)) { W[base + j] = 0.0; }
    if (v == t) { rank++; }
  }
}
