// The compute planner's formulas against values computed by hand (the arithmetic is in the
// comments), closed-form identities of the compute-optimal allocation, the FLOPs and bytes of a
// tiny config counted by hand, the model-card token table, and input validation.
import { describe, expect, it } from 'vitest';
import { BadOption } from '../../../src/core/errors';
import {
  CHINCHILLA_TOKENS_PER_PARAM,
  EPOCH_2024,
  FITS,
  HOFFMANN_2022,
  computeOptimal,
  fitById,
  frontier,
  loss,
  lossTerms,
  parseAmount,
  trainingCompute,
  whereModelSits,
} from '../../../src/core/plan/chinchilla';
import {
  type DecoderShape,
  bitmaskOverhead,
  decoderLinearWeights,
  decoderShapeFromSummary,
  flopsPerToken,
  headWeights,
  linearNonzeros,
  linearWeightsPerLayer,
  prunedMatrices,
  weightBytes,
} from '../../../src/core/plan/inference';
import { knownTrainingTokens } from '../../../src/core/plan/known-tokens';
import type { ModelSummary } from '../../../src/core/types';

/** |a − b| ≤ rel·|b|. */
function near(a: number, b: number, rel = 1e-9) {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.abs(b));
}

describe('the fits', () => {
  it('are the published constants, labelled with their sources', () => {
    expect(HOFFMANN_2022).toMatchObject({ E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 });
    expect(HOFFMANN_2022.source).toMatch(/Hoffmann.*2022.*2203\.15556/);
    expect(EPOCH_2024).toMatchObject({ E: 1.8172, A: 482.01, B: 2085.43, alpha: 0.3478, beta: 0.3658 });
    expect(EPOCH_2024.source).toMatch(/Besiroglu.*2024.*2404\.10102/);
    expect(FITS.map((f) => f.id)).toEqual(['hoffmann2022', 'epoch2024']);
    expect(fitById('epoch2024')).toBe(EPOCH_2024);
  });
});

describe('L(N, D) = E + A/N^α + B/D^β', () => {
  it('matches a hand computation at N = 1e9, D = 1e10 (Hoffmann)', () => {
    // A/N^α = 406.4 · 10^(−9·0.34) = 406.4 · 10^(−3.06) = 406.4 · 8.709636e-4 = 0.3539596
    // B/D^β = 410.7 · 10^(−10·0.28) = 410.7 · 10^(−2.8) = 410.7 · 1.5848932e-3 = 0.6509156
    // L = 1.69 + 0.3539596 + 0.6509156 = 2.6948752
    const t = lossTerms(1e9, 1e10, HOFFMANN_2022);
    near(t.params, 0.3539596, 1e-6);
    near(t.data, 0.6509156, 1e-6);
    near(t.total, 2.6948752, 1e-7);
    near(loss(1e9, 1e10, HOFFMANN_2022), 2.6948752, 1e-7);
  });

  it('matches a hand computation at N = 1e9, D = 1e10 (Epoch AI)', () => {
    // A/N^α = 482.01 · 10^(−9·0.3478) = 482.01 · 10^(−3.1302) = 482.01 · 7.409689e-4 = 0.3571544
    // B/D^β = 2085.43 · 10^(−10·0.3658) = 2085.43 · 10^(−3.658) = 2085.43 · 2.197860e-4 = 0.4583483
    // L = 1.8172 + 0.3571544 + 0.4583483 = 2.6327027
    const t = lossTerms(1e9, 1e10, EPOCH_2024);
    near(t.params, 0.3571544, 1e-6);
    near(t.data, 0.4583483, 1e-6);
    near(t.total, 2.6327027, 1e-7);
  });

  it('is Chinchilla-like at Chinchilla (70B params, 1.4T tokens)', () => {
    // Hoffmann: A/N^α = 406.4 · e^(−0.34·ln 7e10) = 406.4 · e^(−8.49037) = 0.083487;
    // B/D^β = 410.7 · e^(−0.28·ln 1.4e12) = 410.7 · e^(−7.83087) = 0.163158; L = 1.936645.
    near(loss(70e9, 1.4e12, HOFFMANN_2022), 1.936645, 1e-6);
  });
});

describe('C = 6ND and the compute-optimal allocation', () => {
  it('counts 6 FLOPs per parameter per token', () => {
    // stories260K: 6 × 260,032 × 6,553,600,000 = 1.02248742912e16 (exact in doubles).
    expect(trainingCompute(260_032, 6_553_600_000)).toBe(10_224_874_291_200_000);
  });

  it('gives N_opt and D_opt at Gopher/Chinchilla compute (C = 5.76e23), Hoffmann', () => {
    // αA = 0.34·406.4 = 138.176, βB = 0.28·410.7 = 114.996, ratio 1.2015722
    // G = 1.2015722^(1/0.62) = 1.2015722^1.6129032 = e^(1.6129032 · 0.1836314) = e^0.2961797 = 1.344711
    // C/6 = 9.6e22; a = β/(α+β) = 0.28/0.62 = 0.4516129
    // N_opt = G · (9.6e22)^0.4516129 = 1.344711 · e^(0.4516129 · 52.918635) = 1.344711 · e^23.898738
    //       = 1.344711 · 2.39383e10 = 3.2190e10;  D_opt = 9.6e22 / 3.2190e10 = 2.9823e12 (92.6 per param)
    const o = computeOptimal(5.76e23, HOFFMANN_2022);
    near(o.G, 1.344711, 1e-6);
    near(o.a, 0.28 / 0.62, 1e-12);
    near(o.N, 3.2190e10, 1e-4);
    near(o.D, 2.9823e12, 1e-4);
    near(o.tokensPerParam, 92.647, 1e-4);
    // The published fit's Approach 3 favours smaller models than Chinchilla's 70B (tens of
    // billions, far more than 20 tokens per parameter): the inconsistency Besiroglu et al. report.
    expect(o.N).toBeGreaterThan(2e10);
    expect(o.N).toBeLessThan(70e9);
    expect(o.tokensPerParam).toBeGreaterThan(60);
  });

  it('gives Chinchilla itself (≈70B, ≈1.4T, ≈20 tokens per parameter) with the Epoch AI re-fit', () => {
    // αA = 0.3478·482.01 = 167.64308, βB = 0.3658·2085.43 = 762.85029, ratio 0.2197588
    // G = 0.2197588^(1/0.7136) = e^(1.4013453 · −1.5152252) = e^−2.1233538 = 0.1196298
    // a = 0.3658/0.7136 = 0.5126121; N_opt = 0.1196298 · e^(0.5126121 · 52.918635) = 0.1196298 · 6.0395e11
    //       = 7.2249e10; D_opt = 9.6e22 / 7.2249e10 = 1.3287e12 (18.39 per param)
    const o = computeOptimal(5.76e23, EPOCH_2024);
    near(o.G, 0.1196298, 1e-6);
    near(o.N, 7.2249e10, 1e-4);
    near(o.D, 1.3287e12, 1e-4);
    near(o.tokensPerParam, 18.391, 1e-4);
    near(o.N, 70e9, 0.05);
    near(o.D, 1.4e12, 0.06);
  });

  for (const fit of FITS) {
    it(`satisfies the closed-form identities (${fit.id})`, () => {
      for (const C of [1e15, 3.3e19, 1e21, 5.76e23, 1e26]) {
        const o = computeOptimal(C, fit);
        // On the constraint: 6 N_opt D_opt = C.
        near(6 * o.N * o.D, C, 1e-12);
        // First-order condition: αA/N^α = βB/D^β.
        near((fit.alpha * fit.A) / Math.pow(o.N, fit.alpha), (fit.beta * fit.B) / Math.pow(o.D, fit.beta), 1e-10);
        // dL/d(ln N) along D = C/(6N) vanishes at N_opt (central difference, h = 1e-4) ...
        const along = (N: number) => loss(N, C / (6 * N), fit);
        const h = 1e-4;
        const slope = (along(o.N * Math.exp(h)) - along(o.N * Math.exp(-h))) / (2 * h);
        expect(Math.abs(slope)).toBeLessThan(1e-7);
        // ... and it is a minimum: 10% either way costs loss.
        expect(along(o.N * 1.1)).toBeGreaterThan(o.loss);
        expect(along(o.N / 1.1)).toBeGreaterThan(o.loss);
        // Power laws in C: ×10 compute → N × 10^a, D × 10^b, a + b = 1.
        const o10 = computeOptimal(10 * C, fit);
        near(o10.N / o.N, Math.pow(10, o.a), 1e-10);
        near(o10.D / o.D, Math.pow(10, o.b), 1e-10);
        near(o.a + o.b, 1, 1e-15);
      }
    });
  }

  it('places a model and compares it with the optimum for its compute', () => {
    // stories260K: N = 260,032, D = 6.5536e9 → D/N = 25,203.05 tokens per parameter,
    // 25,203.05 / 20 = 1,260.15 × Chinchilla's rule: heavily over-trained for its size.
    const p = whereModelSits(260_032, 6_553_600_000, HOFFMANN_2022);
    near(p.tokensPerParam, 25_203.0519, 1e-8);
    near(p.vsRule, 25_203.0519 / CHINCHILLA_TOKENS_PER_PARAM, 1e-8);
    expect(p.compute).toBe(10_224_874_291_200_000);
    near(p.optimal.C, p.compute, 0);
    expect(p.sizeVsOptimal).toBeLessThan(1);
    near(p.loss.total, loss(260_032, 6_553_600_000, HOFFMANN_2022), 1e-15);
    expect(p.excessLoss).toBeGreaterThan(0);
    near(p.excessLoss, p.loss.total - p.optimal.loss, 1e-12);
    // A model on the frontier sits at the optimum of its own compute.
    const o = computeOptimal(1e21, EPOCH_2024);
    const q = whereModelSits(o.N, o.D, EPOCH_2024);
    near(q.sizeVsOptimal, 1, 1e-9);
    expect(q.excessLoss).toBeLessThan(1e-12);
  });

  it('samples the frontier on whole decades', () => {
    const f = frontier(1e18, 1e22, HOFFMANN_2022, 2);
    expect(f).toHaveLength(9);
    near(f[0].C, 1e18, 1e-12);
    near(f[8].C, 1e22, 1e-12);
    near(f[4].N, computeOptimal(1e20, HOFFMANN_2022).N, 1e-9);
  });
});

// stories260K (public/models/stories260K): dim 64, 5 layers, 8 heads / 4 KV heads (head_dim 8),
// SwiGLU FFN 172, vocab 512, tied embeddings; 260,032 parameters.
const STORIES: DecoderShape = { layers: 5, hidden: 64, heads: 8, kvHeads: 4, headDim: 8, ffn: 172, gatedMlp: true, vocab: 512, embedDim: 64 };

describe('inference FLOPs per token', () => {
  it('counts the linear weights of stories260K by hand', () => {
    // q 64·64 = 4096, k 32·64 = 2048, v 2048, o 64·64 = 4096, gate/up/down 3·64·172 = 33,024
    // per layer 45,312; × 5 layers = 226,560; head 512·64 = 32,768.
    // Check: 226,560 + 32,768 (embedding, tied) + 11 RMSNorm vectors × 64 = 704 → 260,032 parameters.
    expect(linearWeightsPerLayer(STORIES)).toBe(45_312);
    expect(decoderLinearWeights(STORIES)).toBe(226_560);
    expect(headWeights(STORIES)).toBe(32_768);
    expect(decoderLinearWeights(STORIES) + headWeights(STORIES) + 11 * 64).toBe(260_032);
  });

  it('is Kaplan\'s 12·n_layer·d² for a GPT-2-small-shaped model', () => {
    // MHA with d_ff = 4d: 4d² (q, k, v, o) + 8d² (up, down) = 12d² per layer;
    // 12 · 12 · 768² = 84,934,656 non-embedding weights (Kaplan et al. 2020, eq. 2.1).
    const gpt2: DecoderShape = { layers: 12, hidden: 768, heads: 12, kvHeads: 12, headDim: 64, ffn: 3072, gatedMlp: false, vocab: 50257, embedDim: 768 };
    expect(decoderLinearWeights(gpt2)).toBe(84_934_656);
    expect(decoderLinearWeights(gpt2)).toBe(12 * 12 * 768 * 768);
  });

  it('gives 2·W + 2·V·E + 2·n_layer·n_ctx·d_attn, dense and with the nonzeros', () => {
    // Dense at n_ctx = 256: 2·226,560 = 453,120; head 2·32,768 = 65,536; attention 2·5·256·(8·8) = 163,840;
    // total 682,496. At 50% zeros in every linear: 2·113,280 = 226,560 → 455,936.
    expect(flopsPerToken(STORIES, 256)).toEqual({ linear: 453_120, head: 65_536, attention: 163_840, total: 682_496 });
    expect(flopsPerToken(STORIES, 256, 113_280)).toEqual({ linear: 226_560, head: 65_536, attention: 163_840, total: 455_936 });
    // n_ctx = 1: attention 2·5·1·64 = 640.
    expect(flopsPerToken(STORIES, 1).attention).toBe(640);
  });

  it('counts the nonzeros per sublayer or from one overall sparsity', () => {
    // Layer 0's q (64×64) at 50% and mlp.down (64×172) at 25%: zeros 2048 + 2752 = 4800.
    const per = prunedMatrices(STORIES, [
      { name: 'layers.0.attn.q', sparsity: 0.5 },
      { name: 'layers.0.mlp.down', sparsity: 0.25 },
    ])!;
    expect(per.map((m) => [m.rows, m.cols, m.nonzeros])).toEqual([
      [64, 64, 2048],
      [64, 172, 8256],
    ]);
    expect(linearNonzeros(STORIES, per)).toBe(226_560 - 4800);
    // 50% everywhere: 35 matrices, half of 226,560 left.
    const all = prunedMatrices(STORIES, { overall: 0.5 })!;
    expect(all).toHaveLength(35);
    expect(linearNonzeros(STORIES, all)).toBe(113_280);
    // A name that is not a linear sublayer of this model (or a layer past the last): unknown.
    expect(prunedMatrices(STORIES, [{ name: 'layers.9.attn.q', sparsity: 0.5 }])).toBeNull();
    expect(prunedMatrices(STORIES, [{ name: 'embed.tokens', sparsity: 0.5 }])).toBeNull();
  });

  it('reads the shape from a model summary', () => {
    const t = (name: string, shape: number[]) => ({ name, dtype: 'F32', shape, bytes: shape.reduce((a, b) => a * b, 4), file: 'model.safetensors' });
    const summary: ModelSummary = {
      name: 'stories260K', family: 'llama', architecture: 'llama', parameters: 260_032, layers: 5, hidden: 64, heads: 8, kvHeads: 4, ffn: 172,
      vocabSize: 512, dtype: 'F32', bytes: 260_032 * 4, gpuBytes: 0, gpuBudget: 2 ** 32, streamed: false, files: [], hasTokenizer: true, prunedBy: null, rope: null, configDtype: null, notes: [],
      tensors: [t('model.embed_tokens.weight', [512, 64]), t('model.layers.0.self_attn.q_proj.weight', [64, 64])],
    };
    expect(decoderShapeFromSummary(summary)).toEqual(STORIES);
    // An explicit head_dim (q rows ≠ hidden) is read from the q projection.
    const wide = { ...summary, tensors: [t('model.layers.0.self_attn.q_proj.weight', [128, 64])] };
    expect(decoderShapeFromSummary(wide).headDim).toBe(16);
    expect(decoderShapeFromSummary({ ...summary, family: 'gpt2', tensors: [] }).gatedMlp).toBe(false);
  });
});

describe('bytes dense vs nonzero', () => {
  it('adds the format overhead to the nonzero values', () => {
    // stories260K f32, 50% of the linears zero: dense 260,032·4 = 1,040,128 B;
    // nonzero values (260,032 − 113,280)·4 = 587,008 B; + 1,000 B overhead = 588,008 B.
    expect(weightBytes({ params: 260_032, zeros: 113_280, bytesPerValue: 4, overheadBytes: 1000 })).toEqual({ dense: 1_040_128, nonzeroValues: 587_008, sparse: 588_008 });
  });

  it('estimates the bitmask overhead per matrix', () => {
    // 64×64 at 50%: mask 64·ceil(64/8) = 512 B, row offsets 64·8 = 512 B, shape 16 B → 1,040 B.
    expect(bitmaskOverhead([{ name: 'layers.0.attn.q', rows: 64, cols: 64, nonzeros: 2048 }])).toBe(1040);
    // 64×172: mask 64·22 = 1,408 B + 512 + 16 = 1,936 B, whatever the nonzeros.
    expect(bitmaskOverhead([{ name: 'layers.0.mlp.down', rows: 64, cols: 172, nonzeros: 100 }])).toBe(1936);
  });
});

describe('training tokens from model cards', () => {
  it('knows the sourced entries', () => {
    // llama2.c doc/stories260K.md: 128 × 512 × 100,000.
    expect(knownTrainingTokens('stories260K')?.tokens).toBe(6_553_600_000);
    expect(knownTrainingTokens('EleutherAI/pythia-70m-deduped')?.tokens).toBe(299_892_736_000);
    expect(knownTrainingTokens('pythia-1.4b')?.tokens).toBe(299_892_736_000);
    expect(knownTrainingTokens('opt-125m')?.tokens).toBe(180e9);
    expect(knownTrainingTokens('Qwen2-0.5B')?.tokens).toBe(12e12);
    expect(knownTrainingTokens('Qwen2-0.5B-Instruct')?.note).toMatch(/base model/);
    expect(knownTrainingTokens('TinyLlama-1.1B-intermediate-step-1431k-3T')?.tokens).toBe(3e12);
    expect(knownTrainingTokens('TinyLlama-1.1B-intermediate-step-1195k-token-2.5T')?.tokens).toBe(2.5e12);
    expect(knownTrainingTokens('TinyLlama-1.1B-step-50K-105b')?.tokens).toBe(105e9);
    // A Hugging Face cache folder: the repository segment is found behind the snapshot hash.
    expect(knownTrainingTokens('models--facebook--opt-350m/snapshots/08ab08cc')?.tokens).toBe(180e9);
  });

  it('leaves GPT-2 and unknown models to the user', () => {
    expect(knownTrainingTokens('gpt2')).toMatchObject({ tokens: null });
    expect(knownTrainingTokens('gpt2')?.note).toMatch(/not publish/);
    expect(knownTrainingTokens('Llama-3.2-1B')).toBeNull();
    expect(knownTrainingTokens('Qwen2-1.5B')).toBeNull();
    expect(knownTrainingTokens('my-pythia-70m-finetune')).toBeNull();
  });
});

describe('input validation', () => {
  it('refuses non-positive or non-finite numbers with BadOption', () => {
    for (const bad of [0, -1, NaN, Infinity]) {
      expect(() => loss(bad, 1e10, HOFFMANN_2022)).toThrow(BadOption);
      expect(() => loss(1e9, bad, HOFFMANN_2022)).toThrow(BadOption);
      expect(() => computeOptimal(bad, EPOCH_2024)).toThrow(BadOption);
      expect(() => trainingCompute(bad, 1)).toThrow(BadOption);
    }
    expect(() => computeOptimal(1e21, { ...HOFFMANN_2022, alpha: 0 })).toThrow(BadOption);
    expect(() => flopsPerToken(STORIES, 0)).toThrow(BadOption);
    expect(() => flopsPerToken(STORIES, 1.5)).toThrow(BadOption);
    expect(() => flopsPerToken(STORIES, 256, 226_561)).toThrow(BadOption);
    expect(() => flopsPerToken({ ...STORIES, heads: 0 }, 256)).toThrow(BadOption);
    expect(() => weightBytes({ params: 10, zeros: 11, bytesPerValue: 4, overheadBytes: 0 })).toThrow(BadOption);
    expect(() => weightBytes({ params: 10, zeros: 1, bytesPerValue: 4, overheadBytes: -1 })).toThrow(BadOption);
    expect(() => prunedMatrices(STORIES, { overall: 1.5 })).toThrow(BadOption);
    expect(() => frontier(1e22, 1e18, HOFFMANN_2022)).toThrow(BadOption);
  });

  it('parses amounts as typed', () => {
    expect(parseAmount('1e21', 'C')).toBe(1e21);
    expect(parseAmount(' 6.5536e9 ', 'D')).toBe(6.5536e9);
    expect(parseAmount('180B', 'D')).toBe(180e9);
    expect(parseAmount('3T', 'D')).toBe(3e12);
    expect(parseAmount('12 t', 'D')).toBe(12e12);
    expect(parseAmount('1,000,000', 'D')).toBe(1e6);
    expect(parseAmount('2.5M', 'D')).toBe(2.5e6);
    for (const bad of ['', 'abc', '-5', '0', '1e400', '1e21 FLOPs', '5x']) expect(() => parseAmount(bad, 'C')).toThrow(BadOption);
    expect(() => parseAmount('', 'Compute budget C')).toThrow(/Compute budget C/);
  });
});
