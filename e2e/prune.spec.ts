// Pruning in the page (stories260K on SwiftShader, so every run is tiny: calibration 4 × 64
// tokens, evaluation 2 windows of 64): one SparseGPT run, a live sweep with a responsive main
// thread (e2e/sweep.spec.ts), export → reload → same perplexity, and cancellation back to the
// dense weights.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { readFileSync } from 'node:fs';
import { SMALL, collectDownloads, dropSavedFiles, measurePerplexity, openStudio, safetensorsHeader, saveJson, shoot, watchConsole } from './helpers';

async function prune(page: Page, method: string, sparsityPct: number): Promise<{ ppl: number; sparsity: number; runId: string }> {
  const result = page.getByTestId('prune-result');
  const before = (await result.count()) ? await result.getAttribute('data-run-id') : null;
  await page.getByTestId('method-select').selectOption(method);
  await page.getByTestId('target-unstructured').check();
  await page.getByTestId('sparsity-input').fill(String(sparsityPct));
  await expect(page.getByTestId('prune-run')).toBeEnabled();
  await page.getByTestId('prune-run').click();
  await expect(result).toHaveAttribute('data-run-id', before === null ? /^\d+$/ : new RegExp(`^(?!${before}$)\\d+$`), { timeout: 240_000 });
  await expect(page.getByTestId('prune-error')).toHaveCount(0);
  return {
    ppl: Number(await result.getAttribute('data-ppl')),
    sparsity: Number(await result.getAttribute('data-sparsity')),
    runId: (await result.getAttribute('data-run-id'))!,
  };
}

test('SparseGPT 50%: sparsity, perplexity above dense, 35 sublayer rows', async ({ page }, testInfo) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  // Settings are checked before anything runs: too few calibration windows disable Prune…
  await page.getByTestId('calib-samples').fill('100000');
  await expect(page.getByTestId('prune-run')).toBeDisabled();
  await expect(page.getByTestId('prune-blocker')).toContainText('fewer than the 100000 samples');
  await page.getByTestId('calib-samples').fill(String(SMALL.calibSamples));
  await expect(page.getByTestId('prune-blocker')).toHaveCount(0);
  await expect(page.getByTestId('calib-facts')).toHaveAttribute('data-bytes', String(SMALL.calibSamples * SMALL.seqlen * 64 * 4));
  // …and a malformed pattern is a named error next to the Method area.
  await page.getByTestId('target-nm').check();
  await page.getByTestId('pattern-input').selectOption('custom');
  await page.getByTestId('pattern-custom').fill('4:2');
  await page.getByTestId('prune-run').click();
  await expect(page.getByTestId('prune-error')).toHaveAttribute('data-error-name', 'BadOption');
  await expect(page.getByTestId('prune-error')).toHaveAttribute('role', 'alert');
  await page.getByTestId('target-unstructured').check();

  const t0 = Date.now();
  const dense = await measurePerplexity(page);
  const tDense = Date.now();

  await page.getByTestId('method-select').selectOption('sparsegpt');
  await page.getByTestId('sparsity-input').fill('50');
  await page.getByTestId('prune-run').click();
  await expect(page.getByTestId('prune-progress')).toBeVisible();
  await expect(page.getByTestId('prune-progress')).toContainText(/layer \d\/5/, { timeout: 120_000 });
  const result = page.getByTestId('prune-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  const tPrune = Date.now();
  await expect(page.getByTestId('prune-error')).toHaveCount(0);

  const ppl = Number(await result.getAttribute('data-ppl'));
  const sparsity = Number(await result.getAttribute('data-sparsity'));
  expect(Math.abs(sparsity - 0.5)).toBeLessThan(0.01);
  expect(Number.isFinite(ppl)).toBe(true);
  expect(ppl).toBeGreaterThan(dense);
  expect(Number(await result.getAttribute('data-dense-ppl'))).toBe(dense);

  // 5 decoder layers × 7 linear sublayers, each about half zeros, each with a finite error.
  const rows = page.getByTestId('layer-table').getByTestId('layer-row');
  await expect(rows).toHaveCount(35);
  const layers = await rows.evaluateAll((trs) =>
    trs.map((tr) => ({ name: tr.getAttribute('data-name'), s: Number(tr.getAttribute('data-sparsity')), e: Number(tr.getAttribute('data-rel-error')) })),
  );
  for (const l of layers) {
    expect(Math.abs(l.s - 0.5), l.name!).toBeLessThan(0.02);
    expect(Number.isFinite(l.e) && l.e >= 0, l.name!).toBe(true);
  }
  await expect(page.getByTestId('layer-table')).toContainText('model.layers.4.mlp.down_proj');
  // The per-sublayer chart draws the same 35 sublayers: one bar each and one error point each.
  const layerChart = page.getByTestId('layer-chart');
  await expect(layerChart).toHaveAttribute('data-count', '35');
  await expect(layerChart.locator('.recharts-bar-rectangle')).toHaveCount(35);
  await expect(layerChart.locator('.recharts-line-dot')).toHaveCount(35);
  await shoot(page, testInfo, 'layer-chart', 'layer-chart');
  await expect(page.getByTestId('weights-state')).toHaveAttribute('data-state', 'pruned');
  await expect(page.getByTestId('runs-table').getByTestId('run-row')).toHaveCount(1);
  // The chart has the run and the dense reference.
  await expect(page.getByTestId('sweep-point')).toHaveCount(2);

  await shoot(page, testInfo, 'method-panel', 'method-area');
  await shoot(page, testInfo, 'results-panel', 'results-area');

  // The Evaluate area measures the weights as they are: pruned, then dense again after a restore.
  expect(await measurePerplexity(page)).toBe(ppl);
  await expect(page.getByTestId('ppl-weights')).toContainText('sparsegpt 50%');
  await page.getByTestId('restore-dense').click();
  await expect(page.getByTestId('weights-state')).toHaveAttribute('data-state', 'dense');
  const restored = await measurePerplexity(page);
  expect(Math.abs(restored - dense) / dense).toBeLessThan(1e-6);

  await saveJson(testInfo, 'timings', { dense_ppl: dense, pruned_ppl: ppl, restored_ppl: restored, sparsity, dense_eval_s: (tDense - t0) / 1000, prune_and_eval_s: (tPrune - tDense) / 1000 });
  expect(consoleErrors).toEqual([]);
});

/** Read a safetensors file: header and the F32 values of one tensor. */
function readF32Tensor(bytes: Buffer, name: string): Float32Array {
  const { header, dataStart } = safetensorsHeader(bytes);
  const t = header[name];
  if (!t) throw new Error(`${name} is not in the exported file (have ${Object.keys(header).slice(0, 8).join(', ')}…)`);
  expect(t.dtype).toBe('F32');
  const start = dataStart + t.data_offsets[0];
  const len = (t.data_offsets[1] - t.data_offsets[0]) / 4;
  const copy = Buffer.from(bytes.subarray(start, start + len * 4));
  return new Float32Array(copy.buffer, copy.byteOffset, len);
}

const zeroFraction = (a: Float32Array) => a.reduce((z, v) => z + (v === 0 ? 1 : 0), 0) / a.length;

test('export downloads a Hugging Face folder that reloads with the same perplexity', async ({ page }, testInfo) => {
  // Force the download path (no File System Access API).
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    delete w.showDirectoryPicker;
    delete (Window.prototype as unknown as Record<string, unknown>).showDirectoryPicker;
    Object.defineProperty(window, 'showDirectoryPicker', { value: undefined, configurable: true });
  });
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  expect(await page.evaluate(() => typeof (window as unknown as Record<string, unknown>).showDirectoryPicker)).toBe('undefined');

  const pruned = await prune(page, 'wanda', 50);
  expect(Math.abs(pruned.sparsity - 0.5)).toBeLessThan(0.01);

  const { downloads, settled } = collectDownloads(page, testInfo, 'export');
  const tExport = Date.now();
  await page.getByTestId('export-model').click();
  await expect(page.getByTestId('export-status')).toBeVisible({ timeout: 60_000 });
  const expected = (await page.getByTestId('export-status').getAttribute('data-files'))!.split(',');
  await settled(expected.length);
  const exportSeconds = (Date.now() - tExport) / 1000;
  expect(downloads.map((d) => d.name).sort()).toEqual([...expected].sort());
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors', 'prune_studio.json']) expect(expected).toContain(f);

  // The exported weights: a pruned sublayer is half zeros, the embeddings are untouched.
  const st = readFileSync(downloads.find((d) => d.name === 'model.safetensors')!.path);
  const down = readF32Tensor(st, 'model.layers.0.mlp.down_proj.weight');
  const q = readF32Tensor(st, 'model.layers.3.self_attn.q_proj.weight');
  const emb = readF32Tensor(st, 'model.embed_tokens.weight');
  expect(Math.abs(zeroFraction(down) - 0.5)).toBeLessThan(0.01);
  expect(Math.abs(zeroFraction(q) - 0.5)).toBeLessThan(0.01);
  expect(zeroFraction(emb)).toBeLessThan(0.01);
  const info = JSON.parse(readFileSync(downloads.find((d) => d.name === 'prune_studio.json')!.path, 'utf8'));
  expect(info.pruned.method).toBe('wanda');

  // Drop the downloaded files back onto the model drop zone, as a folder "exported/…".
  await dropSavedFiles(page, downloads, 'exported');
  await expect(page.getByTestId('model-source')).toHaveText('Folder exported');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await expect(page.getByTestId('weights-state')).toHaveAttribute('data-state', 'dense');

  // Same evaluation settings → the same perplexity as the pruned model in memory.
  await expect(page.getByTestId('seqlen')).toHaveValue(String(SMALL.seqlen));
  await expect(page.getByTestId('max-windows')).toHaveValue(String(SMALL.maxWindows));
  const reloaded = await measurePerplexity(page);
  await saveJson(testInfo, 'export', { pruned_ppl: pruned.ppl, reloaded_ppl: reloaded, files: expected, export_seconds: exportSeconds, down_proj_zeros: zeroFraction(down) });
  expect(Math.abs(reloaded - pruned.ppl) / pruned.ppl).toBeLessThan(1e-5);
  expect(consoleErrors).toEqual([]);
});

test('cancelling a prune mid-way leaves the dense model', async ({ page }, testInfo) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  const dense = await measurePerplexity(page);
  await expect(page.getByTestId('ppl-weights')).toHaveText('dense');

  await page.getByTestId('method-select').selectOption('sparsegpt');
  await page.getByTestId('sparsity-input').fill('60');
  await page.getByTestId('prune-run').click();
  const progress = page.getByTestId('prune-progress');
  // Mid-way: some sublayers of the first layers are pruned already.
  await expect(progress).toHaveAttribute('data-done', /^([3-9]|1\d)$/, { timeout: 120_000 });
  const doneAtCancel = await progress.getAttribute('data-done');
  await page.getByTestId('prune-cancel').click();

  const alert = page.getByTestId('prune-error');
  await expect(alert).toBeVisible();
  await expect(alert).toHaveAttribute('role', 'alert');
  await expect(alert).toHaveAttribute('data-error-name', 'Cancelled');
  await expect(alert).toContainText('dense');
  await expect(progress).toHaveCount(0);
  await expect(page.getByTestId('weights-state')).toHaveAttribute('data-state', 'dense');
  await expect(page.getByTestId('prune-result')).toHaveCount(0);
  await expect(page.getByTestId('restore-dense')).toBeDisabled();
  await shoot(page, testInfo, 'method-panel', 'method-area-cancelled');

  const after = await measurePerplexity(page);
  await expect(page.getByTestId('ppl-weights')).toHaveText('dense');
  await saveJson(testInfo, 'cancel', { dense, after, cancelled_at_sublayer: doneAtCancel });
  expect(Math.abs(after - dense) / dense).toBeLessThan(1e-6);
  expect(consoleErrors).toEqual([]);
});
