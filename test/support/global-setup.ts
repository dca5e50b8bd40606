// Before any test file: Node-RED (tools/node-red) and the XS engine's package (tools/xs) installed
// when missing or stale, without running install scripts, and the engine compiled from it when missing and a compiler is
// there (here, once, rather than in a test worker, which a build of a minute or more would stall
// and which could race another worker's build); then one line saying which test programs are
// missing and the apt-get line that installs them (the tests that need them then fail with the
// same line).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TOOLS, missingMessage, type ToolName } from './tools.js';

export default function setup(): void {
  const tools = fileURLToPath(new URL('../../scripts/install-tools.mjs', import.meta.url));
  const red = spawnSync(process.execPath, [tools, 'node-red'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (red.status !== 0) console.warn(`meterbridge tests: ${red.stderr.trim().split('\n').pop() ?? 'tools/node-red could not be installed'}; the Node-RED test will fail`);
  const script = fileURLToPath(new URL('../../scripts/build-xsnap.mjs', import.meta.url));
  if (spawnSync(process.execPath, [script, '--check']).status !== 0) {
    const build = TOOLS.cc.present();
    console.warn(`meterbridge tests: preparing the XS engine (tools/xs: npm ci --ignore-scripts${build ? ', then compiling it once' : ''}) …`);
    const xs = spawnSync(process.execPath, build ? [script] : [script, '--install'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const said = xs.stderr.split('\n').filter((l) => l.startsWith('build-xsnap:'));
    if (xs.status !== 0) console.warn(`meterbridge tests: ${said.pop() ?? `build-xsnap exited with ${xs.status}`}; the XS tests will fail`);
    else if (build) console.warn(`meterbridge tests: ${said.pop()}`);
  }
  const missing = (Object.keys(TOOLS) as ToolName[]).filter((n) => !TOOLS[n].present());
  if (missing.length) console.warn(`meterbridge tests: ${missingMessage(missing)}`);
}
