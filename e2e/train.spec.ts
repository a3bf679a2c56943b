// Training in the page (stories260K on SwiftShader, tiny settings): a Recover run after SparseGPT
// 50 % draws its loss curve step by step, keeps every zero, and ends with a perplexity below the
// one-shot figure; bad settings are refused by name before any work.
import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { DEMO_FILES, dropModelFiles, measurePerplexity, openStudio, shoot, useDownloads, useSmallSettings, watchConsole } from './helpers';

/** Gradual pruning to 40 % from step 0 (tiny settings: 2 windows of 32 tokens per step, 1 warm-up step). */
async function fillGmp(page: Page, o: { dt: number; n: number; steps: number }): Promise<void> {
  await page.getByTestId('train-mode').selectOption('gmp');
  const fields: Record<string, number> = { 'train-gmp': 40, 'train-gmp-t0': 0, 'train-gmp-dt': o.dt, 'train-gmp-n': o.n, 'train-steps': o.steps, 'train-warmup': 1, 'train-batch': 2, 'train-seqlen': 32 };
  for (const [id, v] of Object.entries(fields)) await page.getByTestId(id).fill(String(v));
}

/**
 * Tiny from-scratch settings, run, and the checks every fresh start shares: no error, a first loss
 * near ln 512 (fresh weights predict about uniformly over the demo's 512 tokens) that then falls.
 * Returns the result area.
 */
async function runFromScratch(page: Page, steps: number): Promise<Locator> {
  for (const [id, v] of Object.entries({ 'train-steps': steps, 'train-warmup': 1, 'train-batch': 2, 'train-seqlen': 32, 'train-lr': 0.01 })) await page.getByTestId(id).fill(String(v));
  await page.getByTestId('train-run').click();
  const result = page.getByTestId('train-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  const chart = page.getByTestId('train-loss-chart');
  const first = Number(await chart.getAttribute('data-first'));
  expect(Math.abs(first - Math.log(512))).toBeLessThan(0.3);
  expect(Number(await chart.getAttribute('data-last'))).toBeLessThan(first);
  return result;
}

test('recover after SparseGPT 50 %: a live loss curve, zeros kept, perplexity below the one-shot figure', async ({ page }, testInfo) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  await page.getByTestId('method-select').selectOption('sparsegpt');
  await page.getByTestId('target-unstructured').check();
  await page.getByTestId('sparsity-input').fill('50');
  await page.getByTestId('prune-run').click();
  const pruned = page.getByTestId('prune-result');
  await expect(pruned).toHaveAttribute('data-ppl', /^\d/, { timeout: 240_000 });
  const oneShot = Number(await pruned.getAttribute('data-ppl'));

  // Bad settings: a named error, nothing runs.
  await page.getByTestId('train-steps').fill('5');
  await page.getByTestId('train-warmup').fill('10');
  await page.getByTestId('train-run').click();
  await expect(page.getByTestId('train-error')).toHaveAttribute('data-error-name', 'BadOption');
  await expect(page.getByTestId('train-error')).toContainText('fewer than the 10 warm-up steps');

  await page.getByTestId('train-steps').fill('16');
  await page.getByTestId('train-warmup').fill('2');
  await page.getByTestId('train-batch').fill('2');
  await page.getByTestId('train-seqlen').fill('32');
  await page.getByTestId('train-run').click();
  await expect(page.getByTestId('train-progress')).toBeVisible();
  // The curve grows while the run goes on.
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', /^([3-9]|1\d)$/, { timeout: 120_000 });
  const result = page.getByTestId('train-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', '16');
  const start = Number(await result.getAttribute('data-ppl-start'));
  const after = Number(await result.getAttribute('data-ppl'));
  // The perplexity before training is the one-shot figure (same text, same Evaluate settings).
  expect(Math.abs(start - oneShot) / oneShot).toBeLessThan(1e-4);
  expect(after).toBeLessThan(oneShot);
  expect(Number(await result.getAttribute('data-sparsity'))).toBeGreaterThanOrEqual(0.5);

  // The trained run joins the runs table and the chart, linked to the one-shot point it came from,
  // and the history keeps it over a reload.
  const rows = page.getByTestId('runs-table').getByTestId('run-row');
  await expect(rows).toHaveCount(2);
  const trainedRow = rows.and(page.locator('[data-method="trained"]'));
  await expect(trainedRow).toHaveCount(1);
  expect(Number(await trainedRow.getAttribute('data-ppl'))).toBe(after);
  await expect(trainedRow).toContainText('train ← 1');
  const trainedPoint = page.getByTestId('sweep-chart').locator('[data-testid="sweep-point"][data-method="trained"]');
  await expect(trainedPoint).toHaveCount(1);
  expect(Number(await trainedPoint.getAttribute('data-ppl'))).toBe(after);
  await expect(page.getByTestId('weights-state')).toContainText('recovered sparsegpt');
  await shoot(page, testInfo, 'sweep-chart', 'trained-point');
  await page.reload();
  await expect(page.getByTestId('model-card')).toBeVisible();
  await expect(page.getByTestId('runs-table').getByTestId('run-row').and(page.locator('[data-method="trained"]'))).toHaveCount(1);
  expect(consoleErrors).toEqual([]);
});

test('gradual magnitude pruning from the dense model reaches its sparsity; its loss curve downloads as CSV and PNG', async ({ page }, testInfo) => {
  await useDownloads(page);
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  await fillGmp(page, { dt: 2, n: 2, steps: 6 });
  await page.getByTestId('train-run').click();
  const result = page.getByTestId('train-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  // ⌊0.4 · numel⌋ of every decoder linear: 40 % within rounding over the 35 matrices.
  expect(Math.abs(Number(await result.getAttribute('data-sparsity')) - 0.4)).toBeLessThan(1e-3);
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', '6');

  const download = async (testId: string) => {
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId(testId).click()]);
    const file = testInfo.outputPath('downloads', d.suggestedFilename());
    await d.saveAs(file);
    return { name: d.suggestedFilename(), bytes: readFileSync(file) };
  };
  const csv = await download('train-loss-csv');
  expect(csv.name).toBe('stories260K-training-loss.csv');
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  expect(lines[0]).toBe('step,loss,kl,ppl,sparsity');
  // Step 0 (the perplexity before), then the 6 steps; the prunings before steps 0, 2, 4 (0-based) show on
  // steps 1, 3, 5, the last one at 40 %.
  expect(lines).toHaveLength(8);
  expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  expect(Number(lines[6].split(',')[4])).toBeCloseTo(0.4, 12);
  expect(Number(lines[7].split(',')[3])).toBe(Number(await result.getAttribute('data-ppl')));
  const png = await download('train-loss-png');
  expect(png.name).toBe('stories260K-training-loss.png');
  expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.bytes.length).toBeGreaterThan(5000);

  // Its llm-compressor recipe: GMP's modifier in a train stage, the schedule in epochs.
  const trainedRow = page.getByTestId('runs-table').getByTestId('run-row').and(page.locator('[data-method="trained"]'));
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), trainedRow.getByTestId('run-recipe').click()]);
  const recipe = readFileSync(await d.path()).toString('utf8');
  expect(recipe).toContain('finetuning_stage:');
  expect(recipe).toMatch(/MagnitudePruningModifier:[\s\S]*init_sparsity: 0\n[\s\S]*final_sparsity: 0\.4\n[\s\S]*update_scheduler: 'cubic'/);
  expect(recipe).toContain("stage='finetuning_stage'");
  expect(consoleErrors).toEqual([]);
});

test('a reload mid-run resumes from the last checkpoint and finishes the run', async ({ page }) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  await fillGmp(page, { dt: 3, n: 3, steps: 12 });
  await page.getByTestId('train-checkpoint-every').fill('3');
  await page.getByTestId('train-run').click();
  // Reload once a checkpoint is saved (the page keeps the run's record with its step).
  const saved = await page.waitForFunction(() => {
    const p = JSON.parse(localStorage.getItem('prune-studio.train-run') ?? 'null') as { step: number } | null;
    return p && p.step >= 3 ? p.step : null;
  }, undefined, { timeout: 240_000 });
  const step = Number(await saved.jsonValue());
  await page.reload();
  await expect(page.getByTestId('model-card')).toBeVisible();
  const interrupted = page.getByTestId('train-interrupted');
  await expect(interrupted).toBeVisible();
  expect(Number(await interrupted.getAttribute('data-step'))).toBeGreaterThanOrEqual(step);
  await expect(interrupted).toHaveAttribute('data-steps', '12');
  await useSmallSettings(page);
  await page.getByTestId('train-resume').click();
  const result = page.getByTestId('train-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  await expect(page.getByTestId('train-interrupted')).toHaveCount(0);
  // The curve holds every step: those before the checkpoint (kept) and those after (resumed).
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', '12');
  // The schedule's last pruning (step 9) happened after the resume: 40 % reached.
  expect(Math.abs(Number(await result.getAttribute('data-sparsity')) - 0.4)).toBeLessThan(1e-3);
  // The run ended: nothing is left to resume after another reload.
  expect(await page.evaluate(() => localStorage.getItem('prune-studio.train-run'))).toBeNull();
  expect(consoleErrors).toEqual([]);
});

test('pause then resume finishes the run; a cancel set to revert gives back the weights before it', async ({ page }) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  await fillGmp(page, { dt: 2, n: 2, steps: 8 });
  await page.getByTestId('train-run').click();
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', /^[2-7]$/, { timeout: 120_000 });
  await page.getByTestId('train-pause').click();
  const paused = page.getByTestId('train-interrupted');
  await expect(paused).toHaveAttribute('data-paused', 'true', { timeout: 120_000 });
  await expect(page.getByTestId('train-progress')).toHaveCount(0);
  const at = Number(await paused.getAttribute('data-step'));
  expect(at).toBeGreaterThanOrEqual(2);
  expect(at).toBeLessThan(8);
  await page.getByTestId('train-resume').click();
  const result = page.getByTestId('train-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', '8');
  expect(Math.abs(Number(await result.getAttribute('data-sparsity')) - 0.4)).toBeLessThan(1e-3);
  const trained = Number(await result.getAttribute('data-ppl'));

  // Another run, cancelled with "revert": the weights are the first run's again, to the last digit.
  await page.getByTestId('train-on-cancel').selectOption('revert');
  await page.getByTestId('train-mode').selectOption('recover');
  await page.getByTestId('train-run').click();
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-steps', /^[2-7]$/, { timeout: 120_000 });
  await page.getByTestId('train-cancel').click();
  await expect(page.getByTestId('train-cancelled')).toHaveAttribute('data-reverted', 'true', { timeout: 120_000 });
  expect(await measurePerplexity(page)).toBe(trained);
  expect(consoleErrors).toEqual([]);
});

test('from scratch with distillation from the model as loaded: the loss starts near ln V and falls, the KL and SquareHead to the teacher fall', async ({ page }) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  await page.getByTestId('train-from-scratch').check();
  await page.getByTestId('train-seed').fill('7');
  await page.getByTestId('train-distill').check();
  await page.getByTestId('train-squarehead').check();
  const result = await runFromScratch(page, 8);
  const klFirst = Number(await result.getAttribute('data-kl-first'));
  expect(klFirst).toBeGreaterThan(0);
  expect(Number(await result.getAttribute('data-kl-last'))).toBeLessThan(klFirst);
  await expect(page.getByTestId('train-kl')).toBeVisible();
  // SquareHead: the fresh layers' outputs move toward the teacher's.
  const sqFirst = Number(await result.getAttribute('data-squarehead-first'));
  expect(sqFirst).toBeGreaterThan(0);
  expect(Number(await result.getAttribute('data-squarehead-last'))).toBeLessThan(sqFirst);
  await expect(page.getByTestId('train-squarehead-loss')).toBeVisible();
  await expect(result).toContainText('fresh weights (seed 7)');
  // The perplexity before training is the fresh model's: far above the loaded model's.
  expect(Number(await result.getAttribute('data-ppl-start'))).toBeGreaterThan(100);
  expect(consoleErrors).toEqual([]);
});

test('a dropped folder of config and tokenizer alone opens with fresh weights and trains from scratch', async ({ page }) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  await dropModelFiles(page, { folder: 'config-only', files: DEMO_FILES.filter((f) => f !== 'model.safetensors') });
  await expect(page.getByTestId('model-name')).toHaveText('config-only');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await expect(page.getByTestId('model-notes')).toContainText('The folder has no weights');
  // Nothing to recover: the Train area starts from scratch.
  await expect(page.getByTestId('train-from-scratch')).toBeChecked();
  const result = await runFromScratch(page, 4);
  expect(Number(await result.getAttribute('data-ppl-start'))).toBeGreaterThan(100);
  expect(consoleErrors).toEqual([]);
});

test('GMP from scratch beside its dense twin: both trained on the same tokens, sizes matched, placed in the planner, and the model as loaded afterwards', async ({ page }) => {
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  const loaded = await measurePerplexity(page);
  await page.getByTestId('train-from-scratch').check();
  await fillGmp(page, { dt: 1, n: 2, steps: 4 });
  await page.getByTestId('train-twin').click();
  const table = page.getByTestId('train-twin-table');
  await expect(table).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  const sparse = page.getByTestId('twin-sparse'), dense = page.getByTestId('twin-dense');
  const nonzeros = Number(await sparse.getAttribute('data-nonzeros'));
  expect(Number(await sparse.getAttribute('data-params'))).toBe(260_032);
  const params = Number(await dense.getAttribute('data-params'));
  expect(Number(await dense.getAttribute('data-nonzeros'))).toBe(params);
  expect(Math.abs(params - nonzeros) / nonzeros).toBeLessThan(0.005);
  for (const row of [sparse, dense]) expect(Number(await row.getAttribute('data-ppl'))).toBeGreaterThan(1);
  // The planner places both: N = non-zeros, the same D.
  await expect(page.getByTestId('planner-twin-sparse')).toHaveAttribute('data-n', String(nonzeros));
  await expect(page.getByTestId('planner-twin-dense')).toHaveAttribute('data-n', String(params));
  expect(await page.getByTestId('planner-twin-dense').getAttribute('data-d')).toBe(await page.getByTestId('planner-twin-sparse').getAttribute('data-d'));
  // The model is the folder's again: the perplexity measured before the comparison.
  expect(await measurePerplexity(page)).toBe(loaded);
  expect(consoleErrors).toEqual([]);
});
