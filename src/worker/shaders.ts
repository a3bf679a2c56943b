// WGSL sources bundled at build time: shaders/<name>.wgsl at the repo root (subfolders included),
// looked up by <name>, the path below shaders/ without .wgsl (e.g. 'matmul', 'common/spmv_reduce').
const modules = import.meta.glob<string>('/shaders/**/*.wgsl', {
  query: '?raw',
  import: 'default',
  eager: true,
});

const byName = new Map<string, string>();
for (const [path, source] of Object.entries(modules)) {
  byName.set(path.replace(/^\/shaders\//, '').replace(/\.wgsl$/, ''), source);
}

/** Returns the WGSL source of shaders/<name>.wgsl; throws if it was not bundled. */
export function loadShader(name: string): string {
  const src = byName.get(name);
  if (src === undefined) {
    throw new Error(`Shader "${name}" is not bundled (expected shaders/${name}.wgsl; have: ${[...byName.keys()].join(', ') || 'none'}).`);
  }
  return src;
}

export function shaderNames(): string[] {
  return [...byName.keys()].sort();
}
