#!/usr/bin/env node
// The test-only programs that come from npm live in locked projects of their own under tools/
// (tools/xs: the XS engine's sources; tools/node-red: Node-RED for the Node-RED test), so that
// installing the gateway never downloads or builds them: `npm install && npm start` stays small
// and needs no C compiler. The tests install them here, with `npm ci --ignore-scripts`, when
// missing or stale (the lockfile changed since the last install).
//
//   node scripts/install-tools.mjs [name ...]   install the named tools (default: all of them)
//
// Exit codes: 0 installed or already current; 1 an install failed (the reason on stderr).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const toolsDir = fileURLToPath(new URL('../tools/', import.meta.url));

/** The folder of a tool's locked project. */
export function toolDir(name) {
  return join(toolsDir, name);
}

function lockDigest(name) {
  return createHash('sha256').update(readFileSync(join(toolDir(name), 'package-lock.json'))).digest('hex');
}

const stampOf = (name) => join(toolDir(name), 'node_modules/.meterbridge-lock');

/** Installed from the lockfile as it is now. */
export function toolCurrent(name) {
  const stamp = stampOf(name);
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === lockDigest(name);
}

/** Installs one tool when it is not current; returns null when done, else why not. */
export function installTool(name) {
  if (toolCurrent(name)) return null;
  // the npm that runs us when there is one (npm 10 or 11 alike), else the one on the PATH
  const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
  console.error(`install-tools: installing tools/${name} (npm ci --ignore-scripts) …`);
  const ci = spawnSync(npmCli[0], [...npmCli.slice(1), 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: toolDir(name),
    stdio: ['ignore', 2, 'pipe'],
    encoding: 'utf8',
  });
  if (ci.status !== 0) {
    const why = ci.error?.message ?? (ci.stderr.trim().split('\n').filter((l) => /ERR/.test(l)).slice(0, 2).join(' ') || `exit ${ci.status}`);
    return `npm ci in tools/${name} failed (${why})`;
  }
  writeFileSync(stampOf(name), `${lockDigest(name)}\n`);
  return null;
}

export function allTools() {
  return readdirSync(toolsDir).filter((n) => existsSync(join(toolsDir, n, 'package-lock.json'))).sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : allTools();
  let failed = false;
  for (const name of names) {
    const why = installTool(name);
    if (why) {
      console.error(`install-tools: ${why}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
