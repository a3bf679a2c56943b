// nll_backward: the fused head loss of training: per row, the negative log-likelihood of its
// target under log-softmax of the logits, and in place its gradient with respect to the logits,
//   nll[row0 + t] = logsumexp(L[t, :]) − L[t, y]
//   L[t, v] ← scale · (softmax(L[t, :])[v] − [v = y])      (scale = 1 / predicted tokens of the step)
// so the (T × V) logits are never read back. Rows whose target is 0xffffffff (no next token) get
// nll 0 and a zero gradient.
// Dispatch: (rows) workgroups of 64 threads; max pass, sum-of-exp pass, then the write.

struct Params {
  rows: u32,
  V: u32,
  row0: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> L: array<f32>;    // (rows, V): logits in, dL out
@group(0) @binding(2) var<storage, read> tgt: array<u32>;        // (row0 + rows)
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;  // (row0 + rows)

#include "common/row_logsumexp.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wg.x;
  let base = t * p.V;
  let y = tgt[p.row0 + t];
  if (y == 0xffffffffu) {
    for (var v = li; v < p.V; v += 64u) { L[base + v] = 0.0; }
    if (li == 0u) { nll[p.row0 + t] = 0.0; }
    return;
  }
  let lse = row_logsumexp(li, base, p.V);
  // Every thread has read lse before any logit is overwritten (the target's logit included).
  let ly = L[base + y];
  workgroupBarrier();
  if (li == 0u) { nll[p.row0 + t] = lse - ly; }
  for (var v = li; v < p.V; v += 64u) {
    let pr = exp(L[base + v] - lse);
    L[base + v] = p.scale * (pr - select(0.0, 1.0, v == y));
  }
}
