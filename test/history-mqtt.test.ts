// Completed quarter hours as MQTT messages through a real mosquitto, across an outage, and the
// template variables of the last quarter hour. The meter's time is a fake clock; the broker and
// the MQTT client are real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../firmware/config/validate.js';
import { createMqttClient } from '../hal/node/mqtt.js';
import { startBroker, subscribe, sleep, type Broker } from './support/mosquitto.js';
import { fakeGateway, fakeWorld, memoryFlash } from './support/fakes.js';

process.env.TZ = 'Europe/Vienna';

const MIN = 60_000;
const Q = 15 * MIN;

async function until(fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ persistent: true });
});
afterAll(async () => {
  await broker.stop();
});

describe('completed quarter hours over MQTT', () => {
  it('are published once each, in order, also those completed while the broker was down, with the meter\'s times', async () => {
    const session = { clientId: 'history-subscriber', clean: false };
    let sub = await subscribe(broker.port, 'hm/#', session);
    const v = validateConfig({
      mqtt: {
        enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'hm', qos: 1, backlogDelayMs: 0, homeAssistant: { enabled: false },
        preset: 'custom',
        payloadTemplate: '{"ts":"{{timestamp}}","last":{{#has.energy_last_15min_import_wh}}{{energy_last_15min_import_wh}}{{/has.energy_last_15min_import_wh}}{{^has.energy_last_15min_import_wh}}null{{/has.energy_last_15min_import_wh}},"start":"{{energy_last_15min_start}}","end":"{{energy_last_15min_end}}"}',
      },
    }, undefined, { trusted: true });
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    const w = fakeWorld();
    w.hal.createMqttClient = () => createMqttClient({ logger: w.hal.logger });
    w.hal.historyStore = memoryFlash();
    const t0 = Date.parse('2024-06-10T23:58:00+02:00');
    w.clock.wall = t0;
    const { g, push } = fakeGateway(v.config, w);
    const mqtt = () => g.status().publishers[0];
    await until(() => mqtt().state === 'connected');
    const pushFor = async (ms: number) => {
      for (let t = 0; t < ms; t += 30_000) {
        push();
        await w.clock.advance(30_000);
      }
    };
    const energy = () => sub.messages.filter((m) => m.topic === 'hm/energy/15min');
    // 23:58 … 00:34: midnight is the first boundary, 00:15 and 00:30 complete two quarter hours
    await pushFor(36 * MIN);
    await until(() => energy().length === 2 && mqtt().queued === 0);
    // the broker goes away for 00:45 and 01:00
    await broker.stop();
    await pushFor(30 * MIN);
    await until(() => mqtt().state !== 'connected');
    expect(mqtt().queued).toBeGreaterThanOrEqual(60);
    const first = sub;
    await first.close();
    await broker.restart();
    // the same persistent session: the broker keeps what arrives before it is back
    sub = await subscribe(broker.port, 'hm/#', session);
    await until(() => mqtt().queued === 0 && mqtt().state === 'connected', 20_000);
    await until(() => energy().length === 2);
    const messages = [...first.messages, ...sub.messages];
    const all = messages.filter((m) => m.topic === 'hm/energy/15min');
    expect(all).toHaveLength(4);
    const seen = new Map<number, Record<string, unknown>>();
    for (const m of all) {
      const p = JSON.parse(m.payload);
      expect(m.retain).toBe(false);
      seen.set(p.start_ms, p);
    }
    const day = Date.parse('2024-06-11T00:00:00+02:00');
    expect([...seen.keys()]).toEqual([0, 1, 2, 3].map((i) => day + i * Q));
    const stored = g.energyHistory!.query('15min', day, day + 4 * Q).points;
    for (const p of stored) {
      const m = seen.get(p[0])!;
      expect(m).toMatchObject({ import_wh: p[1], export_wh: p[2], end_ms: p[0] + Q, meter_id: '1KFM0200204035' });
      // the meter's clock at both boundaries, not the time of the delivery
      expect(String(m.meter_start).slice(0, 13)).toBe(String(m.start).slice(0, 13));
      expect(Date.parse(String(m.meter_end)) - p[0] - Q).toBeGreaterThanOrEqual(0);
      expect(Date.parse(String(m.meter_end)) - p[0] - Q).toBeLessThanOrEqual(30_000);
    }
    expect(seen.get(day)!.start).toBe('2024-06-11T00:00:00+02:00');
    expect(seen.get(day)!.end).toBe('2024-06-11T00:15:00+02:00');
    // Readings carry the last quarter hour while it is the one just past
    const readings = messages.filter((m) => m.topic === 'hm/reading').map((m) => JSON.parse(m.payload));
    const after = readings.find((r) => r.ts >= '2024-06-11T00:15:00' && r.ts < '2024-06-11T00:30:00');
    expect(after).toMatchObject({ last: stored[0][1], start: '2024-06-11T00:00:00+02:00', end: '2024-06-11T00:15:00+02:00' });
    expect(readings.find((r) => r.ts >= '2024-06-11T00:00:00' && r.ts < '2024-06-11T00:15:00')).toMatchObject({ last: null, start: '' });
    await sub.close();
    await g.stop();
  }, 60_000);
});
