// Reductions of one row by RW consecutive threads of a 64-thread workgroup (64 / RW rows per
// workgroup; thread li holds a partial value and is lane li % RW of its row): the sum and the max of
// the row's RW partials, returned to each of its threads. RW = 64 (one row per workgroup, a tree in
// workgroup memory) on GPUs; RW = 1 on software adapters, where each thread owns a row and no
// barrier runs (they run barriers as fiber switches). Call from uniform control flow only.
const RW: u32 = 64u;
var<workgroup> red: array<f32, 64>;

fn row_sum(li: u32, v: f32) -> f32 {
  if (RW == 1u) { return v; }
  let lane = li % RW;
  red[li] = v;
  workgroupBarrier();
  for (var k = RW / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  let s = red[li - lane];
  workgroupBarrier();
  return s;
}

fn row_max(li: u32, v: f32) -> f32 {
  if (RW == 1u) { return v; }
  let lane = li % RW;
  red[li] = v;
  workgroupBarrier();
  for (var k = RW / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red[li] = max(red[li], red[li + k]); }
    workgroupBarrier();
  }
  let s = red[li - lane];
  workgroupBarrier();
  return s;
}
