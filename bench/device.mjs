// node bench/device.mjs (after npm run build): the firmware's XS heap and timing on the real
// Moddable runtime. Runs the device tests (test/device/: the SDK's xsl on the ESP32 builds, and
// the -p lin build of the real firmware main under mcsim with the ESP32's XS heap sizes), which
// record what they measure, and prints it. Needs the device kit (see test/device/kit.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const figures = fileURLToPath(new URL('../test-output/device-figures.json', import.meta.url));

// --print: only print what the last `npm run test:device` recorded
const printOnly = process.argv.includes('--print');
let seconds = null;
if (!printOnly) {
  rmSync(figures, { force: true });
  const started = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.device.config.ts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  seconds = Math.round((Date.now() - started) / 1000);
  if (r.status !== 0) {
    console.log(`device bench: the device tests failed or could not run (exit ${r.status}):`);
    console.log((r.stdout + r.stderr).split('\n').slice(-30).join('\n'));
    process.exit(1);
  }
}
if (!existsSync(figures)) {
  console.log('device bench: no figures recorded (run npm run test:device first)');
  process.exit(1);
}
const all = JSON.parse(readFileSync(figures, 'utf8'));
const pct = (a, b) => `${((100 * a) / b).toFixed(0)} %`;

console.log(`\nDevice figures from the real Moddable SDK 8.2.3${seconds === null ? ' (recorded by the last npm run test:device)' : ` (device tests: ${seconds} s)`}`);
console.log('\nPreload (xsl, ESP32 builds):');
for (const [name, f] of Object.entries(all)) {
  if (!name.startsWith('preload ')) continue;
  console.log(`  ${name.slice(8).padEnd(14)} ${f.instances} instances in flash, ${f.regexpsInFlash} RegExp objects in flash, ${f.notFrozen} not frozen (${f.notFrozenNames.join(', ') || 'none'})`);
}
console.log('\nXS heaps on the Moddable runtime (live after a collection; ESP32 creation sizes; slots counted, 16 B each on the ESP32):');
for (const [name, f] of Object.entries(all)) {
  if (f.slots === undefined) continue;
  console.log(`  ${name}:`);
  console.log(`    slot heap  ${String(f.slots).padStart(6)} of ${f.slotsOf} slots (${pct(f.slots, f.slotsOf)}, ${(f.slots * 16 / 1024).toFixed(1)} KiB on the ESP32)`);
  console.log(`    chunk heap ${String(f.chunkBytes).padStart(6)} of ${f.chunkBytesOf} bytes (${pct(f.chunkBytes, f.chunkBytesOf)}; 64-bit host, the ESP32 needs a little less)`);
  console.log(`    stack peak ${String(f.stackSlotsPeak).padStart(6)} of ${f.stackSlotsOf} slots (${pct(f.stackSlotsPeak, f.stackSlotsOf)})`);
  if (f.lastByteToHttpPushMs) console.log(`    last byte of a push → HTTP push received: median ${f.lastByteToHttpPushMs.median} ms, p95 ${f.lastByteToHttpPushMs.p95} ms; longest JavaScript turn ${f.longestTurnMs} ms (${f.decoded} of ${f.pushes} pushes decoded, ${f.webRequests} web requests meanwhile)`);
}
