// The llm-compressor recipe: parsed back with `yaml`, each method and pattern gives the modifier
// class, stage layout and fields llm-compressor reads; the regexes select the modules they are
// meant to (with Python's re.match semantics: anchored at the start only); N:M patterns are quoted
// so YAML 1.1 readers (PyYAML) do not take 2:4 for a base-60 number.
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { BadOption } from '../../../src/core/errors';
import { llmCompressorRecipe, type RecipeInput } from '../../../src/core/export/recipe';

const LLAMA_MODULES = [0, 1, 2, 3].flatMap((i) =>
  ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'].map((m) => `model.layers.${i}.${m}`),
);

const base: RecipeInput = {
  method: 'sparsegpt',
  target: { kind: 'unstructured', sparsity: 0.5 },
  calibSamples: 32,
  seqlen: 256,
  family: 'llama',
  modules: LLAMA_MODULES,
  about: { model: 'stories260K', appVersion: '0.1.0', date: '2025-01-01', achievedSparsity: 0.50018, ppl: 24.1248, calibLabel: 'sample-calib.txt' },
};

/** Python's re.match: the pattern must match at the start of the name, not necessarily all of it. */
function reMatch(target: string, name: string): boolean {
  expect(target.startsWith('re:')).toBe(true);
  return new RegExp(`^(?:${target.slice(3)})`).test(name);
}

function modifierOf(yamlText: string, stage: string, group: string) {
  const doc = parse(yamlText) as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
  const stages = Object.keys(doc).filter((k) => k.endsWith('_stage'));
  expect(stages).toEqual([stage]);
  const groups = Object.keys(doc[stage]);
  expect(groups).toEqual([group]);
  const mods = doc[stage][group];
  expect(Object.keys(mods)).toHaveLength(1);
  const [name] = Object.keys(mods);
  return { doc: doc as unknown as Record<string, Record<string, unknown>>, name, fields: mods[name] };
}

describe('SparseGPT', () => {
  test('unstructured 50%: sparsity, mask 0:0, block size, dampening, Linear targets, lm_head ignored', () => {
    const y = llmCompressorRecipe({ ...base, percdamp: 0.02, blocksize: 64 });
    const { doc, name, fields } = modifierOf(y, 'sparsity_stage', 'sparsity_modifiers');
    expect(name).toBe('SparseGPTModifier');
    expect(fields).toEqual({ sparsity: 0.5, mask_structure: '0:0', block_size: 64, dampening_frac: 0.02, targets: ['Linear'], ignore: ['re:.*lm_head'] });
    expect(doc.args).toEqual({ num_calibration_samples: 32, max_seq_length: 256, concatenate_data: true, shuffle_calibration_samples: false });
    expect(y).toMatch(/num_calibration_samples=32,/);
    expect(y).toMatch(/max_seq_length=256,/);
    expect(y).toMatch(/^# .*stories260K: 50\.02% zeros in the pruned layers, perplexity 24\.1248/m);
    // Every line before the YAML body is a comment.
    const head = y.slice(0, y.indexOf('\nargs:'));
    for (const line of head.split('\n')) if (line) expect(line.startsWith('#'), line).toBe(true);
    expect(reMatch('re:.*lm_head', 'lm_head')).toBe(true);
  });

  test('defaults: block size 128 and dampening 0.01 when the run did not record them', () => {
    const { fields } = modifierOf(llmCompressorRecipe(base), 'sparsity_stage', 'sparsity_modifiers');
    expect(fields.block_size).toBe(128);
    expect(fields.dampening_frac).toBe(0.01);
  });

  test('2:4: sparsity 0.5, quoted mask_structure, skipped layers ignored by regex', () => {
    const y = llmCompressorRecipe({ ...base, target: { kind: 'nm', n: 2, m: 4 }, skipLayers: [3, 1], seed: 7 });
    const { doc, fields } = modifierOf(y, 'sparsity_stage', 'sparsity_modifiers');
    expect(fields.sparsity).toBe(0.5);
    expect(fields.mask_structure).toBe('2:4');
    expect(y).toContain("mask_structure: '2:4'");
    const ignore = fields.ignore as string[];
    expect(ignore).toEqual(['re:.*lm_head', 're:model\\.layers\\.1\\.', 're:model\\.layers\\.3\\.']);
    const ignored = (name: string) => ignore.some((t) => reMatch(t, name));
    expect(ignored('model.layers.1.self_attn.q_proj')).toBe(true);
    expect(ignored('model.layers.3.mlp.down_proj')).toBe(true);
    expect(ignored('model.layers.13.mlp.down_proj')).toBe(false);
    expect(ignored('model.layers.0.mlp.down_proj')).toBe(false);
    expect(ignored('lm_head')).toBe(true);
    // A seed means random windows: llm-compressor shuffles its samples.
    expect((doc.args as Record<string, unknown>).shuffle_calibration_samples).toBe(true);
    expect(y).toContain('seed 7');
  });

  test('4:8 and a custom 1:4 pattern keep N and M (N pruned of every M, as prune_n)', () => {
    expect(modifierOf(llmCompressorRecipe({ ...base, target: { kind: 'nm', n: 4, m: 8 } }), 'sparsity_stage', 'sparsity_modifiers').fields).toMatchObject({ sparsity: 0.5, mask_structure: '4:8' });
    expect(modifierOf(llmCompressorRecipe({ ...base, target: { kind: 'nm', n: 1, m: 4 } }), 'sparsity_stage', 'sparsity_modifiers').fields).toMatchObject({ sparsity: 0.25, mask_structure: '1:4' });
  });

  test('families: GPT-2 targets Conv1D under transformer.h, GPT-NeoX ignores embed_out, OPT its projections', () => {
    const gpt2 = modifierOf(llmCompressorRecipe({ ...base, family: 'gpt2', modules: ['h.0.attn.c_attn[q]'], skipLayers: [0] }), 'sparsity_stage', 'sparsity_modifiers').fields;
    expect(gpt2.targets).toEqual(['Conv1D']);
    expect(gpt2.ignore).toEqual(['re:.*lm_head', 're:transformer\\.h\\.0\\.']);
    expect(reMatch((gpt2.ignore as string[])[1], 'transformer.h.0.attn.c_attn')).toBe(true);
    const neox = modifierOf(llmCompressorRecipe({ ...base, family: 'gpt_neox', skipLayers: [2] }), 'sparsity_stage', 'sparsity_modifiers').fields;
    expect(neox.ignore).toEqual(['re:.*embed_out', 're:gpt_neox\\.layers\\.2\\.']);
    const opt = modifierOf(llmCompressorRecipe({ ...base, family: 'opt' }), 'sparsity_stage', 'sparsity_modifiers').fields;
    expect((opt.ignore as string[]).some((t) => reMatch(t, 'model.decoder.project_in'))).toBe(true);
    expect((opt.ignore as string[]).some((t) => reMatch(t, 'model.decoder.layers.0.self_attn.q_proj'))).toBe(false);
  });
});

describe('Wanda', () => {
  test.each([
    [{ kind: 'unstructured', sparsity: 0.7 } as const, 0.7, '0:0'],
    [{ kind: 'nm', n: 2, m: 4 } as const, 0.5, '2:4'],
  ])('%o → WandaPruningModifier without SparseGPT fields', (target, sparsity, mask) => {
    const { name, fields } = modifierOf(llmCompressorRecipe({ ...base, method: 'wanda', target, percdamp: 0.05, blocksize: 32 }), 'sparsity_stage', 'sparsity_modifiers');
    expect(name).toBe('WandaPruningModifier');
    expect(fields).toEqual({ sparsity, mask_structure: mask, targets: ['Linear'], ignore: ['re:.*lm_head'] });
  });
});

describe('magnitude', () => {
  test('unstructured: MagnitudePruningModifier with constant sparsity, parameter regexes, and the oneshot caveat', () => {
    const y = llmCompressorRecipe({ ...base, method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.6 }, skipLayers: [0] });
    const { name, fields } = modifierOf(y, 'pruning_stage', 'pruning_modifiers');
    expect(name).toBe('MagnitudePruningModifier');
    expect(fields).toMatchObject({ init_sparsity: 0.6, final_sparsity: 0.6, start: 0, end: 1, mask_structure: 'unstructured' });
    const targets = fields.targets as string[];
    expect(targets).toHaveLength(7);
    const hit = (p: string) => targets.some((t) => reMatch(t, p));
    expect(hit('model.layers.1.self_attn.q_proj.weight')).toBe(true);
    expect(hit('model.layers.12.mlp.down_proj.weight')).toBe(true);
    // Layer 0 was skipped; norms and the head are never targets.
    expect(hit('model.layers.0.self_attn.q_proj.weight')).toBe(false);
    expect(hit('model.layers.10.self_attn.q_proj.weight')).toBe(true);
    expect(hit('model.layers.1.input_layernorm.weight')).toBe(false);
    expect(hit('lm_head.weight')).toBe(false);
    expect(hit('model.layers.1.self_attn.q_proj.bias')).toBe(false);
    expect(y).toMatch(/^# NOTE: MagnitudePruningModifier is not oneshot-capable/m);
    expect(y).not.toMatch(/NOT EQUIVALENT/);
  });

  test('N:M: says the recipe is not equivalent (no N:M mask in MagnitudePruningModifier)', () => {
    const y = llmCompressorRecipe({ ...base, method: 'magnitude', target: { kind: 'nm', n: 2, m: 4 } });
    const { fields } = modifierOf(y, 'pruning_stage', 'pruning_modifiers');
    expect(fields).toMatchObject({ final_sparsity: 0.5, mask_structure: 'unstructured' });
    expect(y).toMatch(/^# NOT EQUIVALENT/m);
  });

  test('GPT-2 module names get the transformer. prefix; fused parts give one target', () => {
    const modules = ['h.0.attn.c_attn[q]', 'h.0.attn.c_attn[k]', 'h.0.attn.c_attn[v]', 'h.0.attn.c_proj', 'h.1.mlp.c_fc'];
    const { fields } = modifierOf(llmCompressorRecipe({ ...base, method: 'magnitude', family: 'gpt2', modules }), 'pruning_stage', 'pruning_modifiers');
    expect(fields.targets).toEqual(['re:transformer\\.h\\.\\d+\\.attn\\.c_attn\\.weight$', 're:transformer\\.h\\.\\d+\\.attn\\.c_proj\\.weight$', 're:transformer\\.h\\.\\d+\\.mlp\\.c_fc\\.weight$']);
  });

  test('refused without module names', () => {
    expect(() => llmCompressorRecipe({ ...base, method: 'magnitude', modules: [] })).toThrow(BadOption);
  });
});

describe('training runs: the train stage', () => {
  const training = { steps: 100, batch: 8, seqlen: 128, lr: 1e-3, warmup: 10, weightDecay: 0, clip: 0, windows: 40 };

  test('Recover: the one-shot stage, then ConstantPruningModifier on the pruned weights, and how to run each', () => {
    const text = llmCompressorRecipe({ ...base, training: { ...training, mode: 'recover' } });
    const doc = parse(text);
    expect(Object.keys(doc)).toEqual(['args', 'sparsity_stage', 'finetuning_stage']);
    const c = doc.finetuning_stage.finetuning_modifiers.ConstantPruningModifier;
    expect(c.start).toBe(0);
    // Its parameter regexes select exactly the pruned weights (re.match semantics).
    const names = [...LLAMA_MODULES.map((m) => `${m}.weight`), 'model.layers.0.input_layernorm.weight', 'model.embed_tokens.weight', 'lm_head.weight'];
    const hit = names.filter((n) => c.targets.some((t: string) => reMatch(t, n)));
    expect(hit).toEqual(LLAMA_MODULES.map((m) => `${m}.weight`));
    expect(text).toContain("stage='sparsity_stage'");
    expect(text).toContain("stage='finetuning_stage'");
    expect(text).toMatch(/learning_rate=0\.001,\n# {7}max_steps=100,\n# {7}warmup_steps=10,\n# {7}lr_scheduler_type='cosine',\n# {7}per_device_train_batch_size=8,/);
  });

  test('GMP: MagnitudePruningModifier with the cubic schedule, its steps in epochs of ⌈N / B⌉ steps', () => {
    const gmp = { final: 0.5, t0: 0, dt: 10, n: 7 };
    const text = llmCompressorRecipe({ ...base, method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, training: { ...training, mode: 'gmp', gmp } });
    const doc = parse(text);
    expect(Object.keys(doc)).toEqual(['finetuning_stage']);
    const m = doc.finetuning_stage.finetuning_modifiers.MagnitudePruningModifier;
    // 40 windows / 8 per step: an epoch is 5 steps.
    expect(m).toMatchObject({ init_sparsity: 0, final_sparsity: 0.5, start: 0, end: 14, update: 2, update_scheduler: 'cubic', mask_structure: 'unstructured' });
    // llm-compressor's cubic scheduler, s = s_i + (s_f − s_i)((p − 1)³ + 1), at each pruning step
    // (index = step / 5), gives the studio's s_f(1 − (1 − k/n)³).
    for (let k = 0; k <= gmp.n; k++) {
      const index = (gmp.t0 + k * gmp.dt) / 5;
      const p = (index - m.start) / (m.end - m.start);
      expect(m.init_sparsity + (m.final_sparsity - m.init_sparsity) * ((p - 1) ** 3 + 1)).toBeCloseTo(gmp.final * (1 - (1 - k / gmp.n) ** 3), 12);
    }
    expect(text).not.toContain('oneshot(');
  });
});
