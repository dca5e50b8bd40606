// The host gateway end to end with real parts: a real mosquitto broker on loopback, a real HTTP
// server for push, real captured frames replayed, and the built-in simulator.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { startBroker, subscribe, sleep, type Broker } from './support/mosquitto.js';
import { reencrypt, valueAt, vector, wire } from './helpers.js';
import { DerivedTracker } from '../firmware/template/derived.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import type { Reading } from '../firmware/reading.js';
import type { GatewayStatus } from '../firmware/gateway.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'meterbridge-gw-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** the owner's settings (a replay path, as the command line gives it) */
function config(input: Record<string, unknown>): Config {
  const v = validateConfig(input, undefined, { trusted: true });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

const running: RunningGateway[] = [];
/** the simulated meter's counters start on this day */
const SIMULATOR_EPOCH = Date.UTC(2024, 0, 1);

/** A simulator's first push counts the tenths of a second of its clock (simulator.ts): the first
 *  delivered message must carry that of a push made while the gateway started, not one later. */
function expectFirstCounter(counter: number, startedFrom: number, startedBy: number): void {
  expect(counter).toBeGreaterThanOrEqual(Math.floor((startedFrom - SIMULATOR_EPOCH) / 100));
  expect(counter).toBeLessThanOrEqual(Math.floor((startedBy - SIMULATOR_EPOCH) / 100));
}

async function gateway(c: Config): Promise<RunningGateway> {
  const g = await startGateway({ config: c, dataDir: tempDir(), httpPort: 0, host: '127.0.0.1', log: () => {} });
  running.push(g);
  return g;
}
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

async function until<T>(fn: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describe('replaying real frames through the HTTP API', () => {
  it('serves the Reading, the status and the metrics of the TINETZ example', async () => {
    const v = vector('at-tinetz-kaifa-docexample');
    const dir = tempDir();
    const capture = join(dir, 'tinetz.hex');
    writeFileSync(capture, `# ${v.id}\n${v.frames_hex.join(' ')}\n`);
    const g = await gateway(config({ source: { type: 'replay', replay: { file: capture, intervalMs: 100, loop: true } }, meter: { key: v.key }, web: { password: 'web password' } }));
    const base = `http://127.0.0.1:${g.port}`;
    await until(() => g.gateway.lastReading);
    const auth = { authorization: 'Basic ' + Buffer.from('x:web password').toString('base64') };
    const r = (await (await fetch(`${base}/api/reading`, { headers: auth })).json()) as Reading;
    expect(r.meter.number).toBe('1KFM0100000035');
    expect(r.values['1-0:32.7.0']).toEqual({ value: 230.8, unit: 'V' });
    const s = (await (await fetch(`${base}/api/status`, { headers: auth })).json()) as GatewayStatus;
    expect(s.pipeline.frames).toBeGreaterThanOrEqual(2);
    expect(s.pipeline.lastSecurityControl).toBe('0x21');
    expect(s.pipeline.readings).toBeGreaterThanOrEqual(1);
    expect(s.verdict.level).toBe('ok');
    const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/^meterbridge_active_energy_import_joules_total\{meter="1KFM0100000035"\} 32788800$/m);
    expect(metrics).toMatch(/^meterbridge_meter_up 1$/m);
  });

  it('says "check the key" when frames arrive but the key is wrong', async () => {
    const v = vector('at-tinetz-kaifa-docexample');
    const capture = join(tempDir(), 'tinetz.hex');
    writeFileSync(capture, v.frames_hex.join('') + '\n');
    const g = await gateway(config({ source: { type: 'replay', replay: { file: capture, intervalMs: 100, loop: true } }, meter: { key: '00112233445566778899AABBCCDDEEFF' } }));
    await until(() => g.gateway.status().pipeline.errors > 0);
    const s = g.gateway.status();
    expect(s.pipeline.readings).toBe(0);
    expect(s.lastErrors[0].kind).toBe('wrong-key-or-corrupt');
    // the bytes around the offset: the first ciphertext byte after DB 08 <title> 82 01 09 21 <counter>
    expect(s.lastErrors[0].context).toMatch(/21 00 29 5B 9A \[EF\]/);
    // a new key restarts the decoder; the bytes around later errors are still found
    const errorsBefore = s.lastErrors.length;
    const next = validateConfig({ meter: { key: '112233445566778899AABBCCDDEEFF00' } }, g.gateway.currentConfig);
    if (!next.ok) throw new Error('config');
    await g.gateway.applyConfig(next.config);
    await until(() => g.gateway.status().pipeline.errors > 0 && g.gateway.status().lastErrors.length > Math.min(errorsBefore, 9));
    const latest = g.gateway.status().lastErrors.at(-1)!;
    expect(latest.context).toMatch(/21 00 29 5B 9A \[EF\]/);
    expect(s.verdict).toEqual({ level: 'error', message: expect.stringContaining('check the key') });
    const res = await fetch(`http://127.0.0.1:${g.port}/api/reading`);
    expect(res.status).toBe(404);
  });
});

describe('MQTT with a real broker', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('publishes each simulated Reading, the online status and Home Assistant discovery', async () => {
    const sub = await subscribe(broker.port, 'mb1/#');
    const ha = await subscribe(broker.port, 'homeassistant/#');
    const g = await gateway(
      config({
        source: { type: 'simulator', simulator: { intervalMs: 200 } },
        mqtt: { enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'mb1', qos: 1, homeAssistant: { enabled: true, discoveryPrefix: 'homeassistant' } },
      }),
    );
    await sub.waitFor(6, 5000);
    const readings = sub.messages.filter((m) => m.topic === 'mb1/reading');
    expect(readings.length).toBeGreaterThanOrEqual(2);
    const r = JSON.parse(readings[0].payload);
    expect(r.meter.number).toBe('1KFM0200204035');
    expect(r.values['1-0:1.8.0'].unit).toBe('Wh');
    expect(sub.messages.find((m) => m.topic === 'mb1/status')?.payload).toBe('online');
    const state = JSON.parse(sub.messages.find((m) => m.topic === 'mb1/homeassistant/state')!.payload);
    expect(typeof state.energy_import_wh).toBe('number');
    await ha.waitFor(3, 3000);
    const energy = ha.messages.find((m) => m.topic.endsWith('/energy_import_wh/config'))!;
    expect(energy.retain).toBe(false); // live delivery to an existing subscriber is not flagged retained
    const cfg = JSON.parse(energy.payload);
    expect(cfg).toMatchObject({
      device_class: 'energy',
      state_class: 'total_increasing',
      unit_of_measurement: 'Wh',
      state_topic: 'mb1/homeassistant/state',
      availability_topic: 'mb1/status',
      value_template: '{% if value_json.energy_import_wh is defined %}{{ value_json.energy_import_wh }}{% endif %}',
    });
    // a subscriber that comes later still finds the discovery configs: they are retained
    const late = await subscribe(broker.port, 'homeassistant/sensor/+/power_import_w/config');
    const [power] = await late.waitFor(1, 2000);
    expect(power.retain).toBe(true);
    expect(JSON.parse(power.payload)).toMatchObject({ device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W' });
    await g.stop();
    running.length = 0;
    const status = await subscribe(broker.port, 'mb1/status');
    const [offline] = await status.waitFor(1, 2000);
    expect(offline).toMatchObject({ payload: 'offline', retain: true });
    await Promise.all([sub.close(), ha.close(), late.close(), status.close()]);
  });
});

describe('the plausibility guard in the gateway', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('a corrupted push with a valid checksum between two real ones is counted, shown and kept, never published', async () => {
    const v = vector('at-netznoe-kaifa-official');
    const first = reencrypt(v);
    const corrupted = reencrypt(v, { counter: first.counter + 1, edit: (p) => { p[valueAt(p, [1, 0, 1, 8, 0, 255]) + 1] ^= 0x08; } }); // +524 288 Wh
    const second = reencrypt(v, { counter: first.counter + 1 });
    const sub = await subscribe(broker.port, 'guard/reading');
    const g = await gateway(
      config({
        source: { type: 'replay', replay: { file: '/dev/null', intervalMs: 3_600_000 } },
        meter: { key: v.key },
        mqtt: { enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'guard', qos: 1, homeAssistant: { enabled: false } },
      }),
    );
    for (const p of [first, corrupted, second]) g.gateway.bytes(p.wire);
    const messages = await sub.waitFor(2, 5000);
    await sleep(200);
    expect(sub.messages).toHaveLength(2);
    expect(messages.map((m) => JSON.parse(m.payload).values['1-0:1.8.0'].value)).toEqual([12937, 12937]);
    const s = g.gateway.status();
    expect(s.pipeline.readings).toBe(2);
    expect(s.pipeline.implausible).toBe(1);
    expect(s.pipeline.errorsByKind).toEqual({ implausible: 1 });
    expect(s.lastErrors[0]).toMatchObject({ kind: 'implausible', rule: 'energy-rate', obis: '1-0:1.8.0', value: 12937 + 524288, previous: 12937 });
    expect(g.gateway.rawPushes().map((r) => r.result)).toEqual(['reading', 'implausible', 'reading']);
    await sub.close();
  });
});

describe('MQTT while the broker is down', () => {
  it('keeps readings in the outbox and delivers every one once, in order, when the broker is back', async () => {
    const broker = await startBroker({ persistent: true });
    try {
      // a persistent QoS 1 session: what the gateway publishes while the subscriber is still
      // reconnecting after the restart is queued for it by the broker, not lost by the test
      const session = { clientId: 'fault-subscriber', clean: false };
      const before = await subscribe(broker.port, 'fault/reading', session);
      const c = config({
        source: { type: 'simulator', simulator: { intervalMs: 100 } },
        mqtt: { enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'fault', qos: 1, homeAssistant: { enabled: false } },
      });
      const startedFrom = Date.now();
      const g = await gateway(c);
      const startedBy = Date.now();
      await before.waitFor(5, 5000);
      // stop right after a delivery, between two pushes, so no message is in flight
      const n = before.messages.length;
      await before.waitFor(n + 1, 2000);
      await broker.stop();
      await sleep(1500);
      const restartedAt = Date.now();
      const queued = g.gateway.status().publishers[0].queued;
      expect(queued).toBeGreaterThanOrEqual(8); // ~15 readings piled up
      await broker.restart();
      const after = await subscribe(broker.port, 'fault/reading', session);
      await until(() => g.gateway.status().publishers[0].queued === 0 && g.gateway.status().publishers[0].state === 'connected', 15000);
      await sleep(300);
      const counters = [...before.messages, ...after.messages].map((m) => JSON.parse(m.payload).frameCounter as number);
      expect(counters.length).toBeGreaterThanOrEqual(queued + 6);
      for (let i = 1; i < counters.length; i++) expect(counters[i], `message ${i} of ${counters.join(',')}`).toBe(counters[i - 1] + 1);
      expectFirstCounter(counters[0], startedFrom, startedBy); // the first reading was not lost
      expect(g.gateway.status().publishers[0].dropped).toBe(0);
      // a reading delivered late keeps the meter's timestamp of when it was measured
      const firstLate = JSON.parse(after.messages[0].payload).timestamp as string;
      expect(Date.parse(firstLate)).toBeLessThan(restartedAt - 400);
      await Promise.all([before.close(), after.close()]);
    } finally {
      while (running.length) await running.pop()!.stop();
      await broker.stop();
    }
  }, 30000);
});

describe('HTTP push', () => {
  let server: Server;
  const bodies: string[] = [];
  let failFirst = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(503).end('busy');
          return;
        }
        bodies.push(`${req.method} ${req.headers['x-token']} ${body}`);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('retries through the outbox and delivers every reading once, in order', async () => {
    failFirst = 3;
    const port = (server.address() as { port: number }).port;
    const c = config({
      source: { type: 'simulator', simulator: { intervalMs: 100 } },
      httpPush: { enabled: true, url: `http://127.0.0.1:${port}/ingest`, method: 'PUT', headers: { 'X-Token': 'abc' }, bodyTemplate: '{"n":{{frame_counter}},"w":{{power_import_w}},"t":"{{timestamp}}"}', bodyFormat: 'json', timeoutMs: 1000 },
    });
    const startedFrom = Date.now();
    const g = await gateway(c);
    const startedBy = Date.now();
    // three failures cost 1 + 2 + 4 s of backoff; readings keep arriving meanwhile
    await until(() => bodies.length >= 20 && g.gateway.status().publishers[0].queued === 0, 15000);
    const sent = bodies.map((b) => {
      expect(b.startsWith('PUT abc {')).toBe(true);
      return JSON.parse(b.slice('PUT abc '.length)) as { n: number; t: string };
    });
    const counters = sent.map((b) => b.n);
    for (let i = 1; i < counters.length; i++) expect(counters[i]).toBe(counters[i - 1] + 1);
    // the first reading was not lost to the failures: the simulator's first push counts ten per second of its clock
    expectFirstCounter(counters[0], startedFrom, startedBy);
    const p = g.gateway.status().publishers[0];
    expect(p.failures).toBe(3);
    expect(p.dropped).toBe(0);
  }, 20000);
});

describe('derived values across a restart', () => {
  it('loads the saved day baseline, so "energy today" survives a restart, and saves it on stop', async () => {
    const v = vector('at-tinetz-kaifa-docexample'); // 9108 Wh at 2021-07-19T15:46:35
    const dataDir = tempDir();
    // the state a gateway saved earlier that day, when the counter stood at 9000 Wh
    const before = new DerivedTracker();
    const morning = decode(wire(v), { encryption: encryptionKey(v.key!) }, nodeCrypto).readings[0];
    morning.timestamp = '2021-07-19T06:00:00+02:00';
    morning.values['1-0:1.8.0'] = { value: 9000, unit: 'Wh' };
    before.update(morning);
    writeFileSync(join(dataDir, 'derived'), JSON.stringify(before.toJSON()));
    const capture = join(dataDir, 'tinetz.hex');
    writeFileSync(capture, v.frames_hex.join('') + '\n');
    const c = config({ source: { type: 'replay', replay: { file: capture, intervalMs: 100 } }, meter: { key: v.key } });
    const g = await startGateway({ config: c, dataDir, httpPort: 0, host: '127.0.0.1', log: () => {} });
    await until(() => g.gateway.lastDerivedValues);
    expect(g.gateway.lastDerivedValues!.energy_today_import_wh).toBe(108);
    await g.stop();
    const after = DerivedTracker.fromJSON(JSON.parse(readFileSync(join(dataDir, 'derived'), 'utf8')));
    const noon = decode(wire(v), { encryption: encryptionKey(v.key!) }, nodeCrypto).readings[0];
    expect(after.update(noon).energy_today_import_wh).toBe(108);
  });
});

describe('saving settings with a real broker', () => {
  it('readings queued for a wrong port go to the corrected one, in order, none lost; an unrelated save sends no offline/online', async () => {
    const broker = await startBroker();
    try {
      const sub = await subscribe(broker.port, 'fix/#');
      // a port nobody listens on: the readings wait
      const g = await gateway(
        config({
          source: { type: 'simulator', simulator: { intervalMs: 100 } },
          mqtt: { enabled: true, host: '127.0.0.1', port: 9, baseTopic: 'fix', qos: 1, homeAssistant: { enabled: false } },
        }),
      );
      await until(() => g.gateway.status().publishers[0].queued >= 7 && g.gateway.status().publishers[0].failures >= 1, 10000);
      expect(g.gateway.status().verdict.message).toMatch(/^MQTT: connection refused by 127\.0\.0\.1:9: .* readings? waiting\)$/);
      const fixed = validateConfig({ mqtt: { port: broker.port } }, g.gateway.currentConfig);
      if (!fixed.ok) throw new Error('config');
      await g.gateway.applyConfig(fixed.config);
      await until(() => sub.messages.filter((m) => m.topic === 'fix/reading').length >= 12, 10000);
      const counters = sub.messages.filter((m) => m.topic === 'fix/reading').map((m) => JSON.parse(m.payload).frameCounter as number);
      for (let i = 1; i < counters.length; i++) expect(counters[i], counters.join(',')).toBe(counters[i - 1] + 1);
      expect(g.gateway.status().publishers[0]).toMatchObject({ dropped: 0, problem: null });
      // every reading decoded is delivered or still waiting: none was lost to the save
      const s = g.gateway.status();
      expect(s.publishers[0].delivered + s.publishers[0].queued).toBe(s.pipeline.readings);
      expect(counters.length).toBeGreaterThanOrEqual(12);
      const statuses = () => sub.messages.filter((m) => m.topic === 'fix/status').map((m) => m.payload);
      expect(statuses()).toEqual(['online']);
      // a save that does not touch the connection: no offline/online, no reconnect
      const other = validateConfig({ mqtt: { qos: 0 }, outbox: { capacity: 200 } }, g.gateway.currentConfig);
      if (!other.ok) throw new Error('config');
      await g.gateway.applyConfig(other.config);
      const n = sub.messages.length;
      await until(() => sub.messages.length >= n + 3, 5000);
      expect(statuses()).toEqual(['online']);
      await sub.close();
    } finally {
      while (running.length) await running.pop()!.stop();
      await broker.stop();
    }
  }, 30000);
});
