#!/usr/bin/env node
// Runs `npm run build` only when the build inputs changed since the last build, so `npm install`,
// `npm start` and `npm test` do not rebuild an unchanged tree. Inputs are the sources the two
// rollup configs and web-ui/build.mjs read, and the lockfile (a changed toolchain). Contents, not
// times, are compared (npm rewrites an unchanged lockfile): dist/.built holds a SHA-256 over every
// input's path and bytes.
//
//   node scripts/build-if-stale.mjs   build if stale (silent when up to date)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const INPUTS = ['firmware', 'hal', 'web-ui', 'package.json', 'package-lock.json', 'manifest.json', 'rollup.config.js', 'rollup.device.config.js', 'scripts/preload-check.mjs', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.device.json'];
const stamp = join(root, 'dist', '.built');

/** every file under path, sorted */
function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
}

const hash = createHash('sha256');
for (const file of INPUTS.flatMap((p) => files(join(root, p)))) hash.update(`${file.slice(root.length)}\0`).update(readFileSync(file)).update('\0');
const digest = hash.digest('hex');
if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) process.exit(0);

const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(stamp, `${digest}\n`);
