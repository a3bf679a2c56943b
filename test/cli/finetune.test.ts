// `finetune` as a user runs it, on the demo model with tiny settings: a pruned folder (magnitude
// 50 %) recovers with its zeros kept, prints the protocol's JSON, and its --out folder loads back
// with the perplexity it reported; GMP reaches its sparsity; bad input is refused before any work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { cli } from '../helpers/cli';
import { DEMO_MODEL, FIXTURE_MODELS, SAMPLE_CALIB, SAMPLE_EVAL } from '../helpers/fixtures';

const SMALL = ['--steps', '4', '--warmup', '1', '--batch', '2', '--seqlen', '32', '--eval', SAMPLE_EVAL, '--eval-seqlen', '64', '--max-windows', '2'];

function okJson(r: ReturnType<typeof cli>) {
  expect(r.stderr).not.toMatch(/^error/m);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim());
}

test('recover a pruned folder: zeros kept, the JSON of the protocol, --out reloads with the same perplexity', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-ft-'));
  const pruned = path.join(dir, 'pruned'), trained = path.join(dir, 'trained');
  okJson(cli('prune', '--model', DEMO_MODEL, '--method', 'magnitude', '--sparsity', '0.5', '--calib', SAMPLE_CALIB, '--calib-samples', '2', '--seqlen', '64', '--out', pruned, '--json'));
  const r = okJson(cli('finetune', '--model', pruned, '--train', SAMPLE_CALIB, ...SMALL, '--out', trained, '--json'));
  expect(Object.keys(r).sort()).toEqual(['evals', 'features', 'kl', 'layers', 'losses', 'ppl', 'ppl_start', 'pruning', 'seconds', 'sparsity', 'steps', 'tokens', 'tokens_per_s', 'windows']);
  // Every decoder linear (5 layers × 7) by its Hugging Face name, each with its zeros kept.
  expect(r.layers).toHaveLength(35);
  expect(r.layers[0]).toMatchObject({ name: 'layers.0.attn.q', hf: 'model.layers.0.self_attn.q_proj' });
  expect(r.layers.every((l: { sparsity: number }) => l.sparsity >= 0.5)).toBe(true);
  expect(r.kl).toEqual([]);
  expect(r.features).toEqual([]);
  expect(r.steps).toBe(4);
  expect(r.tokens).toBe(4 * 2 * 32);
  expect(r.losses).toHaveLength(4);
  expect(r.losses.every((l: number) => Number.isFinite(l) && l > 0)).toBe(true);
  // Magnitude pruning at 50 % leaves exactly half of each decoder linear zero; training keeps them.
  expect(r.sparsity).toBeGreaterThanOrEqual(0.5);
  expect(r.sparsity).toBeLessThan(0.5 + 1e-3);
  expect(r.ppl).toBeGreaterThan(1);
  expect(r.evals.at(-1)).toEqual({ step: 4, ppl: r.ppl });
  const back = okJson(cli('eval', '--model', trained, '--text', SAMPLE_EVAL, '--seqlen', '64', '--max-windows', '2', '--json'));
  expect(Math.abs(back.ppl - r.ppl) / r.ppl).toBeLessThan(1e-5);
  const info = JSON.parse(fs.readFileSync(path.join(trained, 'prune_studio.json'), 'utf8'));
  expect(info.trained).toMatchObject({ steps: 4, of_steps: 4, batch: 2, seqlen: 32, masks: 'the zeros at the start' });
});

test('recover with distillation from the dense model: a KL per step, zeros kept', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-kd-'));
  const pruned = path.join(dir, 'pruned');
  okJson(cli('prune', '--model', DEMO_MODEL, '--method', 'magnitude', '--sparsity', '0.5', '--calib', SAMPLE_CALIB, '--calib-samples', '2', '--seqlen', '64', '--out', pruned, '--json'));
  const r = okJson(cli('finetune', '--model', pruned, '--train', SAMPLE_CALIB, ...SMALL, '--distill', 'kl', '--teacher', DEMO_MODEL, '--json'));
  expect(r.kl).toHaveLength(4);
  expect(r.kl.every((k: number) => Number.isFinite(k) && k > 0)).toBe(true);
  expect(r.sparsity).toBeGreaterThanOrEqual(0.5);
});

test('SquareHead beside KL: a KL and a hidden-state loss per step, both falling; zeros kept; a teacher of another shape is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-sq-'));
  const pruned = path.join(dir, 'pruned');
  okJson(cli('prune', '--model', DEMO_MODEL, '--method', 'magnitude', '--sparsity', '0.5', '--calib', SAMPLE_CALIB, '--calib-samples', '2', '--seqlen', '64', '--out', pruned, '--json'));
  const r = okJson(cli('finetune', '--model', pruned, '--train', SAMPLE_CALIB, '--steps', '8', '--warmup', '1', '--batch', '1', '--seqlen', '32', '--distill', 'kl,squarehead', '--teacher', DEMO_MODEL, '--json'));
  expect(r.kl).toHaveLength(8);
  expect(r.features).toHaveLength(8);
  expect(r.features.every((f: number) => Number.isFinite(f) && f > 0)).toBe(true);
  // The pruned student moves back toward the dense teacher: its layers' distance falls.
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  expect(mean(r.features.slice(-3))).toBeLessThan(mean(r.features.slice(0, 3)));
  expect(r.sparsity).toBeGreaterThanOrEqual(0.5);
  const other = cli('finetune', '--model', path.join(FIXTURE_MODELS, 'tiny-llama'), '--train', SAMPLE_CALIB, ...SMALL, '--distill', 'squarehead', '--teacher', DEMO_MODEL);
  expect(other.code).not.toBe(0);
  expect(other.stderr).toMatch(/SquareHead distils each decoder layer's output into the teacher's, so both need the same layers and width: the model has 2 layers of 32, the teacher 5 of 64/);
});

test('from scratch: fresh weights (the folder\'s architecture) train, and the loss falls from about ln V', () => {
  const r = okJson(cli('finetune', '--model', DEMO_MODEL, '--train', SAMPLE_CALIB, '--from-scratch', '--seed', '1', '--steps', '12', '--warmup', '2', '--batch', '2', '--seqlen', '32', '--lr', '1e-2', '--eval', SAMPLE_EVAL, '--eval-seqlen', '64', '--max-windows', '2', '--json'));
  // A fresh model predicts about uniformly over the 512 tokens: a loss near ln 512 = 6.24.
  expect(Math.abs(r.losses[0] - Math.log(512))).toBeLessThan(0.1);
  expect(r.losses.at(-1)).toBeLessThan(r.losses[0] - 1);
  // The fresh model's perplexity is about the vocabulary size; training lowers it.
  expect(Math.abs(Math.log(r.ppl_start) - Math.log(512))).toBeLessThan(0.1);
  expect(r.ppl).toBeLessThan(r.ppl_start);
});

test('a config-only folder (config.json and tokenizer) trains from scratch as the full folder does, and its export loads back; without --from-scratch it is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-cfg-'));
  const bare = path.join(dir, 'bare');
  fs.mkdirSync(bare);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) fs.copyFileSync(path.join(DEMO_MODEL, f), path.join(bare, f));
  const args = ['--train', SAMPLE_CALIB, '--from-scratch', '--seed', '3', ...SMALL, '--json'];
  const full = okJson(cli('finetune', '--model', DEMO_MODEL, ...args));
  const out = path.join(dir, 'trained');
  const fresh = okJson(cli('finetune', '--model', bare, ...args, '--out', out));
  // The same shapes, the same seeded initialisation, the same steps: the same numbers.
  expect(fresh.losses).toEqual(full.losses);
  expect(fresh.ppl).toBe(full.ppl);
  const back = okJson(cli('eval', '--model', out, '--text', SAMPLE_EVAL, '--seqlen', '64', '--max-windows', '2', '--json'));
  expect(Math.abs(back.ppl - fresh.ppl) / fresh.ppl).toBeLessThan(1e-5);
  const refused = cli('eval', '--model', bare, '--text', SAMPLE_EVAL);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/No \.safetensors weights in the folder; a folder of config\.json and tokenizer alone can only be trained from scratch \(finetune --from-scratch\)/);
});

test('--dense-twin: GMP from scratch beside a dense model of as many parameters as it keeps, on the same tokens', () => {
  const r = okJson(cli('finetune', '--model', DEMO_MODEL, '--train', SAMPLE_CALIB, '--from-scratch', '--seed', '1', '--gmp', '0.5', '--gmp-t0', '0', '--gmp-dt', '1', '--gmp-n', '2', '--dense-twin', ...SMALL, '--json'));
  expect([r.sparse.hidden, r.sparse.heads, r.sparse.params]).toEqual([64, 8, 260_032]);
  expect(r.sparse.result.sparsity).toBe(0.5);
  expect(r.dense.result.sparsity).toBe(0);
  expect(r.dense.params).toBe(r.dense.nonzeros);
  expect(Math.abs(r.dense.params - r.sparse.nonzeros) / r.sparse.nonzeros).toBeLessThan(0.005);
  expect(r.dense.result.tokens).toBe(r.sparse.result.tokens);
  // Both start from fresh weights: losses near ln 512.
  for (const side of [r.sparse, r.dense]) expect(Math.abs(side.result.losses[0] - Math.log(512))).toBeLessThan(0.1);
  const bad = cli('finetune', '--model', DEMO_MODEL, '--train', SAMPLE_CALIB, '--gmp', '0.5', '--dense-twin', ...SMALL);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/--dense-twin compares a model trained from scratch with gradual pruning/);
});

test('gradual magnitude pruning from dense reaches its final sparsity', () => {
  const r = okJson(cli('finetune', '--model', DEMO_MODEL, '--train', SAMPLE_CALIB, ...SMALL, '--gmp', '0.5', '--gmp-t0', '0', '--gmp-dt', '1', '--gmp-n', '2', '--json'));
  expect(r.pruning.map((p: { step: number }) => p.step)).toEqual([0, 1, 2]);
  expect(r.pruning[2].sparsity).toBe(0.5);
  expect(Math.abs(r.sparsity - 0.5)).toBeLessThan(1e-3);
});

test('a run killed after its checkpoint resumes to the uninterrupted run\'s weights, byte for byte; another run\'s checkpoint is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-ck-'));
  const ck = path.join(dir, 'run.ckpt.safetensors');
  const args = ['--model', DEMO_MODEL, '--train', SAMPLE_CALIB, ...SMALL, '--gmp', '0.5', '--gmp-t0', '0', '--gmp-dt', '1', '--gmp-n', '3', '--json'];
  const full = okJson(cli('finetune', ...args, '--checkpoint', ck, '--checkpoint-every', '2', '--out', path.join(dir, 'full')));
  // The checkpoint of step 2 stays (none is taken at the last step), as a run killed after it leaves it.
  const resumed = okJson(cli('finetune', ...args, '--resume', ck, '--out', path.join(dir, 'resumed')));
  expect(resumed.losses).toEqual(full.losses);
  expect(resumed.pruning).toEqual(full.pruning);
  expect(resumed.ppl).toBe(full.ppl);
  expect(resumed.ppl_start).toBe(full.ppl_start);
  const bytes = (d: string) => fs.readFileSync(path.join(dir, d, 'model.safetensors'));
  expect(bytes('resumed').equals(bytes('full'))).toBe(true);
  const other = cli('finetune', ...args, '--lr', '2e-3', '--resume', ck);
  expect(other.code).not.toBe(0);
  expect(other.stderr).toMatch(/The checkpoint belongs to another run: lr \(0\.001 in the checkpoint, 0\.002 now\) differ/);
});

test.each([
  [['--steps', '5', '--warmup', '10'], /5 steps are fewer than the 10 warm-up steps/],
  [['--batch', '1000'], /fewer than one batch of 1000/],
  [['--gmp', '0.5', '--gmp-t0', '0', '--gmp-dt', '10', '--gmp-n', '7', '--steps', '50'], /last pruning step t0 \+ n·Δt = 0 \+ 7·10 = 70 is not before step 50/],
  [['--lr', '0'], /Learning rate: --lr must be above 0/],
  [['--distill', 'kl'], /--distill kl needs --teacher DIR/],
  [['--distill', 'mse', '--teacher', DEMO_MODEL], /--distill takes kl \(KL divergence .*\), squarehead \(per-layer hidden-state distillation, SquareHead\) or kl,squarehead; got "mse"/],
  [['--teacher', DEMO_MODEL], /--teacher is used only with --distill \(kl, squarehead or kl,squarehead\)/],
  [['--distill', 'kl', '--teacher', path.join(FIXTURE_MODELS, 'tiny-gpt2')], /teacher's vocabulary differs/],
  [['--checkpoint-every', '2'], /--checkpoint FILE and --checkpoint-every N go together/],
  [['--freeze', 'embed,attention'], /Freeze: "attention" names no tensor of this model/],
  [['--gpu-memory', '1MB'], /needs about [\d.]+ MiB of GPU memory: weights .*; the budget is/],
  [['--gpu-memory', 'lots'], /--gpu-memory must be a size such as 8GB/],
  [['--resume', path.join(os.tmpdir(), 'no-such-checkpoint.safetensors')], /--resume: there is no file/],
  [['--resume', path.join(DEMO_MODEL, 'model.safetensors')], /is a safetensors file but not a training checkpoint/],
])('refused before any work: %s', (args, message) => {
  const r = cli('finetune', '--model', DEMO_MODEL, '--train', SAMPLE_CALIB, ...args);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
});
