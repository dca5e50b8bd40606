#!/usr/bin/env node
// Builds the xsnap-worker binary of @agoric/xsnap from the C sources its npm tarball ships
// (moddable/xs + xsnap-native), when it is missing. npm skips the package's postinstall, and the
// XS tests (test/xs*.test.ts, through test/support/tools.ts) and bench/xs.mjs need the binary; it
// is built on their first run, not at install, so the gateway installs without a C compiler. The make invocation is the one
// `npm run build:from-env` (src/build.js) runs, release goal only, with the same config env file,
// so a later `npm run build:from-env` in the package sees the release build as up to date.
//
//   node scripts/build-xsnap.mjs           build if missing, print the binary's path
//   node scripts/build-xsnap.mjs --force   rebuild even if present (make decides what is stale)
//   node scripts/build-xsnap.mjs --check   exit 0 if the binary is there, 1 if not; builds nothing
//
// Exit codes: 0 built or already there; 1 build failed; 2 cc/make missing or OS unsupported.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, type as osType } from 'node:os';
import { dirname, join } from 'node:path';

const PLATFORMS = { Linux: 'lin', Darwin: 'mac' };

function fail(code, message) {
  console.error(`build-xsnap: ${message}`);
  process.exit(code);
}

let pkgDir;
try {
  pkgDir = dirname(createRequire(import.meta.url).resolve('@agoric/xsnap/package.json'));
} catch {
  fail(2, '@agoric/xsnap is not installed (it is a devDependency: run npm install)');
}

const platform = PLATFORMS[osType()];
if (!platform) fail(2, `xsnap has no build for ${osType()} (only Linux and macOS)`);

const bin = join(pkgDir, 'xsnap-native/xsnap/build/bin', platform, 'release/xsnap-worker');
const force = process.argv.includes('--force');

function runnable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

if (process.argv.includes('--check')) process.exit(runnable(bin) ? 0 : 1);
if (runnable(bin) && !force) {
  console.log(bin);
  process.exit(0);
}

function has(cmd) {
  return spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const missing = ['cc', 'make'].filter((c) => !has(c));
if (missing.length) {
  fail(2, `${missing.join(' and ')} not found, needed once to build the XS engine for the XS tests: apt-get install build-essential (macOS: xcode-select --install)`);
}
if (!existsSync(join(pkgDir, 'moddable/xs/includes/xs.h'))) {
  fail(2, `${pkgDir} ships no XS sources (moddable/xs); reinstall @agoric/xsnap`);
}

const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
// As in src/build.js: variables that change the output also go into build.config.env, which the
// makefile lists as a dependency, so changing them forces a rebuild.
const configEnvs = [`XSNAP_VERSION=${version}`, 'CC=cc "-D__has_builtin(x)=1"'];
const configEnvFile = join(pkgDir, 'build.config.env');
const expected = configEnvs.concat('').join('\n');
if (!existsSync(configEnvFile) || readFileSync(configEnvFile, 'utf8').trim() !== expected.trim()) {
  writeFileSync(configEnvFile, expected);
}

console.error(`build-xsnap: compiling xsnap-worker ${version} (release) in ${pkgDir} …`);
const t0 = Date.now();
const make = spawnSync('make', [
  `-j${Math.max(1, availableParallelism())}`,
  `MODDABLE=${join(pkgDir, 'moddable')}`,
  'GOAL=release',
  ...configEnvs,
  `EXTRA_DEPS=${configEnvFile}`,
  '-f', 'xsnap-worker.mk',
], { cwd: join(pkgDir, 'xsnap-native/xsnap/makefiles', platform), stdio: ['ignore', 2, 2] }); // stdout stays the path alone
if (make.error) fail(1, `could not run make: ${make.error.message}`);
if (make.status !== 0 || !runnable(bin)) fail(1, `make exited with ${make.status ?? make.signal}; no ${bin}`);

const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
console.error(`build-xsnap: ${(v.stdout || '').trim() || 'built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(bin);
