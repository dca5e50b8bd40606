// Every preset on every real Reading: JSON that parses (to exactly what the target reads), valid
// InfluxDB line protocol, valid Prometheus text; and the same with values missing or hostile.
import { describe, expect, it } from 'vitest';
import { PRESETS, presetById, HA_STATE_KEYS, type Preset } from '../firmware/template/presets.js';
import { compileTemplate, type Template } from '../firmware/template/template.js';
import { buildContext, buildFieldContexts, buildValueContext } from '../firmware/template/context.js';
import { DerivedTracker, type DerivedValues } from '../firmware/template/derived.js';
import { haState } from '../firmware/publish/homeassistant.js';
import { QUANTITIES } from '../firmware/quantities.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { emptyReading, type Reading } from '../firmware/reading.js';
import { vectors, wire } from './helpers.js';

const EXTRA = { base_topic: 'mb', received_ms: Date.UTC(2025, 5, 1, 12, 0, 0) };

const real: [string, Reading][] = [];
for (const v of vectors) {
  const { readings } = decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, nodeCrypto);
  for (const r of readings) real.push([v.id, r]);
}

function compiled(p: Preset): { topic: Template | null; payload: Template } {
  const payload = compileTemplate(p.payloadTemplate, p.escape);
  if (!payload.ok) throw new Error(`${p.id} payload: ${payload.error.message}`);
  let topic: Template | null = null;
  if (p.topicTemplate !== undefined) {
    const t = compileTemplate(p.topicTemplate, 'none');
    if (!t.ok) throw new Error(`${p.id} topic: ${t.error.message}`);
    topic = t.template;
  }
  return { topic, payload: payload.template };
}

function renderReading(id: string, r: Reading, derived: DerivedValues | null = null): string {
  return compiled(presetById(id)!).payload.render(buildContext(r, derived, EXTRA));
}

const METRIC = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const NUMBER = '-?\\d+(?:\\.\\d+)?(?:e[+-]\\d+)?';
const INFLUX_LINE = new RegExp(`^electricity(?:,meter=[A-Za-z0-9_.-]+)? [a-z0-9_]+=${NUMBER}(?:,[a-z0-9_]+=${NUMBER})*(?: \\d{19})?$`);
const PROM_HELP = new RegExp(`^# HELP (${METRIC}) [^\\n]+$`);
const PROM_TYPE = new RegExp(`^# TYPE (${METRIC}) (counter|gauge)$`);
const PROM_SAMPLE = new RegExp(`^(${METRIC})\\{meter="((?:[^"\\\\\\n]|\\\\.)*)"((?:,[a-z]+="[^"]*")*)\\} (${NUMBER})$`);

/** Checks the exposition format line by line and returns the samples. */
function parsePrometheus(text: string): Map<string, { meter: string; value: number; type: string }> {
  const samples = new Map<string, { meter: string; value: number; type: string }>();
  if (text === '') return samples;
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = PROM_HELP.exec(line))) {
      expect(types.has(m[1]), `HELP before TYPE: ${line}`).toBe(false);
    } else if ((m = PROM_TYPE.exec(line))) {
      expect(types.has(m[1]), `TYPE twice: ${line}`).toBe(false);
      types.set(m[1], m[2]);
    } else if ((m = PROM_SAMPLE.exec(line))) {
      expect(types.has(m[1]), `sample before its TYPE: ${line}`).toBe(true);
      if (types.get(m[1]) === 'counter') expect(m[1].endsWith('_total'), line).toBe(true);
      const key = m[1] + (m[3] ? `{${m[3].slice(1)}}` : '');
      expect(samples.has(key), `sample twice: ${line}`).toBe(false);
      samples.set(key, { meter: m[2], value: Number(m[4]), type: types.get(m[1])! });
    } else {
      throw new Error(`not exposition format: ${JSON.stringify(line)}`);
    }
  }
  return samples;
}

/** Checks the line protocol and returns the fields. */
function parseInflux(line: string): { meter: string | null; fields: Record<string, number>; ns: string | null } {
  expect(line, line).toMatch(INFLUX_LINE);
  const [head, fieldText, ns] = line.split(' ');
  const fields: Record<string, number> = {};
  for (const f of fieldText.split(',')) {
    const [k, v] = f.split('=');
    expect(k in fields, `field ${k} twice`).toBe(false);
    fields[k] = Number(v);
  }
  const meter = head.startsWith('electricity,meter=') ? head.slice('electricity,meter='.length) : null;
  return { meter, fields, ns: ns ?? null };
}

describe('the presets', () => {
  it('ship for Home Assistant, openHAB, ioBroker, InfluxDB, Prometheus and generic JSON', () => {
    expect(PRESETS.map((p) => [p.id, p.escape, p.mode, p.contentType])).toEqual([
      ['homeassistant', 'json', 'reading', 'application/json'],
      ['openhab', 'none', 'values', 'text/plain; charset=utf-8'],
      ['iobroker', 'none', 'fields', 'text/plain; charset=utf-8'],
      ['influxdb', 'none', 'reading', 'text/plain; charset=utf-8'],
      ['prometheus', 'none', 'reading', 'text/plain; version=0.0.4; charset=utf-8'],
      ['json', 'json', 'reading', 'application/json'],
    ]);
    expect(PRESETS.map((p) => p.topicTemplate)).toEqual([
      '{{base_topic}}/state', '{{base_topic}}/{{obis}}', '{{base_topic}}/{{key}}', '{{base_topic}}/influx', undefined, '{{base_topic}}/reading',
    ]);
    expect(presetById('json')!.payloadTemplate).toBe('{{{reading_json}}}');
    // offered only where they fit: MQTT, HTTP push, GET /metrics
    expect(PRESETS.map((p) => [p.id, p.targets])).toEqual([
      ['homeassistant', ['mqtt']], ['openhab', ['mqtt']], ['iobroker', ['mqtt']], ['influxdb', ['mqtt', 'http']], ['prometheus', ['metrics']], ['json', ['mqtt', 'http']],
    ]);
    for (const p of PRESETS) expect(p.topicTemplate !== undefined, p.id).toBe(p.targets.indexOf('mqtt') >= 0);
    expect(presetById('openhab')!.payloadTemplate).toBe('{{value}}');
    for (const p of PRESETS) {
      expect(Object.isFrozen(p), p.id).toBe(true);
      expect(p.name.length > 0 && p.description.length > 0, p.id).toBe(true);
    }
    expect(Object.isFrozen(PRESETS)).toBe(true);
  });

  it('presetById finds each preset and nothing else', () => {
    for (const p of PRESETS) expect(presetById(p.id)).toBe(p);
    expect(presetById('custom')).toBe(undefined);
    expect(presetById('')).toBe(undefined);
  });

  it('the Home Assistant keys are exactly those the discovery configs read', () => {
    expect([...HA_STATE_KEYS]).toEqual(QUANTITIES.map((q) => q.key));
  });

  it('topics render from the base topic', () => {
    const ctx = buildContext(real[0][1], null, EXTRA);
    expect(['homeassistant', 'influxdb', 'json'].map((id) => compiled(presetById(id)!).topic!.render(ctx))).toEqual([
      'mb/state', 'mb/influx', 'mb/reading',
    ]);
  });
});

describe('on every real Reading', () => {
  it('13 pushes decode', () => {
    expect(real.map(([id]) => id)).toEqual(vectors.filter((v) => v.id !== 'at-salzburgnetz-elster-docexample-nokey').map((v) => v.id));
  });

  it.each(real)('%s: homeassistant is the state the discovery sensors read', (_id, r) => {
    expect(JSON.parse(renderReading('homeassistant', r))).toEqual(haState(r, null));
  });

  it.each(real)('%s: iobroker is one number message per quantity present, on a topic named after it', (_id, r) => {
    const ctx = buildContext(r, null, EXTRA);
    const { topic, payload } = compiled(presetById('iobroker')!);
    const msgs = buildFieldContexts(r, null, EXTRA).map((c) => [topic!.render(c), payload.render(c)]);
    expect(msgs).toEqual((ctx.fields as { key: string; value: number }[]).map((f) => ['mb/' + f.key, String(f.value)]));
    for (const [, p] of msgs) expect(Number.isFinite(Number(p)), p).toBe(true);
  });

  it.each(real)('%s: json is the whole Reading', (_id, r) => {
    expect(JSON.parse(renderReading('json', r))).toEqual(r);
  });

  it.each(real)('%s: influxdb is one valid line with every value present', (_id, r) => {
    const ctx = buildContext(r, null, EXTRA);
    const line = parseInflux(renderReading('influxdb', r));
    const want: Record<string, number> = {};
    for (const f of ctx.fields as { key: string; value: number }[]) want[f.key] = f.value;
    expect(line).toEqual({ meter: ctx.meter_slug, fields: want, ns: ctx.timestamp_ns });
  });

  it.each(real)('%s: prometheus is valid exposition text with every value present', (_id, r) => {
    const ctx = buildContext(r, null, EXTRA);
    const samples = parsePrometheus(renderReading('prometheus', r));
    const want = new Map<string, { meter: string; value: number; type: string }>();
    for (const f of ctx.fields as { key: string; value: number; kind: string }[]) {
      const q = QUANTITIES.find((x) => x.key === f.key)!;
      want.set(q.prom.name + (q.prom.labels ? `{${q.prom.labels}}` : ''), { meter: ctx.meter_slug as string, value: Math.round(f.value * q.prom.scale * 1000) / 1000, type: f.kind });
    }
    expect(samples).toEqual(want);
  });

  it.each(real)('%s: openhab sends one message per value', (_id, r) => {
    const { topic, payload } = compiled(presetById('openhab')!);
    const msgs = Object.keys(r.values).map((obis) => {
      const ctx = buildValueContext(r, obis, EXTRA);
      return [topic!.render(ctx), payload.render(ctx)];
    });
    expect(msgs).toEqual(Object.entries(r.values).map(([obis, v]) => ['mb/' + obis, String(v.value)]));
  });
});

describe('missing and hostile values', () => {
  it('a Reading without voltages or currents (Wiener Netze) leaves those keys out', () => {
    const r = real.find(([id]) => id === 'at-wienernetze-siemens-sel0')![1];
    expect(r.values['1-0:32.7.0']).toBe(undefined);
    expect(JSON.parse(renderReading('homeassistant', r))).toEqual({
      meter_number: 'SMS1030788000020', timestamp: '2021-10-21T05:40:34+02:00', frame_counter: r.frameCounter,
      energy_import_wh: 1465, energy_export_wh: 0, reactive_import_varh: 0, reactive_export_varh: 5521,
      power_import_w: 4, power_export_w: 0, reactive_import_var: 0, reactive_export_var: 18, power_net_w: 4,
    });
  });

  it('an empty Reading: JSON with nulls, no Influx line, no metrics', () => {
    const r = emptyReading();
    expect(JSON.parse(renderReading('homeassistant', r))).toEqual({ meter_number: null, timestamp: null, frame_counter: null });
    expect(buildFieldContexts(r, null, {})).toEqual([]);
    expect(renderReading('influxdb', r)).toBe('');
    expect(renderReading('prometheus', r)).toBe('');
    expect(JSON.parse(renderReading('json', r))).toEqual(r);
  });

  it('a meter number with a quote, a backslash and a newline: still valid everywhere', () => {
    const r = emptyReading();
    r.meter.number = 'A"B\\C\nD, x=1';
    r.timestamp = '2024-06-01T12:00:00+02:00';
    r.values['1-0:1.7.0'] = { value: 0, unit: 'W' };
    expect(JSON.parse(renderReading('homeassistant', r))).toEqual({ meter_number: 'A"B\\C\nD, x=1', timestamp: '2024-06-01T12:00:00+02:00', frame_counter: null, power_import_w: 0, power_net_w: 0 });
    expect(renderReading('influxdb', r)).toBe('electricity,meter=A_B_C_D__x_1 power_import_w=0,power_net_w=0 1717236000000000000');
    expect(parsePrometheus(renderReading('prometheus', r)).get('meterbridge_active_power_import_watts')).toEqual({ meter: 'A_B_C_D__x_1', value: 0, type: 'gauge' });
  });

  it('a meter without a number is tagged by its system title; without any name it has no tag', () => {
    const r = emptyReading();
    r.values['1-0:1.8.0'] = { value: 7, unit: 'Wh' };
    expect(renderReading('influxdb', r)).toBe(`electricity energy_import_wh=7 ${EXTRA.received_ms}000000`);
    r.meter.systemTitle = '4B464D1020019F8B';
    expect(renderReading('influxdb', r)).toBe(`electricity,meter=4B464D1020019F8B energy_import_wh=7 ${EXTRA.received_ms}000000`);
  });

  it('derived values reach the flat presets', () => {
    const t = new DerivedTracker();
    const a = emptyReading();
    a.timestamp = '2024-06-01T12:00:00';
    a.values['1-0:1.8.0'] = { value: 1000, unit: 'Wh' };
    a.values['1-0:1.7.0'] = { value: 360, unit: 'W' };
    t.update(a);
    const b = emptyReading();
    b.timestamp = '2024-06-01T12:00:10';
    b.values['1-0:1.8.0'] = { value: 1001, unit: 'Wh' };
    b.values['1-0:1.7.0'] = { value: 0, unit: 'W' };
    const d = t.update(b);
    expect(renderReading('influxdb', b, d)).toBe(
      'electricity energy_import_wh=1001,power_import_w=0,power_net_w=0,energy_today_import_wh=1,energy_month_import_wh=1,power_avg_15min_w=360 ' +
        `${EXTRA.received_ms}000000`,
    );
    expect(buildFieldContexts(b, d, EXTRA).map((c) => [c.key, c.value])).toEqual([
      ['energy_import_wh', 1001], ['power_import_w', 0], ['power_net_w', 0], ['energy_today_import_wh', 1], ['energy_month_import_wh', 1], ['power_avg_15min_w', 360],
    ]);
    const prom = parsePrometheus(renderReading('prometheus', b, d));
    expect(prom.get('meterbridge_active_energy_import_today_joules')).toEqual({ meter: '', value: 3600, type: 'gauge' });
    expect(prom.get('meterbridge_active_energy_import_joules_total')).toEqual({ meter: '', value: 1001 * 3600, type: 'counter' });
  });
});
