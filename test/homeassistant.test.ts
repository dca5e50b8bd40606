import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HA_METER_NUMBER_TEMPLATE, HaDiscovery, discoveryMessages, expireAfter, haNodeId, haState, haValueTemplate } from '../firmware/publish/homeassistant.js';
import type { Delivery } from '../firmware/publish/publisher.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import type { Reading } from '../firmware/reading.js';
import { validateConfig } from '../firmware/config/validate.js';
import { presetById } from '../firmware/template/presets.js';
import { startGateway } from '../hal/node/run.js';
import { kfm001Push, vector, wire } from './helpers.js';
import { fakeGateway, memoryStorage } from './support/fakes.js';
import { sleep, startBroker, subscribe, type Broker } from './support/mosquitto.js';

function reading(id: string): Reading {
  const v = vector(id);
  return decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, softwareCrypto).readings[0];
}

function delivery(r: Reading, meterId: string | null = r.meter.number ?? r.meter.systemTitle, receivedMs = 0): Delivery {
  return { reading: r, derived: null, receivedMs, meterId };
}

describe('Home Assistant discovery', () => {
  const r = reading('at-tinetz-kaifa-docexample');

  it('flattens the Reading into the state every sensor reads, with frame counter and timestamp', () => {
    expect(haState(r)).toEqual({
      energy_import_wh: 9108, energy_export_wh: 0, reactive_import_varh: 96, reactive_export_varh: 9,
      power_import_w: 0, power_export_w: 0, power_net_w: 0, voltage_l1_v: 230.8, current_l1_a: 0,
      meter_number: '1KFM0100000035', timestamp: '2021-07-19T15:46:35+02:00', frame_counter: r.frameCounter,
    });
  });

  it('announces one sensor per quantity the meter sends, in the current schema (no object_id)', () => {
    const msgs = discoveryMessages(delivery(r), 'homeassistant', 'mb/homeassistant/state', 'mb/status', '0.1.0', 5000);
    const node = haNodeId('1KFM0100000035');
    expect(node).toBe('meterbridge_1KFM0100000035');
    const byKey = new Map(msgs.map((m) => [m.topic.split('/')[3], JSON.parse(m.payload)]));
    expect([...byKey.keys()].sort()).toEqual(
      ['current_l1_a', 'energy_export_wh', 'energy_import_wh', 'meter_number', 'power_export_w', 'power_import_w', 'power_net_w', 'reactive_export_varh', 'reactive_import_varh', 'voltage_l1_v'].sort(),
    );
    expect(msgs[0].topic).toBe(`homeassistant/sensor/${node}/energy_import_wh/config`);
    expect(byKey.get('energy_import_wh')).toStrictEqual({
      name: 'Active energy import', unique_id: `${node}_energy_import_wh`, default_entity_id: `sensor.${node.toLowerCase()}_energy_import_wh`,
      state_topic: 'mb/homeassistant/state', value_template: '{% if value_json.energy_import_wh is defined %}{{ value_json.energy_import_wh }}{% endif %}', availability_topic: 'mb/status',
      device: byKey.get('energy_import_wh').device, state_class: 'total_increasing', device_class: 'energy', unit_of_measurement: 'Wh',
    });
    for (const c of byKey.values()) expect('object_id' in c).toBe(false);
    // measurements expire after three intervals (at least a minute); registers never
    expect(byKey.get('power_net_w')).toMatchObject({ device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W', expire_after: 60 });
    expect(byKey.get('reactive_import_varh')).toMatchObject({ device_class: 'reactive_energy', state_class: 'total_increasing', unit_of_measurement: 'varh' });
    expect(byKey.get('meter_number')).toMatchObject({ entity_category: 'diagnostic' });
    expect(byKey.get('voltage_l1_v').device).toMatchObject({ identifiers: [node], manufacturer: 'Kaifa', serial_number: '1KFM0100000035', name: 'Smart meter 1KFM0100000035' });
  });

  it('offers the derived values: energy today/this month and quarter-hour averages, without a state class', () => {
    const d: Delivery = {
      ...delivery(r),
      derived: { energy_today_import_wh: 12, energy_today_export_wh: 0, energy_month_import_wh: 345, energy_month_export_wh: 0, power_avg_15min_w: 310.5, power_avg_last_15min_w: 290 },
    };
    const byKey = new Map(discoveryMessages(d, 'ha', 's', 'a', 'x', 5000).map((m) => [m.topic.split('/')[3], JSON.parse(m.payload)]));
    expect(byKey.get('energy_today_import_wh')).toMatchObject({ device_class: 'energy', unit_of_measurement: 'Wh' });
    expect(byKey.get('energy_month_import_wh')).toMatchObject({ device_class: 'energy', unit_of_measurement: 'Wh' });
    expect(byKey.get('power_avg_last_15min_w')).toMatchObject({ device_class: 'power', unit_of_measurement: 'W' });
    for (const k of ['energy_today_import_wh', 'energy_month_export_wh', 'power_avg_15min_w', 'power_avg_last_15min_w']) {
      expect('state_class' in byKey.get(k), k).toBe(false);
      expect('expire_after' in byKey.get(k), k).toBe(false);
    }
    expect(haState(r, d.derived)).toMatchObject({ energy_today_import_wh: 12, power_avg_last_15min_w: 290 });
  });

  it('expire_after: three push intervals, at least 60 s, in whole minutes', () => {
    expect([expireAfter(null), expireAfter(1000), expireAfter(10_000), expireAfter(21_000), expireAfter(60_000)]).toEqual([undefined, 60, 60, 120, 180]);
  });

  it('reads Kamstrup lists (B = 1) and names the meter by the id of the Danish lists', () => {
    const k = reading('dk-kamstrup-omnipower-authenc');
    expect(haState(k).voltage_l2_v).toBe(221);
    const msgs = discoveryMessages(delivery(k), 'ha', 's', 'a', 'x');
    expect(JSON.parse(msgs[0].payload).device.manufacturer).toBe('Kamstrup');
    expect(msgs[0].topic).toBe('ha/sensor/meterbridge_12343400/energy_import_wh/config'); // the meter id of the Danish lists, 1-1:0.0.1
  });

  it('announces nothing before the meter has a name', () => {
    expect(discoveryMessages(delivery(r, null), 'ha', 's', 'a', 'x', 5000)).toEqual([]);
  });
});

describe('HaDiscovery: what is on the broker', () => {
  const r = reading('at-tinetz-kaifa-docexample');

  it('sends the configs once per connection from the second push, empties them when discovery is off, after a restart too', () => {
    const storage = memoryStorage();
    const ha = new HaDiscovery(storage, 'x');
    expect(ha.pending(delivery(r, 'M1', 0), 'ha', 's', 'a')).toEqual([]); // interval not known yet
    const first = ha.pending(delivery(r, 'M1', 5000), 'ha', 's', 'a');
    expect(first).toHaveLength(10);
    ha.delivered();
    expect(ha.pending(delivery(r, 'M1', 10_000), 'ha', 's', 'a')).toEqual([]);
    ha.brokerRestarted();
    expect(ha.pending(delivery(r, 'M1', 15_000), 'ha', 's', 'a')).toHaveLength(10);
    ha.delivered();
    // a restart of the gateway, discovery turned off meanwhile
    const again = new HaDiscovery(storage, 'x');
    const off = again.pending(null, 'ha', 's', 'a');
    expect(off.map((m) => m.topic).sort()).toEqual(first.map((m) => m.topic).sort());
    expect(off.every((m) => m.payload === '')).toBe(true);
    again.delivered();
    expect(again.announced).toBe(false);
    expect(new HaDiscovery(storage, 'x').pending(null, 'ha', 's', 'a')).toEqual([]);
  });

  it('another meter in its place: the old sensors are emptied, the new ones announced', () => {
    const ha = new HaDiscovery(memoryStorage(), 'x');
    ha.pending(delivery(r, 'M1', 0), 'ha', 's', 'a');
    ha.pending(delivery(r, 'M1', 5000), 'ha', 's', 'a');
    ha.delivered();
    const msgs = ha.pending(delivery(r, 'M2', 10_000), 'ha', 's', 'a');
    expect(msgs.filter((m) => m.payload === '').map((m) => m.topic.split('/')[2])).toEqual(Array(10).fill('meterbridge_M1'));
    expect(msgs.filter((m) => m.payload !== '').map((m) => m.topic.split('/')[2])).toEqual(Array(10).fill('meterbridge_M2'));
  });
});

describe('Home Assistant through the MQTT publisher', () => {
  it('a meter that alternates lists keeps one device; turning discovery off empties every retained config', async () => {
    const v = validateConfig({ mqtt: { enabled: true, host: 'b', baseTopic: 'mb', backlogDelayMs: 0, homeAssistant: { enabled: true, discoveryPrefix: 'homeassistant' } } });
    if (!v.ok) throw new Error('config');
    const { g, w, push } = fakeGateway(v.config);
    const c = w.mqtt[0];
    c.up();
    for (let i = 0; i < 20; i++) {
      push();
      await w.clock.advance(5000);
    }
    const configs = c.published.filter((m) => m.topic.startsWith('homeassistant/'));
    expect(new Set(configs.map((m) => m.topic.split('/')[2])).size).toBe(1);
    expect(configs.length).toBeLessThan(30);
    expect(configs.every((m) => m.retain)).toBe(true);
    const announced = new Set(configs.map((m) => m.topic));
    const off = validateConfig({ mqtt: { homeAssistant: { enabled: false } } }, g.currentConfig);
    if (!off.ok) throw new Error('config');
    const n = c.published.length;
    await g.applyConfig(off.config);
    push();
    await w.clock.advance(5000);
    const cleared = c.published.slice(n).filter((m) => m.topic.startsWith('homeassistant/'));
    expect([...new Set(cleared.map((m) => m.topic))].sort()).toEqual([...announced].sort());
    expect(cleared.every((m) => m.payload === '' && m.retain)).toBe(true);
    expect(c.published.slice(n).some((m) => m.topic === 'mb/homeassistant/state')).toBe(false);
    expect(w.mqtt).toHaveLength(1); // no reconnect for it
    await g.stop();
  });
});

/**
 * What a Home Assistant MQTT sensor shows after a state message, for the value templates the
 * gateway announces and the plain `{{ value_json.x }}` (any other fails the test): the Jinja of
 * haValueTemplate() renders '' for a missing key, which a numeric sensor ignores (it keeps its
 * state); the meter number's template falls back to `this.state`. HA sets the state "unknown"
 * for a rendered "None" (JSON null).
 */
function haShows(template: string, state: Record<string, unknown>, before: string): string {
  const key = /^\{% if value_json\.(\w+) is defined %\}\{\{ value_json\.(\w+) \}\}\{% endif %\}$/.exec(template);
  if (key && key[1] === key[2]) {
    if (!(key[1] in state)) return before; // '' rendered: "Ignore empty state"
    const v = state[key[1]];
    return v === null ? 'unknown' : String(v); // null renders "None"
  }
  if (template === HA_METER_NUMBER_TEMPLATE) return state.meter_number ? String(state.meter_number) : before;
  const plain = /^\{\{ value_json\.(\w+) \}\}$/.exec(template);
  if (plain) {
    // a missing key renders '' (and logs a template warning); a text sensor takes it
    if (!(plain[1] in state)) return plain[1] === 'meter_number' ? '' : before;
    const v = state[plain[1]];
    return v === null ? 'unknown' : String(v);
  }
  throw new Error(`a value template the test does not know: ${template}`);
}

describe('Home Assistant with a meter that alternates lists, through mosquitto', () => {
  let broker: Broker;
  const dirs: string[] = [];
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('Kaifa KFM_001 lists 1, 2 and 3: one device, and no sensor goes empty or unknown on a list without its value', async () => {
    expect(haValueTemplate('power_import_w')).toBe('{% if value_json.power_import_w is defined %}{{ value_json.power_import_w }}{% endif %}');
    const lists = [2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 3, 1, 1, 1, 1, 2, 1, 1] as const;
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-ha-'));
    dirs.push(dir);
    const capture = join(dir, 'kfm001.hex');
    writeFileSync(capture, lists.map((l, i) => Buffer.from(kfm001Push(l, i)).toString('hex')).join('\n') + '\n');
    const preset = presetById('homeassistant')!;
    const configs = await subscribe(broker.port, 'homeassistant/#');
    const states = await subscribe(broker.port, 'kfm/state');
    const g = await startGateway({
      config: (() => {
        const v = validateConfig({
          source: { type: 'replay', replay: { file: capture, intervalMs: 100, loop: false } },
          meter: { framing: 'hdlc' },
          mqtt: {
            enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'kfm', qos: 1, preset: 'homeassistant',
            topicTemplate: preset.topicTemplate, payloadTemplate: preset.payloadTemplate, homeAssistant: { enabled: true, discoveryPrefix: 'homeassistant' },
          },
        }, undefined, { trusted: true });
        if (!v.ok) throw new Error(JSON.stringify(v.errors));
        return v.config;
      })(),
      dataDir: dir,
      httpPort: 0,
      host: '127.0.0.1',
      log: () => {},
    });
    try {
      await states.waitFor(lists.length, 10_000);
      for (let i = 0; i < 100 && g.gateway.status().publishers[0].queued > 0; i++) await sleep(20);
    } finally {
      await g.stop();
    }
    // one device, named by the meter number every list 2 and 3 carries
    const announced = configs.messages.filter((m) => m.payload !== '').map((m) => ({ topic: m.topic, config: JSON.parse(m.payload) }));
    expect(new Set(announced.map((a) => a.topic.split('/')[2]))).toEqual(new Set(['meterbridge_6970631403757615']));
    expect(new Set(announced.map((a) => a.config.device.name))).toEqual(new Set(['Smart meter 6970631403757615']));
    const sensors = new Map(announced.map((a) => [a.topic.split('/')[3], a.config]));
    for (const k of ['power_import_w', 'voltage_l1_v', 'current_l3_a', 'energy_import_wh', 'reactive_export_varh', 'meter_number']) expect(sensors.has(k), k).toBe(true);
    // replay the state messages into each sensor as Home Assistant does
    const shown = new Map([...sensors.keys()].map((k) => [k, 'unknown']));
    const seenValue = new Set<string>();
    const payloads = states.messages.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    expect(payloads.map((p) => ('voltage_l1_v' in p ? ('energy_import_wh' in p ? 3 : 2) : 1))).toEqual([...lists]);
    for (const p of payloads) {
      for (const [k, cfg] of sensors) {
        const now = haShows(cfg.value_template, p, shown.get(k)!);
        if (seenValue.has(k)) expect([k, now]).not.toEqual([k, 'unknown']);
        if (seenValue.has(k)) expect([k, now]).not.toEqual([k, '']);
        if (now !== 'unknown') seenValue.add(k);
        shown.set(k, now);
      }
    }
    expect(Object.fromEntries(shown)).toMatchObject({
      power_import_w: '3423', voltage_l1_v: '232.5', current_l1_a: '10.522', energy_import_wh: '82840532', reactive_import_varh: '35883243', meter_number: '6970631403757615',
    });
    await Promise.all([configs.close(), states.close()]);
  }, 30_000);
});
