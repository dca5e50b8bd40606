#!/usr/bin/env node
// Runs `npm run build` only when a build input is newer than the last build, so `npm install`,
// `npm start` and `npm test` do not rebuild an unchanged tree. Inputs are the sources the two
// rollup configs and web-ui/build.mjs read, and the lockfile (a changed toolchain); directories
// count too, so a deleted file also makes the build stale. The stamp is dist/.built.
//
//   node scripts/build-if-stale.mjs   build if stale (silent when up to date)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const INPUTS = ['firmware', 'hal', 'web-ui', 'package.json', 'package-lock.json', 'manifest.json', 'rollup.config.js', 'rollup.device.config.js', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.device.json'];
const stamp = join(root, 'dist', '.built');

/** newest modification time under path (files and directories) */
function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  let t = s.mtimeMs;
  if (s.isDirectory()) for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const inputs = Math.max(...INPUTS.map((p) => newest(join(root, p))));
if (built > inputs) process.exit(0);

const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(stamp, `${new Date().toISOString()}\n`);
