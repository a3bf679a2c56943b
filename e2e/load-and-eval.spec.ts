// The happy path: the demo model loads on start, a dropped model folder loads, and the page's
// perplexity equals the CLI's for the same settings.
import { expect, test } from './fixtures';
import { dropModelFiles, findNumber, parseCliJson, runCli, watchConsole } from './helpers';

const SEQLEN = 256;
const MAX_WINDOWS = 2;

test('demo model loads, a dropped folder loads, perplexity matches the CLI', async ({ page }, testInfo) => {
  // Start the CLI now; it runs while the browser works.
  const cli = runCli([
    'eval',
    '--model',
    'public/models/stories260K',
    '--text',
    'public/data/sample-eval.txt',
    '--seqlen',
    String(SEQLEN),
    '--max-windows',
    String(MAX_WINDOWS),
    '--json',
  ]);

  const consoleErrors = watchConsole(page);

  await page.goto('/');
  await expect(page.getByTestId('adapter')).toHaveAttribute('data-status', 'ready');

  // The demo model loads by itself.
  const card = page.getByTestId('model-card');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('model-source')).toContainText('Demo model');
  await expect(page.getByTestId('model-family')).toHaveText('llama');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  // The GPU budget (the adapter's default) holds the whole demo model; what is on the GPU and the peak.
  await expect(page.getByTestId('model-gpu-budget')).toContainText('all weights on the GPU');
  await expect(page.getByTestId('model-gpu-memory')).toContainText(/^weights \d.* \/ \d.*; all buffers \d.* \/ \d/);

  // Drop the same model folder (its files, named with the folder prefix).
  await dropModelFiles(page, { folder: 'dropped260K' });
  await expect(page.getByTestId('model-source')).toHaveText('Folder dropped260K');
  await expect(page.getByTestId('model-name')).toHaveText('dropped260K');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await expect(page.getByTestId('token-count')).toHaveAttribute('data-tokens', /^\d+$/);

  const shot = await card.screenshot({ path: testInfo.outputPath('model-card.png') });
  await testInfo.attach('model-card', { body: shot, contentType: 'image/png' });
  await page.screenshot({ path: testInfo.outputPath('page-after-drop.png'), fullPage: true });

  // Measure.
  await page.getByTestId('seqlen').fill(String(SEQLEN));
  await page.getByTestId('max-windows').fill(String(MAX_WINDOWS));
  await page.getByTestId('measure-ppl').click();
  const result = page.getByTestId('ppl-result');
  await expect(result).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('eval-error')).toHaveCount(0);
  await expect(result).toContainText(`${MAX_WINDOWS}`);
  await expect(result).toContainText(`${(MAX_WINDOWS * (SEQLEN - 1)).toLocaleString('en-US')}`);
  const raw = await page.getByTestId('ppl-value').getAttribute('data-value');
  const ppl = Number(raw);
  expect(Number.isFinite(ppl) && ppl > 1).toBe(true);
  await testInfo.attach('ppl-result', { body: await result.screenshot(), contentType: 'image/png' });
  expect(consoleErrors, 'no errors in the browser console').toEqual([]);

  // Same number as the CLI, within 1e-5 relative.
  const run = await cli;
  await testInfo.attach('cli-output', { body: `${run.stdout}\n--- stderr ---\n${run.stderr}`, contentType: 'text/plain' });
  expect(run.ok, `CLI failed: ${run.error}\n${run.stderr.slice(-2000)}`).toBe(true);
  const cliPpl = findNumber(parseCliJson(run.stdout), 'ppl');
  expect(cliPpl, 'CLI JSON has a numeric "ppl"').toBeDefined();
  expect(Math.abs(ppl - cliPpl!) / cliPpl!).toBeLessThan(1e-5);

  // A GPU budget below the model's weights: it streams a layer at a time, with the same perplexity.
  await page.getByTestId('gpu-budget').fill('lots');
  await page.getByRole('button', { name: 'Load demo model' }).click();
  await expect(page.getByTestId('model-error')).toContainText('The GPU budget (--gpu-budget) must be a size such as 1GiB, 4GB or 512MiB; got "lots".');
  await page.getByTestId('gpu-budget').fill('200 KiB');
  await page.getByRole('button', { name: 'Load demo model' }).click();
  await expect(page.getByTestId('model-source')).toContainText('Demo model');
  await expect(page.getByTestId('model-gpu-budget')).toContainText('200.0 KiB: streamed, a decoder layer at a time');
  const before = await result.getAttribute('data-call-id');
  await page.getByTestId('measure-ppl').click();
  await expect(result).not.toHaveAttribute('data-call-id', before!, { timeout: 240_000 });
  await expect(page.getByTestId('ppl-value')).toHaveAttribute('data-value', raw!);
  // The weights on the GPU never went past the budget.
  await expect(page.getByTestId('model-gpu-memory')).toContainText(/^weights [\d.]+ KiB \/ (1\d\d|200)\.\d KiB;/);
});

test('a running measurement can be cancelled', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('model-card')).toBeVisible();
  await page.getByTestId('seqlen').fill('256');
  await page.getByTestId('max-windows').fill('');
  await page.getByTestId('measure-ppl').click();
  await expect(page.getByTestId('ppl-progress')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('ppl-cancelled')).toBeVisible();
  await expect(page.getByTestId('ppl-progress')).toHaveCount(0);
  await expect(page.getByTestId('eval-error')).toHaveCount(0);
  await expect(page.getByTestId('measure-ppl')).toBeEnabled();
});

test('a model folder can be picked with the folder picker', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('model-card')).toBeVisible();
  await page.getByTestId('model-folder-input').setInputFiles('public/models/stories260K');
  await expect(page.getByTestId('model-source')).toHaveText('Folder stories260K');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
});
