// sumsq: partial sums of squares of a vector, for the global gradient norm ‖g‖₂ over every
// parameter: out[out0 + g] = Σ X[i]² over partial g's slice [g·per, (g + 1)·per); the host adds the
// partials of all tensors (in float64) and takes the square root.
// Each partial is reduced by RW threads of a 256-thread workgroup (256 / RW partials per
// workgroup): RW = 256, a tree in workgroup memory, on GPUs; RW = 1, a thread summing its slice in
// order without barriers, on software adapters (they run barriers as fiber switches).
// Dispatch: (ceil(groups / (256 / RW))) workgroups of 256 threads; per is a multiple of 256.

struct Params {
  n: u32,
  per: u32,
  out0: u32,
  groups: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;           // (n)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;   // (out0 + groups)

const RW: u32 = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = wg.x * (256u / RW) + li / RW;
  let lane = li % RW;
  let start = g * p.per;
  let end = select(start, min(start + p.per, p.n), g < p.groups);
  var s = 0.0;
  for (var i = start + lane; i < end; i += RW) {
    let v = X[i];
    s = fma(v, v, s);
  }
  if (RW == 1u) {
    if (g < p.groups) { out[p.out0 + g] = s; }
    return;
  }
  red[li] = s;
  workgroupBarrier();
  for (var k = RW / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (lane == 0u && g < p.groups) { out[p.out0 + g] = red[li]; }
}
