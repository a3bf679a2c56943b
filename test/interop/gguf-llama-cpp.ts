// GGUF exports checked in llama.cpp itself (node-llama-cpp's prebuilt CPU build): the demo model
// and a tiny fixture of every family llama.cpp runs are exported by the engine (F32 and F16),
// loaded by llama.cpp, and compared with the engine:
//   - next-token logits after a prompt (the same token ids fed to both): F32 within 1e-3 of the
//     logits' scale (max |logit|, at least 1), F16 within 5e-2 (llama.cpp runs F16 weights with
//     F16 activations). llama.cpp computes GELU from an f16 lookup table, which alone moves the
//     GELU families' logits by about 1e-3 absolute; the llama-style families agree to ~1e-6;
//   - perplexity of a text, each side tokenizing it with its own tokenizer (so the exported
//     vocabulary is checked too) and the studio's protocol (non-overlapping windows from position
//     0): within 0.1 % (F32), and the same token ids.
// Run by .ci/run after `npm ci --prefix test/interop` (node-llama-cpp is ~85 MB with the Linux x64
// binaries only, so it stays out of the studio's own dependencies):
//   npm --prefix test/interop test
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type LlamaModel, type Token } from 'node-llama-cpp';
import { ggufChunks } from '../../src/core/export/gguf-writer';
import type { Engine } from '../../src/core/engine';
import { createNodeEngine, loadNodeModel } from '../../src/node/engine';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEXT = fs.readFileSync(path.join(ROOT, 'public/data/sample-eval.txt'), 'utf8');
const MODELS: Array<{ name: string; dir: string; prompt: string; seqlen: number; windows: number; prune?: boolean }> = [
  { name: 'stories260K (demo)', dir: 'public/models/stories260K', prompt: 'Once upon a time', seqlen: 256, windows: 8 },
  // Pruned: SparseGPT 50 % (4 × 64 calibration tokens); the zeros go into the GGUF as they are.
  { name: 'stories260K SparseGPT 50%', dir: 'public/models/stories260K', prompt: 'Once upon a time', seqlen: 256, windows: 8, prune: true },
  ...['tiny-llama', 'tiny-llama-tied-bf16', 'tiny-qwen2', 'tiny-gpt2', 'tiny-gpt2-sharded', 'tiny-gpt-neox', 'tiny-gpt-neox-seq', 'tiny-phi'].map((n) => ({
    name: n,
    dir: `test/fixtures/models/${n}`,
    prompt: 'Once upon a time, the little dog saw',
    seqlen: 32,
    windows: 8,
  })),
];
const TOL = { F32: { logit: 1e-3, ppl: 1e-3 }, F16: { logit: 5e-2, ppl: 1e-2 } };

async function writeGguf(engine: Engine, type: 'F32' | 'F16', file: string): Promise<string[]> {
  const g = await engine.gguf(type);
  const fd = fs.openSync(file, 'w');
  for await (const c of ggufChunks(g.meta, g.tensors)) fs.writeSync(fd, c);
  fs.closeSync(fd);
  return g.notes;
}

/** Natural log-sum-exp minus the logit of `target`: the NLL of one prediction. */
function nllOf(logits: Map<number, number>, target: number): number {
  let mx = -Infinity;
  for (const v of logits.values()) mx = Math.max(mx, v);
  let s = 0;
  for (const v of logits.values()) s += Math.exp(v - mx);
  return mx + Math.log(s) - logits.get(target)!;
}

async function llamaCppRun(model: LlamaModel, promptIds: number[], textIds: number[], seqlen: number, windows: number) {
  const ctx = await model.createContext({
    contextSize: Math.max(seqlen, promptIds.length) + 8,
    batchSize: Math.max(seqlen, promptIds.length) + 8,
    sequences: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    const seq = ctx.getSequence();
    // Logits wanted after the last prompt token, and after every window token that has a successor.
    const item = (t: number, logits: boolean): ControlledEvaluateInputItem => (logits ? [t as Token, { generateNext: { logits: true } }] : (t as Token));
    const out = await seq.controlledEvaluate(promptIds.map((t, i) => item(t, i === promptIds.length - 1)));
    const last = out[promptIds.length - 1]!.next!.logits!;
    const logits = new Float32Array(last.size);
    for (const [t, v] of last) logits[t] = v;
    await seq.clearHistory();
    let nll = 0;
    let count = 0;
    const n = Math.min(Math.floor(textIds.length / seqlen), windows);
    for (let w = 0; w < n; w++) {
      const win = textIds.slice(w * seqlen, (w + 1) * seqlen);
      const r = await seq.controlledEvaluate(win.map((t, i) => item(t, i < win.length - 1)));
      for (let i = 0; i < win.length - 1; i++) {
        nll += nllOf(r[i]!.next!.logits!, win[i + 1]);
        count++;
      }
      await seq.clearHistory();
    }
    return { logits, ppl: Math.exp(nll / count), windows: n };
  } finally {
    await ctx.dispose();
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-interop-'));
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const engine = await createNodeEngine();
const rows: Array<Record<string, unknown>> = [];
let failed = 0;
try {
  for (const m of MODELS) {
    const summary = await loadNodeModel(engine, path.join(ROOT, m.dir));
    if (m.prune) {
      const calib = fs.readFileSync(path.join(ROOT, 'public/data/sample-calib.txt'), 'utf8');
      await engine.prune(calib, { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: 4, seqlen: 64 });
    }
    const ours = {
      ids: engine.encode(m.prompt),
      textIds: engine.encode(TEXT),
      ppl: (await engine.perplexity(TEXT, { seqlen: m.seqlen, maxWindows: m.windows })).ppl,
    };
    const V = summary.vocabSize;
    const allLogits = await engine.gpuModel!.logits(ours.ids);
    const oursLast = allLogits.subarray((ours.ids.length - 1) * V, ours.ids.length * V);
    for (const type of ['F32', 'F16'] as const) {
      const file = path.join(tmp, `${m.dir.split('/').pop()}-${type}.gguf`);
      const notes = await writeGguf(engine, type, file);
      const model = await llama.loadModel({ modelPath: file });
      try {
        // llama.cpp's own tokenization, with its BOS when the exported vocabulary says to add one.
        const addBos = model.tokens.shouldPrependBosToken;
        const textIds = [...(addBos && model.tokens.bos !== null ? [model.tokens.bos] : []), ...model.tokenize(TEXT, true)].map(Number);
        const sameIds = textIds.length === ours.textIds.length && textIds.every((t, i) => t === ours.textIds[i]);
        const r = await llamaCppRun(model, ours.ids, textIds, m.seqlen, m.windows);
        let maxDiff = 0;
        let scale = 0;
        for (let j = 0; j < V; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(r.logits[j] - oursLast[j]));
          scale = Math.max(scale, Math.abs(oursLast[j]));
        }
        const pplRel = Math.abs(r.ppl - ours.ppl) / ours.ppl;
        const ok = maxDiff <= TOL[type].logit * Math.max(1, scale) && pplRel <= TOL[type].ppl && sameIds;
        if (!ok) failed++;
        rows.push({ model: m.name, type, ok, maxAbsLogitDiff: Number(maxDiff.toExponential(2)), maxAbsLogit: scale, pplOurs: ours.ppl, pplLlamaCpp: r.ppl, pplRel: Number(pplRel.toExponential(2)), sameTokenIds: sameIds, tokens: textIds.length, notes });
        console.log(
          `${ok ? 'ok  ' : 'FAIL'} ${m.name.padEnd(22)} ${type}  max |Δlogit| ${maxDiff.toExponential(2)} (≤ ${TOL[type].logit} × max |logit| ${scale.toFixed(2)})  ppl ours ${ours.ppl.toFixed(5)} llama.cpp ${r.ppl.toFixed(5)} (${(pplRel * 100).toFixed(4)} %, ≤ ${TOL[type].ppl * 100} %)  token ids ${sameIds ? 'identical' : `DIFFER (${textIds.length} vs ${ours.textIds.length})`}`,
        );
      } finally {
        await model.dispose();
      }
    }
  }
} finally {
  engine.dispose();
  await llama.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
}
fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench/results/gguf-llama-cpp.json'), `${JSON.stringify({ llamaCpp: 'node-llama-cpp 3.22.1 (llama.cpp release v0.5.0), CPU', rows }, null, 1)}\n`);
console.log(failed ? `${failed} check(s) failed` : `all ${rows.length} checks passed`);
process.exit(failed ? 1 : 0);
