// Decode benchmark: greedy generation with the KV cache on the demo model, dense against the
// sparse kernels (each format, and the auto-selected mix), after pruning to 50%, 70% and 2:4.
import fs from 'node:fs';
import type { Engine } from '../src/core/engine';
import { generateGreedy } from '../src/core/eval/generate';
import type { Target } from '../src/core/prune/types';
import type { SparseMode } from '../src/core/sparse/select';
import { loadNodeModel } from '../src/node/engine';

export async function generateBench(engine: Engine, opts: { demoDir: string; calibText: string; tokens: number; log: (s: string) => void }) {
  await loadNodeModel(engine, opts.demoDir);
  const calib = fs.readFileSync(opts.calibText, 'utf8');
  const model = () => engine.gpuModel!;
  const targets: Array<[string, Target]> = [
    ['50%', { kind: 'unstructured', sparsity: 0.5 }],
    ['70%', { kind: 'unstructured', sparsity: 0.7 }],
    ['2:4', { kind: 'nm', n: 2, m: 4 }],
  ];
  const out = [];
  for (const [label, target] of targets) {
    await engine.prune(calib, { method: 'sparsegpt', target, calibSamples: 8, seqlen: 128 });
    const modes: SparseMode[] = ['dense', 'bitmask', 'csr', ...(target.kind === 'nm' ? (['2:4'] as const) : []), 'auto'];
    let reference: number[] | null = null;
    for (const mode of modes) {
      await engine.useSparse(mode);
      await generateGreedy(model(), [1], 4, null); // warm-up: pipelines compiled
      const t0 = performance.now();
      const ids = await generateGreedy(model(), [1], opts.tokens, null);
      const s = (performance.now() - t0) / 1000;
      reference ??= ids;
      const row = { target: label, mode, tokens: opts.tokens, seconds: s, tokens_per_s: opts.tokens / s, same_tokens_as_dense: ids.join() === reference.join() };
      out.push(row);
      opts.log(`stories260K sparsegpt ${label} ${mode.padEnd(7)} ${row.tokens_per_s.toFixed(1)} tokens/s${row.same_tokens_as_dense ? '' : ' (tokens differ from dense!)'}`);
    }
    await engine.useSparse('dense');
  }
  return { model: 'stories260K', method: 'sparsegpt', prompt: 'BOS', results: out };
}
