// The dense twin of a sparse model: as many parameters as the sparse model keeps non-zeros, the
// same family, depth and head size, key/value heads dividing the query heads.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { denseTwin, parameterCount } from '../../../src/core/model/twin';
import { DEMO_MODEL, FIXTURE_MODELS } from '../../helpers/fixtures';

const config = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
const DIRS = [DEMO_MODEL, ...['tiny-llama', 'tiny-qwen2', 'tiny-gpt2', 'tiny-opt', 'tiny-gpt-neox', 'tiny-phi', 'tiny-llama-v5'].map((n) => path.join(FIXTURE_MODELS, n))];

test.each(DIRS.flatMap((d) => [0.5, 0.7].map((s) => [path.basename(d), d, s] as const)))('%s at %d: parameters = the sparse non-zeros within 0.5 %', (_, dir, s) => {
  const c = config(dir);
  const t = denseTwin(c, s);
  expect(t.sparseParams).toBe(parameterCount(c));
  expect(Math.abs(t.params - t.sparseNonzeros) / t.sparseNonzeros).toBeLessThan(0.005);
  expect(t.params).toBe(parameterCount(t.config));
  expect(t.heads % t.kvHeads).toBe(0);
  expect(t.hidden).toBeLessThan(t.sparseParams);
  // The same depth; the head size kept (hidden / heads).
  const orig = denseTwin(c, 0);
  expect(t.hidden / t.heads).toBe(orig.hidden / orig.heads);
});

test('at sparsity 0 the twin is the model itself; an OPT with project_in/out is refused by name', () => {
  const c = config(DEMO_MODEL);
  const t = denseTwin(c, 0);
  expect([t.hidden, t.heads, t.kvHeads, t.ffn, t.params]).toEqual([64, 8, 4, 172, 260_032]);
  expect(() => denseTwin(config(path.join(FIXTURE_MODELS, 'tiny-opt-350m-style')), 0.5)).toThrow(/A dense twin of an OPT model with project_in\/out \(word_embed_proj_dim ≠ hidden_size\) is not supported/);
});
