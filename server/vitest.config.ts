import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Room server tests: each file starts the real Worker under `wrangler dev`
 * (workerd) on 127.0.0.1 and talks to it over HTTP and WebSockets.
 */
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['server/**/*.test.ts'],
    environment: 'node',
    testTimeout: 15_000,
    hookTimeout: 60_000,
    // Two cores: one workerd per file, two files at a time.
    maxWorkers: 2,
  },
});
