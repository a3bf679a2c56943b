// Value i of a sparse weight's value array (bitmask, CSR, SELL).
// Expects: `V: array<u32>` (f32 bits, or f16 pairs with the low half first) and `const F16: u32`.

fn val(i: u32) -> f32 {
  if (F16 == 1u) { return unpack2x16float(V[i >> 1u])[i & 1u]; }
  return bitcast<f32>(V[i]);
}
