// npm run bench: the whole pipeline (bytes -> Reading -> plausibility guard -> JSON) on the real
// frames of test/fixtures/real-meters.json, as the gateway runs it. Prints pushes per second per
// frame type and crypto, with and without the guard (alternating slices of the same run, medians:
// the machine may be busy), and the bytes allocated per push compared with the bytes a bare copy
// of the same Reading takes. Each push is the fixture's own under the next frame counter
// (bench/pushes.mjs): the guard refuses a push whose counter does not grow.
// Run with --expose-gc and a large young generation so no scavenge hides allocations.
import { MeterDecoder, PlausibilityGuard, encryptionKey, authenticationKey, softwareCrypto, nodeCrypto } from '../dist/node/node.js';
import { frameCount, helpers, series } from './pushes.mjs';

const vectors = helpers.vectors;
const picks = [
  'at-netznoe-kaifa-official', // Austrian M-Bus pair, 0x20
  'at-tinetz-kaifa-docexample', // Austrian M-Bus pair, 0x21
  'at-wienernetze-siemens-sel0', // HDLC, positional list
  'lgz-e450-gbt-1', // GBT, 0x30 (re-encrypted as one HDLC frame)
  'dk-kamstrup-omnipower-authenc', // 489-byte HDLC, tag verified
];
/** pushes per series; the guard starts again (reset) when a series wraps, once per RING pushes */
const RING = 2048;
const ring = new Map();
const pushesOf = (v) => {
  if (!ring.has(v.id)) ring.set(v.id, series(v, RING));
  return ring.get(v.id);
};

function setup(v, crypto, guarded = true) {
  const pushes = pushesOf(v);
  let last = null;
  let json = '';
  let i = 0;
  const guard = guarded ? new PlausibilityGuard() : null;
  const decoder = new MeterDecoder({
    crypto,
    keys: { encryption: v.key ? encryptionKey(v.key) : null, authentication: v.auth_key ? authenticationKey(v.auth_key) : null },
    guard,
    now: () => performance.now(),
    onReading: (r) => {
      last = r;
      json = JSON.stringify(r);
    },
    onError: (e) => {
      throw new Error(`${v.id}: ${e.kind} ${e.detail}`);
    },
  });
  const next = () => {
    if (i === pushes.length) {
      i = 0;
      guard?.reset();
    }
    decoder.push(pushes[i++]);
  };
  return { pushes, next, decoder, get last() { return last; }, get json() { return json; } };
}

function rate(s, seconds = 1) {
  let n = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (let i = 0; i < 200; i++) s.next();
    n += 200;
    if (process.hrtime.bigint() - t0 > limit) break;
  }
  return (n / (Number(process.hrtime.bigint() - t0) / 1e9));
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[a.length >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

/**
 * pushes/s with and without the guard: 40 pairs of alternating 50 ms slices; the rates are the
 * medians, the guard's cost the median of the pairs' ratios (a busy machine slows both sides of a
 * pair alike)
 */
function compare(on, off, pairs = 40) {
  rate(on, 0.3); // warm up
  rate(off, 0.3);
  const a = [];
  const b = [];
  const cost = [];
  for (let k = 0; k < pairs; k++) {
    const x = k % 2 ? rate(on, 0.05) : 0;
    const y = rate(off, 0.05);
    const z = k % 2 ? x : rate(on, 0.05);
    a.push(z);
    b.push(y);
    cost.push(1 - z / y);
  }
  return [median(a), median(b), median(cost)];
}

function allocated(fn, n) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) fn();
  return (process.memoryUsage().heapUsed - before) / n;
}

const rows = [];
for (const id of picks) {
  const v = vectors.find((x) => x.id === id);
  for (const [name, crypto] of [['node:crypto', nodeCrypto], ['TypeScript AES-GCM', softwareCrypto]]) {
    const [fps, bare, cost] = compare(setup(v, crypto), setup(v, crypto, false));
    const s = setup(v, crypto);
    const frames = frameCount(s.pushes[0]);
    rows.push({ frame: id, crypto: name, bytes: s.pushes[0].length, 'frames/push': frames, 'pushes/s': Math.round(fps), 'frames/s': Math.round(fps * frames), 'pushes/s without guard': Math.round(bare), 'guard cost': `${(cost * 100).toFixed(1)} %` });
  }
}
console.table(rows);

// Allocation: decoding a push (guard included) versus rebuilding the same Reading object from scratch.
const alloc = [];
const N = RING - 100;
for (const id of picks) {
  const v = vectors.find((x) => x.id === id);
  const s = setup(v, softwareCrypto);
  const perPush = {};
  for (const guarded of [true, false]) {
    const kept = [];
    const pushes = pushesOf(v);
    let i = 0;
    const guard = guarded ? new PlausibilityGuard() : null;
    const decodeOnly = new MeterDecoder({
      crypto: softwareCrypto,
      keys: { encryption: v.key ? encryptionKey(v.key) : null, authentication: v.auth_key ? authenticationKey(v.auth_key) : null },
      guard,
      now: () => performance.now(),
      onReading: (r) => kept.push(r),
      onError: (e) => {
        throw new Error(`${v.id}: ${e.kind} ${e.detail}`);
      },
    });
    for (; i < 50; i++) decodeOnly.push(pushes[i]);
    kept.length = 0;
    perPush[guarded] = allocated(() => decodeOnly.push(pushes[i++]), N);
  }
  s.next();
  // the same Reading built the way the decoder builds it: the objects, and strings that change
  // per push (timestamp); keys and units are shared strings in both
  const model = JSON.parse(s.json);
  const entries = Object.entries(model.values);
  const copies = [];
  const rebuild = () => {
    const values = {};
    for (const [k, v] of entries) values[k] = v.unit !== undefined ? { value: v.value, unit: v.unit } : { value: v.value };
    const ts = model.timestamp === null ? null : model.timestamp.slice(0, -1) + String.fromCharCode(48 + (copies.length % 10));
    return { meter: { systemTitle: model.meter.systemTitle, number: model.meter.number, logicalDeviceName: model.meter.logicalDeviceName }, timestamp: ts, frameCounter: model.frameCounter, security: { ...model.security }, format: model.format, values };
  };
  const readingOnly = allocated(() => copies.push(rebuild()), N);
  alloc.push({ frame: id, 'bytes allocated per push': Math.round(perPush.true), 'without guard': Math.round(perPush.false), 'bytes of the Reading alone': Math.round(readingOnly), 'overhead per push': Math.round(perPush.true - readingOnly) });
}
console.table(alloc);
// the mix a host sees: every real framed push in the fixtures, one after another, guard on
const mix = vectors.filter((v) => v.key !== null && (v.frames_hex[0].startsWith('68') || v.frames_hex[0].startsWith('7E')));
for (const [name, crypto] of [['node:crypto', nodeCrypto], ['TypeScript AES-GCM', softwareCrypto]]) {
  const streams = mix.map((v) => setup(v, crypto));
  const framesPerRound = streams.reduce((n, s) => n + frameCount(s.pushes[0]), 0);
  for (let i = 0; i < 2000; i++) for (const s of streams) s.next();
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - t0 < 1_000_000_000n) {
    for (let i = 0; i < 100; i++) for (const s of streams) s.next();
    rounds += 100;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`all ${mix.length} real framed pushes in turn, guard on, ${name}: ${Math.round((rounds * framesPerRound) / seconds)} frames/s, ${Math.round((rounds * mix.length) / seconds)} pushes/s (target: 100000 frames/s)`);
}
