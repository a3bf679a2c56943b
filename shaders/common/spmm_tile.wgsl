// X staging and epilogue of the 64 (rows) x 64 (tokens) prefill tiles (spmm_*; read the header of
// spmm_bitmask.wgsl): thread (rg, tg) of the 16 x 16 workgroup owns rows n0 .. n0 + 3 and tokens
// tq .. tq + 3, one vec4 accumulator (4 tokens) per row. K is walked in chunks of 32 columns; a
// chunk of X (64 tokens x 32 columns) is staged in xs with token quads contiguous (xs[kk][tg]).
// Expects: uniform `p` with T, N, K (and what common/store.wgsl expects); `X: array<f32>` (T, K).
// The including file reads xs / xoff in its own xq() (staged or not).
#include "common/store.wgsl"

var<workgroup> xs: array<vec4f, 512>; // [kk][tg]: 32 columns x 16 token quads
var<private> xoff: vec4u;              // X row offsets of the thread's 4 tokens (clamped to T - 1)

// Sets xoff for the thread's tokens tq .. tq + 3.
fn setXoff(tq: u32) {
  let tl = p.T - 1u;
  xoff = vec4u(min(tq, tl), min(tq + 1u, tl), min(tq + 2u, tl), min(tq + 3u, tl)) * p.K;
}

// Stages X[t0 .. t0 + 63, k0 .. k0 + 31] (zeros past T and K) into xs; 8 elements per thread.
fn stage(t0: u32, k0: u32, lid: u32) {
  for (var i = 0u; i < 8u; i++) {
    let e = lid + i * 256u;
    let tt = e / 32u;
    let kk = e % 32u;
    let t = t0 + tt;
    let k = k0 + kk;
    var v = 0.0;
    if (t < p.T && k < p.K) { v = X[t * p.K + k]; }
    xs[kk * 16u + tt / 4u][tt % 4u] = v;
  }
}

// Stores the thread's 4 x 4 outputs (rows n0 + i, tokens tq + j), skipping those past N and T.
fn storeTile(n0: u32, tq: u32, acc: array<vec4f, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let n = n0 + i;
    if (n >= p.N) { break; }
    for (var j = 0u; j < 4u; j++) {
      let t = tq + j;
      if (t >= p.T) { break; }
      store(t, n, acc[i][j]);
    }
  }
}
