// config.json as transformers reads it: both config forms (transformers 4's top-level rope fields,
// transformers 5's rope_parameters), every field either read, listed as harmless, or refused by
// name, and fields transformers' class does not define reported as notes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { bytesSource, type FileSource } from '../../../src/core/io/file-source';
import { COMMON_READS, ConfigFields, HARMLESS_COMMON, readRope, ropeInvFreq } from '../../../src/core/model/config';
import { FAMILY_DEFS } from '../../../src/core/model/families';
import { openModelFolder } from '../../../src/core/model/folder';
import { DEMO_MODEL, FIXTURE_MODELS, json } from '../../helpers/fixtures';

const FIXTURES = fs.readdirSync(FIXTURE_MODELS).filter((d) => fs.existsSync(path.join(FIXTURE_MODELS, d, 'config.json')));

function filesOf(dir: string, config?: Record<string, unknown>, drop: (n: string) => boolean = () => false): FileSource[] {
  return fs
    .readdirSync(dir)
    .filter((n) => (n.endsWith('.safetensors') || n === 'config.json' || n === 'model.safetensors.index.json') && !drop(n))
    .map((n) =>
      n === 'config.json' && config
        ? bytesSource(new TextEncoder().encode(JSON.stringify(config)), `m/${n}`)
        : bytesSource(fs.readFileSync(path.join(dir, n)), `m/${n}`),
    );
}

const fixture = (name: string) => path.join(FIXTURE_MODELS, name);
const configOf = (name: string) => json(path.join(fixture(name), 'config.json'));
const openWith = (name: string, edit: (c: Record<string, any>) => void) => {
  const c = configOf(name);
  edit(c);
  return openModelFolder(filesOf(fixture(name), c));
};

// The fields of transformers 5.18's config classes (dataclass fields, PreTrainedConfig's excluded),
// read off `dataclasses.fields(LlamaConfig)` etc.
const TRANSFORMERS_FIELDS: Record<string, string[]> = {
  llama: ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'hidden_act', 'max_position_embeddings', 'initializer_range', 'rms_norm_eps', 'use_cache', 'pad_token_id', 'bos_token_id', 'eos_token_id', 'pretraining_tp', 'tie_word_embeddings', 'rope_parameters', 'attention_bias', 'attention_dropout', 'mlp_bias', 'head_dim'],
  qwen2: ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'hidden_act', 'max_position_embeddings', 'initializer_range', 'rms_norm_eps', 'use_cache', 'tie_word_embeddings', 'rope_parameters', 'use_sliding_window', 'sliding_window', 'max_window_layers', 'layer_types', 'attention_dropout', 'pad_token_id', 'bos_token_id', 'eos_token_id'],
  gpt2: ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'n_inner', 'activation_function', 'resid_pdrop', 'embd_pdrop', 'attn_pdrop', 'layer_norm_epsilon', 'initializer_range', 'summary_type', 'summary_use_proj', 'summary_activation', 'summary_proj_to_labels', 'summary_first_dropout', 'scale_attn_weights', 'use_cache', 'bos_token_id', 'eos_token_id', 'pad_token_id', 'scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn', 'add_cross_attention', 'tie_word_embeddings'],
  opt: ['vocab_size', 'hidden_size', 'num_hidden_layers', 'ffn_dim', 'max_position_embeddings', 'do_layer_norm_before', '_remove_final_layer_norm', 'word_embed_proj_dim', 'dropout', 'attention_dropout', 'num_attention_heads', 'activation_function', 'layerdrop', 'init_std', 'use_cache', 'pad_token_id', 'bos_token_id', 'eos_token_id', 'enable_bias', 'layer_norm_elementwise_affine', 'tie_word_embeddings'],
  gpt_neox: ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act', 'attention_dropout', 'hidden_dropout', 'classifier_dropout', 'max_position_embeddings', 'initializer_range', 'layer_norm_eps', 'use_cache', 'bos_token_id', 'eos_token_id', 'pad_token_id', 'tie_word_embeddings', 'use_parallel_residual', 'rope_parameters', 'attention_bias', 'is_decoder'],
  phi: ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'resid_pdrop', 'embd_pdrop', 'attention_dropout', 'hidden_act', 'max_position_embeddings', 'initializer_range', 'layer_norm_eps', 'use_cache', 'tie_word_embeddings', 'rope_parameters', 'qk_layernorm', 'bos_token_id', 'eos_token_id', 'pad_token_id'],
};
const PRETRAINED_CONFIG_FIELDS = ['architectures', 'chunk_size_feed_forward', 'dtype', 'id2label', 'is_encoder_decoder', 'label2id', 'output_hidden_states', 'problem_type', 'return_dict', 'transformers_version'];

describe('the fields each family reads, and the rest', () => {
  test.each(FAMILY_DEFS.map((f) => [f.family, f] as const))('%s: every field of transformers\' config class is read or listed as harmless', (family, def) => {
    const { reads, harmless } = def.fields;
    expect(reads.filter((r) => Object.hasOwn(harmless, r) || Object.hasOwn(HARMLESS_COMMON, r))).toEqual([]);
    const classified = (f: string) => reads.includes(f) || Object.hasOwn(harmless, f) || Object.hasOwn(HARMLESS_COMMON, f) || (COMMON_READS as readonly string[]).includes(f);
    expect([...TRANSFORMERS_FIELDS[family], ...PRETRAINED_CONFIG_FIELDS].filter((f) => !classified(f))).toEqual([]);
    for (const reason of Object.values(harmless)) expect(reason.length).toBeGreaterThan(10);
  });

  test.each([...FIXTURES, '(demo model)'])('%s: every config field is read or harmless, none ignored unannounced', async (name) => {
    const dir = name === '(demo model)' ? DEMO_MODEL : fixture(name);
    const folder = await openModelFolder(filesOf(dir));
    const config = json(path.join(dir, 'config.json'));
    const { reads, harmless } = folder.family.fields;
    for (const key of Object.keys(config)) {
      const ok = reads.includes(key) || Object.hasOwn(harmless, key) || Object.hasOwn(HARMLESS_COMMON, key) || (COMMON_READS as readonly string[]).includes(key);
      expect(ok, `${name}: config field "${key}"`).toBe(true);
    }
    expect(folder.notes).toEqual([]);
  });

  test('what a load reads is in the family\'s list of reads', async () => {
    for (const name of FIXTURES) {
      const folder = await openModelFolder(filesOf(fixture(name)));
      const c = new ConfigFields(configOf(name), folder.family.fields.aliases);
      folder.family.spec(c, new Set(folder.tensors.keys()));
      for (const k of c.read) expect([...folder.family.fields.reads, ...COMMON_READS], `${name}: ${k}`).toContain(k);
    }
  });
});

describe('both config forms', () => {
  const twins = FIXTURES.filter((n) => n.endsWith('-v5'));
  test('every rope family has a transformers 5 twin', () => {
    expect(twins.map((n) => configOf(n).model_type).sort()).toEqual(['gpt_neox', 'llama', 'llama', 'phi', 'qwen2']);
  });
  test.each(twins)('%s gives the same model as its transformers 4 twin', async (name) => {
    const v5 = await openModelFolder(filesOf(fixture(name)));
    const v4 = await openModelFolder(filesOf(fixture(name.replace(/-v5$/, ''))));
    expect(configOf(name).rope_parameters).toBeDefined();
    expect(configOf(name).rope_theta).toBeUndefined();
    expect(v5.spec).toEqual(v4.spec);
    expect(v5.spec.configDtype).toBe(configOf(name).dtype);
  });
});

describe('rotary settings (transformers 5 precedence)', () => {
  const rope = (raw: Record<string, unknown>, partialDefault = 1, theta = ['rope_theta'], partial = ['partial_rotary_factor'], wholeHead = false) =>
    readRope(new ConfigFields({ model_type: 'x', ...raw }), { theta, partial, partialDefault, wholeHead });

  test('rope_parameters and the top-level fields give the same settings', () => {
    expect(rope({ rope_parameters: { rope_type: 'default', rope_theta: 1e6 } })).toEqual(rope({ rope_theta: 1e6 }));
    const l3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    expect(rope({ rope_parameters: { ...l3, rope_theta: 5e5 } })).toEqual(rope({ rope_theta: 5e5, rope_scaling: l3 }));
    // rope_scaling's old "type" key
    expect(rope({ rope_scaling: { type: 'linear', factor: 2 } })).toEqual({ type: 'linear', theta: 10000, partial: 1, factor: 2 });
  });
  test('a value inside rope_parameters wins over the top-level one (PhiConfig 5 writes both)', () => {
    expect(rope({ partial_rotary_factor: 0.5, rope_parameters: { rope_type: 'default', rope_theta: 2e4, partial_rotary_factor: 0.375 } }, 0.5).partial).toBe(0.375);
    expect(rope({ rotary_pct: 0.5 }, 0.25, ['rotary_emb_base', 'rope_theta'], ['rotary_pct', 'partial_rotary_factor']).partial).toBe(0.5);
    expect(rope({}, 0.25, ['rotary_emb_base'], ['rotary_pct']).partial).toBe(0.25);
  });
  test("llama3's original_max_position_embeddings falls back to max_position_embeddings", () => {
    const r = rope({ max_position_embeddings: 128, rope_parameters: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4 } });
    expect(r.originalMaxPositions).toBe(128);
  });
  test('llama3 inverse frequencies: high frequencies kept, low ones divided by the factor, the middle smoothed', () => {
    const r = rope({ rope_parameters: { rope_type: 'llama3', rope_theta: 10000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } });
    const f = ropeInvFreq(r, 16);
    const base = ropeInvFreq({ type: 'default', theta: 10000, partial: 1 }, 16);
    expect(f[0]).toBe(base[0]); // wavelength 2π < 64/4
    expect(f[7]).toBeCloseTo(base[7] / 8, 15); // wavelength ≈ 5000 > 64
    const w = (2 * Math.PI) / base[2]; // ≈ 20: between 16 and 64
    const s = (64 / w - 1) / 3;
    expect(f[2]).toBeCloseTo((1 - s) * (base[2] / 8) + s * base[2], 15);
  });

  test.each([
    [{ rope_parameters: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 } }, /rope_type "yarn" \(supported: default, linear, llama3\)/],
    [{ rope_parameters: { rope_type: 'dynamic', factor: 2 } }, /rope_type "dynamic"/],
    [{ rope_scaling: { rope_type: 'longrope', short_factor: [1], long_factor: [1] } }, /rope_scaling.rope_type "longrope"/],
    [{ rope_scaling: { rope_type: {} } }, /rope_scaling.rope_type should be a string, found an object \(\{\}\)/],
    [{ rope_scaling: { rope_type: [{}] } }, /should be a string, found an array \(\[\{\}\]\)/],
    [{ rope_parameters: 'default' }, /"rope_parameters" should be an object, found the string "default"/],
    [{ rope_parameters: { rope_type: 'linear', factor: 2, attention_factor: 1.5 } }, /rope_parameters.attention_factor with rope_type "linear"/],
    [{ rope_parameters: { rope_type: 'linear' } }, /rope_parameters.factor should be a number, found nothing/],
    [{ rope_parameters: { rope_type: 'llama3', factor: 8, high_freq_factor: 4 } }, /low_freq_factor should be a number/],
    [{ rope_parameters: { rope_type: 'default', rope_theta: 1e4 }, rope_scaling: { rope_type: 'linear', factor: 2 } }, /both "rope_scaling" .* and "rope_parameters" .* which differ/],
    [{ rope_parameters: { rope_type: 'default', partial_rotary_factor: 0.5 } }, /partial_rotary_factor 0.5 \(model_type "x" rotates the whole head\)/],
  ])('refused: %j', (raw, message) => {
    expect(() => rope(raw, 1, ['rope_theta'], ['partial_rotary_factor'], true)).toThrow(message);
  });
  test('gpt_neox: rotary_emb_base and rope_theta that disagree are refused', () => {
    expect(() => rope({ rotary_emb_base: 1e4, rope_theta: 5e4 }, 0.25, ['rotary_emb_base', 'rope_theta'])).toThrow(/"rotary_emb_base" \(10000\) and "rope_theta" \(50000\) disagree/);
  });
});

describe('fields that change the numbers are refused by name', () => {
  test.each([
    ['tiny-qwen2-v5', (c: any) => { c.use_sliding_window = true; }, /use_sliding_window = true/],
    ['tiny-qwen2-v5', (c: any) => { c.layer_types = ['full_attention', 'sliding_attention']; }, /layer_types entry "sliding_attention" \(only "full_attention"/],
    ['tiny-llama-v5', (c: any) => { c.quantization_config = { quant_method: 'gptq', bits: 4 }; }, /a quantized checkpoint \("quantization_config"/],
    ['tiny-llama-v5', (c: any) => { c.rope_parameters = { rope_type: 'yarn', factor: 4, rope_theta: 1e4 }; }, /rope_type "yarn"/],
    ['tiny-llama', (c: any) => { c.rope_scaling = { rope_type: 'dynamic', factor: 2 }; }, /rope_type "dynamic"/],
    ['tiny-llama', (c: any) => { c.rope_interleaved = true; }, /rope_interleaved = true/],
    ['tiny-llama', (c: any) => { c.pruned_heads = { 0: [1] }; }, /"pruned_heads"/],
    ['tiny-phi-v5', (c: any) => { c.qk_layernorm = true; }, /qk_layernorm = true/],
    ['tiny-gpt2', (c: any) => { c.add_cross_attention = true; }, /add_cross_attention = true/],
    ['tiny-gpt2', (c: any) => { c.hidden_size = 64; }, /fields "n_embd" \(number 32\) and "hidden_size" \(number 64\) name the same setting/],
    ['tiny-opt', (c: any) => { c.layer_norm_elementwise_affine = false; }, /layer_norm_elementwise_affine = false/],
    ['tiny-llama', (c: any) => { c.attention_bias = true; }, /no tensor "model.layers.0.self_attn.q_proj.bias"/],
  ] as const)('%s with %s', async (name, edit, message) => {
    await expect(openWith(name, edit)).rejects.toThrow(message);
  });

  test('a field transformers does not define is ignored, as transformers ignores it, and said so', async () => {
    const f = await openWith('tiny-llama-v5', (c) => {
      c.my_custom_flag = 3;
      c.rope_interleaved = false;
    });
    expect(f.notes).toEqual([`config.json field(s) "my_custom_flag" are not fields of transformers' LlamaConfig: transformers ignores them, and so does Prune Studio.`]);
  });

  test('a bias the config does not declare is not loaded (as in transformers), and said so', async () => {
    // tiny-qwen2 stores q/k/v biases; as llama with attention_bias false they are not part of the model.
    const f = await openWith('tiny-qwen2', (c) => {
      c.model_type = 'llama';
      for (const k of ['use_sliding_window', 'sliding_window', 'max_window_layers']) delete c[k];
    });
    expect(f.plans.some((p) => p.hf.endsWith('.bias'))).toBe(false);
    expect(f.notes[0]).toMatch(/^tensor\(s\) "model\.layers\.0\.self_attn\.q_proj\.bias", .* are not used by this llama config/);
  });

  test('GPT-2 accepts the attribute_map names transformers accepts (hidden_size for n_embd, …)', async () => {
    const f = await openWith('tiny-gpt2', (c) => {
      c.hidden_size = c.n_embd;
      delete c.n_embd;
      c.num_hidden_layers = c.n_layer;
      delete c.n_layer;
    });
    expect(f.spec.hidden).toBe(32);
    expect(f.spec.nLayers).toBe(2);
    expect(f.notes).toEqual([]);
  });

  test('Phi: lm_head.bias is read with a tied head too', async () => {
    const f = await openWith('tiny-phi-v5', (c) => {
      c.tie_word_embeddings = true;
    });
    expect(f.plans.map((p) => p.hf)).toContain('lm_head.bias');
    expect(f.plans.map((p) => p.hf)).not.toContain('lm_head.weight');
  });
});
