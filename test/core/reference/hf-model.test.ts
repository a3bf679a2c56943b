import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  referenceForward,
  referenceLogits,
  referenceNll,
  referenceRope,
  type HfConfig,
  type RefTensor,
} from '../../../src/core/reference/hf-model.ts';
import { logSoftmaxNllRef } from '../../../src/core/reference/kernels.ts';
import { FIXTURES, STORIES, fixtureNames, loadHfFolder, loadTokenizer, readJson } from './load-hf-folder.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function row(logits: Float64Array, V: number, t: number): Float64Array {
  return logits.subarray(t * V, (t + 1) * V);
}

const REPO_FIXTURE = join(FIXTURES, '..', 'stories260K');

describe('referenceLogits on stories260K (independent numpy outputs)', () => {
  const model = loadHfFolder(STORIES);
  const ref = readJson(join(REPO_FIXTURE, 'reference_outputs.json'));

  it('matches last-position logits for "Once upon a time"', () => {
    const case_ = ref.last_logits_once_upon_a_time;
    const ids: number[] = case_.ids;
    expect(ids).toEqual([1, 403, 407, 261, 378]);
    const V = model.config.vocab_size;
    const last = row(referenceLogits(model.config, model.tensors, ids), V, ids.length - 1);
    const order = Array.from(last.keys()).sort((a, b) => last[b] - last[a]);
    expect(order.slice(0, 5)).toEqual(case_.top5_ids);
    case_.top5_ids.forEach((id: number, i: number) => expect(Math.abs(last[id] - case_.top5_logits[i])).toBeLessThan(1e-4));
    case_.logits_first8.forEach((v: number, i: number) => expect(Math.abs(last[i] - v)).toBeLessThan(1e-4));
  });

  it('matches the mean NLL of the doc sample', () => {
    const tok = loadTokenizer(STORIES)!;
    expect(tok.encode('Once upon a time').ids).toEqual([1, 403, 407, 261, 378]);
    const ids = tok.encode(ref.nll_doc_sample.text).ids;
    expect(ids.length - 1).toBe(ref.nll_doc_sample.n_predicted);
    const nll = referenceNll(model.config, model.tensors, ids);
    const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
    expect(Math.abs(mean - ref.nll_doc_sample.mean_nll)).toBeLessThan(1e-5);
  });

  it('greedy decoding from BOS reproduces the published continuation (first 12 tokens)', () => {
    const target: number[] = ref.greedy_from_bos.ids.slice(0, 13);
    const ids = [target[0]];
    const V = model.config.vocab_size;
    while (ids.length < target.length) {
      const last = row(referenceLogits(model.config, model.tensors, ids), V, ids.length - 1);
      let best = 0;
      for (let i = 1; i < V; i++) if (last[i] > last[best]) best = i;
      ids.push(best);
    }
    expect(ids).toEqual(target);
  });
});

describe('synthetic fixtures (scripts/make-fixtures.ts)', () => {
  const names = fixtureNames();

  it('has every variant', () => {
    expect(names).toEqual(
      [
        'tiny-gpt-neox',
        'tiny-gpt-neox-seq',
        'tiny-gpt2',
        'tiny-gpt2-sharded',
        'tiny-llama',
        'tiny-llama-tied-bf16',
        'tiny-opt',
        'tiny-opt-350m-style',
        'tiny-phi',
        'tiny-qwen2',
        // the same weights with transformers 5 configs (rope_parameters, dtype)
        'tiny-gpt-neox-v5',
        'tiny-llama-v5',
        'tiny-llama-tied-bf16-v5',
        'tiny-phi-v5',
        'tiny-qwen2-v5',
      ].sort(),
    );
  });

  for (const name of names) {
    describe(name, () => {
      const dir = join(FIXTURES, name);
      const model = loadHfFolder(dir);
      const expected = readJson(join(dir, 'expected.json'));
      const out = referenceForward(model.config, model.tensors, expected.ids);

      it('reproduces expected.json logits', () => {
        expect(out.T).toBe(expected.ids.length);
        expect(out.V).toBe(model.config.vocab_size);
        expect(expected.logits.length).toBe(out.T);
        for (let t = 0; t < out.T; t++) {
          const r = row(out.logits, out.V, t);
          for (let i = 0; i < out.V; i++) {
            // 7 significant digits: relative 5e-7.
            expect(Math.abs(r[i] - expected.logits[t][i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(r[i])));
          }
        }
      });

      it('has finite, non-trivial logits and a consistent NLL', () => {
        let sum = 0;
        let sq = 0;
        for (const v of out.logits) {
          expect(Number.isFinite(v)).toBe(true);
          sum += v;
          sq += v * v;
        }
        const n = out.logits.length;
        const std = Math.sqrt(sq / n - (sum / n) ** 2);
        expect(std).toBeGreaterThan(0.5);
        expect(std).toBeLessThan(5);
        const nll = logSoftmaxNllRef(out.logits.subarray(0, (out.T - 1) * out.V), expected.ids.slice(1));
        nll.forEach((v, i) => expect(Math.abs(v - expected.nll[i])).toBeLessThan(1e-5));
      });

      it('is causal: logits of a prefix equal the first rows of the full run', () => {
        const k = 3;
        const prefix = referenceLogits(model.config, model.tensors, expected.ids.slice(0, k));
        expect(maxAbsDiff(prefix, out.logits.subarray(0, k * out.V))).toBeLessThan(1e-12);
      });

      const tok = loadTokenizer(dir);
      it.runIf(tok !== null)('ids are the tokenizer encoding of the text', () => {
        expect(tok!.encode(expected.text).ids.slice(0, expected.ids.length)).toEqual(expected.ids);
        expect(tok!.decode(tok!.encode(expected.text).ids, { skip_special_tokens: true })).toBe(expected.text);
      });
    });
  }

  it('stores the dtypes the variants promise', () => {
    const dtypeOf = (name: string) => new Set(loadHfFolder(join(FIXTURES, name)).dtypes.values());
    expect(dtypeOf('tiny-llama-tied-bf16')).toEqual(new Set(['BF16']));
    expect(dtypeOf('tiny-qwen2')).toEqual(new Set(['F16']));
    expect(dtypeOf('tiny-opt')).toEqual(new Set(['F16']));
    expect(dtypeOf('tiny-llama')).toEqual(new Set(['F32']));
    expect(dtypeOf('tiny-gpt2')).toEqual(new Set(['F32']));
  });

  it('gpt2 with and without the "transformer." prefix (and sharded) give identical logits', () => {
    const a = loadHfFolder(join(FIXTURES, 'tiny-gpt2'));
    const b = loadHfFolder(join(FIXTURES, 'tiny-gpt2-sharded'));
    expect([...a.tensors.keys()].some((k) => k.startsWith('transformer.'))).toBe(false);
    expect([...b.tensors.keys()].every((k) => k.startsWith('transformer.'))).toBe(true);
    const ids = readJson(join(FIXTURES, 'tiny-gpt2', 'expected.json')).ids;
    expect(maxAbsDiff(referenceLogits(a.config, a.tensors, ids), referenceLogits(b.config, b.tensors, ids))).toBe(0);
  });

  it('gpt2 ignores the attn.bias / attn.masked_bias buffers', () => {
    const a = loadHfFolder(join(FIXTURES, 'tiny-gpt2'));
    expect(a.tensors.has('h.0.attn.bias')).toBe(true);
    expect(a.tensors.get('h.0.attn.masked_bias')!.shape).toEqual([]);
    const stripped = new Map([...a.tensors].filter(([k]) => !/\.attn\.(masked_)?bias$/.test(k)));
    expect(stripped.size).toBe(a.tensors.size - 2 * a.config.n_layer);
    const ids = [5, 77, 300, 12];
    expect(maxAbsDiff(referenceLogits(a.config, a.tensors, ids), referenceLogits(a.config, stripped, ids))).toBe(0);
  });
});

describe('HF semantics details', () => {
  const llama = loadHfFolder(join(FIXTURES, 'tiny-llama'));
  const ids = [1, 403, 407, 261, 378, 432];

  it('llama attention_bias / mlp_bias read biases (zero biases change nothing, missing ones throw)', () => {
    const cfg = { ...llama.config, attention_bias: true, mlp_bias: true };
    expect(() => referenceLogits(cfg, llama.tensors, ids)).toThrow(/q_proj\.bias/);
    const withBias = new Map(llama.tensors);
    for (const [k, v] of llama.tensors) {
      if (/(proj)\.weight$/.test(k) && k.startsWith('model.layers.')) {
        withBias.set(k.replace('.weight', '.bias'), { shape: [v.shape[0]], data: new Float32Array(v.shape[0]) });
      }
    }
    const base = referenceLogits(llama.config, llama.tensors, ids);
    expect(maxAbsDiff(referenceLogits(cfg, withBias, ids), base)).toBe(0);
    // A non-zero o_proj bias b adds b to the residual stream: logits must move.
    const ob = withBias.get('model.layers.1.self_attn.o_proj.bias')!;
    ob.data.fill(0.5);
    expect(maxAbsDiff(referenceLogits(cfg, withBias, ids), base)).toBeGreaterThan(1e-3);
  });

  it('llama untied head reads lm_head; tying switches to embed_tokens', () => {
    const tied = referenceLogits({ ...llama.config, tie_word_embeddings: true }, llama.tensors, ids);
    expect(maxAbsDiff(tied, referenceLogits(llama.config, llama.tensors, ids))).toBeGreaterThan(1e-2);
    const noHead = new Map(llama.tensors);
    noHead.delete('lm_head.weight');
    expect(() => referenceLogits(llama.config, noHead, ids)).toThrow(/lm_head/);
  });

  it('GQA with KV heads duplicated equals the grouped model', () => {
    // Expand k/v projections (2 KV heads -> 4) so that query head h reads duplicated KV head h.
    const D = 8;
    const dup = new Map(llama.tensors);
    for (const [k, v] of llama.tensors) {
      if (/self_attn\.[kv]_proj\.weight$/.test(k)) {
        const C = v.shape[1];
        const out = new Float32Array(4 * D * C);
        for (let h = 0; h < 4; h++) out.set(v.data.subarray(Math.floor(h / 2) * D * C, (Math.floor(h / 2) + 1) * D * C), h * D * C);
        dup.set(k, { shape: [4 * D, C], data: out });
      }
    }
    const mha = referenceLogits({ ...llama.config, num_key_value_heads: 4 }, dup, ids);
    expect(maxAbsDiff(mha, referenceLogits(llama.config, llama.tensors, ids))).toBeLessThan(1e-12);
  });

  it('RoPE parameters: default, linear, llama3, partial rotary, v5 rope_parameters', () => {
    const base = referenceRope({ rope_theta: 10000 }, 16, 'llama');
    expect(base.rotaryDim).toBe(16);
    base.invFreq.forEach((f, i) => expect(f).toBeCloseTo(Math.pow(10000, -(2 * i) / 16), 15));
    const lin = referenceRope({ rope_theta: 10000, rope_scaling: { type: 'linear', factor: 4 } }, 16, 'llama');
    lin.invFreq.forEach((f, i) => expect(f).toBeCloseTo(base.invFreq[i] / 4, 15));
    // llama3 values computed independently (numpy, transformers' _compute_llama3_parameters).
    const l3 = referenceRope(
      {
        rope_theta: 10000,
        rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
      },
      16,
      'llama',
    );
    const want = [1.0, 0.24438459943539834, 0.013042256043820465, 0.003952847075210474, 0.00125, 0.00039528470752104737, 0.000125, 3.952847075210474e-5];
    l3.invFreq.forEach((f, i) => expect(Math.abs(f - want[i])).toBeLessThan(1e-15));
    // gpt_neox: rotary_ndims = int(head_dim * rotary_pct), frequencies over rotary_ndims.
    const neox = referenceRope({ rotary_pct: 0.25, rotary_emb_base: 10000 }, 16, 'gpt_neox');
    expect(neox.rotaryDim).toBe(4);
    expect(neox.invFreq).toEqual([1, 1 / 100]);
    expect(referenceRope({ rope_parameters: { rope_theta: 10000, partial_rotary_factor: 0.25 } }, 16, 'gpt_neox')).toEqual(neox);
    expect(referenceRope({ partial_rotary_factor: 0.25, rope_theta: 10000 }, 16, 'gpt_neox')).toEqual(neox);
    // phi: default partial_rotary_factor 0.5.
    expect(referenceRope({}, 8, 'phi').rotaryDim).toBe(4);
    expect(() => referenceRope({ rope_scaling: { rope_type: 'yarn', factor: 2 } }, 8, 'llama')).toThrow(/yarn/);
  });

  it('gpt2 scale_attn_by_inverse_layer_idx leaves layer 0 and changes layer 1', () => {
    const g = loadHfFolder(join(FIXTURES, 'tiny-gpt2'));
    const gids = [5, 77, 300, 12, 40];
    const a = referenceForward(g.config, g.tensors, gids, { collectHidden: true });
    const b = referenceForward({ ...g.config, scale_attn_by_inverse_layer_idx: true }, g.tensors, gids, { collectHidden: true });
    expect(maxAbsDiff(a.hidden![1], b.hidden![1])).toBe(0);
    expect(maxAbsDiff(a.hidden![2], b.hidden![2])).toBeGreaterThan(1e-4);
  });

  it('opt accepts both "decoder." and "model.decoder." names', () => {
    const o = loadHfFolder(join(FIXTURES, 'tiny-opt'));
    const renamed = new Map<string, RefTensor>([...o.tensors].map(([k, v]) => ['model.' + k, v]));
    const oids = [2, 100, 200, 50];
    expect(maxAbsDiff(referenceLogits(o.config, o.tensors, oids), referenceLogits(o.config, renamed, oids))).toBe(0);
  });

  it('opt learned positions use row p + 2', () => {
    const o = loadHfFolder(join(FIXTURES, 'tiny-opt'));
    const pos = o.tensors.get('decoder.embed_positions.weight')!;
    const C = pos.shape[1];
    // Zeroing rows 0 and 1 (never used) changes nothing; zeroing row 2 changes position 0.
    const z = (rows: number[]) => {
      const data = Float32Array.from(pos.data);
      for (const r of rows) data.fill(0, r * C, (r + 1) * C);
      return new Map(o.tensors).set('decoder.embed_positions.weight', { shape: pos.shape, data });
    };
    const oids = [2, 100, 200];
    const base = referenceLogits(o.config, o.tensors, oids);
    expect(maxAbsDiff(referenceLogits(o.config, z([0, 1]), oids), base)).toBe(0);
    expect(maxAbsDiff(referenceLogits(o.config, z([2]), oids), base)).toBeGreaterThan(1e-3);
  });

  it('phi num_key_value_heads null means one KV head per query head', () => {
    const p = loadHfFolder(join(FIXTURES, 'tiny-phi'));
    expect(p.config.num_key_value_heads).toBeNull();
    const pids = [10, 20, 30, 40];
    const a = referenceLogits(p.config, p.tensors, pids);
    const b = referenceLogits({ ...p.config, num_key_value_heads: p.config.num_attention_heads }, p.tensors, pids);
    expect(maxAbsDiff(a, b)).toBe(0);
  });

  it('gpt_neox parallel and sequential residuals differ on the same weights', () => {
    const n = loadHfFolder(join(FIXTURES, 'tiny-gpt-neox'));
    const nids = [10, 20, 30, 40];
    const par = referenceLogits(n.config, n.tensors, nids);
    const seq = referenceLogits({ ...n.config, use_parallel_residual: false }, n.tensors, nids);
    expect(maxAbsDiff(par, seq)).toBeGreaterThan(1e-3);
  });

  it('rejects unknown families and out-of-range ids', () => {
    const cfg: HfConfig = { ...llama.config, model_type: 'mistral' };
    expect(() => referenceLogits(cfg, llama.tensors, ids)).toThrow(/model_type/);
    expect(() => referenceLogits(llama.config, llama.tensors, [1, 512])).toThrow(/outside/);
  });
});
