// nll: per-row negative log-likelihood of a target under log-softmax of the logits:
//   nll[row0 + t] = logsumexp(L[t, :]) - L[t, target[row0 + t]]
// Used for perplexity without ever reading the (T × V) logits back to the CPU. Rows whose
// target is 0xffffffff (no next token) get 0.
// Dispatch: (rows) workgroups of 64 threads; max pass then sum-of-exp pass.

struct Params {
  rows: u32,
  V: u32,
  row0: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> L: array<f32>;          // (rows, V)
@group(0) @binding(2) var<storage, read> tgt: array<u32>;        // (row0 + rows)
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;  // (row0 + rows)

#include "common/row_logsumexp.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wg.x;
  let base = t * p.V;
  let lse = row_logsumexp(li, base, p.V);
  if (li == 0u) {
    let tg = tgt[p.row0 + t];
    var out = 0.0;
    if (tg < p.V) { out = lse - L[base + tg]; }
    nll[p.row0 + t] = out;
  }
}
