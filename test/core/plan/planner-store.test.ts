// The planner store's pure view: which training tokens it uses (model card, typed, reset on a new
// model), per-field errors instead of throws, the pruned weights' nonzeros from the run report,
// the bytes overhead measured by "Speed & size" (or the bitmask estimate), and stale speed results.
import { beforeEach, describe, expect, it } from 'vitest';
import { computeOptimal, HOFFMANN_2022 } from '../../../src/core/plan/chinchilla';
import type { SpeedRow } from '../../../src/core/sparse/speed';
import type { ModelSummary } from '../../../src/core/types';
import type { RunRecord } from '../../../src/store/prune';
import { DEFAULT_PLANNER, formatAmount, measuredOverhead, plannerView, runForWeights, usePlanner, type PlannerInputs } from '../../../src/store/planner';
import type { SpeedResult } from '../../../src/store/speed';
import type { WeightsState } from '../../../src/worker/protocol';

const t = (name: string, shape: number[]) => ({ name, dtype: 'F32', shape, bytes: shape.reduce((a, b) => a * b, 4), file: 'model.safetensors' });

const STORIES: ModelSummary = {
  name: 'stories260K', family: 'llama', architecture: 'llama', parameters: 260_032, layers: 5, hidden: 64, heads: 8, kvHeads: 4, ffn: 172,
  vocabSize: 512, dtype: 'F32', bytes: 260_032 * 4, gpuBytes: 0, gpuBudget: 2 ** 32, streamed: false, files: ['model.safetensors'], hasTokenizer: true, prunedBy: null, rope: null, configDtype: null, notes: [],
  tensors: [t('model.embed_tokens.weight', [512, 64]), t('model.layers.0.self_attn.q_proj.weight', [64, 64])],
};

const WEIGHTS: WeightsState = { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 };
const LABEL = 'sparsegpt 50% (50.0% zeros)';

function run(over: Partial<RunRecord> = {}): RunRecord {
  // Every linear of the 5 layers at 50%, except layer 0's mlp.down at 25% (a per-layer override).
  const names = ['attn.q', 'attn.k', 'attn.v', 'attn.o', 'mlp.gate', 'mlp.up', 'mlp.down'];
  const layers = [0, 1, 2, 3, 4].flatMap((i) => names.map((n) => ({ name: `layers.${i}.${n}`, sparsity: i === 0 && n === 'mlp.down' ? 0.25 : 0.5, rel_error: 0.01 })));
  return {
    id: 1, source: 'prune', method: 'sparsegpt', target: WEIGHTS.target, label: 'sparsegpt 50%', sparsity: 0.5, ppl: 10, nll: 2.3, seconds: 1, pruneSeconds: 1,
    layers, warnings: [], evalKey: 'k', evalLabel: 'e', calibLabel: 'c', ...over,
  };
}

function speed(weights = LABEL): SpeedResult {
  const row = (format: SpeedRow['format'], disk: number): SpeedRow => ({
    shape: '64x64', N: 64, K: 64, count: 10, sparsity: 0.5, format, bytes: { disk, gpu: disk }, gemv_ms: 1, gemm_ms: 1, gemv_gbps: 1, gemm_gflops: 1, speedup_gemv: 1, speedup_gemm: 1,
  });
  return {
    report: { rows: [row('dense', 16384), row('bitmask', 9232), row('csr', 12564)], decode: { tokens: 64, dense_tokens_per_s: 100, sparse_tokens_per_s: 125, same_tokens: true } },
    adapter: 'SwiftShader (software)',
    weights,
    seconds: 3,
  };
}

function inputs(over: Partial<PlannerInputs> = {}): PlannerInputs {
  return { settings: DEFAULT_PLANNER, model: STORIES, weights: null, runs: [], speed: null, weightsLabel: 'dense', ...over };
}

describe('planner view', () => {
  it('shows the budget optimum for both fits and the model-card tokens', () => {
    const v = plannerView(inputs());
    expect(v.budget).toBe(1e21);
    expect(v.fits.map((f) => f.fit.id)).toEqual(['hoffmann2022', 'epoch2024']);
    expect(v.fits[0].budget).toEqual(computeOptimal(1e21, HOFFMANN_2022));
    // Prefilled from llama2.c's doc: 6,553,600,000 shown as "6.5536B".
    expect(v.tokens).toMatchObject({ text: '6.5536B', value: 6_553_600_000, source: 'model card' });
    expect(v.model).toEqual({ name: 'stories260K', N: 260_032 });
    expect(v.fits[0].model?.compute).toBe(10_224_874_291_200_000);
    expect(v.chart.modelPoint).toEqual({ C: 10_224_874_291_200_000, N: 260_032 });
    expect(v.chart.budgetPoint?.N).toBe(v.fits[0].budget!.N);
    // x from two decades below the smaller compute (1e16 → 1e14) to two above the larger (1e21 → 1e23).
    expect(v.chart.xDomain).toEqual([1e14, 1e23]);
    expect(v.chart.xTicks).toHaveLength(10);
    expect(v.chart.series.map((s) => s.selected)).toEqual([true, false]);
  });

  it('uses typed tokens for that model only, and reports bad inputs per field', () => {
    let v = plannerView(inputs({ settings: { ...DEFAULT_PLANNER, tokens: '1T', tokensModel: 'stories260K' } }));
    expect(v.tokens).toMatchObject({ value: 1e12, source: 'entered' });
    // Another model loaded: the typed value was for stories260K, so Pythia's card value comes back.
    v = plannerView(inputs({ settings: { ...DEFAULT_PLANNER, tokens: '1T', tokensModel: 'stories260K' }, model: { ...STORIES, name: 'pythia-70m' } }));
    expect(v.tokens).toMatchObject({ value: 299_892_736_000, source: 'model card' });
    v = plannerView(inputs({ settings: { ...DEFAULT_PLANNER, budget: 'lots', ctx: '0', tokens: 'x', tokensModel: 'stories260K' } }));
    expect(v.budget).toBeNull();
    expect(v.budgetError).toMatch(/Compute budget C/);
    expect(v.ctxError).toMatch(/Context length/);
    expect(v.tokens.error).toMatch(/Training tokens D/);
    expect(v.fits.every((f) => f.budget === null && f.model === null)).toBe(true);
    expect(v.inference?.dense).toBeNull();
    // Out of range (would overflow the chart's axes): refused per field.
    v = plannerView(inputs({ settings: { ...DEFAULT_PLANNER, budget: '1e300', tokens: '1e300', tokensModel: 'stories260K' } }));
    expect(v.budgetError).toMatch(/between 1e\+6 and 1e\+35/);
    expect(v.tokens.error).toMatch(/between 1e\+0 and 1e\+20/);
    expect(v.chart.xDomain).toEqual([1e15, 1e25]);
    // An unknown model: no tokens until the user enters them.
    v = plannerView(inputs({ model: { ...STORIES, name: 'my-model' } }));
    expect(v.tokens).toMatchObject({ text: '', value: null, source: 'none', known: null });
    expect(v.fits[0].model).toBeNull();
  });

  it('counts FLOPs per token dense and with the per-sublayer nonzeros of the current run', () => {
    const v = plannerView(inputs({ weights: WEIGHTS, runs: [run()], weightsLabel: LABEL }));
    const inf = v.inference!;
    expect(inf.linearWeights).toBe(226_560);
    expect(inf.dense?.total).toBe(682_496);
    // Zeros: half of 226,560 = 113,280, less a quarter of layer 0's mlp.down (64·172 = 11,008:
    // 5,504 zeros at 50% vs 2,752 at 25%) → 110,528 zeros, 116,032 nonzeros.
    expect(inf.pruned).toMatchObject({ source: 'per-sublayer', zeros: 110_528, nonzeros: 116_032 });
    // 2·116,032 + 65,536 + 163,840 = 461,440.
    expect(inf.sparse?.total).toBe(461_440);
    // Without a matching run report, the overall 50% is spread over every linear.
    const w = plannerView(inputs({ weights: WEIGHTS, runs: [run({ sparsity: 0.4 })], weightsLabel: LABEL })).inference!;
    expect(w.pruned).toMatchObject({ source: 'overall', nonzeros: 113_280 });
  });

  it('takes the format overhead from Speed & size when it measured these weights', () => {
    // 64×64 at 50%: nonzero values 2048·4 = 8,192 B; bitmask on disk 9,232 B → 1,040 B overhead
    // per matrix, × 10 matrices = 10,400 B.
    expect(measuredOverhead(speed().report.rows)).toBe(10_400);
    let inf = plannerView(inputs({ weights: WEIGHTS, runs: [run()], weightsLabel: LABEL, speed: speed() })).inference!;
    expect(inf.bytes).toMatchObject({ dense: 1_040_128, overhead: 10_400, overheadSource: 'measured' });
    // Nonzero values: (260,032 − 110,528)·4 = 598,016 B.
    expect(inf.bytes?.nonzeroValues).toBe(598_016);
    expect(inf.bytes?.sparse).toBe(598_016 + 10_400);
    expect(inf.speed).toMatchObject({ denseTokensPerS: 100, sparseTokensPerS: 125, stale: false });
    // Measured for other weights: stale, and the bytes fall back to the bitmask estimate.
    inf = plannerView(inputs({ weights: WEIGHTS, runs: [run()], weightsLabel: LABEL, speed: speed('wanda 2:4 (50.0% zeros)') })).inference!;
    expect(inf.speed?.stale).toBe(true);
    expect(inf.bytes?.overheadSource).toBe('bitmask estimate');
  });

  it('is dense without pruned weights, and reads a loaded pruned folder\'s sparsity', () => {
    let inf = plannerView(inputs()).inference!;
    expect(inf.pruned).toBeNull();
    expect(inf.sparse).toBeNull();
    expect(inf.bytes).toBeNull();
    inf = plannerView(inputs({ model: { ...STORIES, prunedBy: { method: 'wanda', target: null, sparsity: 0.5 } } })).inference!;
    expect(inf.pruned).toMatchObject({ source: 'overall', nonzeros: 113_280 });
  });

  it('finds the run that describes the weights', () => {
    const a = run({ id: 1 });
    const b = run({ id: 2, method: 'wanda' });
    const c = run({ id: 3 });
    expect(runForWeights(WEIGHTS, [a, b, c])?.id).toBe(3);
    expect(runForWeights(WEIGHTS, [a, b])?.id).toBe(1);
    expect(runForWeights(WEIGHTS, [b])).toBeNull();
    expect(runForWeights(WEIGHTS, [run({ layers: [] })])).toBeNull();
  });
});

describe('planner store', () => {
  beforeEach(() => usePlanner.setState({ ...DEFAULT_PLANNER }));

  it('keeps typed tokens with their model and resets them', () => {
    usePlanner.getState().setTokens('stories260K', '2B');
    expect(usePlanner.getState()).toMatchObject({ tokens: '2B', tokensModel: 'stories260K' });
    usePlanner.getState().resetTokens();
    expect(usePlanner.getState()).toMatchObject({ tokens: '', tokensModel: null });
    usePlanner.getState().set({ fitId: 'epoch2024', budget: '5.76e23' });
    expect(plannerView(inputs({ settings: usePlanner.getState() })).fit.id).toBe('epoch2024');
  });

  it('formats amounts for the tokens input', () => {
    expect(formatAmount(6_553_600_000)).toBe('6.5536B');
    expect(formatAmount(180e9)).toBe('180B');
    expect(formatAmount(12e12)).toBe('12T');
    expect(formatAmount(299_892_736_000)).toBe('299.892736B');
    expect(formatAmount(512)).toBe('512');
  });
});
