// `prune --method contextual` as a user runs it, on the demo model (stories260K: llama, 5 layers,
// hidden 64, ffn 172, 8 heads over 4 KV heads of 8, vocab 512, tied, F32) with small settings
// (4 calibration windows of 64 tokens, 2 evaluation windows): the JSON report, the smaller folder
// written by --out (its config.json and its tensor shapes), and that folder loading back through
// `eval` with the perplexity the prune run reported; a threshold removes unevenly and exports zeros
// in the original shapes; bad options are refused with their message and exit code 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { cli } from '../helpers/cli';
import { DEMO_MODEL, ROOT, SAMPLE_EVAL } from '../helpers/fixtures';

const CALIB = path.join(ROOT, 'public/data/sample-calib.txt');
const GENERAL = path.join(ROOT, 'README.md');
const SMALL = ['--calib-samples', '4', '--seqlen', '64', '--max-windows', '2'];

function okJson(r: ReturnType<typeof cli>) {
  expect(r.stderr).not.toMatch(/^error/m);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim());
}

/** The header of a safetensors file: name → { dtype, shape }. */
function header(file: string): Record<string, { dtype: string; shape: number[] }> {
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  delete h.__metadata__;
  return h;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'prune-ctx-'));

// The demo model's parameters, counted from its own file (independent of the engine).
const demo = header(path.join(DEMO_MODEL, 'model.safetensors'));
const DEMO_PARAMS = Object.values(demo).reduce((s, t) => s + numel(t.shape), 0);

test('--fraction 0.3: JSON report, smaller folder with intermediate_size 120 and 6/3 heads, same perplexity when loaded back', () => {
  const out = path.join(tmp(), 'small');
  const j = okJson(
    cli('prune', '--model', DEMO_MODEL, '--method', 'contextual', '--fraction', '0.3', '--calib', CALIB, ...SMALL,
      '--eval', SAMPLE_EVAL, '--eval-general', GENERAL, '--out', out, '--json'),
  );
  expect(j).toMatchObject({ method: 'contextual', fraction: 0.3, head_fraction: 0.3, scoring: 'mean-abs', uniform: true, smaller: { mlp: true, heads: true }, warnings: [], out });
  // round(0.3 · 172) = 52 neurons and round(0.3 · 4) = 1 KV group (its 2 query heads) per layer.
  expect(j.removed).toEqual({ neurons: 5 * 52, heads: 5 * 2, kv_heads: 5, tokens: 0 });
  expect(j.total).toEqual({ neurons: 5 * 172, heads: 5 * 8, kv_heads: 5 * 4, tokens: 512 });
  expect(j.per_layer).toEqual([0, 1, 2, 3, 4].map((layer) => ({ layer, neurons: 52, heads: 2, kv_heads: 1 })));
  expect(j.config).toEqual({ ffn: 120, heads: 6, kv_heads: 3 });
  // Per layer: 52 neurons × (gate row + up row + down column) × 64, 2 query heads × 8 rows × 64
  // in q and 8 columns each in o, and the KV head's 8 rows × 64 in k and in v.
  expect(j.params_before).toBe(DEMO_PARAMS);
  expect(j.params_before - j.params_after).toBe(5 * (52 * 3 * 64 + 2 * 8 * 64 * 2 + 2 * 8 * 64));
  expect(j.params_nonzero).toBe(j.params_after);
  expect([j.bytes_before, j.bytes_after]).toEqual([4 * j.params_before, 4 * j.params_after]); // F32
  expect(j.windows).toBe(2);
  expect(j.tokens).toBe(2 * 63);
  expect(j.ppl).toBeCloseTo(Math.exp(j.nll), 10);
  expect(Number.isFinite(j.ppl_general) && j.ppl_general > 1).toBe(true);
  expect(j.ppl_general).not.toBe(j.ppl);
  expect(j.layers).toHaveLength(35);
  expect(j.layers.find((l: { name: string }) => l.name === 'model.layers.4.mlp.down_proj').sparsity).toBeCloseTo(52 / 172, 12);

  // The folder: a smaller config and tensors of the smaller shapes.
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  expect(config).toMatchObject({ model_type: 'llama', intermediate_size: 120, num_attention_heads: 6, num_key_value_heads: 3, head_dim: 8, hidden_size: 64 });
  const h = header(path.join(out, 'model.safetensors'));
  expect(h['model.layers.2.mlp.gate_proj.weight'].shape).toEqual([120, 64]);
  expect(h['model.layers.2.mlp.down_proj.weight'].shape).toEqual([64, 120]);
  expect(h['model.layers.2.self_attn.q_proj.weight'].shape).toEqual([48, 64]);
  expect(h['model.layers.2.self_attn.k_proj.weight'].shape).toEqual([24, 64]);
  expect(h['model.layers.2.self_attn.o_proj.weight'].shape).toEqual([64, 48]);
  expect(Object.values(h).reduce((s, t) => s + numel(t.shape), 0)).toBe(j.params_after);
  expect(fs.statSync(path.join(out, 'model.safetensors')).size).toBeLessThan(fs.statSync(path.join(DEMO_MODEL, 'model.safetensors')).size);
  expect(JSON.parse(fs.readFileSync(path.join(out, 'prune_studio.json'), 'utf8')).pruned.method).toBe('contextual');

  // Loaded back by the CLI: the smaller model card, and the perplexity the prune run reported.
  const info = okJson(cli('info', '--model', out, '--json'));
  expect(info).toMatchObject({ ffn: 120, heads: 6, kvHeads: 3, parameters: j.params_after, prunedBy: { method: 'contextual' } });
  const back = okJson(cli('eval', '--model', out, '--text', SAMPLE_EVAL, '--seqlen', '64', '--max-windows', '2', '--json'));
  expect(back.windows).toBe(2);
  expect(Math.abs(back.ppl / j.ppl - 1)).toBeLessThan(1e-5);
});

test('--threshold removes unevenly: exported as zeros in the original shapes, same perplexity; wanda scoring', () => {
  const out = path.join(tmp(), 'zeros');
  // Heads kept (no head scores below 0); neurons with mean |activation| below 0.1: unevenly many per layer.
  const j = okJson(
    cli('prune', '--model', DEMO_MODEL, '--method', 'contextual', '--threshold', '0.1', '--head-threshold', '0', '--calib', CALIB, ...SMALL,
      '--eval', SAMPLE_EVAL, '--out', out, '--json'),
  );
  expect(j).toMatchObject({ method: 'contextual', threshold: 0.1, head_threshold: 0, uniform: false, smaller: { mlp: false, heads: false }, ppl_general: null });
  const counts = j.per_layer.map((l: { neurons: number }) => l.neurons);
  expect(new Set(counts).size).toBeGreaterThan(1);
  expect(j.removed.heads).toBe(0);
  expect(j.config).toEqual({ ffn: 172, heads: 8, kv_heads: 4 });
  expect(j.params_after).toBe(j.params_before);
  expect(j.params_after - j.params_nonzero).toBe(j.removed.neurons * 3 * 64);
  expect(j.warnings.join(' ')).toMatch(/different numbers of MLP neurons \([\d, ]+\).*exported as zeros/);
  expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).intermediate_size).toBe(172);
  const back = okJson(cli('eval', '--model', out, '--text', SAMPLE_EVAL, '--seqlen', '64', '--max-windows', '2', '--json'));
  expect(Math.abs(back.ppl / j.ppl - 1)).toBeLessThan(1e-5);

  // Structured Wanda, neurons only: the same count per layer, heads untouched (8 over 4 KV heads).
  const w = okJson(cli('prune', '--model', DEMO_MODEL, '--method', 'contextual', '--fraction', '0.3', '--head-fraction', '0', '--scoring', 'wanda', '--calib', CALIB, ...SMALL, '--json'));
  expect(w).toMatchObject({ scoring: 'wanda', head_fraction: 0, uniform: true, config: { ffn: 120, heads: 8, kv_heads: 4 }, ppl: null });
  expect(w.removed).toMatchObject({ neurons: 260, heads: 0 });
});

test('bad contextual options exit 1 with their message', () => {
  const base = ['prune', '--model', DEMO_MODEL, '--method', 'contextual', '--calib', CALIB, ...SMALL];
  const both = cli(...base, '--fraction', '0.3', '--threshold', '0.1');
  expect(both.code).toBe(1);
  expect(both.stderr).toMatch(/needs either --fraction .* or --threshold .*not both/);
  const neither = cli(...base);
  expect(neither.code).toBe(1);
  expect(neither.stderr).toMatch(/needs either --fraction/);
  const big = cli(...base, '--fraction', '1.2');
  expect(big.code).toBe(1);
  expect(big.stderr).toMatch(/The fraction must be a fraction in \[0, 1\); got 1.2/);
  const scoring = cli(...base, '--fraction', '0.3', '--scoring', 'median');
  expect(scoring.code).toBe(1);
  expect(scoring.stderr).toMatch(/--scoring must be "mean" .* or "wanda"/);
  const mixed = cli(...base, '--fraction', '0.3', '--head-threshold', '0.1');
  expect(mixed.code).toBe(1);
  expect(mixed.stderr).toMatch(/A head threshold goes with --threshold/);
});
