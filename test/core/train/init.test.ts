// Fresh weights as transformers initialises each family: N(0, initializer_range²) for linears and
// embeddings (OPT: init_std), norms 1, biases 0, the padding row 0 (llama, qwen2, opt), GPT-2's
// residual projections scaled by 1/sqrt(2·n_layer); the same seed gives the same values.
import { describe, expect, test } from 'vitest';
import type { ModelSpec } from '../../../src/core/model/spec';
import { initSettings, initialTensor } from '../../../src/core/train/init';

const spec = (family: ModelSpec['family'], nLayers = 4) => ({ family, nLayers, vocabSize: 100 }) as ModelSpec;

function moments(a: Float32Array): { mean: number; std: number } {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return { mean, std: Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length) };
}

describe('initialisation', () => {
  test('normal(0, initializer_range) for linears, seeded and independent of order', () => {
    const s = initSettings(spec('llama'), { initializer_range: 0.05 });
    const w = initialTensor(spec('llama'), s, 'layers.1.mlp.up.weight', [200, 300], 7);
    const { mean, std } = moments(w);
    expect(Math.abs(mean)).toBeLessThan(0.05 * 0.02);
    expect(Math.abs(std / 0.05 - 1)).toBeLessThan(0.01);
    expect(initialTensor(spec('llama'), s, 'layers.1.mlp.up.weight', [200, 300], 7)).toEqual(w);
    expect(initialTensor(spec('llama'), s, 'layers.1.mlp.up.weight', [200, 300], 8)).not.toEqual(w);
    expect(initialTensor(spec('llama'), s, 'layers.1.mlp.gate.weight', [200, 300], 7)).not.toEqual(w);
  });

  test('norms 1, biases 0, the padding row 0; GPT-2 residual projections scaled; OPT reads init_std', () => {
    const s = initSettings(spec('llama'), { initializer_range: 0.02, pad_token_id: 3 });
    expect(initialTensor(spec('llama'), s, 'layers.0.attn_norm.weight', [16], 1).every((v) => v === 1)).toBe(true);
    expect(initialTensor(spec('llama'), s, 'layers.0.attn.q.bias', [16], 1).every((v) => v === 0)).toBe(true);
    const E = initialTensor(spec('llama'), s, 'embed.tokens', [100, 8], 1);
    expect(E.subarray(24, 32).every((v) => v === 0)).toBe(true);
    expect(E.subarray(16, 24).some((v) => v !== 0)).toBe(true);
    // GPT-2 has no padding row; its c_proj weights have std / sqrt(2 · 4).
    const g = initSettings(spec('gpt2'), { initializer_range: 0.02, pad_token_id: 3 });
    expect(g.paddingRow).toBeNull();
    const o = moments(initialTensor(spec('gpt2'), g, 'layers.2.attn.o.weight', [300, 300], 1));
    expect(Math.abs(o.std / (0.02 / Math.sqrt(8)) - 1)).toBeLessThan(0.01);
    const q = moments(initialTensor(spec('gpt2'), g, 'layers.2.attn.q.weight', [300, 300], 1));
    expect(Math.abs(q.std / 0.02 - 1)).toBeLessThan(0.01);
    expect(initSettings(spec('opt'), { init_std: 0.03, initializer_range: 0.5 }).std).toBe(0.03);
    expect(initSettings(spec('phi'), {}).std).toBe(0.02);
    expect(() => initSettings(spec('llama'), { initializer_range: -1 })).toThrow(/initializer_range must be a positive number/);
  });
});
