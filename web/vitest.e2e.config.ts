import {defineConfig} from 'vitest/config';

// End-to-end tests: the real product (go run ./cmd/regulars-dev) driven through the platform
// stand-in's admin page in headless Chromium (playwright-core, /usr/bin/chromium).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    sequence: {concurrent: false},
  },
});
