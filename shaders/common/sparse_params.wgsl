// Params of the sparse linear kernels (spmv_* / spmm_*): the uniform at @binding(0) of each.
// Expects nothing; the including file declares `@group(0) @binding(0) var<uniform> p: Params;`.
// flags: bit 0 = add bias, bit 1 = accumulate into Y.

struct Params {
  T: u32,       // tokens (rows of X and Y)
  N: u32,       // rows of W (output features in this block)
  K: u32,       // reduction length
  ldy: u32,     // row stride of Y
  yCol0: u32,   // first output column written
  biasOff: u32, // first bias element used
  flags: u32,
  MW: u32,      // mask / metadata words per row = ceil(K / 32) (bitmask, 2:4); unused by CSR, SELL
}
