// Vite config for the studio. Everything runs in the browser; the dev/preview servers only ever
// listen on localhost. `BASE_PATH` sets the public base (e.g. "/prune-studio/" for a sub-path
// deployment); the default "./" makes the build relocatable.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const base = process.env.BASE_PATH || './';

export default defineConfig({
  base,
  plugins: [react()],
  worker: { format: 'es' },
  server: { host: 'localhost', port: 5173, strictPort: true, open: false },
  preview: { host: 'localhost', port: 4173, strictPort: true, open: false },
  build: { target: 'es2022', sourcemap: true },
});
