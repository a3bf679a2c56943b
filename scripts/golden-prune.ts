// Golden pruning results on stories260K from the independent float64 reference
// (src/core/reference/prune.ts, prune-model.ts), written to test/fixtures/stories260K/prune_golden.json.
//
//   npx tsx scripts/golden-prune.ts [--threads N]   (a few minutes; N worker threads, default 2)
//
// Protocol: calibration = the first 32 non-overlapping windows of 256 tokens of
// public/data/sample-calib.txt, tokenized once as a whole (the stories260K tokenizer prepends BOS to
// the text, not to each window); each window runs from position 0. Sequential layer-by-layer pruning
// as in sparsegpt llama_sequential / wanda prune_wanda: statistics from the dense layer i on the
// outputs of the pruned layers < i, then prune every linear sublayer of layer i, then recompute
// layer i. Evaluation: public/data/sample-eval.txt tokenized as a whole, seqlen 256, SparseGPT
// protocol (non-overlapping windows from position 0, ppl = exp(mean NLL of the predicted tokens)),
// all windows and separately the first 8.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { Tokenizer } from '@huggingface/tokenizers';
import type { HfConfig, RefTensors } from '../src/core/reference/hf-model.ts';
import { referencePerplexity, referencePruneModel, tokenWindows, type ReferencePruneMethod } from '../src/core/reference/prune-model.ts';
import type { PrunePattern } from '../src/core/reference/prune.ts';
import { parseSafetensorsRef } from '../src/core/reference/safetensors-ref.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const MODEL = join(REPO, 'public/models/stories260K');
const OUT = join(REPO, 'test/fixtures/stories260K/prune_golden.json');
const SEQLEN = 256;
const NSAMPLES = 32;
const FIRST = 8;
const BLOCKSIZE = 128;
const PERCDAMP = 0.01;

const RUNS: { method: ReferencePruneMethod; pattern: PrunePattern | null }[] = [
  { method: 'dense', pattern: null },
  { method: 'magnitude', pattern: { sparsity: 0.5 } },
  { method: 'wanda', pattern: { sparsity: 0.5 } },
  { method: 'sparsegpt', pattern: { sparsity: 0.5 } },
  { method: 'sparsegpt', pattern: { n: 2, m: 4 } },
  { method: 'wanda', pattern: { n: 2, m: 4 } },
  { method: 'magnitude', pattern: { n: 2, m: 4 } },
];

 
const readJson = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));

function sig(x: number, digits = 7): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

function loadInputs(): { config: HfConfig; tensors: RefTensors; calibIds: number[]; evalIds: number[]; calibration: number[][] } {
  const config: HfConfig = readJson(join(MODEL, 'config.json'));
  const tensors: RefTensors = parseSafetensorsRef(readFileSync(join(MODEL, 'model.safetensors'))).tensors;
  const tokenizer = new Tokenizer(readJson(join(MODEL, 'tokenizer.json')), readJson(join(MODEL, 'tokenizer_config.json')));
  const calibIds = tokenizer.encode(readFileSync(join(REPO, 'public/data/sample-calib.txt'), 'utf8')).ids;
  const evalIds = tokenizer.encode(readFileSync(join(REPO, 'public/data/sample-eval.txt'), 'utf8')).ids;
  const calibration = tokenWindows(calibIds, SEQLEN, NSAMPLES);
  if (calibration.length !== NSAMPLES) throw new Error(`calibration text gives ${calibration.length} windows, need ${NSAMPLES}`);
  return { config, tensors, calibIds, evalIds, calibration };
}

interface RunResult {
  index: number;
  log: string;
  json: Record<string, unknown>;
}

function doRun(inputs: ReturnType<typeof loadInputs>, index: number): RunResult {
  const { config, tensors, evalIds, calibration } = inputs;
  const run = RUNS[index];
  const t0 = performance.now();
  const pruned = referencePruneModel(config, tensors, calibration, {
    method: run.method,
    pattern: run.pattern ?? { sparsity: 0 },
    blocksize: BLOCKSIZE,
    percdamp: PERCDAMP,
    onCholeskyFail: 'throw',
  });
  const t1 = performance.now();
  // One pass over all windows; the first 8 are a prefix of them (same windows, same positions).
  const all = referencePerplexity(config, pruned.tensors, evalIds, SEQLEN);
  if (all.windows < FIRST) throw new Error(`eval text gives only ${all.windows} windows`);
  let nll8 = 0;
  for (let i = 0; i < FIRST; i++) nll8 += all.windowNll[i];
  const tokens8 = FIRST * (SEQLEN - 1);
  const ppl8 = Math.exp(nll8 / tokens8);
  const t2 = performance.now();
  const pat = run.pattern;
  const label = `${run.method}${pat ? ' ' + ('n' in pat ? `${pat.n}:${pat.m}` : `${pat.sparsity * 100}%`) : ''}`;
  const log =
    `${label.padEnd(16)} ppl_all ${all.ppl.toFixed(4)} (${all.windows} windows)  ppl_first8 ${ppl8.toFixed(4)}  sparsity ${pruned.sparsity.toFixed(6)}` +
    `  prune ${((t1 - t0) / 1000).toFixed(1)} s, eval ${((t2 - t1) / 1000).toFixed(1)} s`;
  const json: Record<string, unknown> = {
    method: run.method,
    ...(pat === null ? {} : 'n' in pat ? { pattern: `${pat.n}:${pat.m}` } : { pattern: 'unstructured', sparsity: pat.sparsity }),
    ppl_all: sig(all.ppl),
    windows_all: all.windows,
    tokens_all: all.tokens,
    ppl_first8: sig(ppl8),
    windows_first8: FIRST,
    tokens_first8: tokens8,
    achieved_sparsity: sig(pruned.sparsity),
  };
  if (run.method !== 'dense') {
    json.sublayers = pruned.sublayers.map((s) => ({ name: s.name, sparsity: sig(s.sparsity), rel_error: sig(s.rel_error) }));
  }
  return { index, log, json };
}

async function main(): Promise<void> {
  const argi = process.argv.indexOf('--threads');
  const threads = Math.max(1, Math.min(RUNS.length, argi >= 0 ? Number(process.argv[argi + 1]) || 1 : 2));
  const inputs = loadInputs();
  console.log(`calibration: ${inputs.calibIds.length} tokens, ${inputs.calibration.length} windows; eval: ${inputs.evalIds.length} tokens; ${threads} thread(s)`);
  const t0 = performance.now();
  const results: RunResult[] = [];
  if (threads === 1) {
    for (let i = 0; i < RUNS.length; i++) {
      const r = doRun(inputs, i);
      console.log(r.log);
      results.push(r);
    }
  } else {
    // Each worker is this file, loaded through tsx's ESM hooks; runs are handed out one at a time.
    const api = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    let next = 0;
    await Promise.all(
      Array.from({ length: threads }, () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(code, { eval: true });
          const feed = (): void => {
            if (next < RUNS.length) w.postMessage(next++);
            else void w.terminate().then(() => resolve());
          };
          w.on('message', (m: RunResult | 'ready') => {
            if (m !== 'ready') {
              console.log(m.log);
              results.push(m);
            }
            feed();
          });
          w.on('error', reject);
        }),
      ),
    );
  }
  results.sort((a, b) => a.index - b.index);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const golden = {
    note:
      'Written by scripts/golden-prune.ts from the independent float64 reference (src/core/reference/prune.ts, prune-model.ts). ' +
      `Calibration: first ${NSAMPLES} non-overlapping windows of ${SEQLEN} tokens of public/data/sample-calib.txt tokenized once as a whole (BOS prepended to the text only), each window from position 0. ` +
      'Sequential layer-by-layer pruning (sparsegpt llama_sequential / wanda prune_wanda, not true-sequential): statistics from one pass of the dense layer i on the outputs of the already-pruned layers < i, prune all 7 linear sublayers of layer i, recompute layer i. ' +
      `Magnitude: per-matrix threshold |W| <= sort(|W|)[int(numel*s)]; Wanda: |W|*sqrt(scaler_row), int(C*s) per output row (stable sort); SparseGPT: fasterprune blocksize ${BLOCKSIZE}, percdamp ${PERCDAMP}; N:M: N smallest in each group of M consecutive input columns of a row. ` +
      `Evaluation: public/data/sample-eval.txt tokenized as a whole, seqlen ${SEQLEN}, non-overlapping windows from position 0 (all, and the first ${FIRST}), ppl = exp(sum NLL / (windows*(seqlen-1))). ` +
      'sparsity = fraction of exact zeros; rel_error = tr(dW H dW^T)/tr(W H W^T) with the sublayer Hessian from the sequential pass. Values rounded to 7 significant digits.',
    model: 'stories260K',
    seqlen: SEQLEN,
    nsamples: NSAMPLES,
    blocksize: BLOCKSIZE,
    percdamp: PERCDAMP,
    calib_tokens: inputs.calibIds.length,
    eval_tokens: inputs.evalIds.length,
    runs: results.map((r) => r.json),
  };
  writeFileSync(OUT, JSON.stringify(golden, null, 1) + '\n');
  console.log(`wrote ${OUT}`);
}

if (isMainThread) {
  await main();
} else {
  const inputs = loadInputs();
  const port = parentPort!;
  port.on('message', (index: number) => port.postMessage(doRun(inputs, index)));
  port.postMessage('ready');
}
