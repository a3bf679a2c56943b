// gemv (v1): y[t, yCol0 + n] (+)= sum_k W[n, k] * x[t, k] + b[biasOff + n]   (dense W, f32 or f16)
// The dense baseline for decode (T = 1); T > 1 runs one GEMV per token (grid y).
// Algorithm: lane groups. The 256 threads of a workgroup form 256 / L groups of L lanes; group g
// owns row n = wg.x * (256 / L) + g. Lane l reads the 16-byte chunks l, l + L, l + 2L, ... of the
// row (vec4<u32> = 4 f32 or 8 f16 weights), so the L lanes of a group read L consecutive chunks
// (coalesced), and accumulates chunk . x in one f32. The L partial sums are reduced by a tree in
// workgroup memory (log2 L barriers). The host picks L (4..64) from K so that each lane has a few
// chunks; L = 1 (one thread per row, no reduction, no barrier) is the variant for software
// adapters, where barriers are expensive. gemv_subgroup.wgsl (v2) reduces with subgroup adds.
// Dispatch: (ceil(N / (256 / L)), T), workgroup 256.
// Rows of W are padded with zeros to ldw words (a multiple of 4) by the uploader, so every chunk
// load is an aligned vec4; x is read with bounds checks (the padding multiplies zeros).
// flags: bit 0 = add bias, bit 1 = accumulate into Y.

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

const F16: u32 = 0u; // 1: W holds f16 pairs (low half = lower column)
const L: u32 = 32u;  // lanes per row: 1, 2, 4, ..., 256
const ROWS = 256u / L;
#include "common/spmv_reduce.wgsl"

fn xat(xo: u32, k: u32) -> f32 {
  if (k < p.K) { return X[xo + k]; }
  return 0.0;
}

// chunk c of a row: columns 4c..4c+3 (f32) or 8c..8c+7 (f16).
fn chunkDot(w: vec4u, xo: u32, c: u32) -> f32 {
  if (F16 == 1u) {
    let k = c * 8u;
    let a = vec4f(unpack2x16float(w.x), unpack2x16float(w.y));
    let b = vec4f(unpack2x16float(w.z), unpack2x16float(w.w));
    let xa = vec4f(xat(xo, k), xat(xo, k + 1u), xat(xo, k + 2u), xat(xo, k + 3u));
    let xb = vec4f(xat(xo, k + 4u), xat(xo, k + 5u), xat(xo, k + 6u), xat(xo, k + 7u));
    return dot(a, xa) + dot(b, xb);
  }
  let k = c * 4u;
  let xa = vec4f(xat(xo, k), xat(xo, k + 1u), xat(xo, k + 2u), xat(xo, k + 3u));
  return dot(bitcast<vec4f>(w), xa);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % L;
  let n = wg.x * ROWS + lid / L;
  let t = wg.y;
  let live = n < p.N;
  let xo = t * p.K;
  let chunks = p.ldw / 4u;
  var acc = 0.0;
  if (live) {
    let wo = n * chunks;
    for (var c = lane; c < chunks; c += L) {
      acc += chunkDot(W[wo + c], xo, c);
    }
  }
  reduceStore(lid, lane, 1u, t, n, live, acc);
}
