// gemv_subgroup (v2): the contract of gemv.wgsl (read its header), reduced with subgroup adds.
//   y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n]   (dense W, f32 or f16)
// Needs the `subgroups` feature; the host falls back to gemv.wgsl (v1) where it is missing.
// Algorithm: every workgroup computes 4 rows n0 .. n0 + 3 (n0 = wg.x * 4) of one token; all WG
// threads cooperate on them: thread i reads the 16-byte chunks i, i + WG, ... of each of the 4
// rows (consecutive threads read consecutive chunks: coalesced) and loads the x values of a
// chunk once for the 4 rows, keeping one vec4 of partial sums (a lane per row). The reduction is
// subgroupAdd over the vec4, then one slot per subgroup in workgroup memory, then a short sum by
// 4 threads: one barrier whatever the subgroup size. WGSL guarantees no relation between
// subgroup_invocation_id and local_invocation_index, so a subgroup claims its slot with a
// workgroup atomic (one atomic per subgroup, not per element); the slots are summed in the order
// claimed (a run-to-run difference in the last bits of f32 rounding is possible).
// Dispatch: (ceil(N / 4), T), workgroup WG (64, 128 or 256; host: from the chunks per row).
// flags: bit 0 = add bias, bit 1 = accumulate into Y.
enable subgroups;

struct Params {
  T: u32,       // tokens (rows of X and Y)
  N: u32,       // rows of W (output features in this block)
  K: u32,       // reduction length
  ldy: u32,     // row stride of Y
  yCol0: u32,   // first output column written
  biasOff: u32, // first bias element used
  flags: u32,
  ldw: u32,     // u32 words per row of W (multiple of 4)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;        // (T, K)
@group(0) @binding(2) var<storage, read> W: array<vec4u>;      // (N, ldw / 4): f32 bits or f16 pairs
@group(0) @binding(3) var<storage, read> B: array<f32>;        // (biasOff + N) or unused
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;  // (T, ldy)

const F16: u32 = 0u;
const WG: u32 = 256u;
var<workgroup> part: array<vec4f, WG>; // one slot per subgroup (at most WG subgroups)
var<workgroup> slots: atomic<u32>;

fn xat(xo: u32, k: u32) -> f32 {
  if (k < p.K) { return X[xo + k]; }
  return 0.0;
}

fn store(t: u32, n: u32, s: f32) {
  var v = s;
  if ((p.flags & 1u) != 0u) { v += B[p.biasOff + n]; }
  let yi = t * p.ldy + p.yCol0 + n;
  if ((p.flags & 2u) != 0u) { v += Y[yi]; }
  Y[yi] = v;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sid: u32,
) {
  let n0 = wg.x * 4u;
  let t = wg.y;
  let xo = t * p.K;
  let chunks = p.ldw / 4u;
  let last = p.N - 1u;
  // Rows past N read row N - 1 (valid memory) and are not stored.
  let r = vec4u(n0, min(n0 + 1u, last), min(n0 + 2u, last), min(n0 + 3u, last)) * chunks;
  var acc = vec4f(0.0);
  // Uniform loop bounds: every invocation leaves the loop together before subgroupAdd.
  for (var c0 = 0u; c0 < chunks; c0 += WG) {
    let c = c0 + lid;
    if (c >= chunks) { continue; }
    if (F16 == 1u) {
      let k = c * 8u;
      let xa = vec4f(xat(xo, k), xat(xo, k + 1u), xat(xo, k + 2u), xat(xo, k + 3u));
      let xb = vec4f(xat(xo, k + 4u), xat(xo, k + 5u), xat(xo, k + 6u), xat(xo, k + 7u));
      for (var i = 0u; i < 4u; i++) {
        let w = W[r[i] + c];
        acc[i] += dot(vec4f(unpack2x16float(w.x), unpack2x16float(w.y)), xa)
          + dot(vec4f(unpack2x16float(w.z), unpack2x16float(w.w)), xb);
      }
    } else {
      let k = c * 4u;
      let xa = vec4f(xat(xo, k), xat(xo, k + 1u), xat(xo, k + 2u), xat(xo, k + 3u));
      for (var i = 0u; i < 4u; i++) {
        acc[i] += dot(bitcast<vec4f>(W[r[i] + c]), xa);
      }
    }
  }
  let s = subgroupAdd(acc);
  if (sid == 0u) {
    part[atomicAdd(&slots, 1u)] = s;
  }
  workgroupBarrier();
  if (lid < 4u && n0 + lid < p.N) {
    let ns = atomicLoad(&slots);
    var v = 0.0;
    for (var i = 0u; i < ns; i++) { v += part[i][lid]; }
    store(t, n0 + lid, v);
  }
}
