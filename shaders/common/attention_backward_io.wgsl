// What both attention-backward kernels read: the head size (specialised by the host), the shape
// parameters, and Q, K, V of the forward (training: pos0 = 0, T keys).
const HD: u32 = 64u; // head_dim (specialised)

struct Params {
  T: u32,
  nHeads: u32,
  nKvHeads: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;           // (T, nHeads, HD)
@group(0) @binding(2) var<storage, read> K: array<f32>;           // (T, nKvHeads, HD)
@group(0) @binding(3) var<storage, read> V: array<f32>;           // (T, nKvHeads, HD)
