// The uniform and first bindings of the norm kernels (rmsnorm, layernorm, norm_backward), which
// run one row of X per RW threads (row_reduce.wgsl, included here).
struct Params {
  T: u32,
  C: u32,
  eps: f32,
  /** layernorm: bit 0 = has bias; norm_backward: bit 0 = add to dX, bit 1 = LayerNorm (else RMSNorm). */
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;  // (T, C) the norm's input
@group(0) @binding(2) var<storage, read> w: array<f32>;  // (C)

#include "common/row_reduce.wgsl"
