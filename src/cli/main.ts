// Prune Studio CLI: thin over the engine. `npm run cli -- <command> [options]`.
// Prints one JSON object with --json; errors go to stderr with a non-zero exit code (1 for a
// named error, 2 for a usage error, 3 for anything unexpected). Each command is its own module;
// options are parsed, bounded and defaulted by core/options.ts, as in the page.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BadOption, PruneStudioError } from '../core/errors';
import { OPTIONS } from '../core/options';
import type { CliValues } from './common';
import { runContextualCli } from './contextual';
import { runExportCli } from './export';
import { runFinetuneCli } from './finetune';
import { runAdapter, runEval, runInfo } from './info';
import { runPrune, runSweepCli } from './prune';

const USAGE = `Prune Studio CLI

Usage:
  npm run cli -- eval --model DIR --text FILE [--seqlen ${OPTIONS.seqlen.default}] [--max-windows N] [--json]
      Perplexity of a text (SparseGPT protocol: non-overlapping windows of seqlen tokens).
  npm run cli -- prune --model DIR --method magnitude|wanda|sparsegpt|sparsellm (--sparsity 0.5 | --pattern 2:4)
                --calib FILE [--calib-samples ${OPTIONS.calibSamples.default}] [--seqlen ${OPTIONS.seqlen.default}] [--seed N] [--eval FILE] [--max-windows N]
                [--percdamp ${OPTIONS.percdamp.default}] [--blocksize ${OPTIONS.blocksize.default}] [--factorisation gpu|cpu] [--skip-layers 0,1] [--override mlp.down=30%,layers.0.attn.q=2:4]
                [--sparsellm-keep last|best] [--sparsellm-iterations ${OPTIONS.sparsellmIterations.default}] [--out DIR] [--json]
      Prune every linear sublayer of every decoder layer (sequentially, as the published code),
      optionally evaluate, and optionally export the pruned model as a Hugging Face folder.
  npm run cli -- sweep --model DIR --methods a,b --sparsities 0.1,0.5 [--patterns 2:4] --calib FILE
                --eval FILE [same options as prune] [--no-dense] [--json]
      Several methods × targets, each pruned from the dense model; prints a JSON array.
  npm run cli -- prune --model DIR --method contextual (--fraction 0.3 | --threshold X) [--head-fraction F | --head-threshold S]
                [--scoring mean|wanda] [--gqa whole-groups|within-groups] [--zero-unused-tokens] --calib FILE
                [--calib-samples ${OPTIONS.calibSamples.default}] [--seqlen ${OPTIONS.seqlen.default}] [--seed N] [--eval FILE] [--eval-general FILE] [--max-windows N]
                [--out DIR] [--json]
      Contextual (structured) pruning on a domain text: removes the MLP neurons and attention heads the
      domain uses least (mean |activation|, or a Wanda-style score); perplexity on the domain (--eval) and
      a general text (--eval-general); --out writes the smaller model (smaller intermediate_size / heads).
  npm run cli -- export --model DIR --format gguf|hf [--dtype f32|f16] --out PATH [--json]
      The model as it is (e.g. a pruned folder) for other tools: gguf = one file for llama.cpp /
      Ollama (llama, qwen2, gpt2, gpt_neox, phi; F32 or F16), hf = a Hugging Face folder.
  npm run cli -- finetune --model DIR --train FILE [--steps ${OPTIONS.steps.default}] [--batch ${OPTIONS.batch.default}] [--seqlen ${OPTIONS.trainSeqlen.default}] [--lr ${OPTIONS.lr.default}]
                [--warmup ${OPTIONS.warmup.default}] [--weight-decay ${OPTIONS.weightDecay.default}] [--clip ${OPTIONS.clip.default}] [--eval FILE] [--eval-seqlen ${OPTIONS.evalSeqlen.default}]
                [--max-windows N] [--eval-every N] [--gmp S --gmp-t0 ${OPTIONS.gmpT0.default} --gmp-dt ${OPTIONS.gmpDt.default} --gmp-n ${OPTIONS.gmpN.default}]
                [--distill kl|squarehead|kl,squarehead --teacher DIR] [--from-scratch [--seed N]] [--checkpoint FILE --checkpoint-every N]
                [--resume FILE] [--freeze embed,layers.0] [--gpu-memory 8GB] [--recompute] [--dense-twin] [--out DIR] [--json]
      Train on the GPU with AdamW (warm-up, then cosine). A pruned model keeps its zeros (recovery);
      --gmp S prunes every decoder linear gradually by magnitude to sparsity S while it trains;
      --distill kl --teacher DIR adds KL(teacher ‖ model) to the loss (the teacher: the dense model), squarehead
      each decoder layer's ‖h − h_teacher‖² / ‖h_teacher‖² (SquareHead), kl,squarehead both;
      --from-scratch trains the folder's architecture from fresh weights (initialised as transformers does);
      --checkpoint FILE is rewritten every N steps (weights, moments, masks, step); --resume FILE continues
      that run on the same folder with the same flags, to the weights the uninterrupted run would give;
      --freeze leaves the named tensors (names or prefixes: embed, layers.0, final_norm, head) untrained;
      --gpu-memory refuses, before any work and with the sizes, a run predicted to need more than that;
      --recompute keeps only each layer's input and runs its forward again in the backward (less memory);
      --dense-twin (with --from-scratch --gmp S) also trains a dense model of as many parameters as the
      GMP model keeps non-zeros (fewer heads, narrower MLP) on the same tokens, and reports both.
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
  --seqlen N          tokens per window (default ${OPTIONS.seqlen.default})
  --max-windows N     use only the first N windows
  --gpu-budget SIZE   bytes of weights allowed on the GPU at once (e.g. 1GiB; default 4 × the adapter's
                      largest buffer); a larger model stays in memory and goes to the GPU a layer at a
                      time (eval, prune, sweep, generate, export; not training or contextual pruning)
  --json              print one JSON object
`;

/** Flags that take a value (read as text; each command parses its own through core/options). */
const VALUE_FLAGS = [
  'model', 'text', 'seqlen', 'max-windows', 'method', 'methods', 'sparsity', 'sparsities', 'pattern', 'patterns', 'calib',
  'calib-samples', 'seed', 'eval', 'percdamp', 'blocksize', 'factorisation', 'skip-layers', 'sparsellm-keep', 'sparsellm-iterations', 'override', 'out',
  // prune --method contextual (contextual.ts)
  'fraction', 'threshold', 'head-fraction', 'head-threshold', 'scoring', 'gqa', 'eval-general',
  // export (export.ts)
  'format', 'dtype',
  // finetune (finetune.ts)
  'train', 'steps', 'batch', 'lr', 'warmup', 'weight-decay', 'clip', 'gmp', 'gmp-t0', 'gmp-dt', 'gmp-n', 'eval-seqlen', 'eval-every', 'distill', 'teacher', 'checkpoint', 'checkpoint-every', 'resume', 'freeze', 'gpu-memory',
  // every command that loads a model (load.ts)
  'gpu-budget',
] as const;

const FLAGS: ParseArgsConfig['options'] = {
  ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, { type: 'string' }])),
  'no-dense': { type: 'boolean', default: false },
  'zero-unused-tokens': { type: 'boolean', default: false },
  'from-scratch': { type: 'boolean', default: false },
  recompute: { type: 'boolean', default: false },
  'dense-twin': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const COMMANDS: Record<string, (values: CliValues) => Promise<number>> = {
  adapter: runAdapter,
  info: runInfo,
  eval: runEval,
  prune: (v) => (v.method === 'contextual' ? runContextualCli(v) : runPrune(v)),
  sweep: runSweepCli,
  export: runExportCli,
  finetune: runFinetuneCli,
};

/** The flags, or a BadOption naming the one that is not known or lacks its value. */
function parse(argv: string[]): { values: CliValues; positionals: string[] } {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: FLAGS });
  } catch (e) {
    const m = /(?:Unknown option|Option) '([^']+)'/.exec((e as Error).message);
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new BadOption(`Unknown option ${m?.[1] ?? ''}. Run npm run cli -- --help for the commands and their options.`);
    throw new BadOption(`${(e as Error).message.split('\n')[0]} Run npm run cli -- --help for the options.`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(USAGE);
    return cmd || values.help ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`Unknown command "${cmd}".\n\n${USAGE}`);
    return 2;
  }
  return run(values);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const known = e instanceof PruneStudioError;
    process.stderr.write(`error: ${known ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(known ? 1 : 3);
  },
);
