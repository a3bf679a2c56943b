// nll: per-row negative log-likelihood of a target under log-softmax of the logits, and, for
// training (grad = 1), its gradient with respect to the logits written in place:
//   nll[row0 + t] = logsumexp(L[t, :]) − L[t, y]
//   L[t, v] ← scale · (softmax(L[t, :])[v] − [v = y])      (scale = 1 / predicted tokens of the step)
// Perplexity and the training head both use it without ever reading the (T × V) logits back.
// Rows whose target is 0xffffffff (no next token) get nll 0 (and a zero gradient).
// Dispatch: (rows) workgroups of 64 threads; max pass, sum-of-exp pass, then the writes.

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

#include "common/row_logsumexp.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wg.x;
  let base = t * p.V;
  let lse = row_logsumexp(li, base, p.V);
  let y = tgt[p.row0 + t];
  let has = y < p.V;
  // Every thread reads the target's logit before any logit is overwritten.
  var ly = 0.0;
  if (has) { ly = L[base + y]; }
  workgroupBarrier();
  if (li == 0u) { nll[p.row0 + t] = select(0.0, lse - ly, has); }
  if (p.grad == 0u) { return; }
  for (var v = li; v < p.V; v += 64u) {
    var d = 0.0;
    if (has) { d = p.scale * (exp(L[base + v] - lse) - select(0.0, 1.0, v == y)); }
    L[base + v] = d;
  }
}
