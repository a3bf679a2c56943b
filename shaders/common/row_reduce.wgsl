// Reductions of one row by a workgroup of 64 threads (thread li holds a partial value): the sum and
// the max of the 64 partials, returned to every thread. Call from uniform control flow only.
var<workgroup> red: array<f32, 64>;

fn row_sum(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var k = 32u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  let s = red[0];
  workgroupBarrier();
  return s;
}

fn row_max(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var k = 32u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] = max(red[li], red[li + k]); }
    workgroupBarrier();
  }
  let s = red[0];
  workgroupBarrier();
  return s;
}
