// The training protocol in float64 on the CPU (src/core/reference/train-protocol.ts), the oracle
// the README's training figures are checked against: the same folder, texts and settings as
// `finetune`, run without the GPU engine's kernels (the engine only reads the weights and the
// tokenizer). Minutes on the demo model; hours on anything much larger.
//
//   npx tsx scripts/train-oracle.ts --model DIR --train FILE --eval FILE [--steps 100] [--batch 8]
//     [--seqlen 128] [--lr 1e-3] [--warmup 10] [--weight-decay 0] [--clip 0] [--eval-seqlen 256]
//     [--max-windows N] [--gmp S --gmp-t0 T0 --gmp-dt DT --gmp-n N] [--out FILE.json]
//
// Prints the JSON of `finetune --json` (ppl_start, ppl, sparsity, steps, losses, pruning, seconds).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { referenceFinetune, referencePerplexity, referenceSparsity, type RefProtocol } from '../src/core/reference/train-protocol';
import type { RefParams } from '../src/core/reference/train-model';
import { createNodeEngine, loadNodeModel } from '../src/node/engine';

const { values: a } = parseArgs({
  options: Object.fromEntries(
    ['model', 'train', 'eval', 'steps', 'batch', 'seqlen', 'lr', 'warmup', 'weight-decay', 'clip', 'eval-seqlen', 'max-windows', 'gmp', 'gmp-t0', 'gmp-dt', 'gmp-n', 'out'].map((k) => [k, { type: 'string' as const }]),
  ),
});
const need = (k: string) => {
  const v = a[k];
  if (typeof v !== 'string') throw new Error(`--${k} is required`);
  return v;
};
const num = (k: string, def: number) => (typeof a[k] === 'string' ? Number(a[k]) : def);

const protocol: RefProtocol = {
  steps: num('steps', 100), batch: num('batch', 8), seqlen: num('seqlen', 128), lr: num('lr', 1e-3),
  warmup: num('warmup', 10), weightDecay: num('weight-decay', 0), clip: num('clip', 0),
  ...(a.gmp ? { gmp: { final: num('gmp', 0), t0: num('gmp-t0', 0), dt: num('gmp-dt', 1), n: num('gmp-n', 0) } } : {}),
};
const evalSeqlen = num('eval-seqlen', 256);
const maxWindows = a['max-windows'] ? num('max-windows', 0) : undefined;

const engine = await createNodeEngine();
try {
  await loadNodeModel(engine, need('model'));
  const model = engine.gpuModel!;
  const params: RefParams = new Map();
  for (const name of model.weights.keys()) params.set(name, Float64Array.from(await model.read(name)));
  const trainIds = Array.from(engine.encode(fs.readFileSync(need('train'), 'utf8')));
  const evalIds = Array.from(engine.encode(fs.readFileSync(need('eval'), 'utf8')));
  const t0 = performance.now();
  const pplStart = referencePerplexity(model.spec, params, evalIds, evalSeqlen, maxWindows);
  process.stderr.write(`ppl_start ${pplStart}\n`);
  const run = referenceFinetune(model.spec, params, trainIds, protocol, (t, loss) => process.stderr.write(`step ${t + 1}/${protocol.steps} loss ${loss.toFixed(6)} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`));
  const ppl = referencePerplexity(model.spec, params, evalIds, evalSeqlen, maxWindows);
  const out = {
    ppl_start: pplStart, ppl, sparsity: referenceSparsity(model.spec, params), steps: protocol.steps,
    tokens: protocol.steps * protocol.batch * protocol.seqlen, seconds: (performance.now() - t0) / 1000, losses: run.losses, pruning: run.pruning,
  };
  const text = JSON.stringify(out);
  if (a.out) fs.writeFileSync(a.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
} finally {
  engine.dispose();
}
