// npm run bench (part 2): the host gateway end to end with a real mosquitto on loopback.
// - latency from the last byte of a real frame entering the gateway to the MQTT message at a
//   subscriber (median and p99 over 1 000 pushes; target p99 < 5 ms)
// - resident memory while 100 000 frames pass through (target: flat)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, parser as mqttParser } from 'mqtt-packet';
import { startGateway, validateConfig, parseHex, softwareCrypto } from '../dist/node/node.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });

const dir = mkdtempSync(join(tmpdir(), 'meterbridge-bench-'));
const port = await freePort();
writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n${process.getuid?.() === 0 ? 'user root\n' : ''}`);
const broker = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) { if (await new Promise((r) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); })) break; await sleep(50); }

// an independent subscriber on mqtt-packet
const arrivals = [];
const sub = connect(port, '127.0.0.1');
const p = mqttParser({ protocolVersion: 4 });
let onMessage = () => {};
p.on('packet', (pk) => {
  if (pk.cmd === 'connack') sub.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bench/reading', qos: 0 }] }));
  if (pk.cmd === 'publish') { arrivals.push(performance.now()); onMessage(); }
});
sub.on('data', (b) => p.parse(b));
await new Promise((r) => sub.once('connect', r));
sub.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'bench-sub', keepalive: 0 }));
await sleep(200);

const vectors = JSON.parse(readFileSync(new URL('../test/fixtures/real-meters.json', import.meta.url), 'utf8'));
const v = vectors.find((x) => x.id === 'at-tinetz-kaifa-docexample');
const frames = v.frames_hex.map((h) => parseHex(h));
// The plausibility guard refuses a push whose frame counter does not grow, so each push is the
// real one re-encrypted under the next counter, as the meter sends them: same two frames
// (245 + 33 APDU bytes), new invocation counter, new ciphertext, checksums recomputed.
const apdu = new Uint8Array([...frames[0].subarray(9, frames[0].length - 2), ...frames[1].subarray(9, frames[1].length - 2)]);
const key = softwareCrypto.importKey(parseHex(v.key));
const counter0 = ((apdu[14] << 24) >>> 0) + (apdu[15] << 16) + (apdu[16] << 8) + apdu[17];
const ivOf = (c) => new Uint8Array([...apdu.subarray(2, 10), c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255]);
const plain = apdu.slice(18);
softwareCrypto.gcmDecryptInPlace(key, ivOf(counter0), plain, 0, plain.length, null, null);
let pushes = 0;
function nextPush() {
  const c = counter0 + ++pushes;
  const data = plain.slice();
  softwareCrypto.gcmEncryptInPlace(key, ivOf(c), data, 0, data.length, null, null);
  const a = apdu.slice();
  a[14] = c >>> 24; a[15] = (c >>> 16) & 255; a[16] = (c >>> 8) & 255; a[17] = c & 255;
  a.set(data, 18);
  return frames.map((f, k) => {
    const out = f.slice();
    out.set(a.subarray(k === 0 ? 0 : frames[0].length - 11, k === 0 ? frames[0].length - 11 : a.length), 9);
    let sum = 0;
    for (let i = 4; i < out.length - 2; i++) sum += out[i];
    out[out.length - 2] = sum & 255;
    return out;
  });
}
const cfg = validateConfig({
  source: { type: 'replay', replay: { file: 'none.hex', intervalMs: 3600000 } }, // an empty capture: the bench feeds the bytes
  meter: { key: v.key },
  mqtt: { enabled: true, host: '127.0.0.1', port, baseTopic: 'bench', qos: 0, homeAssistant: { enabled: false } },
});
if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
mkdirSync(join(dir, 'replay'));
writeFileSync(join(dir, 'replay', 'none.hex'), '');
const g = await startGateway({ config: cfg.config, dataDir: dir, httpPort: 0, host: '127.0.0.1', log: () => {} });
await sleep(500);

const latencies = [];
for (let i = 0; i < 1100; i++) {
  const push = nextPush();
  g.gateway.bytes(push[0]);
  const got = new Promise((r) => (onMessage = r));
  const t0 = performance.now();
  g.gateway.bytes(push[1]); // the last byte of the push enters here
  await got;
  if (i >= 100) latencies.push(arrivals[arrivals.length - 1] - t0);
}
latencies.sort((a, b) => a - b);
const q = (f) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))].toFixed(3);
console.log(`latency last byte -> MQTT message at a subscriber, ${latencies.length} pushes: median ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (target p99 < 5 ms)`);

onMessage = () => {};
const rss = [];
let sent = 0;
const total = 100_000; // frames: 50 000 two-frame pushes
while (sent < total) {
  for (let i = 0; i < 200; i++) { const push = nextPush(); g.gateway.bytes(push[0]); g.gateway.bytes(push[1]); sent += 2; }
  await new Promise((r) => setImmediate(r));
  if (sent % 20_000 === 0) { globalThis.gc?.(); rss.push([sent, Math.round(process.memoryUsage().rss / 1024 / 1024 * 10) / 10, Math.round(process.memoryUsage().heapUsed / 1024 / 1024 * 10) / 10]); }
}
console.log('frames in -> resident MB, heap MB: ' + rss.map(([n, r, h]) => `${n}: ${r} / ${h}`).join(', '));
const s = g.gateway.status();
console.log(`gateway after ${total} frames: ${s.pipeline.readings} readings, mqtt delivered ${s.publishers[0].delivered}, queued ${s.publishers[0].queued}, dropped ${s.publishers[0].dropped}`);
await g.stop();
sub.destroy();
broker.kill();
rmSync(dir, { recursive: true, force: true });
