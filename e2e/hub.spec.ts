// Opening a model by its id from a local server with the Hugging Face Hub's URL layout (never the
// real Hub): the file list, the download with progress, a reload in the middle of it that resumes
// from the bytes already written, the model kept in the browser and opened again with the Hub out
// of reach, and each Hub refusal with its message.
import path from 'node:path';
import { MOCK_HUB, MOCK_HUB_PORT } from '../playwright.config';
import { MOCK_TOKENS, folderFiles, startMockHub, type MockHub } from '../test/helpers/mock-hub';
import { expect, test } from './fixtures';
import { REPO_ROOT, measurePerplexity, useSmallSettings } from './helpers';

const DEMO = path.join(REPO_ROOT, 'public/models/stories260K');
let hub: MockHub;

test.beforeAll(async () => {
  hub = await startMockHub({ hubPort: MOCK_HUB_PORT, cdnPort: MOCK_HUB_PORT + 1, hubName: 'localhost', cdnName: '127.0.0.1' });
  expect([hub.hubUrl, hub.cdnUrl]).toEqual([MOCK_HUB.hub, MOCK_HUB.cdn]);
  hub.addRepo('karpathy/stories260K', { files: { ...folderFiles(DEMO), 'README.md': Buffer.from('# stories260K\n') } });
  hub.addRepo('org/gated', { files: folderFiles(DEMO), access: 'gated' });
  const { 'model.safetensors': _w, ...rest } = folderFiles(DEMO);
  hub.addRepo('org/bin-only', { files: { ...rest, 'pytorch_model.bin': Buffer.alloc(4096, 1) } });
});
test.afterAll(async () => hub?.close());

async function openPage(page: import('@playwright/test').Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('model-card')).toBeVisible();
  await page.getByText('Hub address').click();
  await page.getByTestId('hub-url').fill(MOCK_HUB.hub);
}

test('a model by id: file list, download with progress, resumed after a reload, then opened with the Hub out of reach', async ({ page }, testInfo) => {
  await openPage(page);
  const demoPpl = await (async () => {
    await useSmallSettings(page);
    return measurePerplexity(page);
  })();

  await page.getByTestId('hub-id').fill('karpathy/stories260K');
  await page.getByTestId('hub-find').click();
  await expect(page.getByTestId('hub-summary')).toContainText('6 files to download, 1.0 MiB');
  const all = Object.keys(hub.repos.get('karpathy/stories260K')!.files).length;
  await expect(page.getByTestId('hub-summary')).toContainText(`${all - 6} other files of the repository are not needed`);
  await expect(page.getByTestId('hub-file')).toHaveCount(all);
  await expect(page.locator('[data-testid="hub-file"][data-download="false"]').filter({ hasText: 'README.md' })).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath('hub-listing.png'), fullPage: true });

  // A slow link: the download takes seconds, and the page is reloaded in the middle of it.
  hub.faults.chunkDelayMs = 400;
  await page.getByTestId('hub-open').click();
  const progress = page.getByTestId('model-progress-text');
  await expect(progress).toContainText(/downloading model\.safetensors \(file \d of 6\): [\d.]+ KiB of 1\.0 MiB \(\d+ %\), [\d.]+ KiB\/s, about [\d.]+ s left/, { timeout: 60_000 });
  await page.screenshot({ path: testInfo.outputPath('hub-progress.png'), fullPage: true });
  await page.reload();
  hub.faults.chunkDelayMs = 0;
  await expect(page.getByTestId('model-card')).toBeVisible();
  // The interrupted download is in the browser: the listing counts its bytes.
  await page.getByText('Hub address').click();
  await page.getByTestId('hub-url').fill(MOCK_HUB.hub);
  await page.getByTestId('hub-id').fill('karpathy/stories260K');
  await page.getByTestId('hub-find').click();
  await expect(page.getByTestId('hub-summary')).toContainText(/already in this browser/);
  hub.log.length = 0;
  await page.getByTestId('hub-open').click();
  await expect(page.getByTestId('model-source')).toContainText('Hugging Face Hub: karpathy/stories260K@main', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('stories260K');
  // model.safetensors resumed with a byte range that does not start at 0.
  expect(hub.log.some((l) => l.startsWith('cdn GET') && /\[bytes=[1-9]\d*-\d+\]/.test(l))).toBe(true);
  await useSmallSettings(page);
  expect(await measurePerplexity(page)).toBe(demoPpl);
  // Kept in this browser.
  await expect(page.locator('[data-testid="kept-item"][data-name="stories260K"][data-complete="true"]')).toHaveCount(1);

  // The Hub out of reach: the same id opens the kept copy, with a note.
  await hub.close();
  await page.reload();
  await expect(page.getByTestId('model-card')).toBeVisible();
  await page.getByText('Hub address').click();
  await page.getByTestId('hub-url').fill(MOCK_HUB.hub);
  await page.getByTestId('hub-id').fill('karpathy/stories260K');
  await page.getByTestId('hub-open').click();
  await expect(page.getByTestId('model-source')).toContainText('Hugging Face Hub: karpathy/stories260K@main', { timeout: 60_000 });
  await expect(page.getByTestId('model-notes')).toContainText('The Hub could not be reached, so the copy of karpathy/stories260K kept in this browser was opened');
  await useSmallSettings(page);
  expect(await measurePerplexity(page)).toBe(demoPpl);
  await page.screenshot({ path: testInfo.outputPath('hub-offline.png'), fullPage: true });
  // Restart the Hub for the next test.
  hub = await startMockHub({ hubPort: MOCK_HUB_PORT, cdnPort: MOCK_HUB_PORT + 1, hubName: 'localhost', cdnName: '127.0.0.1' });
  hub.addRepo('org/gated', { files: folderFiles(DEMO), access: 'gated' });
  const { 'model.safetensors': _w, ...rest } = folderFiles(DEMO);
  hub.addRepo('org/bin-only', { files: { ...rest, 'pytorch_model.bin': Buffer.alloc(4096, 1) } });
});

test('each Hub refusal is shown with what to do', async ({ page, context }) => {
  await openPage(page);
  const open = async (id: string, token = '') => {
    await page.getByTestId('hub-id').fill(id);
    await page.getByTestId('hub-token').fill(token);
    await page.getByTestId('hub-open').click();
  };
  await page.getByTestId('hub-id').fill('org/nope');
  await page.getByTestId('hub-find').click();
  await expect(page.getByTestId('hub-error')).toContainText(`No model "org/nope" on ${MOCK_HUB.hub}. Check the id; if it is a private model, give an access token.`);

  await open('org/gated');
  await expect(page.getByTestId('model-error')).toContainText(`"org/gated" is a gated model: accept its conditions on ${MOCK_HUB.hub}/org/gated, then give an access token of that account.`);
  await open('org/gated', MOCK_TOKENS.user);
  await expect(page.getByTestId('model-error')).toContainText(`"org/gated" is a gated model and this token's account has not been granted access. Ask for access on ${MOCK_HUB.hub}/org/gated`);
  await open('org/bin-only');
  await expect(page.getByTestId('model-error')).toContainText('"org/bin-only" has no .safetensors weights (only pytorch_model.bin). Prune Studio reads safetensors only');
  await open('not an id');
  await expect(page.getByTestId('hub-error')).toContainText('is not a Hub model id: write it as organisation/name');
  // No network at all.
  await context.setOffline(true);
  await open('org/gated', MOCK_TOKENS.granted);
  await expect(page.getByTestId('model-error')).toContainText(`Could not reach the Hub at ${MOCK_HUB.hub}`);
  await context.setOffline(false);
  // A granted token downloads the gated model; the demo model is still loaded until then.
  await open('org/gated', MOCK_TOKENS.granted);
  await expect(page.getByTestId('model-source')).toContainText('Hugging Face Hub: org/gated@main', { timeout: 60_000 });
  expect(hub.log.filter((l) => l.startsWith('cdn') && l.includes('[auth]'))).toEqual([]);
});
