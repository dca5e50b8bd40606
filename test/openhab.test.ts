// The openHAB Thing the gateway offers for its openHAB preset: its text, and through a real
// mosquitto that every channel's state topic gets the values and the availability topic the
// payloads the Thing names (online while the gateway runs, offline after it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { openhabThing } from '../firmware/publish/openhab.js';
import { presetById } from '../firmware/template/presets.js';
import { startGateway } from '../hal/node/run.js';
import { vector, wire } from './helpers.js';
import { sleep, startBroker, subscribe, type Broker } from './support/mosquitto.js';

const preset = presetById('openhab')!;

function config(input: Record<string, unknown>): Config {
  const v = validateConfig(input);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

const openhabMqtt = { baseTopic: 'mb', preset: 'openhab', mode: 'values', topicTemplate: preset.topicTemplate, payloadTemplate: preset.payloadTemplate };

/** The parts of a Thing that openHAB reads: its configuration and each channel's. */
function parseThing(text: string) {
  const head = /^Thing mqtt:topic:([A-Za-z0-9_-]+) "([^"]*)" \((mqtt:broker:[A-Za-z0-9_-]+)\) \[ availabilityTopic="([^"]*)", payloadAvailable="([^"]*)", payloadNotAvailable="([^"]*)" \] \{$/m.exec(text);
  if (!head) throw new Error(`no Thing line in:\n${text}`);
  const channels = [...text.matchAll(/^ {8}Type (number|string) : ([A-Za-z0-9_-]+) "([^"]*)" \[ stateTopic="([^"]*)"(?:, unit="([^"]*)")? \]$/gm)].map((m) => ({ type: m[1], id: m[2], label: m[3], stateTopic: m[4], unit: m[5] }));
  // nothing else between the braces but "Channels:"
  const body = text.slice(text.indexOf('{') + 1, text.lastIndexOf('}')).split('\n').filter((l) => l.trim());
  expect(body.length).toBe(channels.length + 1);
  return { uid: head[1], label: head[2], broker: head[3], availabilityTopic: head[4], payloadAvailable: head[5], payloadNotAvailable: head[6], channels };
}

describe('openhabThing', () => {
  const v = vector('at-tinetz-kaifa-docexample');
  const r = decode(wire(v), { encryption: encryptionKey(v.key!) }, softwareCrypto).readings[0];

  it('a Generic MQTT Thing: availability online/offline on the status topic, a channel per value', () => {
    const text = openhabThing(r, config({ mqtt: openhabMqtt }).mqtt, '1KFM0100000035')!;
    const t = parseThing(text);
    expect(t).toMatchObject({ uid: 'meterbridge_1KFM0100000035', label: 'Smart meter 1KFM0100000035', broker: 'mqtt:broker:myBroker', availabilityTopic: 'mb/status', payloadAvailable: 'online', payloadNotAvailable: 'offline' });
    expect(t.channels.map((c) => c.stateTopic)).toEqual(Object.keys(r.values).map((k) => `mb/${k}`));
    expect(t.channels.find((c) => c.stateTopic === 'mb/1-0:1.8.0')).toEqual({ type: 'number', id: 'obis_1-0_1_8_0', label: 'Active energy import', stateTopic: 'mb/1-0:1.8.0', unit: 'Wh' });
    expect(t.channels.find((c) => c.stateTopic === 'mb/0-0:96.1.0')).toMatchObject({ type: 'string', unit: undefined });
    expect(text.split('\n')[0]).toMatch(/^\/\/ .*\.things file.*mqtt:broker:myBroker$/);
  });

  it('follows the topic template, quotes what needs it, and is offered only for one message per value', () => {
    const c = config({ mqtt: { ...openhabMqtt, baseTopic: 'home "meter"', topicTemplate: '{{base_topic}}/v/{{obis}}' } }).mqtt;
    const t = parseThing(openhabThing(r, c, null)!.split('\\"').join("'"));
    expect(t.availabilityTopic).toBe("home 'meter'/status");
    expect(t.channels[0].stateTopic).toBe(`home 'meter'/v/${Object.keys(r.values)[0]}`);
    expect(t.uid).toBe('meterbridge_1KFM0100000035'); // the meter number without the gateway's id
    expect(openhabThing(r, config({ mqtt: { mode: 'reading' } }).mqtt, 'x')).toBeNull();
  });
});

describe('the openHAB Thing against what the gateway publishes, through mosquitto', () => {
  let broker: Broker;
  const dirs: string[] = [];
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('every channel gets its values, every value has a channel, and the availability payloads are the ones sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-openhab-'));
    dirs.push(dir);
    const sub = await subscribe(broker.port, 'oh/#');
    const g = await startGateway({
      config: config({
        source: { type: 'simulator', simulator: { intervalMs: 200 } },
        mqtt: { ...openhabMqtt, enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'oh', homeAssistant: { enabled: false } },
        web: { password: 'web password' },
      }),
      dataDir: dir,
      httpPort: 0,
      host: '127.0.0.1',
      log: () => {},
    });
    let thing: ReturnType<typeof parseThing>;
    try {
      const auth = { authorization: 'Basic ' + Buffer.from('x:web password').toString('base64') };
      for (let i = 0; i < 300 && g.gateway.status().publishers[0].delivered < 2; i++) await sleep(50);
      const res = await fetch(`http://127.0.0.1:${g.port}/api/openhab-thing`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      thing = parseThing(await res.text());
    } finally {
      await g.stop();
    }
    expect(thing.availabilityTopic).toBe('oh/status');
    const status = sub.messages.filter((m) => m.topic === 'oh/status').map((m) => m.payload);
    expect(status[0]).toBe(thing.payloadAvailable);
    expect(status.at(-1)).toBe(thing.payloadNotAvailable);
    const values = sub.messages.filter((m) => m.topic !== 'oh/status');
    expect(new Set(values.map((m) => m.topic))).toEqual(new Set(thing.channels.map((c) => c.stateTopic)));
    for (const c of thing.channels) {
      const got = values.filter((m) => m.topic === c.stateTopic);
      expect(got.length, c.stateTopic).toBeGreaterThanOrEqual(2);
      // openHAB's number channel takes a plain decimal number
      if (c.type === 'number') for (const m of got) expect(m.payload, c.stateTopic).toMatch(/^-?\d+(\.\d+)?$/);
    }
    expect(thing.channels.filter((c) => c.type === 'number').map((c) => c.unit)).toContain('Wh');
    await sub.close();
  }, 30_000);
});
