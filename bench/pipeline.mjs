// npm run bench: the whole pipeline (bytes -> Reading -> JSON) on the real frames of
// test/fixtures/real-meters.json. Prints frames per second per frame type and crypto, and the
// bytes allocated per frame compared with the bytes a bare copy of the same Reading takes.
// Run with --expose-gc and a large young generation so no scavenge hides allocations.
import { readFileSync } from 'node:fs';
import { MeterDecoder, encryptionKey, authenticationKey, parseHex, softwareCrypto, nodeCrypto } from '../dist/node/node.js';

const vectors = JSON.parse(readFileSync(new URL('../test/fixtures/real-meters.json', import.meta.url), 'utf8'));
const picks = [
  'at-netznoe-kaifa-official', // Austrian M-Bus pair, 0x20
  'at-tinetz-kaifa-docexample', // Austrian M-Bus pair, 0x21
  'at-wienernetze-siemens-sel0', // HDLC, positional list
  'lgz-e450-gbt-1', // 3 HDLC frames, GBT, 0x30
  'dk-kamstrup-omnipower-authenc', // 489-byte HDLC, tag verified
];

function setup(v, crypto) {
  const bytes = parseHex(v.frames_hex.join(''));
  let last = null;
  let json = '';
  const decoder = new MeterDecoder({
    crypto,
    keys: { encryption: v.key ? encryptionKey(v.key) : null, authentication: v.auth_key ? authenticationKey(v.auth_key) : null },
    onReading: (r) => {
      last = r;
      json = JSON.stringify(r);
    },
    onError: (e) => {
      throw new Error(`${v.id}: ${e.kind} ${e.detail}`);
    },
  });
  return { bytes, decoder, get last() { return last; }, get json() { return json; } };
}

function rate(s, seconds = 1) {
  let n = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (let i = 0; i < 200; i++) s.decoder.push(s.bytes);
    n += 200;
    if (process.hrtime.bigint() - t0 > limit) break;
  }
  return (n / (Number(process.hrtime.bigint() - t0) / 1e9));
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
    const s = setup(v, crypto);
    rate(s, 0.3); // warm up
    const fps = rate(s, 1);
    const frames = v.frames_hex.length;
    rows.push({ frame: id, crypto: name, bytes: s.bytes.length, 'frames/push': frames, 'pushes/s': Math.round(fps), 'frames/s': Math.round(fps * frames) });
  }
}
console.table(rows);

// Allocation: decoding a push versus rebuilding the same Reading object from scratch.
const alloc = [];
const N = 2000;
for (const id of picks) {
  const v = vectors.find((x) => x.id === id);
  const s = setup(v, softwareCrypto);
  const kept = [];
  const decodeOnly = new MeterDecoder({
    crypto: softwareCrypto,
    keys: { encryption: v.key ? encryptionKey(v.key) : null, authentication: v.auth_key ? authenticationKey(v.auth_key) : null },
    onReading: (r) => kept.push(r),
  });
  for (let i = 0; i < 50; i++) decodeOnly.push(s.bytes);
  kept.length = 0;
  const perPush = allocated(() => decodeOnly.push(s.bytes), N);
  s.decoder.push(s.bytes);
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
  alloc.push({ frame: id, 'bytes allocated per push': Math.round(perPush), 'bytes of the Reading alone': Math.round(readingOnly), 'overhead per push': Math.round(perPush - readingOnly) });
}
console.table(alloc);
// the mix a host sees: every real framed push in the fixtures, one after another
const mix = vectors.filter((v) => v.key !== null && (v.frames_hex[0].startsWith('68') || v.frames_hex[0].startsWith('7E')));
for (const [name, crypto] of [['node:crypto', nodeCrypto], ['TypeScript AES-GCM', softwareCrypto]]) {
  const streams = mix.map((v) => setup(v, crypto));
  const framesPerRound = mix.reduce((n, v) => n + v.frames_hex.length, 0);
  for (let i = 0; i < 2000; i++) for (const s of streams) s.decoder.push(s.bytes);
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - t0 < 1_000_000_000n) {
    for (let i = 0; i < 100; i++) for (const s of streams) s.decoder.push(s.bytes);
    rounds += 100;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`all ${mix.length} real framed pushes in turn, ${name}: ${Math.round((rounds * framesPerRound) / seconds)} frames/s, ${Math.round((rounds * mix.length) / seconds)} pushes/s (target: 100000 frames/s)`);
}
