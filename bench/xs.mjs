// node bench/xs.mjs (after npm run build): what the core costs on the real XS engine
// (xsnap-worker of @agoric/xsnap, XS 13.3, built by scripts/build-xsnap.mjs if missing).
//
// Per real frame of test/fixtures/real-meters.json (the Austrian ones with keys first):
//   - compute: XS computrons of one decode. Deterministic, not time; not calibrated to ESP32 µs.
//   - slots: the change in currentHeapCount across one decode, i.e. heap slots allocated (chunk
//     bytes of ArrayBuffers and strings are not slots and are not counted). 32 B per slot on this
//     64-bit host, 16 B on ESP32.
// both for `decode()` (a fresh MeterDecoder per call, as the CLI/tests use it) and for the
// firmware's steady state (one MeterDecoder, `push` of the next push's bytes).
// Method: 20 warm-up decodes, then 50 samples of [gc] [decode] and 50 of [gc] [baseline] where the
// baseline is the same command with n = 0 decodes; the figures are mean(decode) - mean(baseline).
// A cross-check runs 50 decodes in one command after a gc and must agree (no GC mid-measurement).
// Last, the size of the core bundle dist/moddable/core.js (what mcconfig gets).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildXsScript } from '../test/xs/bundle.mjs';
import { XsWorker } from '../test/xs/driver.mjs';
import { helpers, reencryptable, series } from './pushes.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const WARMUP = 20;
const SAMPLES = 50;
const HOST_SLOT = 32;
const ESP32_SLOT = 16;

const core = `${root}dist/moddable/core.js`;
if (!existsSync(core)) {
  console.error('bench/xs.mjs: dist/moddable/core.js is missing; run npm run build first');
  process.exit(1);
}
const bin = execFileSync(process.execPath, [`${root}scripts/build-xsnap.mjs`], { encoding: 'utf8' }).trim().split('\n').pop();
const vectors = JSON.parse(readFileSync(`${root}test/fixtures/real-meters.json`, 'utf8'));
const austrian = (v) => v.id.startsWith('at-') && v.key;
const ordered = [...vectors.filter(austrian), ...vectors.filter((v) => !austrian(v))];

const worker = XsWorker.start(bin, { meteringLimit: 0 });
const version = execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim();

async function cmd(c) {
  const { text, meters } = await worker.command(JSON.stringify(c));
  const reply = JSON.parse(text);
  if (reply.exception) throw new Error(`XS: ${reply.exception}\n${reply.stack ?? ''}`);
  return { reply, meters };
}

/** mean compute and slot delta of `c` right after a gc */
async function measure(c, samples = SAMPLES) {
  let compute = 0;
  let slots = 0;
  let reply;
  for (let i = 0; i < samples; i++) {
    const g = await cmd({ op: 'gc' });
    const r = await cmd(c);
    const delta = r.meters.currentHeapCount - g.meters.currentHeapCount;
    if (delta < 0) throw new Error(`a GC ran during ${JSON.stringify(c)}: the slot count fell by ${-delta}`);
    compute += r.meters.compute;
    slots += delta;
    reply = r.reply;
  }
  return { compute: compute / samples, slots: slots / samples, reply };
}

async function perDecode(op, id) {
  for (let i = 0; i < WARMUP; i++) await cmd({ op, id });
  const one = await measure({ op, id, n: 1 });
  const base = await measure({ op, id, n: 0 });
  const batch = await measure({ op, id, n: SAMPLES }, 3);
  const compute = one.compute - base.compute;
  const slots = one.slots - base.slots;
  const batchCompute = (batch.compute - base.compute) / SAMPLES;
  const batchSlots = (batch.slots - base.slots) / SAMPLES;
  const agree = Math.abs(batchCompute - compute) <= 0.02 * compute + 2 && Math.abs(batchSlots - slots) <= 0.02 * slots + 2;
  return { compute, slots, agree, batchCompute, batchSlots, result: `${one.reply.readings}R/${one.reply.errors}E` };
}

const int = (n) => Math.round(n).toLocaleString('en-US');
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

try {
  await worker.evaluate(await buildXsScript());
  const rows = [];
  const notes = [];
  for (const v of ordered) {
    await cmd({ op: 'load', id: v.id, frames: v.frames_hex, key: v.key, authKey: v.auth_key });
    const bytes = v.frames_hex.join('').length / 2;
    const d = await perDecode('run', v.id);
    const stream = /^(68|7e)/i.test(v.frames_hex[0]);
    const p = stream ? await perDecode('push', v.id) : null;
    for (const [what, m] of [['decode', d], ['push', p]]) {
      if (m && !m.agree) notes.push(`${v.id} ${what}: 50-in-one-command gave ${int(m.batchCompute)} computrons, ${int(m.batchSlots)} slots per decode`);
    }
    rows.push({
      frame: v.id,
      group: austrian(v) ? 'AT' : 'other',
      bytes,
      'decode()': d.result,
      'compute/decode': int(d.compute),
      'slots/decode': int(d.slots),
      'host B': int(d.slots * HOST_SLOT),
      'ESP32 B': int(d.slots * ESP32_SLOT),
      'push()': p ? p.result : 'n/a',
      'push: compute': p ? int(p.compute) : '(bare APDU)',
      'push: slots': p ? int(p.slots) : '',
      'push: ESP32 B': p ? int(p.slots * ESP32_SLOT) : '',
    });
  }
  console.log(`${version}; per decode, mean of ${SAMPLES} after ${WARMUP} warm-up, minus the same command with no decode`);
  console.log('decode(): a fresh MeterDecoder per call (CLI, tests); push: one MeterDecoder fed push after push (the firmware)');
  console.log(`slots × ${HOST_SLOT} B (this 64-bit host) and × ${ESP32_SLOT} B (ESP32); ArrayBuffer and string chunk bytes are not included`);
  console.table(rows);
  console.log(notes.length ? `cross-check (50 decodes in one command) disagrees:\n  ${notes.join('\n  ')}` : 'cross-check: 50 decodes in one command agree with the per-command figures');

  // The plausibility guard in the firmware's steady state: one decoder fed the meter's pushes one
  // after another (growing frame counters, bench/pushes.mjs), with and without the guard, the
  // same bytes through both. XS computrons are deterministic: the difference is the guard's.
  const guardRows = [];
  const SERIES = WARMUP + 2 * SAMPLES + 3 * SAMPLES + 10;
  for (const v of ordered.filter((x) => /^(68|7e)/i.test(x.frames_hex[0]) && reencryptable(x))) {
    await cmd({ op: 'series', id: v.id, pushes: series(v, SERIES).map((p) => Buffer.from(p).toString('hex')), key: v.key, authKey: v.auth_key });
    const per = {};
    for (const guard of [false, true]) {
      for (let i = 0; i < WARMUP; i++) await cmd({ op: 'next', id: v.id, guard });
      const one = await measure({ op: 'next', id: v.id, guard, n: 1 });
      const base = await measure({ op: 'next', id: v.id, guard, n: 0 });
      if (one.reply.readings !== 1 || one.reply.errors !== 0) throw new Error(`${v.id}: guard ${guard}: ${JSON.stringify(one.reply)}`);
      per[guard] = { compute: one.compute - base.compute, slots: one.slots - base.slots };
    }
    guardRows.push({
      frame: v.id,
      'compute/push': int(per.false.compute),
      'with guard': int(per.true.compute),
      'guard: compute': `+${((per.true.compute / per.false.compute - 1) * 100).toFixed(1)} %`,
      'slots/push': int(per.false.slots),
      'slots with guard': int(per.true.slots),
    });
  }
  console.log('\nthe plausibility guard on XS: one decoder fed the meter\'s next push (new frame counter), without and with the guard');
  console.table(guardRows);

  const code = readFileSync(core, 'utf8');
  const raw = Buffer.byteLength(code);
  console.log(`\ncore bundle dist/moddable/core.js (rollup, ES module): ${int(raw)} B (${kib(raw)}), gzip -9 ${int(gzipSync(code, { level: 9 }).length)} B`);
  let esbuild = null;
  try {
    // not a dependency of ours: present only as vitest → vite → esbuild
    esbuild = await import(createRequire(import.meta.url).resolve('esbuild'));
  } catch {
    console.log('minified: no minifier installed (terser and esbuild absent); the figures above are unminified');
  }
  if (esbuild) {
    const min = (await esbuild.transform(code, { minify: true, format: 'esm', target: 'es2022', loader: 'js' })).code;
    console.log(`minified (esbuild ${esbuild.version}, via vitest/vite, not a direct dependency): ${int(Buffer.byteLength(min))} B (${kib(Buffer.byteLength(min))}), gzip -9 ${int(gzipSync(min, { level: 9 }).length)} B`);
  }
} finally {
  await worker.close();
}
