// Prune Studio CLI: thin over the engine. `npm run cli -- <command> [options]`.
// Prints one JSON object with --json; errors go to stderr with a non-zero exit code.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { BadOption, PruneStudioError } from '../core/errors';
import { decodeTextFile } from '../core/eval/text';
import { createNodeEngine, loadNodeModel } from '../node/engine';
import { MissingFile } from '../core/errors';

const USAGE = `Prune Studio CLI

Usage:
  npm run cli -- eval --model DIR --text FILE [--seqlen 256] [--max-windows N] [--json]
      Perplexity of a text (SparseGPT protocol: non-overlapping windows of seqlen tokens).
  npm run cli -- info --model DIR [--json]
      Model card: architecture, sizes, dtype, tensors, and the GPU adapter.
  npm run cli -- adapter [--json]
      The WebGPU adapter the engine finds (GPU, or software SwiftShader).

Options:
  --model DIR         Hugging Face model folder (config.json, *.safetensors, tokenizer files)
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

function need(v: string | undefined, name: string): string {
  if (!v) throw new BadOption(`--${name} is required.\n\n${USAGE}`);
  return v;
}

function readTextFile(p: string): string {
  if (!fs.existsSync(p)) throw new MissingFile(`Text file not found: ${p}`);
  return decodeTextFile(fs.readFileSync(p), p);
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
        const m = await loadNodeModel(engine, need(values.model, 'model'));
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
        await loadNodeModel(engine, modelDir);
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
