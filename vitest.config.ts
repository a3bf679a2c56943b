import { defineConfig } from 'vitest/config';

// Unit tests run in Node. GPU tests use Dawn (npm `webgpu`), on SwiftShader where there is no GPU:
// slow, so generous timeouts and one file at a time (the software rasteriser uses every core).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
