// squarehead: per-layer hidden-state distillation ("SquareHead", Kurtic et al. 2023) for one
// decoder layer's output S against the teacher's T over one window of n = tokens · hidden values:
//   loss = weight · ‖S − T‖² / (‖T‖² + n·eps)      (the normalised MSE, eps as mean-square floor)
//   dS  += weight · 2 (S − T) / (‖T‖² + n·eps)     (‖T‖² is a constant: the teacher is not trained)
// Two passes over the same bindings, chosen by `mode` (uniform):
//   mode 0 (sums): ONE workgroup of 256 threads strides over n; stats[o] = Σ (S − T)²,
//     stats[o + 1] = Σ T², each a tree reduction of 256 f32 partial sums;
//   mode 1 (gradient): 1-D over n, 256 threads, folded into 2-D past 65535 groups; reads stats[o + 1].
// The host reads the two sums back and forms the loss in float64.

struct Params {
  n: u32,
  mode: u32,
  o: u32,
  weight: f32,
  eps: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;              // (n) the student's layer output
@group(0) @binding(2) var<storage, read> Tt: array<f32>;             // (n) the teacher's layer output
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;    // (o + 2): Σ (S − T)², Σ T²
@group(0) @binding(4) var<storage, read_write> D: array<f32>;        // (n) gradient of S, added to

var<workgroup> red: array<vec2f, 256>;

fn sums(li: u32) {
  var acc = vec2f(0.0);
  for (var i = li; i < p.n; i += 256u) {
    let t = Tt[i];
    let d = S[i] - t;
    acc += vec2f(d * d, t * t);
  }
  red[li] = acc;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    stats[p.o] = red[0].x;
    stats[p.o + 1u] = red[0].y;
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  if (p.mode == 0u) {
    sums(li);
    return;
  }
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  let coef = 2.0 * p.weight / (stats[p.o + 1u] + f32(p.n) * p.eps);
  D[i] += coef * (S[i] - Tt[i]);
}
