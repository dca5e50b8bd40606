// The XS engine stays out of the gateway's install: no package of the root lockfile runs an install
// script that compiles (npm 10 ignores `allowScripts` and runs every one), and the engine's own
// locked project (tools/xs) is what scripts/build-xsnap.mjs installs and builds.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const json = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

/** install scripts that download or check prebuilt binaries, never a compiler */
const PREBUILT = ['node_modules/@serialport/bindings-cpp', 'node_modules/esbuild'];

describe('the XS engine outside the gateway install', () => {
  it('no root dependency has an install script but the prebuilt ones', () => {
    const packages: Record<string, { hasInstallScript?: boolean }> = json('package-lock.json').packages;
    const scripted = Object.entries(packages).filter(([, p]) => p.hasInstallScript).map(([k]) => k);
    expect(scripted.sort()).toEqual(PREBUILT);
    expect(Object.keys(packages).filter((k) => k.includes('@agoric/'))).toEqual([]);
  });

  it('the lockfile is in the form npm 10 and npm 11 both leave as it is (npm 10 drops `libc` fields)', () => {
    const packages: Record<string, { libc?: string[] }> = json('package-lock.json').packages;
    expect(Object.entries(packages).filter(([, p]) => p.libc).map(([k]) => k)).toEqual([]);
  });

  it('tools/xs locks the engine package, and its install stays out of git', () => {
    const lock = json('tools/xs/package-lock.json');
    expect(lock.packages['node_modules/@agoric/xsnap']).toMatchObject({ version: json('tools/xs/package.json').dependencies['@agoric/xsnap'], hasInstallScript: true });
    const ignored = spawnSync('git', ['check-ignore', '-q', 'tools/xs/node_modules/@agoric/xsnap/build.config.env'], { cwd: root });
    expect(ignored.status).toBe(0);
  });

  it('after the first XS test, --check finds the package current and the engine built', async () => {
    const { xsnapBinary } = await import('./support/tools.js');
    expect(xsnapBinary()).toMatch(/tools\/xs\/node_modules\/@agoric\/xsnap\/.*\/release\/xsnap-worker$/);
    expect(spawnSync(process.execPath, ['scripts/build-xsnap.mjs', '--check'], { cwd: root }).status).toBe(0);
  });
});
