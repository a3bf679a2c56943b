#include "common/row_reduce.wgsl"

// log Σ_v exp(L[base + v]) over a row of V logits (max-subtracted), for the module's binding L.
fn row_logsumexp(li: u32, base: u32, V: u32) -> f32 {
  var m = -3.0e38;
  for (var v = li; v < V; v += 64u) { m = max(m, L[base + v]); }
  let mx = row_max(li, m);
  var s = 0.0;
  for (var v = li; v < V; v += 64u) { s += exp(L[base + v] - mx); }
  return mx + log(row_sum(li, s));
}
