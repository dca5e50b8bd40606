#!/usr/bin/env node
// The XS engine for the XS tests (test/xs*.test.ts, through test/support/tools.ts) and benches
// (bench/xs*.mjs): the xsnap-worker binary of @agoric/xsnap, compiled from the C sources its npm
// tarball ships (moddable/xs + xsnap-native). The package lives in a locked project of its own,
// tools/xs, installed with `npm ci --ignore-scripts`, so that no npm (npm 10 ignores the
// `allowScripts` field) ever runs its compiler while installing the gateway: the gateway installs
// without a C compiler, and the engine is installed when missing or stale (the lockfile changed)
// and built when a test or bench first needs it. The make invocation is the one the package's
// `npm run build:from-env` (src/build.js) runs, release goal only, with the same config env file.
//
//   node scripts/build-xsnap.mjs            install if missing or stale, build if missing, print the binary's path
//   node scripts/build-xsnap.mjs --install  install if missing or stale; builds nothing
//   node scripts/build-xsnap.mjs --force    rebuild even if present (make decides what is stale)
//   node scripts/build-xsnap.mjs --check    exit 0 if the package is current and the binary there, 1 if not; changes nothing
//
// Exit codes: 0 done or already there; 1 install or build failed; 2 cc/make missing or OS unsupported.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, accessSync, constants } from 'node:fs';
import { availableParallelism, type as osType } from 'node:os';
import { join } from 'node:path';
import { installTool, toolCurrent, toolDir } from './install-tools.mjs';

const PLATFORMS = { Linux: 'lin', Darwin: 'mac' };
const DEBIAN = 'apt-get install make gcc libc6-dev';

function fail(code, message) {
  console.error(`build-xsnap: ${message}`);
  process.exit(code);
}

const pkgDir = join(toolDir('xs'), 'node_modules/@agoric/xsnap');
const current = () => existsSync(join(pkgDir, 'package.json')) && toolCurrent('xs');

const platform = PLATFORMS[osType()];
const bin = platform && join(pkgDir, 'xsnap-native/xsnap/build/bin', platform, 'release/xsnap-worker');

function runnable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

if (process.argv.includes('--check')) process.exit(current() && bin && runnable(bin) ? 0 : 1);

if (!current()) {
  const why = installTool('xs');
  if (why) fail(1, why);
}
if (process.argv.includes('--install')) process.exit(0);

if (!platform) fail(2, `xsnap has no build for ${osType()} (only Linux and macOS)`);
if (runnable(bin) && !process.argv.includes('--force')) {
  console.log(bin);
  process.exit(0);
}

function has(cmd) {
  return spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const missing = ['cc', 'make'].filter((c) => !has(c));
if (missing.length) fail(2, `${missing.join(' and ')} not found, needed once to build the XS engine for the XS tests: ${DEBIAN} (macOS: xcode-select --install)`);
if (!existsSync(join(pkgDir, 'moddable/xs/includes/xs.h'))) fail(2, `${pkgDir} ships no XS sources (moddable/xs); delete tools/xs/node_modules to reinstall it`);

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
