// node bench/xs-gateway.mjs (after npm run build): the heap the WHOLE gateway needs in steady state
// on the real XS engine (xsnap-worker of @agoric/xsnap, XS 13.3). Issue target: it fits in 64 KB
// of XS heap on the ESP32.
//
// test/xs/gateway-entry.ts builds the real Gateway (firmware/gateway.ts) with a minimal in-XS Hal:
// manual clock, in-memory storage, a logger that drops lines, softwareCrypto, a MeterSimulator fed
// by hand (one push per 5 s of manual clock), an MQTT client that is connected and acknowledges at
// once, an HTTP client that answers 204. Config: the core's defaults with MQTT on (Home Assistant
// discovery on) and HTTP push on, with the outbox capacity limited as hal/moddable/main.ts does.
//
// Measured: xsnap's `currentHeapCount` after a full gc() = live slots (32 B each on this 64-bit
// host, 16 B on ESP32), after loading the bundle (on the device: preloaded, in flash), after init,
// after 100, 1 000 and 5 000 pushes. Steady state = after-gc slots minus after-load slots.
// The slot meter does not see the chunk heap (ArrayBuffer bytes, strings, Array items, Map tables,
// bytecode). For that side the bench reports (a) the fixed ArrayBuffers, Array items and strings
// found by walking the gateway's object graph inside XS, and (b) the live chunk bytes XS itself
// writes into a heap snapshot (the BLOC atom of xsnap's `w` command, taken after its own full GC),
// which is exact for this 64-bit build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXsScript } from '../test/xs/bundle.mjs';
import { XsWorker } from '../test/xs/driver.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const entry = fileURLToPath(new URL('../test/xs/gateway-entry.ts', import.meta.url));
const HOST_SLOT = 32;
const ESP32_SLOT = 16;
const TARGET = 64 * 1024;
const STAGES = [100, 1000, 5000];
/** module-level tables of the core, filled at module load (preload: in flash, no RAM): */
const MODULE_TABLES = [
  ['firmware/crypto/aes.ts SBOX (Uint8Array 256)', 256],
  ['firmware/crypto/aes.ts TE0..TE3 (4 × Uint32Array 256)', 4096],
  ['firmware/link/hdlc.ts CRC_TABLE (Uint16Array 256)', 512],
  ['firmware/dlms/dsmr.ts CRC_ARC (Uint16Array 256)', 512],
];

if (!existsSync(`${root}dist/moddable/core.js`)) {
  console.error('bench/xs-gateway.mjs: dist/ is missing; run npm run build first');
  process.exit(1);
}
const bin = execFileSync(process.execPath, [`${root}scripts/build-xsnap.mjs`], { encoding: 'utf8' }).trim().split('\n').pop();
const version = execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim();
const script = await buildXsScript(entry);
const snapDir = mkdtempSync(join(tmpdir(), 'meterbridge-xs-snap-'));

const int = (n) => Math.round(n).toLocaleString('en-US');
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const pct = (n) => `${((100 * n) / TARGET).toFixed(0)} %`;

class Session {
  constructor(label) {
    this.label = label;
    this.worker = XsWorker.start(bin, { meteringLimit: 0, name: `meterbridge-xs-gateway-${label}` });
    this.snaps = 0;
  }

  async cmd(c) {
    const { text, meters } = await this.worker.command(JSON.stringify(c));
    const reply = JSON.parse(text || 'null');
    if (!reply) throw new Error(`XS: no reply to ${JSON.stringify(c)} (a promise that never settled?)`);
    if (reply.exception) throw new Error(`XS: ${reply.exception}\n${reply.stack ?? ''}`);
    return { reply, meters };
  }

  /** live slots after a full gc */
  async slots() {
    return (await this.cmd({ op: 'gc' })).meters.currentHeapCount;
  }

  /**
   * Live chunk bytes and live slots as XS writes them into a snapshot after its own full GC
   * (xsSnapshot.c fxWriteSnapshot: BLOC = every chunk a live slot references, HEAP = live slots).
   * The `w` command is xsnap-worker's; the driver has no method for it, so its generic request.
   */
  async snapshot() {
    const file = join(snapDir, `${this.label}-${this.snaps++}.xss`);
    await this.worker.request('w', Buffer.from(file, 'utf8'));
    const b = readFileSync(file);
    rmSync(file);
    const atoms = {};
    for (let p = 8; p + 8 <= b.length; ) {
      const size = b.readUInt32BE(p);
      atoms[b.toString('latin1', p + 4, p + 8)] = size - 8;
      p += size;
    }
    if (atoms.BLOC === undefined || atoms.HEAP === undefined) throw new Error(`unexpected snapshot layout: ${Object.keys(atoms).join(' ')}`);
    return { chunkBytes: atoms.BLOC, slots: atoms.HEAP / HOST_SLOT };
  }

  close() {
    return this.worker.close();
  }
}

/** load → init → pushes in stages, each stage followed by gc (and, with api, one request each first). */
async function series(label, { api = false, capacity, stages = STAGES }) {
  const s = new Session(label);
  const rows = [];
  const add = async (stage, extra = {}) => {
    const slots = await s.slots();
    const { chunkBytes } = await s.snapshot();
    rows.push({ stage, slots, chunkBytes, ...extra });
  };
  try {
    await s.worker.evaluate(script);
    await add('bundle loaded');
    const init = await s.cmd({ op: 'init', api, capacity });
    await add('init (gateway built, started)');
    let done = 0;
    let requests = null;
    let status = null;
    for (const n of stages) {
      const r = await s.cmd({ op: 'push', n: n - done });
      status = r.reply;
      done = n;
      if (api) {
        const before = await s.slots();
        const q = await s.cmd({ op: 'api' });
        requests = { replies: q.reply, slots: q.meters.currentHeapCount - before, compute: q.meters.compute };
      }
      await add(`${int(n)} pushes`, { compute: r.meters.compute });
    }
    return { s, rows, init: init.reply, status, requests };
  } catch (e) {
    await s.close();
    throw e;
  }
}

function table(rows) {
  const base = rows[0];
  console.table(rows.map((r) => ({
    'after (then gc)': r.stage,
    'live slots': int(r.slots),
    'host B (×32)': int(r.slots * HOST_SLOT),
    'ESP32 B (×16)': int(r.slots * ESP32_SLOT),
    'Δ slots vs loaded': r === base ? '' : int(r.slots - base.slots),
    'Δ ESP32 B': r === base ? '' : int((r.slots - base.slots) * ESP32_SLOT),
    'live chunk B (host, snapshot)': int(r.chunkBytes),
    'Δ chunk B': r === base ? '' : int(r.chunkBytes - base.chunkBytes),
  })));
}

function publishersLine(status) {
  return status.publishers.map((p) => `${p.name}: ${p.state}, delivered ${int(p.delivered)}, queued ${p.queued}, dropped ${p.dropped}, failures ${p.failures}`).join('; ');
}

let main;
let withApi;
let coreDefault;
try {
  console.log(`${version}; the real Gateway on XS, steady state after full gc (test/xs/gateway-entry.ts)`);

  // 1. the gateway alone
  main = await series('gateway', {});
  const { rows, status } = main;
  console.log(`\n1. Gateway (MQTT + Home Assistant discovery + HTTP push, outbox capacity ${main.init.capacity} as on the device), no HTTP API`);
  table(rows);
  const loaded = rows[0];
  const last = rows[rows.length - 1];
  const steady = (last.slots - loaded.slots) * ESP32_SLOT;
  const at100 = rows[2].slots;
  const growth = rows.slice(2).map((r) => `${r.stage}: ${int(r.slots)}`).join(', ');
  console.log(`after ${int(STAGES[STAGES.length - 1])} pushes: ${int(status.readings)} readings, ${status.decodeErrors} decode errors; ${publishersLine(status)}; ${int(status.mqttPublishes)} MQTT publishes`);
  console.log(`slot growth after the first 100 pushes (live slots after gc): ${growth}${rows.slice(2).every((r) => r.slots === at100) ? ' — none' : ''}`);

  // compute per push in steady state: the push command minus the same loop on a spare simulator
  // without the gateway (the simulator's frame building + AES-CTR and the per-push setImmediate)
  const n = 200;
  const p = await main.s.cmd({ op: 'push', n });
  const beforeSim = await main.s.slots();
  const beforeSimChunk = (await main.s.snapshot()).chunkBytes;
  const sim = await main.s.cmd({ op: 'sim', n }); // builds a spare MeterSimulator, kept afterwards
  const simSlots = (await main.s.slots()) - beforeSim;
  const simChunk = (await main.s.snapshot()).chunkBytes - beforeSimChunk;
  const perPush = p.meters.compute / n;
  const perSim = sim.meters.compute / n;
  const first = rows[2].compute / 100;
  console.log(`XS compute per push (computrons, deterministic, not µs): steady state (pushes ${int(STAGES[STAGES.length - 1] + 1)}–${int(STAGES[STAGES.length - 1] + n)}) ${int(perPush)} in all = gateway ${int(perPush - perSim)} + apparatus ${int(perSim)} (simulator building and encrypting the push, setImmediate); the first 100 pushes (with the discovery messages): ${int(first - perSim)} for the gateway`);

  // 2. the chunk-heap side, by walking the gateway's object graph in XS
  const walk = (await main.s.cmd({ op: 'walk' })).reply;
  console.log(`\n2. Not counted above: the chunk heap (ArrayBuffer bytes, Array items, strings, Map tables, bytecode)`);
  console.log(`fixed ArrayBuffers reachable from the gateway (walked in XS, ${walk.arrayBuffers.length} buffers): ${int(walk.arrayBufferBytes)} B`);
  const byGroup = new Map();
  for (const b of walk.arrayBuffers) {
    const m = /^gateway\.(decoder\.(?:mbus|hdlc|gbt|table|encKey)|decoder|history|recent|raw|[a-zA-Z]+)/.exec(b.path);
    const g = m ? m[1].replace(/^history.*/, 'history') : b.path;
    byGroup.set(g, (byGroup.get(g) ?? 0) + b.bytes);
  }
  const groups = {
    'decoder.mbus': 'M-Bus frame buffer + its APDU assembler',
    'decoder.hdlc': "HDLC frame buffer + its APDU assembler (framing 'auto' keeps both parsers)",
    'decoder.gbt': 'general-block-transfer join assembler',
    'decoder.table': 'A-XDR node table (256 nodes)',
    'decoder.encKey': 'AES-GCM key schedule + GHASH table',
    decoder: 'decoder iv/aad/tag/system title/scratch',
    history: 'power history for the UI chart: Float64Array(240) times + Float32Array(240) watts',
    recent: 'ByteHistory(2048): bytes around an error',
  };
  for (const [g, bytes] of [...byGroup].sort((a, b) => b[1] - a[1])) console.log(`  ${String(int(bytes)).padStart(6)} B  gateway.${g}${groups[g] ? `  (${groups[g]})` : ''}`);
  const items = walk.arrays.filter((a) => a.items >= 8);
  console.log(`Array items reachable from the gateway: ${int(walk.arrayItems)} items = ${int(walk.arrayItems * ESP32_SLOT)} B on ESP32 (XS keeps an Array's items in one chunk of slots, 16 B each), of which:`);
  for (const a of items) console.log(`  ${String(int(a.items)).padStart(6)} items  ${a.path}${/latencies$/.test(a.path) ? '  (MqttPublisher.latencies: the last 1 000 delivery latencies; nothing in the repository reads them)' : /outbox\.ring$/.test(a.path) ? `  (outbox ring: one item per index the ring has used, up to the capacity, kept even when empty)` : ''}`);
  console.log(`strings reachable from the gateway's objects: ${int(walk.strings)}, ${int(walk.stringBytes)} characters (an upper bound for RAM: literals stay in flash when preloaded; the raw-push ring's hex is most of it)`);
  const tables = MODULE_TABLES.reduce((s, [, b]) => s + b, 0);
  console.log(`module-level tables, filled at module load, in flash when preloaded (not in the figures above): ${MODULE_TABLES.map(([l, b]) => `${l} ${b} B`).join(', ')} = ${int(tables)} B`);
  console.log(`the simulator is part of this rig (hal/moddable/platform.ts builds one only for the simulator source; a device reading its UART has a UartSource instead) and is in every figure: one MeterSimulator is ${int(simSlots)} slots (${int(simSlots * ESP32_SLOT)} B on ESP32) and ${int(simChunk)} B of chunks (host), of which ${int(walk.simulatorBufferBytes)} B fixed ArrayBuffers`);

  // the measured total chunk growth (64-bit host layout) and an ESP32 estimate of it
  const chunk = last.chunkBytes - loaded.chunkBytes;
  const chunkEsp32 = chunk - walk.arrayItems * (HOST_SLOT - ESP32_SLOT);
  console.log(`live chunk bytes XS wrote into a snapshot, after ${int(STAGES[STAGES.length - 1])} pushes minus after loading: ${int(chunk)} B on this 64-bit host (${kib(chunk)}); the same less 16 B per Array item found above (items are slots: 32 B here, 16 B on ESP32) ≈ ${int(chunkEsp32)} B (${kib(chunkEsp32)}) on ESP32, still an upper bound (64-bit chunk headers and pointer tables are larger too)`);
  const chunkGrowth = rows.slice(2).map((r) => `${r.stage}: ${int(r.chunkBytes - loaded.chunkBytes)}`).join(', ');
  console.log(`chunk growth by stage (host B over the loaded bundle): ${chunkGrowth}`);

  // 3. with the HTTP API
  withApi = await series('api', { api: true });
  console.log(`\n3. The same with createApi(...) built, and after each stage one GET each of /api/status, /api/reading, /metrics handled (then gc)`);
  table(withApi.rows);
  const apiLast = withApi.rows[withApi.rows.length - 1];
  const apiSteady = (apiLast.slots - withApi.rows[0].slots) * ESP32_SLOT;
  const apiChunk = apiLast.chunkBytes - withApi.rows[0].chunkBytes;
  const r = withApi.requests;
  console.log(`the three requests: ${Object.entries(r.replies).map(([u, x]) => `${u} ${x.status}, ${int(x.bytes)} B body`).join('; ')}; together ${int(r.slots)} slots (${int(r.slots * ESP32_SLOT)} B on ESP32) allocated before the gc, ${int(r.compute)} computrons`);
  console.log(`API share in steady state: ${int(apiSteady - steady)} B of slots (ESP32), ${int(apiChunk - chunk)} B of chunks (host)`);

  // 4. the core's default outbox capacity, without the device's limit
  coreDefault = await series('capacity-1000', { capacity: 1000, stages: [100, 1000] });
  const cdLast = coreDefault.rows[coreDefault.rows.length - 1];
  const cdChunk = cdLast.chunkBytes - coreDefault.rows[0].chunkBytes;
  const mainAt1000 = main.rows.find((x) => x.stage === `${int(1000)} pushes`);
  const cdExtra = cdChunk - (mainAt1000.chunkBytes - loaded.chunkBytes);
  const cap = coreDefault.init.capacity;
  console.log(`\n4. Outbox capacity ${cap} (the core's default; hal/moddable/device-config.ts limits it to ${main.init.capacity} on the device), 1 000 pushes: ${int((cdLast.slots - coreDefault.rows[0].slots) * ESP32_SLOT)} B of slots (ESP32, as with ${main.init.capacity}), ${int(cdChunk)} B of chunks (host), ${int(cdExtra)} B more than with ${main.init.capacity} (an outbox's memory follows what is queued, not its capacity)`);

  // verdict
  console.log(`\nSteady state, gateway alone (${int(STAGES[STAGES.length - 1])} pushes, after gc, minus the loaded bundle):`);
  console.log(`  slots (what currentHeapCount counts): ${int(last.slots - loaded.slots)} × 16 B = ${int(steady)} B = ${kib(steady)}: ${pct(steady)} of the 64 KiB target — ${steady <= TARGET ? 'FITS' : 'DOES NOT FIT'}`);
  console.log(`  with the HTTP API: ${int(apiSteady)} B = ${kib(apiSteady)}: ${pct(apiSteady)} — ${apiSteady <= TARGET ? 'FITS' : 'DOES NOT FIT'}`);
  const whole = steady + chunkEsp32;
  console.log(`  NOT in that figure: the chunk heap, ≈ ${kib(chunkEsp32)} on ESP32 (${kib(walk.arrayBufferBytes)} fixed ArrayBuffers, ${kib(walk.arrayItems * ESP32_SLOT)} Array items, strings, Map tables); slots + chunks ≈ ${kib(whole)} = ${pct(whole)} of 64 KiB — ${whole <= TARGET ? 'fits' : 'does not fit'} as a whole`);
  console.log('  (esp32/nodemcu creation, research §10: a chunk heap of 78,848 B and a slot heap of 4,928 slots = 78,848 B, separate and fixed)');
  console.log('  not counted anywhere here: the bundle itself (bytecode, module objects, module-level tables: flash when preloaded), the XS stack (8 KB on esp32/nodemcu), the device HAL (UART, MQTT/HTTP sockets and their buffers, HTTP server) and lwIP/Wi-Fi outside XS');
} finally {
  for (const x of [main, withApi, coreDefault]) await x?.s.close();
  rmSync(snapDir, { recursive: true, force: true });
}
