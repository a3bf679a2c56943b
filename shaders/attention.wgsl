// attention: causal multi-head attention with grouped KV heads (GQA) and a KV offset.
//   O[t, h, :] = sum_j softmax_j(scale * Q[t, h, :] · K[j, h / g, :]) V[j, h / g, :],
//   over keys j <= pos0 + t, where g = nHeads / nKvHeads and query t sits at position pos0 + t.
// Algorithm: one thread per (query, head) with an online softmax (running max m, normaliser l)
// and its query and output row in registers; the 64 queries of a workgroup share one head, and
// keys/values are staged KT at a time in workgroup memory (one barrier pair per tile). HD and KT
// are specialised by the host (GpuContext `defines`) so the per-thread arrays have constant size.
// Dispatch: (ceil(T / 64), nHeads), workgroup 64.

const HD: u32 = 64u; // head_dim (specialised)
const KT: u32 = 32u; // keys per tile (specialised: KT * HD * 8 bytes of workgroup memory)

struct Params {
  T: u32,
  nHeads: u32,
  nKvHeads: u32,
  headDim: u32,
  pos0: u32,
  scale: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;        // (T, nHeads, HD)
@group(0) @binding(2) var<storage, read> K: array<f32>;        // (pos0 + T, nKvHeads, HD)
@group(0) @binding(3) var<storage, read> V: array<f32>;        // (pos0 + T, nKvHeads, HD)
@group(0) @binding(4) var<storage, read_write> O: array<f32>;  // (T, nHeads, HD)

var<workgroup> ks: array<f32, KT * HD>;
var<workgroup> vs: array<f32, KT * HD>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wg.y;
  let t = wg.x * 64u + li;
  let inRange = t < p.T;
  let kvh = h / (p.nHeads / p.nKvHeads);
  let kvStride = p.nKvHeads * HD;
  let qBase = (t * p.nHeads + h) * HD;
  var q: array<f32, HD>;
  var acc: array<f32, HD>;
  if (inRange) {
    for (var d = 0u; d < HD; d++) { q[d] = Q[qBase + d] * p.scale; }
  }
  // Keys this workgroup needs: up to its last query's position (uniform across the workgroup).
  let nKeys = p.pos0 + min(wg.x * 64u + 63u, p.T - 1u) + 1u;
  let myKeys = p.pos0 + t + 1u;
  var m = -3.0e38;
  var l = 0.0;
  for (var j0 = 0u; j0 < nKeys; j0 += KT) {
    for (var e = li; e < KT * HD; e += 64u) {
      let j = j0 + e / HD;
      var kv = 0.0;
      var vv = 0.0;
      if (j < nKeys) {
        let src = j * kvStride + kvh * HD + e % HD;
        kv = K[src];
        vv = V[src];
      }
      ks[e] = kv;
      vs[e] = vv;
    }
    workgroupBarrier();
    if (inRange) {
      let n = min(KT, myKeys - min(myKeys, j0));
      for (var jj = 0u; jj < n; jj++) {
        var s = 0.0;
        for (var d = 0u; d < HD; d++) { s = fma(q[d], ks[jj * HD + d], s); }
        let mNew = max(m, s);
        let corr = exp(m - mNew);
        let pe = exp(s - mNew);
        l = l * corr + pe;
        for (var d = 0u; d < HD; d++) { acc[d] = fma(pe, vs[jj * HD + d], acc[d] * corr); }
        m = mNew;
      }
    }
    workgroupBarrier();
  }
  if (inRange) {
    let inv = 1.0 / l;
    for (var d = 0u; d < HD; d++) { O[qBase + d] = acc[d] * inv; }
  }
}
