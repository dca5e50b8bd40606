// The test programs from npm (tools/*) stay out of the gateway's install: each is a locked project
// of its own that scripts/install-tools.mjs installs for the test run, and a homeowner's
// `npm install` downloads none of them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { allTools, toolCurrent } from '../scripts/install-tools.mjs';

const root = new URL('../', import.meta.url);
const json = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

describe('test tools from npm', () => {
  it('are the locked projects under tools/, and none of them is in the gateway install', () => {
    expect(allTools()).toEqual(['node-red', 'xs']);
    const rootPackages = Object.keys(json('package-lock.json').packages);
    for (const name of ['node-red', '@node-red/runtime', '@agoric/xsnap']) {
      expect(rootPackages.filter((k) => k.endsWith(`node_modules/${name}`))).toEqual([]);
    }
    const pkg = json('package.json');
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })).not.toContain('node-red');
  });

  it('tools/node-red locks Node-RED 4, and its install stays out of git', () => {
    const wanted = json('tools/node-red/package.json').dependencies['node-red'];
    expect(wanted).toMatch(/^4\.\d+\.\d+$/);
    expect(json('tools/node-red/package-lock.json').packages['node_modules/node-red'].version).toBe(wanted);
    expect(spawnSync('git', ['check-ignore', '-q', 'tools/node-red/node_modules/node-red/red.js'], { cwd: root }).status).toBe(0);
  });

  it('the test run installed both from their lockfiles as they are now', () => {
    expect(toolCurrent('node-red')).toBe(true);
    expect(toolCurrent('xs')).toBe(true);
  });
});
