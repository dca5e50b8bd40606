// npm test: everything but the device tests, which need the Moddable SDK kit (npm run test:device).
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    exclude: [...configDefaults.exclude, 'test/device/**'],
  },
});
