// The planner panel renders (server-side, no browser) with the demo model's summary and pruned
// weights: its labelled controls, both fits, the formulas next to the numbers, and the test ids
// end-to-end tests rely on. (Server rendering reads the stores' initial state, so the panel with a
// model is rendered from a view computed by plannerView.)
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { computeOptimal, HOFFMANN_2022 } from '../../../src/core/plan/chinchilla';
import type { ModelSummary } from '../../../src/core/types';
import { DEFAULT_PLANNER, plannerView } from '../../../src/store/planner';
import { PlannerBody, PlannerPanel } from '../../../src/ui/PlannerPanel';

const t = (name: string, shape: number[]) => ({ name, dtype: 'F32', shape, bytes: shape.reduce((a, b) => a * b, 4), file: 'model.safetensors' });
const STORIES: ModelSummary = {
  name: 'stories260K', family: 'llama', architecture: 'llama', parameters: 260_032, layers: 5, hidden: 64, heads: 8, kvHeads: 4, ffn: 172,
  vocabSize: 512, dtype: 'F32', bytes: 260_032 * 4, gpuBytes: 0, gpuBudget: 2 ** 32, streamed: false, files: ['model.safetensors'], hasTokenizer: true, prunedBy: null, rope: null, configDtype: null, notes: [],
  tensors: [t('model.embed_tokens.weight', [512, 64]), t('model.layers.0.self_attn.q_proj.weight', [64, 64])],
};

function attr(html: string, testId: string, name: string): string | null {
  const m = new RegExp(`<[^>]*data-testid="${testId}"[^>]*>`).exec(html);
  if (!m) return null;
  const a = new RegExp(`${name}="([^"]*)"`).exec(m[0]);
  return a ? a[1] : null;
}

describe('planner panel', () => {
  it('renders without a model', () => {
    const html = renderToStaticMarkup(createElement(PlannerPanel));
    expect(html).toContain('data-testid="planner-panel"');
    expect(html).toContain('Load a model to see where it sits.');
    expect(attr(html, 'planner-nopt', 'data-hoffmann2022')).toBe(String(computeOptimal(1e21, HOFFMANN_2022).N));
  });

  it('renders the model, both fits, formulas, FLOPs and the speed hint', () => {
    const weights = { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 } as const;
    const view = plannerView({ settings: DEFAULT_PLANNER, model: STORIES, weights, runs: [], speed: null, weightsLabel: 'magnitude 50% (50.0% zeros)' });
    const html = renderToStaticMarkup(createElement(PlannerBody, { view }));
    // Labelled controls.
    expect(html).toMatch(/<label for="planner-budget"[^>]*>Compute budget C/);
    expect(html).toMatch(/<label for="planner-tokens"[^>]*>Training tokens D/);
    expect(html).toContain('data-testid="planner-fit-hoffmann2022"');
    expect(html).toContain('data-testid="planner-fit-epoch2024"');
    // Tokens prefilled from the model card.
    expect(attr(html, 'planner-tokens', 'value')).toBe('6.5536B');
    expect(attr(html, 'planner-tokens-source', 'data-source')).toBe('model card');
    // Numbers with their formulas.
    expect(html).toContain('N_opt = G · (C/6)^(β/(α+β))');
    expect(html).toContain('2 · n_layer · n_ctx · d_attn');
    expect(attr(html, 'planner-model-compute', 'data-hoffmann2022')).toBe('10224874291200000');
    expect(attr(html, 'planner-flops', 'data-dense')).toBe('682496');
    expect(attr(html, 'planner-flops', 'data-pruned')).toBe('455936');
    expect(html).toContain('data-testid="planner-chart"');
    expect(html).toContain('measure in Speed &amp; size');
  });
});
