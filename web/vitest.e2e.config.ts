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
    // Each step waits for the UI (and the product behind it) for up to 20 s.
    expect: {poll: {timeout: 20_000, interval: 100}},
  },
});
