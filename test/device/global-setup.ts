// Before any device test: the SDK tools (built once into the cache) and the firmware's build.
import { distBuilt, ensureTools } from './kit.js';

export default function setup(): void {
  if (!distBuilt()) throw new Error('dist/ is not built: run npm run build first (npm run test:device does)');
  console.log(ensureTools());
}
