// Vite config for the studio. Everything runs in the browser; the dev/preview servers only ever
// listen on localhost. `BASE_PATH` sets the public base (e.g. "/prune-studio/" for a project
// page); the default "./" makes the build relocatable: it works from any path on any static host.
//
// PWA (vite-plugin-pwa, Workbox): the app shell (HTML, JS, CSS, icons, the built-in sample texts)
// is precached, so the studio opens offline after the first visit. Model files are never
// precached: the demo model is cached at run time the first time it is fetched (src/pwa.ts warms
// that cache once the service worker controls the page), and models the user drops never touch
// the network at all.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

const base = process.env.BASE_PATH || './';

/**
 * Where models can be downloaded from: the Hugging Face Hub and its CDNs (huggingface.co, and
 * cdn-lfs*.hf.co / cas-bridge.xethub.hf.co / *.cdn.hf.co, which resolve URLs redirect to).
 * `HUB_ORIGINS` adds space-separated origins at build time (a mirror set as HF_ENDPOINT, or the
 * e2e tests' local Hub).
 */
export const HUB_ORIGINS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co', ...(process.env.HUB_ORIGINS ?? '').split(/\s+/).filter(Boolean)];

/**
 * The built site's Content Security Policy: this origin, plus the Hub's origins for fetches
 * (model downloads) and nothing else. Scripts, workers, styles and images come from 'self';
 * fetches from 'self' (the demo model, sample texts) and the Hub; blob: and data: serve the
 * page's own exports and chart images; WebAssembly compilation is allowed for libraries that
 * need it. No script from elsewhere can run, and no other host can be contacted. The Hub's
 * origins only ever receive GET requests for model files (and the access token, when the user
 * gives one): nothing of the user's is sent. Styles allow inline attributes (React and recharts
 * set style="…"). Only in builds: the dev server injects inline scripts for hot reload.
 * frame-ancestors cannot be set from a meta tag.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  `connect-src 'self' blob: data: ${HUB_ORIGINS.join(' ')}`,
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'prune-studio-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  base,
  plugins: [
    react(),
    contentSecurityPolicy(),
    VitePWA({
      // The page registers the worker itself (src/pwa.ts) so it can report and warm the cache.
      injectRegister: false,
      registerType: 'autoUpdate',
      manifest: {
        name: 'Prune Studio',
        short_name: 'Prune Studio',
        description: 'Compress small language models on your own GPU with WebGPU. Nothing is uploaded.',
        theme_color: '#0b62c4',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '.',
        scope: '.',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}', 'data/*.txt'],
        // Model files stay out of the precache (and source maps are of no use offline).
        globIgnores: ['models/**', '**/*.map'],
        navigateFallback: 'index.html',
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        runtimeCaching: [
          {
            // The bundled demo model only: same-origin .../models/<name>/<file>.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && /\/models\/[^/]+\/[^/]+$/.test(url.pathname),
            handler: 'CacheFirst',
            options: { cacheName: 'demo-model', expiration: { maxEntries: 32 } },
          },
        ],
      },
    }),
  ],
  worker: { format: 'es' },
  server: { host: 'localhost', port: 5173, strictPort: true, open: false },
  preview: { host: 'localhost', port: 4173, strictPort: true, open: false },
  build: { target: 'es2022', sourcemap: true },
});
