// attention_backward_kv: the key and value gradients of causal GQA attention (pos0 = 0), from
// the statistics attention_backward_q saved (lse, Δ per query and head):
//   P[t, s] = exp(scale · Q[t, h] · K[s, h/g] − lse[t, h])
//   dV[s, j] = Σ_{h in group j} Σ_{t ≥ s} P[t, s] · dO[t, h]
//   dK[s, j] = scale · Σ_{h in group j} Σ_{t ≥ s} P[t, s] · (dO[t, h] · V[s, j] − Δ[t, h]) · Q[t, h]
// Algorithm: one thread per (key, KV head) with its key, value and both gradient rows in
// registers, walking the queries that see it. HD is specialised by the host.
// Dispatch: 1-D over T · nKvHeads, 64 threads, folded into 2-D past 65535 groups.

#include "common/attention_backward_io.wgsl"
@group(0) @binding(4) var<storage, read> dO: array<f32>;          // (T, nHeads, HD)
@group(0) @binding(5) var<storage, read> stats: array<f32>;       // (T, nHeads, 2): lse, Δ
@group(0) @binding(6) var<storage, read_write> dK: array<f32>;    // (T, nKvHeads, HD)
@group(0) @binding(7) var<storage, read_write> dV: array<f32>;    // (T, nKvHeads, HD)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let idx = (wg.y * nwg.x + wg.x) * 64u + li;
  if (idx >= p.T * p.nKvHeads) { return; }
  let s = idx / p.nKvHeads;
  let j = idx % p.nKvHeads;
  let group = p.nHeads / p.nKvHeads;
  let base = idx * HD;
  var k: array<f32, HD>;
  var v: array<f32, HD>;
  var dk: array<f32, HD>;
  var dv: array<f32, HD>;
  for (var d = 0u; d < HD; d++) {
    k[d] = K[base + d];
    v[d] = V[base + d];
    dk[d] = 0.0;
    dv[d] = 0.0;
  }
  for (var t = s; t < p.T; t++) {
    for (var hh = 0u; hh < group; hh++) {
      let h = j * group + hh;
      let qb = (t * p.nHeads + h) * HD;
      var dot = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HD; d++) {
        dot = fma(Q[qb + d], k[d], dot);
        dp = fma(dO[qb + d], v[d], dp);
      }
      let st = 2u * (t * p.nHeads + h);
      let pr = exp(dot * p.scale - stats[st]);
      let ds = pr * (dp - stats[st + 1u]) * p.scale;
      for (var d = 0u; d < HD; d++) {
        dv[d] = fma(pr, dO[qb + d], dv[d]);
        dk[d] = fma(ds, Q[qb + d], dk[d]);
      }
    }
  }
  for (var d = 0u; d < HD; d++) {
    dK[base + d] = dk[d];
    dV[base + d] = dv[d];
  }
}
