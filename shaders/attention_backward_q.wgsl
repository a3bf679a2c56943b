// attention_backward_q: the query gradient of causal GQA attention (training: pos0 = 0), and the
// per-(query, head) statistics the key/value gradients need:
//   P[t, s] = softmax_s(scale · Q[t, h] · K[s, h/g]) over s ≤ t,   lse[t, h] = its log-normaliser
//   Δ[t, h] = Σ_d dO[t, h, d] · O[t, h, d]
//   dS[t, s] = P[t, s] · (dO[t, h] · V[s, h/g] − Δ[t, h])
//   dQ[t, h] = scale · Σ_s dS[t, s] · K[s, h/g]
// Algorithm: one thread per (query, head), two passes over its keys (normaliser, then dQ) with
// its query, dO and dQ rows in registers. HD is specialised by the host (constant array sizes).
// Dispatch: 1-D over T · nHeads, 64 threads, folded into 2-D past 65535 groups.

#include "common/attention_backward_io.wgsl"
@group(0) @binding(4) var<storage, read> O: array<f32>;          // (T, nHeads, HD)
@group(0) @binding(5) var<storage, read> dO: array<f32>;         // (T, nHeads, HD)
@group(0) @binding(6) var<storage, read_write> dQ: array<f32>;   // (T, nHeads, HD)
@group(0) @binding(7) var<storage, read_write> stats: array<f32>; // (T, nHeads, 2): lse, Δ

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let idx = (wg.y * nwg.x + wg.x) * 64u + li;
  if (idx >= p.T * p.nHeads) { return; }
  let t = idx / p.nHeads;
  let h = idx % p.nHeads;
  let kvh = h / (p.nHeads / p.nKvHeads);
  let kvStride = p.nKvHeads * HD;
  let base = idx * HD;
  var q: array<f32, HD>;
  var g: array<f32, HD>;
  var dq: array<f32, HD>;
  var delta = 0.0;
  for (var d = 0u; d < HD; d++) {
    q[d] = Q[base + d];
    g[d] = dO[base + d];
    dq[d] = 0.0;
    delta = fma(g[d], O[base + d], delta);
  }
  var m = -3.0e38;
  var l = 0.0;
  for (var s = 0u; s <= t; s++) {
    let kb = s * kvStride + kvh * HD;
    var dot = 0.0;
    for (var d = 0u; d < HD; d++) { dot = fma(q[d], K[kb + d], dot); }
    let sc = dot * p.scale;
    let mNew = max(m, sc);
    l = l * exp(m - mNew) + exp(sc - mNew);
    m = mNew;
  }
  let lse = m + log(l);
  for (var s = 0u; s <= t; s++) {
    let kb = s * kvStride + kvh * HD;
    var dot = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < HD; d++) {
      dot = fma(q[d], K[kb + d], dot);
      dp = fma(g[d], V[kb + d], dp);
    }
    let ds = exp(dot * p.scale - lse) * (dp - delta) * p.scale;
    for (var d = 0u; d < HD; d++) { dq[d] = fma(ds, K[kb + d], dq[d]); }
  }
  for (var d = 0u; d < HD; d++) { dQ[base + d] = dq[d]; }
  stats[2u * idx] = lse;
  stats[2u * idx + 1u] = delta;
}
