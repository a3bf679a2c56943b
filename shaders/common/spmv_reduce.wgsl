// Reduction + epilogue of the GEMV-shaped kernels (gemv, spmv_*): L lanes per row each hold a
// partial sum; lane 0 of the row stores the total (common/store.wgsl). L = 1: no workgroup memory
// traffic, no barrier. The L lanes of a row sit at lid, lid + stride, ... (stride 1: consecutive;
// spmv_sell: RW). Call from uniform control flow (it has barriers).
// Expects: `const L: u32` (lanes per row, a power of two <= 256) and what common/store.wgsl expects.
#include "common/store.wgsl"

var<workgroup> red: array<f32, 256>;

fn reduceStore(lid: u32, lane: u32, stride: u32, t: u32, n: u32, live: bool, acc: f32) {
  if (L == 1u) {
    if (live) { store(t, n, acc); }
    return;
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = L / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red[lid] += red[lid + s * stride]; }
    workgroupBarrier();
  }
  if (lane == 0u && live) { store(t, n, red[lid]); }
}
