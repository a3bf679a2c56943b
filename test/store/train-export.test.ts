// The loss curve's CSV: one row per step, the perplexity before training as step 0, evaluations
// and gradual-pruning sparsities on the steps they belong to.
import { expect, test } from 'vitest';
import { lossCsv } from '../../src/store/train-export';

test('one row per step with its loss, KL, evaluation and the sparsity set before it', () => {
  const csv = lossCsv({
    ppl_start: 24.5,
    losses: [3.1, 2.5, 2.25],
    kl: [0.5, 0.25, 0.125],
    evals: [{ step: 2, ppl: 12 }, { step: 3, ppl: 9.5 }],
    pruning: [{ step: 0, sparsity: 0.25 }, { step: 2, sparsity: 0.5 }],
  });
  expect(csv).toBe('step,loss,kl,ppl,sparsity\n0,,,24.5,\n1,3.1,0.5,,0.25\n2,2.5,0.25,12,\n3,2.25,0.125,9.5,0.5\n');
});

test('without a teacher or an evaluation the columns stay, empty', () => {
  expect(lossCsv({ ppl_start: null, losses: [1.5], kl: [], evals: [], pruning: [] })).toBe('step,loss,kl,ppl,sparsity\n1,1.5,,,\n');
});

test('a run with SquareHead adds its column last', () => {
  expect(lossCsv({ ppl_start: 9, losses: [1.5, 1.25], kl: [0.5, 0.25], features: [2, 1.5], evals: [{ step: 2, ppl: 8 }], pruning: [] })).toBe(
    'step,loss,kl,ppl,sparsity,squarehead\n0,,,9,,\n1,1.5,0.5,,,2\n2,1.25,0.25,8,,1.5\n',
  );
});
