// End-to-end tests of the studio in Debian's Chromium with WebGPU. Headless Chromium here has no
// GPU: `--enable-unsafe-webgpu` makes it offer SwiftShader (a CPU Vulkan implementation) as the
// WebGPU adapter, which is correct but slow (~1 GFLOP/s), hence the long timeouts.
import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.E2E_PORT || 4173);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// E2E_OUTDIR: build into another folder than dist/ (two e2e runs side by side, with E2E_PORT).
const OUTDIR = process.env.E2E_OUTDIR || 'dist';
/** The local server with the Hub's layout that e2e/hub.spec.ts starts (its hub and CDN origins). */
export const MOCK_HUB_PORT = Number(process.env.E2E_HUB_PORT || PORT + 17);
export const MOCK_HUB = { hub: `http://localhost:${MOCK_HUB_PORT}`, cdn: `http://127.0.0.1:${MOCK_HUB_PORT + 1}` };

export const WEBGPU_ARGS = [
  // The flag that matters: without it headless Chromium has navigator.gpu but no adapter.
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--use-angle=swiftshader',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  timeout: 300_000,
  expect: { timeout: 120_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${PORT}/`,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: CHROMIUM, args: WEBGPU_ARGS },
  },
  projects: [{ name: 'chromium-webgpu' }],
  webServer: {
    command: `npx vite build --outDir ${OUTDIR} && npx vite preview --outDir ${OUTDIR} --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
    // The built page's CSP lets it download from the Hub's origins; the tests' local Hub is added.
    env: { HUB_ORIGINS: `${MOCK_HUB.hub} ${MOCK_HUB.cdn}` },
  },
});
