// adamw: one AdamW step (Loshchilov & Hutter, decoupled weight decay; PyTorch's torch.optim.AdamW)
// on one parameter tensor, in place, with the gradient scaled by the global-norm clip factor and
// the sparsity mask applied after the update (pruned weights stay exactly 0):
//   g = G[i] · gscale
//   M[i] = β1 M[i] + (1 − β1) g;   V[i] = β2 V[i] + (1 − β2) g²
//   W[i] = W[i] · (1 − lr·wd) − lr · (M[i] / bc1) / (sqrt(V[i] / bc2) + ε)
//   W[i] = 0 where mask[i] = 0 (when masked)
// bc1 = 1 − β1^t, bc2 = 1 − β2^t for step t ≥ 1 (computed on the host in float64).
// The step consumes the gradient: G[i] = 0 afterwards, so the next step accumulates from zero
// without a separate clearing pass over the gradients.
// Dispatch: 1-D over n, 256 threads, folded into 2-D past 65535 groups.

struct Params {
  n: u32,
  masked: u32,
  lr: f32,
  wd: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
  gscale: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;  // (n) parameter
@group(0) @binding(2) var<storage, read_write> G: array<f32>;  // (n) gradient, zeroed
@group(0) @binding(3) var<storage, read_write> M: array<f32>;  // (n) first moment
@group(0) @binding(4) var<storage, read_write> V: array<f32>;  // (n) second moment
@group(0) @binding(5) var<storage, read> mask: array<u32>;     // (ceil(n / 32)) bits, 1 = kept; unused unless masked

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + li;
  if (i >= p.n) { return; }
  if (p.masked != 0u && ((mask[i >> 5u] >> (i & 31u)) & 1u) == 0u) {
    W[i] = 0.0;
    M[i] = 0.0;
    V[i] = 0.0;
    G[i] = 0.0;
    return;
  }
  let g = G[i] * p.gscale;
  G[i] = 0.0;
  let m = p.beta1 * M[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * V[i] + (1.0 - p.beta2) * g * g;
  M[i] = m;
  V[i] = v;
  W[i] = W[i] * (1.0 - p.lr * p.wd) - p.lr * (m / p.bc1) / (sqrt(v / p.bc2) + p.eps);
}
