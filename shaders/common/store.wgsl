// Epilogue of the linear kernels: Y[t, yCol0 + n] = s (+ b[biasOff + n] if flags bit 0)
// (+ Y[t, yCol0 + n] if flags bit 1).
// Expects: uniform `p` with ldy, yCol0, biasOff, flags; `B: array<f32>`; `Y: array<f32>` (read_write).

fn store(t: u32, n: u32, s: f32) {
  var v = s;
  if ((p.flags & 1u) != 0u) { v += B[p.biasOff + n]; }
  let yi = t * p.ldy + p.yCol0 + n;
  if ((p.flags & 2u) != 0u) { v += Y[yi]; }
  Y[yi] = v;
}
