// Reductions of one row by RW consecutive threads of a 64-thread workgroup (64 / RW rows per
// workgroup; thread li holds a partial value and is lane li % RW of its row): the sum and the max of
// the row's RW partials, returned to each of its threads. RW = 64 (one row per workgroup, a tree in
// workgroup memory) on GPUs; RW = 1 on software adapters, where each thread owns a row and no
// barrier runs (they run barriers as fiber switches). Call from uniform control flow only.
const RW: u32 = 64u;
var<workgroup> red: array<f32, 64>;

/** A thread's row, its lane in the row, the row's first element and the length to loop over (0 for
 * threads past the last of T rows: they still join the reductions). */
struct RowSlot {
  row: u32,
  lane: u32,
  base: u32,
  len: u32,
}

fn row_slot(wg: u32, li: u32, T: u32, C: u32) -> RowSlot {
  let row = wg * (64u / RW) + li / RW;
  return RowSlot(row, li % RW, row * C, select(0u, C, row < T));
}

/** The sum (max: false) or the max (max: true) of the row's RW partials. */
fn row_reduce(li: u32, v: f32, max_: bool) -> f32 {
  if (RW == 1u) { return v; }
  let lane = li % RW;
  red[li] = v;
  workgroupBarrier();
  for (var k = RW / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red[li] = select(red[li] + red[li + k], max(red[li], red[li + k]), max_); }
    workgroupBarrier();
  }
  let s = red[li - lane];
  workgroupBarrier();
  return s;
}

fn row_sum(li: u32, v: f32) -> f32 {
  return row_reduce(li, v, false);
}

fn row_max(li: u32, v: f32) -> f32 {
  return row_reduce(li, v, true);
}
