// The CLI as a user runs it: one JSON object on success; a specific message on stderr and a
// non-zero exit code on bad input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli } from '../helpers/cli';
import { DEMO_MODEL, SAMPLE_CALIB, SAMPLE_EVAL } from '../helpers/fixtures';

function tmpDir(files: Record<string, string | Buffer>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-cli-'));
  for (const [n, c] of Object.entries(files)) fs.writeFileSync(path.join(d, n), c);
  return d;
}

const demoFile = (n: string) => fs.readFileSync(path.join(DEMO_MODEL, n));

test('eval --json prints one JSON object with the protocol fields', () => {
  const r = cli('eval', '--model', DEMO_MODEL, '--text', SAMPLE_EVAL, '--seqlen', '64', '--max-windows', '2', '--json');
  expect(r.stderr).not.toMatch(/^error/m);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout.trim());
  expect(Object.keys(out).sort()).toEqual(['adapter', 'nll', 'ppl', 'seconds', 'tokens', 'windows']);
  expect(out.windows).toBe(2);
  expect(out.tokens).toBe(2 * 63);
  expect(out.ppl).toBeCloseTo(Math.exp(out.nll), 10);
  expect(typeof out.adapter).toBe('string');
});

describe('bad input exits non-zero with a specific message', () => {
  test('missing model folder', () => {
    const r = cli('eval', '--model', '/nonexistent/model', '--text', SAMPLE_EVAL, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Model folder not found: \/nonexistent\/model/);
  });

  test('unsupported architecture', () => {
    const d = tmpDir({ 'config.json': '{"model_type":"mamba"}', 'model.safetensors': demoFile('model.safetensors') });
    const r = cli('eval', '--model', d, '--text', SAMPLE_EVAL);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Architecture "mamba" is not supported. Supported model types: llama, qwen2, gpt2, opt, gpt_neox, phi/);
  });

  test('truncated weights', () => {
    const w = demoFile('model.safetensors');
    const d = tmpDir({
      'config.json': demoFile('config.json'),
      'tokenizer.json': demoFile('tokenizer.json'),
      'tokenizer_config.json': demoFile('tokenizer_config.json'),
      'model.safetensors': w.subarray(0, w.length - 1000),
    });
    const r = cli('eval', '--model', d, '--text', SAMPLE_EVAL);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model.safetensors: tensor ".*" data_offsets .* run past the end of the data/);
  });

  test('missing tokenizer', () => {
    const d = tmpDir({ 'config.json': demoFile('config.json'), 'model.safetensors': demoFile('model.safetensors') });
    const r = cli('eval', '--model', d, '--text', SAMPLE_EVAL);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No tokenizer found/);
  });

  test('a non-text evaluation file', () => {
    const r = cli('eval', '--model', DEMO_MODEL, '--text', path.join(DEMO_MODEL, 'model.safetensors'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a text file/);
  });

  test('a text shorter than one window', () => {
    const d = tmpDir({ 'short.txt': 'Once upon a time.' });
    const r = cli('eval', '--model', DEMO_MODEL, '--text', path.join(d, 'short.txt'), '--seqlen', '256');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/The text has \d+ tokens, fewer than one window of 256/);
  });

  test('a bad option', () => {
    const r = cli('eval', '--model', DEMO_MODEL, '--text', SAMPLE_EVAL, '--seqlen', 'abc');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--seqlen must be a positive integer/);
  });
});

test('prune --factorisation gpu factorises on the GPU and gives the CPU path\'s masks; a bad value is refused by name', () => {
  const base = ['prune', '--model', DEMO_MODEL, '--method', 'sparsegpt', '--sparsity', '0.5', '--calib', SAMPLE_CALIB, '--calib-samples', '2', '--seqlen', '64', '--eval', SAMPLE_EVAL, '--max-windows', '2', '--json'];
  const runs = (['gpu', 'cpu'] as const).map((f) => {
    const r = cli(...base, '--factorisation', f);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout.trim());
  });
  expect(runs[0].sparsity).toBe(runs[1].sparsity);
  expect(Math.abs(runs[0].ppl / runs[1].ppl - 1)).toBeLessThan(1e-3);
  // Seconds by phase and the factorisations (4 per llama layer: q/k/v and gate/up share theirs).
  for (const r of runs) {
    expect(Object.keys(r.phases).sort()).toEqual(['factorisation', 'other', 'reforward', 'statistics', 'sweep']);
    expect(r.factorisations).toBe(20);
    expect(r.prune_seconds).toBeLessThanOrEqual(r.seconds);
  }
  const bad = cli(...base, '--factorisation', 'fpga');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('--factorisation takes gpu (f32 on the GPU, as the published code) or cpu (float64 on the CPU); got "fpga"');
});

test('prune --gpu-budget streams the model a layer at a time, with the resident run\'s numbers; a budget below one layer or not a size is refused', () => {
  const base = ['prune', '--model', DEMO_MODEL, '--method', 'sparsegpt', '--sparsity', '0.5', '--calib', SAMPLE_CALIB, '--calib-samples', '2', '--seqlen', '64', '--eval', SAMPLE_EVAL, '--max-windows', '2', '--json'];
  const resident = cli(...base);
  const streamed = cli(...base, '--gpu-budget', '200KiB');
  expect(streamed.code).toBe(0);
  const [a, b] = [resident, streamed].map((r) => JSON.parse(r.stdout.trim()));
  expect(b.ppl).toBe(a.ppl);
  expect(b.sparsity).toBe(a.sparsity);
  // stderr is a pipe here: progress comes as lines, one per layer or phase at most once a second.
  expect(streamed.stderr).not.toMatch(/\r/);
  const small = cli(...base, '--gpu-budget', '100KiB');
  expect(small.code).toBe(1);
  expect(small.stderr).toMatch(/The GPU budget of 100\.0 KiB is smaller than one decoder layer \(layers\.\d: 177\.5 KiB in f32\).*Give a budget of at least 177\.5 KiB \(the whole model: 1015\.8 KiB\)\./);
  const bad = cli(...base, '--gpu-budget', 'half');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('The GPU budget (--gpu-budget) must be a size such as 1GiB, 4GB or 512MiB; got "half".');
});
