// The floor plan, held against the code: the imports of src/ (type-only ones too) form no cycle,
// the page's stores never import its components, and the rooms of src/core import only downwards
// along the pipeline:
//   jobs → engine → prune · sparse · export · plan → calib · eval → nn → model → tokenizer · hub
//        → io · gpu → options → errors · types · random
// (reference/ holds the float64 oracles of the tests: nothing in src/ imports it).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers/fixtures';

const SRC = path.join(ROOT, 'src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? files(p) : /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g;

function resolve(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (/\.tsx?$/.test(c) && fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return null;
}

/** file → the files of src/ it imports (relative imports only; packages are not rooms). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = fs.readFileSync(f, 'utf8');
    const out: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const r = resolve(f, spec);
      if (r && r.startsWith(SRC)) out.push(r);
    }
    g.set(f, out);
  }
  return g;
}

const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');

/** Strongly connected components with more than one file, or a file importing itself. */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) out.push(comp.map(rel).sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The room of a core file and its floor (higher floors may import lower ones). */
const CORE_FLOORS: Record<string, number> = {
  errors: 0, types: 0, random: 0, units: 0,
  options: 1,
  io: 2, gpu: 2,
  tokenizer: 3, hub: 3,
  model: 4,
  nn: 5,
  calib: 6, eval: 6,
  prune: 7, train: 7, sparse: 7, export: 7, plan: 7,
  engine: 8,
  jobs: 9,
};

function coreRoom(file: string): string | null {
  const r = rel(file);
  if (!r.startsWith('core/')) return null;
  const first = r.slice(5).split('/')[0].replace(/\.tsx?$/, '');
  return first;
}

describe('floor plan of src/', () => {
  const g = graph();

  test('no import cycle', () => {
    expect(cycles(g)).toEqual([]);
  });

  test('the stores never import the components (store → ui)', () => {
    const bad = [...g].flatMap(([f, to]) => (rel(f).startsWith('store/') ? to.filter((t) => rel(t).startsWith('ui/')).map((t) => `${rel(f)} → ${rel(t)}`) : []));
    expect(bad).toEqual([]);
  });

  test('core is framework-free and imports only downwards along the pipeline', () => {
    const bad: string[] = [];
    for (const [f, to] of g) {
      const room = coreRoom(f);
      if (room === null) continue;
      for (const t of to) {
        const target = coreRoom(t);
        if (target === null) {
          bad.push(`${rel(f)} → ${rel(t)} (core imports outside core)`);
          continue;
        }
        if (target === 'reference' && room !== 'reference') bad.push(`${rel(f)} → ${rel(t)} (the oracles are for tests only)`);
        if (room === 'reference' || target === room || target === 'reference') continue;
        if (!(room in CORE_FLOORS) || !(target in CORE_FLOORS)) {
          bad.push(`${rel(f)} → ${rel(t)} (a room missing from the floor plan: ${!(room in CORE_FLOORS) ? room : target})`);
          continue;
        }
        if (CORE_FLOORS[target] >= CORE_FLOORS[room]) bad.push(`${rel(f)} → ${rel(t)} (${room} on floor ${CORE_FLOORS[room]} imports ${target} on floor ${CORE_FLOORS[target]})`);
      }
    }
    expect(bad).toEqual([]);
  });
});
