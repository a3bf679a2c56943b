// Faults during long runs lose nothing: a GPU device destroyed mid-sweep gives a clear notice, a
// new device, and the sweep resuming from the first point it had not measured; a reload in the
// middle of a sweep keeps its finished points and offers to resume it. Every point ends up
// measured exactly once.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { fillSweep, useSmallSettings } from './helpers';

const SPARSITIES = '0.2,0.4,0.6,0.8';
const TOTAL = 5; // 4 magnitude points + the dense point

async function startSweep(page: Page): Promise<void> {
  await expect(page.getByTestId('model-card')).toBeVisible();
  await expect(page.getByTestId('run-history')).toHaveAttribute('data-status', 'ready');
  await useSmallSettings(page);
  await fillSweep(page, ['magnitude'], SPARSITIES);
  await expect(page.getByTestId('sweep-count')).toHaveText(`${TOTAL} points`);
  await page.getByTestId('sweep-run').click();
  await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
}

/** Each run row's method and target, in table order. */
async function rowLabels(page: Page): Promise<string[]> {
  return (await page.getByTestId('run-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

async function expectComplete(page: Page): Promise<void> {
  await expect(page.getByTestId('run-row')).toHaveCount(TOTAL, { timeout: 240_000 });
  await expect(page.getByTestId('sweep-cancel')).toBeDisabled();
  const labels = await rowLabels(page);
  for (const want of ['Dense', ' 20% ', ' 40% ', ' 60% ', ' 80% ']) expect(labels.filter((l) => l.includes(want)), want).toHaveLength(1);
  await expect(page.getByTestId('sweep-resumable')).toHaveCount(0);
  await expect(page.getByTestId('sweep-chart').getByTestId('sweep-point')).toHaveCount(TOTAL);
}

test('a GPU device lost mid-sweep: notice, new device, the sweep resumes, nothing lost', async ({ page }, testInfo) => {
  await page.goto('/?faults');
  await startSweep(page);
  const before = await page.getByTestId('run-row').count();
  expect(before).toBeLessThan(TOTAL);
  const lost = await page.evaluate(() => (window as unknown as { __pruneStudioFaults: { loseDevice(): Promise<{ lost: boolean }> } }).__pruneStudioFaults.loseDevice());
  expect(lost.lost).toBe(true);
  const notice = page.getByTestId('sweep-notice');
  await expect(notice).toContainText('The GPU device was lost during sweep');
  await expect(notice).toContainText('no finished point was lost');
  await expect(page.getByTestId('adapter')).toHaveAttribute('data-status', 'ready');
  await expectComplete(page);
  await page.getByTestId('method-panel').screenshot({ path: testInfo.outputPath('device-lost-recovered.png') });
});

test('a streamed model (a GPU budget below its weights): the device lost mid-sweep, the model streams again and the sweep resumes', async ({ page }) => {
  await page.goto('/?faults');
  await expect(page.getByTestId('model-card')).toBeVisible();
  await page.getByTestId('gpu-budget').fill('200 KiB');
  await page.getByRole('button', { name: 'Load demo model' }).click();
  await expect(page.getByTestId('model-gpu-budget')).toContainText('streamed, a decoder layer at a time');
  await startSweep(page);
  await page.evaluate(() => (window as unknown as { __pruneStudioFaults: { loseDevice(): Promise<unknown> } }).__pruneStudioFaults.loseDevice());
  await expect(page.getByTestId('sweep-notice')).toContainText('The GPU device was lost during sweep');
  await expectComplete(page);
  // The model came back on the new device with the same budget, still streamed.
  await expect(page.getByTestId('model-gpu-budget')).toContainText('200.0 KiB: streamed, a decoder layer at a time');
});

test('a reload mid-sweep keeps the finished points and the sweep resumes from there', async ({ page }) => {
  await page.goto('/');
  await startSweep(page);
  await page.reload();
  await expect(page.getByTestId('model-card')).toBeVisible();
  const resumable = page.getByTestId('sweep-resumable');
  await expect(resumable).toBeVisible();
  // The runs table renders at low priority (useDeferredValue), after the resume line: wait for its rows.
  await expect.poll(() => page.getByTestId('run-row').count()).toBeGreaterThanOrEqual(2);
  const saved = await page.getByTestId('run-row').count();
  expect(saved).toBeGreaterThanOrEqual(2);
  await expect(resumable).toHaveAttribute('data-left', String(TOTAL - saved));
  await useSmallSettings(page);
  await page.getByTestId('sweep-resume').click();
  await expectComplete(page);
});
