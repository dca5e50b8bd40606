/**
 * Figures the device tests measure on the real SDK (preload counts, XS heap on the Moddable
 * runtime), kept in test-output/device-figures.json for `npm run bench` to print.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './kit.js';

export const FIGURES = join(REPO, 'test-output/device-figures.json');

export function recordDeviceFigures(name: string, value: unknown): void {
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  const all = existsSync(FIGURES) ? (JSON.parse(readFileSync(FIGURES, 'utf8')) as Record<string, unknown>) : {};
  all[name] = { ...(value as object), measuredAt: new Date().toISOString() };
  writeFileSync(FIGURES, JSON.stringify(all, null, 2) + '\n');
}
