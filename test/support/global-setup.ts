// Before any test file: the XS engine's package (tools/xs) installed when missing or stale, without
// running its compiler (the XS tests build the engine when they need it); then one line saying
// which test programs are missing and the apt-get line that installs them (the tests that need
// them then fail with the same line).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TOOLS, missingMessage, type ToolName } from './tools.js';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/build-xsnap.mjs', import.meta.url));
  const install = spawnSync(process.execPath, [script, '--install'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (install.status !== 0) console.warn(`meterbridge tests: ${install.stderr.trim().split('\n').pop() ?? 'tools/xs could not be installed'}; the XS tests will fail`);
  const missing = (Object.keys(TOOLS) as ToolName[]).filter((n) => !TOOLS[n].present());
  if (missing.length) console.warn(`meterbridge tests: ${missingMessage(missing)}`);
}
