// sumsq: partial sums of squares of a vector, for the global gradient norm ‖g‖₂ over every
// parameter: out[out0 + wg] = Σ X[i]² over the workgroup's slice; the host adds the partials of
// all tensors (in float64) and takes the square root.
// Dispatch: (groups) workgroups of 256 threads, each reducing `per` consecutive elements
// (per = ceil(n / groups), a multiple of 256); tree reduction in workgroup memory.

struct Params {
  n: u32,
  per: u32,
  out0: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;           // (n)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;   // (out0 + groups)

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let start = wg.x * p.per;
  let end = min(start + p.per, p.n);
  var s = 0.0;
  for (var i = start + li; i < end; i += 256u) {
    let v = X[i];
    s = fma(v, v, s);
  }
  red[li] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[p.out0 + wg.x] = red[0]; }
}
