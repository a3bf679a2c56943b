// nll: per-row negative log-likelihood of a target under log-softmax of the logits, and, for
// training (grad ≥ 1), its gradient with respect to the logits written in place; with a teacher
// (grad = 2, knowledge distillation at temperature 1) also KL(q ‖ p) of the teacher's softmax q to
// the model's p, and its gradient:
//   nll[row0 + t] = logsumexp(L[t, :]) − L[t, y]
//   kl[row0 + t]  = Σ_v q[v] (log q[v] − log p[v])                                  (grad = 2)
//   L[t, v] ← scale · (p[v] − [v = y] (+ p[v] − q[v] when grad = 2))     (scale = 1 / predicted tokens)
// Perplexity and the training head both use it without ever reading the (T × V) logits back.
// Rows whose target is 0xffffffff (no next token) get nll 0, kl 0 and a zero gradient.
// Dispatch: (rows) workgroups of 64 threads; max pass, sum-of-exp pass (each side), then the writes.

struct Params {
  rows: u32,
  V: u32,
  row0: u32,
  scale: f32,
  grad: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> L: array<f32>;    // (rows, V): logits in; dL out when grad
@group(0) @binding(2) var<storage, read> tgt: array<u32>;        // (row0 + rows)
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;  // (row0 + rows)
@group(0) @binding(4) var<storage, read> Q: array<f32>;          // (rows, V) teacher logits when grad = 2
@group(0) @binding(5) var<storage, read_write> kl: array<f32>;   // (row0 + rows) when grad = 2

#include "common/row_logsumexp.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wg.x;
  let base = t * p.V;
  let lse = row_logsumexp(li, base, p.V);
  let distill = p.grad == 2u;
  // The teacher's log-normaliser and KL(q ‖ p) (uniform control flow: p.grad is uniform).
  var lseQ = 0.0;
  var klRow = 0.0;
  if (distill) {
    var m = -3.0e38;
    for (var v = li; v < p.V; v += 64u) { m = max(m, Q[base + v]); }
    let mq = row_max(li, m);
    var s = 0.0;
    for (var v = li; v < p.V; v += 64u) { s += exp(Q[base + v] - mq); }
    lseQ = mq + log(row_sum(li, s));
    var k = 0.0;
    for (var v = li; v < p.V; v += 64u) {
      let lq = Q[base + v] - lseQ;
      k += exp(lq) * (lq - (L[base + v] - lse));
    }
    klRow = row_sum(li, k);
  }
  let y = tgt[p.row0 + t];
  let has = y < p.V;
  // Every thread reads the target's logit before any logit is overwritten.
  var ly = 0.0;
  if (has) { ly = L[base + y]; }
  workgroupBarrier();
  if (li == 0u) {
    nll[p.row0 + t] = select(0.0, lse - ly, has);
    if (distill) { kl[p.row0 + t] = select(0.0, klRow, has); }
  }
  if (p.grad == 0u) { return; }
  for (var v = li; v < p.V; v += 64u) {
    var d = 0.0;
    if (has) {
      let pr = exp(L[base + v] - lse);
      d = pr - select(0.0, 1.0, v == y);
      if (distill) { d += pr - exp(Q[base + v] - lseQ); }
      d *= p.scale;
    }
    L[base + v] = d;
  }
}
