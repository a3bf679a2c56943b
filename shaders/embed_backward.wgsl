// embed_backward: the embedding table's gradient, accumulated, for the ids that fall in this row
// chunk [row0, row0 + rows):  dE[ids[t] − row0, c] += dY[t, c].
// Repeated ids add up without atomics: each thread owns one column and walks the tokens in order.
// Dispatch: 1-D over C, 256 threads.

struct Params {
  T: u32,
  C: u32,
  row0: u32,
  rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;        // (T)
@group(0) @binding(2) var<storage, read> dY: array<f32>;         // (T, C)
@group(0) @binding(3) var<storage, read_write> dE: array<f32>;   // (rows, C)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x * 256u + li;
  if (c >= p.C) { return; }
  for (var t = 0u; t < p.T; t++) {
    let id = ids[t];
    if (id >= p.row0 && id < p.row0 + p.rows) {
      let o = (id - p.row0) * p.C + c;
      dE[o] += dY[t * p.C + c];
    }
  }
}
