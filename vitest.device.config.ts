// The device tests (test/device/): the real Moddable SDK tools and runtime, one file at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/device/**/*.test.ts'],
    globalSetup: ['test/device/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});
