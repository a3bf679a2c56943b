// Prune Studio CLI: thin over the engine. `npm run cli -- <command> [options]`.
// Prints one JSON object with --json; errors go to stderr with a non-zero exit code.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ExportFile } from '../core/export/hf';
import { runSweep, sweepPoints } from '../core/jobs/sweep';
import type { SparseLlmOptions } from '../core/prune/sparsellm';
import { METHODS, type PruneMethod, type SublayerReport, parseOverrides, parseTarget, targetLabel } from '../core/prune/types';
import { BadOption, PruneStudioError } from '../core/errors';
import { decodeTextFile } from '../core/eval/text';
import { createNodeEngine } from '../node/engine';
import { loadModelForCli } from './load';
import { MissingFile } from '../core/errors';
import { runContextualCli } from './contextual';
import { runExportCli } from './export';

const USAGE = `Prune Studio CLI

Usage:
  npm run cli -- eval --model DIR --text FILE [--seqlen 256] [--max-windows N] [--json]
      Perplexity of a text (SparseGPT protocol: non-overlapping windows of seqlen tokens).
  npm run cli -- prune --model DIR --method magnitude|wanda|sparsegpt|sparsellm (--sparsity 0.5 | --pattern 2:4)
                --calib FILE [--calib-samples 32] [--seqlen 256] [--seed N] [--eval FILE] [--max-windows N]
                [--percdamp 0.01] [--blocksize 128] [--skip-layers 0,1] [--override mlp.down=30%,layers.0.attn.q=2:4]
                [--sparsellm-keep last|best] [--sparsellm-iterations 4] [--out DIR] [--json]
      Prune every linear sublayer of every decoder layer (sequentially, as the published code),
      optionally evaluate, and optionally export the pruned model as a Hugging Face folder.
  npm run cli -- sweep --model DIR --methods a,b --sparsities 0.1,0.5 [--patterns 2:4] --calib FILE
                --eval FILE [same options as prune] [--no-dense] [--json]
      Several methods × targets, each pruned from the dense model; prints a JSON array.
  npm run cli -- prune --model DIR --method contextual (--fraction 0.3 | --threshold X) [--head-fraction F | --head-threshold S]
                [--scoring mean|wanda] [--gqa whole-groups|within-groups] [--zero-unused-tokens] --calib FILE
                [--calib-samples 32] [--seqlen 256] [--seed N] [--eval FILE] [--eval-general FILE] [--max-windows N]
                [--out DIR] [--json]
      Contextual (structured) pruning on a domain text: removes the MLP neurons and attention heads the
      domain uses least (mean |activation|, or a Wanda-style score); perplexity on the domain (--eval) and
      a general text (--eval-general); --out writes the smaller model (smaller intermediate_size / heads).
  npm run cli -- export --model DIR --format gguf|hf [--dtype f32|f16] --out PATH [--json]
      The model as it is (e.g. a pruned folder) for other tools: gguf = one file for llama.cpp /
      Ollama (llama, qwen2, gpt2, gpt_neox, phi; F32 or F16), hf = a Hugging Face folder.
  npm run cli -- info --model DIR [--json]
      Model card: architecture, sizes, dtype, tensors, and the GPU adapter.
  npm run cli -- adapter [--json]
      The WebGPU adapter the engine finds (GPU, or software SwiftShader).

Options:
  --model DIR         Hugging Face model folder (config.json, *.safetensors, tokenizer files), or
  --model hf:ORG/NAME[@REVISION]
                      a model on the Hugging Face Hub, downloaded into (or read from) the Hugging
                      Face cache: HF_HOME / HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE=1
  --text FILE         UTF-8 evaluation text
  --seqlen N          tokens per window (default 256)
  --max-windows N     use only the first N windows
  --json              print one JSON object
`;

function int(v: string | undefined, name: string, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new BadOption(`--${name} must be a positive integer (got "${v}").`);
  return n;
}

function nonNegInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BadOption(`--${name} must be a non-negative integer (got "${v}").`);
  return n;
}

function positive(v: string, name: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new BadOption(`--${name} must be a positive number (got "${v}").`);
  return n;
}

function parseMethod(m: string): PruneMethod {
  if (!(METHODS as readonly string[]).includes(m)) throw new BadOption(`Unknown method "${m}"; choose one of ${METHODS.join(', ')}.`);
  return m as PruneMethod;
}

function writeFolder(dir: string, files: ExportFile[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), f.bytes);
}

function need(v: string | undefined, name: string): string {
  if (!v) throw new BadOption(`--${name} is required.\n\n${USAGE}`);
  return v;
}

function readTextFile(p: string): string {
  if (!fs.existsSync(p)) throw new MissingFile(`Text file not found: ${p}`);
  return decodeTextFile(fs.readFileSync(p), p);
}


/** --sparsellm-keep last|best and --sparsellm-iterations N (SparseLLM only; defaults: the authors'). */
function sparsellmOptions(keep: string | undefined, iterations: string | undefined): Partial<SparseLlmOptions> | undefined {
  const o: Partial<SparseLlmOptions> = {};
  if (keep !== undefined) {
    if (keep !== 'last' && keep !== 'best') throw new BadOption(`--sparsellm-keep must be "last" (the authors') or "best" (the alternation with the lowest MLP error); got "${keep}".`);
    o.keep = keep;
  }
  if (iterations !== undefined) {
    const n = Number(iterations);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new BadOption(`--sparsellm-iterations must be a whole number from 1 to 50; got "${iterations}".`);
    o.iterations = n;
  }
  return Object.keys(o).length ? o : undefined;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      text: { type: 'string' },
      seqlen: { type: 'string' },
      'max-windows': { type: 'string' },
      method: { type: 'string' },
      methods: { type: 'string' },
      sparsity: { type: 'string' },
      sparsities: { type: 'string' },
      pattern: { type: 'string' },
      patterns: { type: 'string' },
      calib: { type: 'string' },
      'calib-samples': { type: 'string' },
      seed: { type: 'string' },
      eval: { type: 'string' },
      percdamp: { type: 'string' },
      blocksize: { type: 'string' },
      'skip-layers': { type: 'string' },
      'sparsellm-keep': { type: 'string' },
      'sparsellm-iterations': { type: 'string' },
      override: { type: 'string' },
      out: { type: 'string' },
      'no-dense': { type: 'boolean', default: false },
      // prune --method contextual (src/cli/contextual.ts)
      fraction: { type: 'string' },
      threshold: { type: 'string' },
      'head-fraction': { type: 'string' },
      'head-threshold': { type: 'string' },
      scoring: { type: 'string' },
      gqa: { type: 'string' },
      'zero-unused-tokens': { type: 'boolean', default: false },
      'eval-general': { type: 'string' },
      // export (src/cli/export.ts)
      format: { type: 'string' },
      dtype: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(USAGE);
    return cmd || values.help ? 0 : 2;
  }
  const print = (obj: Record<string, unknown>, human: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(obj)}\n` : `${human}\n`);

  switch (cmd) {
    case 'adapter': {
      const engine = await createNodeEngine();
      print({ ...engine.adapter }, `${engine.adapter.description}${engine.adapter.isSoftware ? ' (software)' : ''}`);
      engine.dispose();
      return 0;
    }
    case 'info': {
      const engine = await createNodeEngine();
      try {
        const m = await loadModelForCli(engine, need(values.model, 'model'));
        const { tensors, ...card } = m;
        print(
          { ...card, tensors: tensors.length, adapter: engine.adapter },
          `${m.name}: ${m.architecture} (${m.family}), ${m.parameters.toLocaleString()} parameters, ${m.layers} layers, hidden ${m.hidden}, ${m.heads} heads (${m.kvHeads} KV), ffn ${m.ffn}, vocab ${m.vocabSize}, ${m.dtype}, ${m.bytes.toLocaleString()} bytes\nadapter: ${engine.adapter.description}`,
        );
        return 0;
      } finally {
        engine.dispose();
      }
    }
    case 'eval': {
      const modelDir = need(values.model, 'model');
      const text = readTextFile(need(values.text, 'text'));
      const seqlen = int(values.seqlen, 'seqlen', 256)!;
      const maxWindows = int(values['max-windows'], 'max-windows');
      const engine = await createNodeEngine();
      try {
        await loadModelForCli(engine, modelDir);
        const r = await engine.perplexity(text, { seqlen, maxWindows }, (p) => {
          if (!values.json && process.stderr.isTTY) process.stderr.write(`\r${p.detail ?? `${p.done}/${p.total}`}   `);
        });
        if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
        print(
          { ppl: r.ppl, nll: r.nll, windows: r.windows, tokens: r.tokens, seconds: r.seconds, adapter: r.adapter },
          `perplexity ${r.ppl.toFixed(4)} (mean NLL ${r.nll.toFixed(6)}) over ${r.windows} windows, ${r.tokens} predicted tokens, ${r.seconds.toFixed(2)} s on ${r.adapter}`,
        );
        return 0;
      } finally {
        engine.dispose();
      }
    }
    case 'prune':
    case 'sweep': {
      if (cmd === 'prune' && values.method === 'contextual') {
        return runContextualCli(values, { need, readTextFile, int, nonNegInt, writeFolder, print });
      }
      const modelDir = need(values.model, 'model');
      const calib = readTextFile(need(values.calib, 'calib'));
      const evalText = values.eval ? readTextFile(values.eval) : null;
      if (cmd === 'sweep' && !evalText) throw new BadOption('sweep needs --eval FILE.');
      const seqlen = int(values.seqlen, 'seqlen', 256)!;
      const common = {
        calibSamples: int(values['calib-samples'], 'calib-samples', 32)!,
        seqlen,
        seed: values.seed === undefined ? undefined : nonNegInt(values.seed, 'seed'),
        percdamp: values.percdamp === undefined ? undefined : positive(values.percdamp, 'percdamp'),
        blocksize: int(values.blocksize, 'blocksize'),
        sparsellm: sparsellmOptions(values['sparsellm-keep'], values['sparsellm-iterations']),
      };
      const maxWindows = int(values['max-windows'], 'max-windows');
      const engine = await createNodeEngine();
      try {
        await loadModelForCli(engine, modelDir);
        const progress = (p: { detail?: string; done: number; total: number }) => {
          if (!values.json && process.stderr.isTTY) process.stderr.write(`\r${p.detail ?? `${p.done}/${p.total}`}      `);
        };
        const layersOut = (layers: SublayerReport[]) =>
          layers.map((l) => ({
            name: l.hf ?? engine.hfName(l.name), sparsity: l.sparsity, rel_error: l.rel_error, ...(l.note ? { note: l.note } : {}),
            // SparseLLM, on each MLP's down projection: ‖Y − Ŷ‖²/‖Y‖² after each alternation.
            ...(l.history ? { mlp_error_per_alternation: l.history, kept_alternation: l.kept } : {}),
          }));
        if (cmd === 'prune') {
          const method = parseMethod(need(values.method, 'method'));
          const target = parseTarget({ sparsity: values.sparsity, pattern: values.pattern });
          const skipLayers = values['skip-layers'] ? values['skip-layers'].split(',').map((x) => nonNegInt(x, 'skip-layers')) : undefined;
          const overrides = values.override ? parseOverrides(values.override) : undefined;
          const t0 = performance.now();
          const r = await engine.prune(calib, { method, target, ...common, skipLayers, overrides }, progress);
          const e = evalText ? await engine.perplexity(evalText, { seqlen, maxWindows }, progress) : null;
          if (values.out) writeFolder(values.out, await engine.exportModel());
          if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
          const out = {
            method, sparsity: r.sparsity, ppl: e?.ppl ?? null, nll: e?.nll ?? null, windows: e?.windows ?? null,
            tokens: e?.tokens ?? null, seconds: (performance.now() - t0) / 1000, layers: layersOut(r.layers),
          };
          for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
          print(out, `${method} ${targetLabel(target)}: sparsity ${(r.sparsity * 100).toFixed(2)}%${e ? `, perplexity ${e.ppl.toFixed(4)}` : ''}, ${out.seconds.toFixed(1)} s${values.out ? `; exported to ${values.out}` : ''}`);
        } else {
          const methods = need(values.methods, 'methods').split(',').map(parseMethod);
          const sparsities = (values.sparsities ?? '').split(',').filter(Boolean).map((x) => Number(x));
          const patterns = (values.patterns ?? '').split(',').filter(Boolean).map((p) => {
            const t = parseTarget({ pattern: p });
            return [(t as { n: number }).n, (t as { m: number }).m] as [number, number];
          });
          const points = sweepPoints(methods, sparsities, patterns);
          if (!points.length) throw new BadOption('sweep needs --sparsities and/or --patterns.');
          const results = await runSweep(engine, calib, evalText!, { points, includeDense: !values['no-dense'], ...common, maxWindows }, (p) => {
            if (!values.json) process.stderr.write(`${p.label}: sparsity ${(p.sparsity * 100).toFixed(2)}%, perplexity ${p.ppl.toFixed(4)}\n`);
          }, progress);
          const arr = results.map((p) => ({
            method: p.method, sparsity: p.sparsity, ppl: p.ppl, nll: p.nll, windows: p.windows, tokens: p.tokens,
            seconds: p.seconds, layers: layersOut(p.layers), ...(p.target?.kind === 'nm' ? { pattern: `${p.target.n}:${p.target.m}` } : {}),
          }));
          process.stdout.write(values.json ? `${JSON.stringify(arr)}\n` : `${arr.map((p) => `${p.method}\t${(p.sparsity * 100).toFixed(2)}%\t${p.ppl.toFixed(4)}`).join('\n')}\n`);
        }
        return 0;
      } finally {
        engine.dispose();
      }
    }
    case 'export':
      return runExportCli(values, { need, writeFolder, print });
    default:
      process.stderr.write(`Unknown command "${cmd}".\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const known = e instanceof PruneStudioError;
    process.stderr.write(`error: ${known ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(known ? 1 : 3);
  },
);
