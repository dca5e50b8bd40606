// The publisher seam with fake clocks and clients: one outbox per publisher that outlives every
// change of settings, restarts only for new connection settings, failures that are counted and
// named in the verdict, the backlog wait after a reconnect, at-least-once delivery.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { PUBLISHERS } from '../firmware/publish/registry.js';
import { idSlug, span } from '../firmware/publish/publisher.js';
import { withPublishers } from '../firmware/gateway.js';
import { presetById } from '../firmware/template/presets.js';
import { fakeGateway, settle } from './support/fakes.js';

function config(input: Record<string, unknown>, base?: Config): Config {
  const v = validateConfig(input, base);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

const MQTT = { enabled: true, host: '10.0.0.5', port: 1883, baseTopic: 'mb', qos: 1, backlogDelayMs: 3000, homeAssistant: { enabled: false } };
/** frame counters, counted from the first reading (the simulator's counters follow the clock) */
const counters = (payloads: string[]) => {
  const n = payloads.map((p) => JSON.parse(p).frameCounter as number);
  return n.map((x) => x - n[0] + 1);
};

describe('the registry', () => {
  it('lists MQTT and HTTP push, each with its templates and connection settings', () => {
    expect(PUBLISHERS.map((k) => [k.id, k.label])).toEqual([['mqtt', 'MQTT'], ['http-push', 'HTTP push']]);
    const c = config({ httpPush: { headers: { 'X-Meter': '{{meter_number}}' } } });
    expect(PUBLISHERS.flatMap((k) => k.templates(c).map((t) => [t.field, t.escape]))).toEqual([
      ['mqtt.topicTemplate', 'none'], ['mqtt.payloadTemplate', 'json'], ['httpPush.bodyTemplate', 'json'], ['httpPush.headers.X-Meter', 'none'],
    ]);
    expect(Object.isFrozen(PUBLISHERS)).toBe(true);
  });

  it('span() says durations in words', () => {
    expect([span(45_000), span(180_000), span(3 * 3600_000)]).toEqual(['45 s', '3 min', '3 h']);
  });
});

describe('MQTT: settings changes and the outbox', () => {
  it('readings queued for a wrong address go to the corrected one, in order, none dropped', async () => {
    const { g, w, push } = fakeGateway(config({ mqtt: MQTT }));
    const wrong = w.mqtt[0];
    wrong.down('connection refused by 10.0.0.5:1883: is the broker running, and is this its port?');
    for (let i = 0; i < 7; i++) {
      push();
      await w.clock.advance(5000);
    }
    expect(g.status().publishers[0]).toMatchObject({ queued: 7, delivered: 0, dropped: 0 });
    await g.applyConfig(config({ mqtt: { host: '10.0.0.6' } }, g.currentConfig));
    expect(w.mqtt).toHaveLength(2);
    expect(wrong.closed).toBe(true);
    const right = w.mqtt[1];
    expect(right.options!.host).toBe('10.0.0.6');
    right.up();
    await w.clock.advance(3000);
    const readings = right.published.filter((m) => m.topic === 'mb/reading').map((m) => m.payload);
    expect(counters(readings)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(g.status().publishers[0]).toMatchObject({ queued: 0, delivered: 7, dropped: 0, problem: null });
    await g.stop();
  });

  it('a save that changes nothing of MQTT restarts nothing: no offline/online, no discovery again', async () => {
    const { g, w, push } = fakeGateway(config({ mqtt: { ...MQTT, homeAssistant: { enabled: true } } }));
    const c = w.mqtt[0];
    c.up();
    push();
    await w.clock.advance(5000);
    push(); // discovery goes with the second push, when the interval is known
    await w.clock.advance(5000);
    const before = c.published.length;
    expect(c.topics('homeassistant/').length).toBeGreaterThan(10);
    // HTTP push, the outbox size and the MQTT QoS change; the MQTT connection settings do not
    await g.applyConfig(config({ httpPush: { enabled: true, url: 'http://127.0.0.1:9/x' }, outbox: { capacity: 500 }, mqtt: { qos: 0 } }, g.currentConfig));
    expect(w.mqtt).toHaveLength(1);
    push();
    await w.clock.advance(5000);
    const after = c.published.slice(before);
    expect(after.map((m) => m.topic)).toEqual(['mb/reading', 'mb/homeassistant/state']);
    expect(after[0].qos).toBe(0);
    expect(c.published.filter((m) => m.topic === 'mb/status').map((m) => m.payload)).toEqual(['online']);
    await g.stop();
  });

  it('waits backlogDelayMs after a reconnect before the backlog, then sends it in order', async () => {
    const { g, w, push } = fakeGateway(config({ mqtt: MQTT }));
    const c = w.mqtt[0];
    c.up();
    push();
    await w.clock.advance(1000);
    c.down('the broker at 10.0.0.5:1883 closed the connection');
    for (let i = 0; i < 3; i++) {
      push();
      await w.clock.advance(1000);
    }
    c.up();
    push(); // arrives during the wait: queued behind the backlog
    await w.clock.advance(2900);
    expect(c.published.filter((m) => m.topic === 'mb/reading')).toHaveLength(1);
    await w.clock.advance(100);
    expect(counters(c.published.filter((m) => m.topic === 'mb/reading').map((m) => m.payload))).toEqual([1, 2, 3, 4, 5]);
    await g.stop();
  });

  it('at least once: a message cut off before its PUBACK is sent again after the reconnect, with frame counter and timestamp', async () => {
    const { g, w, push } = fakeGateway(config({ mqtt: { ...MQTT, backlogDelayMs: 0, preset: 'homeassistant', topicTemplate: '{{base_topic}}/state', payloadTemplate: presetById('homeassistant')!.payloadTemplate } }));
    const c = w.mqtt[0];
    c.up();
    c.holdAcks = true;
    push();
    await settle();
    expect(c.held).toHaveLength(1);
    c.down('connection reset');
    c.holdAcks = false;
    c.up();
    await w.clock.advance(10);
    const states = c.published.filter((m) => m.topic === 'mb/state').map((m) => JSON.parse(m.payload));
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ frame_counter: expect.any(Number), timestamp: expect.any(String) });
    expect(g.status().publishers[0]).toMatchObject({ delivered: 1, queued: 0 });
    await g.stop();
  });
});

describe('MQTT: honest status', () => {
  it('counts every failed connection attempt and names the failure in the verdict', async () => {
    const { g, w, push } = fakeGateway(config({ mqtt: MQTT }));
    const c = w.mqtt[0];
    const refused = 'connection refused by 10.0.0.5:1883: is the broker running, and is this its port?';
    for (let i = 0; i < 4; i++) {
      c.down(refused);
      push();
      await w.clock.advance(45_000);
    }
    const s = g.status();
    expect(s.publishers[0]).toMatchObject({ failures: 4, lastError: refused, queued: 4, target: '10.0.0.5:1883', label: 'MQTT' });
    expect(s.verdict.level).toBe('error');
    expect(s.verdict.message).toBe(`MQTT: ${refused} (for 3 min, 4 readings waiting)`);
    c.up();
    await w.clock.advance(3000);
    expect(g.status().verdict.level).toBe('ok');
    expect(g.status().publishers[0]).toMatchObject({ failures: 4, problem: null, failingSince: null, delivered: 4 });
    await g.stop();
  });

  it('a broker outage counts as a failure, and a short one is a warning', async () => {
    const { g, w, push } = fakeGateway(config({ mqtt: MQTT }));
    const c = w.mqtt[0];
    c.up();
    push();
    await w.clock.advance(1000);
    c.down('the broker at 10.0.0.5:1883 closed the connection');
    push();
    await w.clock.advance(10_000);
    expect(g.status().publishers[0].failures).toBe(1);
    expect(g.status().verdict).toEqual({ level: 'warning', message: 'MQTT: the broker at 10.0.0.5:1883 closed the connection (for 10 s, 1 reading waiting)' });
    await g.stop();
  });

  it('withPublishers keeps the meter problem first', () => {
    const p = { problem: 'MQTT: x (for 2 min, 3 readings waiting)', failingSince: 0 } as never;
    expect(withPublishers({ level: 'error', message: 'no data from the meter for 70 s: check the cable' }, [p], 120_000)).toEqual({
      level: 'error',
      message: 'no data from the meter for 70 s: check the cable; MQTT: x (for 2 min, 3 readings waiting)',
    });
    expect(withPublishers({ level: 'ok', message: 'fine' }, [], 0)).toEqual({ level: 'ok', message: 'fine' });
  });
});

describe('idSlug', () => {
  it('keeps letters, digits, _ and -, and turns everything else into _', () => {
    expect(idSlug('4B464D1020000001')).toBe('4B464D1020000001');
    expect(idSlug('1-0:1.8.0*255')).toBe('1-0_1_8_0_255');
    expect(idSlug('Zähler 7')).toBe('Z_hler_7');
  });
});
