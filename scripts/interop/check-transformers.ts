// Compares the engine's perplexity with transformers' float64 figures for the models that
// scripts/interop/transformers_configs.py saved (transformers 5 config forms).
//
//   npx tsx scripts/interop/check-transformers.ts OUT_DIR TEXT_FILE
//
// Prints one line per model (transformers ppl, ours, relative difference, or the error we give)
// and exits 1 if any differs by more than 1e-5 relative. Not part of the test suite.
import fs from 'node:fs';
import path from 'node:path';
import { decodeTextFile } from '../../src/core/eval/text';
import { createNodeEngine, loadNodeModel } from '../../src/node/engine';

const [out, textFile] = process.argv.slice(2);
if (!out || !textFile) throw new Error('usage: check-transformers.ts OUT_DIR TEXT_FILE');
const expected = JSON.parse(fs.readFileSync(path.join(out, 'expected.json'), 'utf8')) as {
  transformers: string;
  seqlen: number;
  windows: number;
  models: Record<string, { ppl: number }>;
};
const text = decodeTextFile(new Uint8Array(fs.readFileSync(textFile)), path.basename(textFile));
const engine = await createNodeEngine();
let worst = 0;
console.log(`transformers ${expected.transformers}, seqlen ${expected.seqlen}, ${expected.windows} windows`);
for (const [name, e] of Object.entries(expected.models)) {
  try {
    await loadNodeModel(engine, path.join(out, name));
    const r = await engine.perplexity(text, { seqlen: expected.seqlen, maxWindows: expected.windows });
    const rel = (r.ppl - e.ppl) / e.ppl;
    worst = Math.max(worst, Math.abs(rel));
    console.log(`${name.padEnd(34)} transformers ${e.ppl.toFixed(4).padStart(12)}  ours ${r.ppl.toFixed(4).padStart(12)}  ${rel >= 0 ? '+' : ''}${rel.toExponential(2)}`);
  } catch (err) {
    worst = Infinity;
    console.log(`${name.padEnd(34)} refused: ${(err as Error).name}: ${(err as Error).message}`);
  }
}
engine.dispose();
console.log(`worst relative difference: ${worst.toExponential(2)}`);
process.exit(worst <= 1e-5 ? 0 : 1);
