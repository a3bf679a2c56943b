// embed: Y[t, c] (+)= E[ids[t] - row0, c] for the ids that fall in this chunk [row0, row0 + rows).
// Token embeddings and learned position embeddings (ids = positions + offset). Large embedding
// tables are paged into row chunks; one dispatch per chunk, each writing only its own rows.
// Dispatch: 1-D over T*C elements, 256 threads, folded into 2-D (x, y) past 65535 groups.
// flags: bit 0 = accumulate into Y.

struct Params {
  T: u32,
  C: u32,
  row0: u32,
  rows: u32,
  flags: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;      // (T)
@group(0) @binding(2) var<storage, read> E: array<f32>;        // (rows, C)
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;  // (T, C)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let idx = (wg.y * nwg.x + wg.x) * 256u + li;
  if (idx >= p.T * p.C) { return; }
  let t = idx / p.C;
  let c = idx % p.C;
  let id = ids[t];
  if (id < p.row0 || id >= p.row0 + p.rows) { return; }
  var v = E[(id - p.row0) * p.C + c];
  if ((p.flags & 1u) != 0u) { v += Y[idx]; }
  Y[idx] = v;
}
