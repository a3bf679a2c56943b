// `npm run bench -- <name> [--reps N] [--out FILE] [--json] [--skip-opt]`
// Benchmarks print a summary and write JSON to bench/results/<name>-<adapter>.json.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createNodeEngine } from '../src/node/engine';
import { forwardBench } from './forward';
import { pruneBench } from './prune';
import { scaleBench } from './scale';
import { SCALE_CONFIGS } from './scale-models';
import os from 'node:os';
import fs from 'node:fs';
import { parseBytes } from '../src/core/units';
import { generateBench } from './generate';
import { trainBench } from './train';
import { machine, writeResult } from './util';

if (process.argv[2] === 'spmm') {
  // Its own options (see bench/spmm.ts): --reps --dtypes --models --shapes --patterns --formats --all-variants
  const { main } = await import('./spmm');
  await main(process.argv.slice(3));
  process.exit(0);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    'skip-opt': { type: 'boolean', default: false },
    samples: { type: 'string' },
    seqlen: { type: 'string' },
    dims: { type: 'string' },
    tokens: { type: 'string' },
    layers: { type: 'string' },
    'factor-dims': { type: 'string' },
    'recon-dims': { type: 'string' },
    models: { type: 'string' },
    budget: { type: 'string' },
    dir: { type: 'string' },
    'skip-factor': { type: 'boolean', default: false },
  },
});

const name = positionals[0];
if (name !== 'forward' && name !== 'prune' && name !== 'generate' && name !== 'train' && name !== 'scale') {
  process.stderr.write(
    'usage: npm run bench -- forward [--reps N] [--out FILE] [--json] [--skip-opt]\n' +
      '       npm run bench -- prune [--samples 8] [--seqlen 128] [--dims 256,512,768,1024] [--factor-dims 768,2048] [--recon-dims 4864] [--skip-opt] [--out FILE] [--json]\n' +
      '       npm run bench -- generate [--tokens 32] [--out FILE] [--json]\n' +
      '       npm run bench -- train [--seqlen 128] [--layers 2] [--reps N] [--skip-opt] [--out FILE] [--json]\n' +
      `       npm run bench -- scale [--models ${Object.keys(SCALE_CONFIGS).join(',')}] [--layers 1] [--samples 4] [--seqlen 64] [--budget 1GiB] [--dir DIR] [--skip-factor] [--out FILE] [--json]\n` +
      '       npm run bench -- spmm [--reps N] [--models opt125m,stories260K] [--patterns 50%,2:4] [--json] [--out FILE]\n',
  );
  process.exit(2);
}

const engine = await createNodeEngine();
const adapter = engine.adapter;
/** Writes the result JSON (with adapter and machine), prints it or where it went, and exits. */
function finish(fields: Record<string, unknown>, summary?: () => void): never {
  const doc = { bench: name, date: new Date().toISOString(), adapter, machine: machine(), ...fields };
  const file = writeResult(name, adapter.description, doc, values.out);
  if (values.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
  else {
    summary?.();
    process.stdout.write(`adapter: ${adapter.description}\nwritten: ${file}\n`);
  }
  engine.dispose();
  process.exit(0);
}

if (name === 'generate') {
  const results = await generateBench(engine, {
    demoDir: path.resolve('public/models/stories260K'),
    calibText: path.resolve('public/data/sample-calib.txt'),
    tokens: Number(values.tokens ?? 32),
    log: (s) => process.stderr.write(`${s}\n`),
  });
  finish({ results });
}
if (name === 'train') {
  const layers = Number(values.layers ?? (adapter.isSoftware ? 1 : 0));
  const results = await trainBench(engine, {
    reps: values.reps ? Number(values.reps) : adapter.isSoftware ? 1 : 5,
    demoDir: path.resolve('public/models/stories260K'),
    seqlen: Number(values.seqlen ?? 128),
    // 0: the full depth of each shape (a real GPU); a software adapter affords one layer.
    layers: layers > 0 ? layers : 0,
    skipOpt: values['skip-opt'] ?? false,
    log: (s) => process.stderr.write(`${s}\n`),
  });
  finish({ results }, () => {
    for (const r of results) {
      process.stdout.write(
        `${r.model}: ${r.tokens_per_s.toFixed(1)} tokens/s training at seqlen ${r.seqlen}; step ${r.step_ms.toFixed(1)} ms = forward ${r.forward_ms.toFixed(1)} + backward ${r.backward_ms.toFixed(1)} + optimizer ${r.optimizer_ms.toFixed(1)} (${r.step_over_forward.toFixed(2)}× a forward); state ${(r.training_state_bytes / 2 ** 20).toFixed(1)} MiB (predicted ${(r.predicted_bytes / 2 ** 20).toFixed(1)} MiB); with recomputation step ${r.recompute_step_ms.toFixed(1)} ms, state ${(r.recompute_state_bytes / 2 ** 20).toFixed(1)} MiB (predicted ${(r.recompute_predicted_bytes / 2 ** 20).toFixed(1)} MiB)\n` +
          `  by kernel: ${r.kernels.slice(0, 6).map((k) => `${k.kernel} ${k.ms.toFixed(0)} ms`).join(', ')}\n`,
      );
    }
  });
}
if (name === 'scale') {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const results = await scaleBench(engine, {
    models: (values.models ?? Object.keys(SCALE_CONFIGS).join(',')).split(',').filter(Boolean),
    layers: Number(values.layers ?? 1),
    samples: Number(values.samples ?? 4),
    seqlen: Number(values.seqlen ?? 64),
    budget: parseBytes(values.budget ?? '1GiB'),
    dir: values.dir ?? path.join(os.tmpdir(), 'prune-studio-scale'),
    factor: !values['skip-factor'],
    calibText: fs.readFileSync(path.resolve('public/data/sample-calib.txt'), 'utf8'),
    evalText: fs.readFileSync(path.resolve('public/data/sample-eval.txt'), 'utf8'),
    log,
  });
  finish({ results });
}
if (name === 'prune') {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const results = await pruneBench(engine, {
    demoDir: path.resolve('public/models/stories260K'),
    calibText: path.resolve('public/data/sample-calib.txt'),
    samples: Number(values.samples ?? 8),
    seqlen: Number(values.seqlen ?? 128),
    dims: (values.dims ?? '256,512,768,1024').split(',').filter(Boolean).map(Number),
    factorDims: (values['factor-dims'] ?? '768,2048').split(',').filter(Boolean).map(Number),
    reconDims: (values['recon-dims'] ?? '').split(',').filter(Boolean).map(Number),
    skipOpt: values['skip-opt'] ?? false,
    log,
  });
  finish({ results });
}
// SwiftShader runs at about 1 GFLOP/s: one timed run (after a warm-up) is all it can afford.
const reps = values.reps ? Number(values.reps) : adapter.isSoftware ? 1 : 5;
const results = await forwardBench(engine, {
  reps,
  demoDir: path.resolve('public/models/stories260K'),
  skipOpt: values['skip-opt'] ?? false,
});
finish({ reps, results }, () => {
  for (const r of results) {
    process.stdout.write(`${r.model}: ${r.tokens_per_s.toFixed(1)} tokens/s at seqlen ${r.seqlen} (${r.forward_ms.toFixed(1)} ms, ${r.forward_gflops.toFixed(2)} GFLOP/s overall)\n`);
    for (const m of r.matmul) process.stdout.write(`  matmul ${m.shape} T=${m.T}: ${m.ms.toFixed(2)} ms, ${m.gflops.toFixed(2)} GFLOP/s, ${m.gbps.toFixed(2)} GB/s\n`);
  }
});
