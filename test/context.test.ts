// The template context: the Reading's own fields, friendly aliases, lists for sections, derived
// values and extras, from real Readings and from hand-built ones for the edge cases.
import { QUANTITIES } from '../firmware/quantities.js';
import { describe, expect, it } from 'vitest';
import { buildContext, buildValueContext, electricityNumber, obisName } from '../firmware/template/context.js';
import type { DerivedValues } from '../firmware/template/derived.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { emptyReading, type Reading, type Value } from '../firmware/reading.js';
import { vector, vectors, wire } from './helpers.js';

function realReading(id: string): Reading {
  const v = vector(id);
  const { readings } = decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, nodeCrypto);
  expect(readings).toHaveLength(1);
  return readings[0];
}

function reading(values: Record<string, Value>, timestamp: string | null = null, number: string | null = null): Reading {
  const r = emptyReading();
  r.values = values;
  r.timestamp = timestamp;
  r.meter.number = number;
  return r;
}

const ALIASES = QUANTITIES.filter((q) => !q.derived).map((q) => [q.key, q.cde] as const);
const ALIAS_KEYS = [...ALIASES.map((a) => a[0]), 'energy_import_kwh', 'energy_export_kwh', 'power_net_w'];

function aliases(ctx: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of ALIAS_KEYS) o[k] = ctx[k];
  return o;
}

const NONE = Object.fromEntries(ALIAS_KEYS.map((k) => [k, undefined]));

describe('aliases from real Readings', () => {
  it('Vorarlberg Kaifa (three phases, no power factor): every alias', () => {
    const ctx = buildContext(realReading('at-vorarlberg-kaifa-plaintext-fixture'), null);
    expect(aliases(ctx)).toEqual({
      ...NONE,
      energy_import_wh: 1403036, // 1-0:1.8.0, Wh
      energy_export_wh: 1103174,
      energy_import_kwh: 1403.036,
      energy_export_kwh: 1103.174,
      reactive_import_varh: 132305,
      reactive_export_varh: 512810,
      power_import_w: 0, // a real 0 W, kept
      power_export_w: 24,
      power_net_w: -24,
      voltage_l1_v: 233,
      voltage_l2_v: 232.5,
      voltage_l3_v: 233,
      current_l1_a: 0.45,
      current_l2_a: 0.43,
      current_l3_a: 0.81,
    });
    expect(ctx.meter_number).toBe('1KFM0200182517');
    expect(ctx.system_title).toBe(undefined);
    expect(ctx.meter_id).toBe('1KFM0200182517');
    expect(ctx.meter_slug).toBe('1KFM0200182517');
    expect(ctx.frame_counter).toBe(undefined);
    expect(ctx.timestamp).toBe('2023-04-25T10:59:30+02:00');
    expect(ctx.timestamp_ms).toBe(Date.UTC(2023, 3, 25, 8, 59, 30));
    expect(ctx.timestamp_s).toBe(Date.UTC(2023, 3, 25, 8, 59, 30) / 1000);
    expect(ctx.timestamp_ns).toBe('1682413170000000000');
  });

  it('Sagemcom T210-D: power factor without a unit', () => {
    const ctx = buildContext(realReading('at-sagemcom-t210d-plaintext-fixture'), null);
    expect(ctx.power_factor).toBe(0.094);
    expect(ctx.frequency_hz).toBe(undefined);
    expect(ctx.power_net_w).toBe(-9);
  });

  it('Kamstrup sends 1-1:C.D.E: the aliases still find them', () => {
    const r = realReading('dk-kamstrup-omnipower-authenc');
    expect(r.values['1-0:1.8.0']).toBe(undefined);
    const ctx = buildContext(r, null);
    expect(ctx.energy_import_wh).toBe(r.values['1-1:1.8.0'].value);
    expect(ctx.power_import_w).toBe(r.values['1-1:1.7.0'].value);
    expect(ctx.voltage_l3_v).toBe(r.values['1-1:72.7.0'].value);
    // no 0-0:96.1.0: the meter id 1-1:0.0.1 of the Danish lists is the meter number
    expect(ctx.meter_number).toBe('12343400');
    expect(ctx.meter_id).toBe('12343400');
    expect(ctx.frame_counter).toBe(r.frameCounter);
  });

  it('every real Reading: each alias is its OBIS value (B 0, else B 1) or undefined', () => {
    let checked = 0;
    for (const v of vectors) {
      const { readings } = decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, nodeCrypto);
      for (const r of readings) {
        const ctx = buildContext(r, null);
        for (const [key, cde] of ALIASES) {
          const val = r.values['1-0:' + cde] ?? r.values['1-1:' + cde];
          expect(ctx[key], `${v.id} ${key}`).toBe(val === undefined ? undefined : val.value);
        }
        expect(ctx.values_list).toHaveLength(Object.keys(r.values).length);
        expect(JSON.parse(ctx.reading_json as string)).toEqual(r);
        checked++;
      }
    }
    expect(checked).toBe(13);
  });
});

describe('aliases, edge cases', () => {
  it('B 0 wins over B 1', () => {
    const ctx = buildContext(reading({ '1-1:1.8.0': { value: 1, unit: 'Wh' }, '1-0:1.8.0': { value: 2, unit: 'Wh' } }), null);
    expect(ctx.energy_import_wh).toBe(2);
  });

  it('B other than 0 and 1, a value with *F, a string or a non-finite number: no alias', () => {
    const ctx = buildContext(
      reading({
        '1-2:1.8.0': { value: 5, unit: 'Wh' },
        '1-0:2.8.0*101': { value: 6, unit: 'Wh' },
        '1-0:1.7.0': { value: '12', unit: 'W' },
        '1-0:2.7.0': { value: NaN, unit: 'W' },
        '1-0:32.7.0': { value: Infinity, unit: 'V' },
      }),
      null,
    );
    expect(aliases(ctx)).toEqual(NONE);
  });

  it('units: the base unit or none is taken as is, k-prefixed is scaled, any other is refused', () => {
    const ctx = buildContext(
      reading({
        '1-0:1.8.0': { value: 1.5, unit: 'kWh' },
        '1-0:2.8.0': { value: 7 },
        '1-0:1.7.0': { value: 230, unit: 'V' },
        '1-0:32.7.0': { value: 231.4, unit: 'V' },
        '1-0:13.7.0': { value: 0.98, unit: 'whatever' },
      }),
      null,
    );
    expect([ctx.energy_import_wh, ctx.energy_export_wh, ctx.power_import_w, ctx.voltage_l1_v, ctx.power_factor]).toEqual([1500, 7, undefined, 231.4, 0.98]);
  });

  it('kWh are Wh ÷ 1000 rounded to 3 decimals', () => {
    const ctx = buildContext(reading({ '1-0:1.8.0': { value: 1234.5678, unit: 'Wh' }, '1-0:2.8.0': { value: 14159934, unit: 'Wh' } }), null);
    expect(ctx.energy_import_kwh).toBe(1.235);
    expect(ctx.energy_export_kwh).toBe(14159.934);
  });

  it('net power: import − export when either exists, rounded to mW', () => {
    const net = (values: Record<string, Value>) => buildContext(reading(values), null).power_net_w;
    expect(net({ '1-0:1.7.0': { value: 500, unit: 'W' } })).toBe(500);
    expect(net({ '1-0:2.7.0': { value: 300, unit: 'W' } })).toBe(-300);
    expect(net({ '1-0:1.7.0': { value: 230.1, unit: 'W' }, '1-0:2.7.0': { value: 12.3, unit: 'W' } })).toBe(217.8);
    expect(net({ '1-0:1.8.0': { value: 1, unit: 'Wh' } })).toBe(undefined);
  });
});

describe('timestamps', () => {
  const received = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

  it('an offset gives the epoch; the received time is then ignored', () => {
    const ctx = buildContext(reading({}, '2021-09-27T09:47:15+02:00'), null, { received_ms: received });
    expect([ctx.timestamp_ms, ctx.timestamp_s, ctx.timestamp_ns]).toEqual([1632728835000, 1632728835, '1632728835000000000']);
    const west = buildContext(reading({}, '2021-09-27T09:47:15-03:30'), null);
    expect(west.timestamp_ms).toBe(Date.UTC(2021, 8, 27, 13, 17, 15));
    expect(buildContext(reading({}, '2021-09-27T09:47:15Z'), null).timestamp_ms).toBe(Date.UTC(2021, 8, 27, 9, 47, 15));
  });

  it('no offset (or no timestamp): the time the gateway received the push, never the host zone', () => {
    for (const ts of ['2023-03-28T19:11:20', null]) {
      const ctx = buildContext(reading({}, ts), null, { received_ms: received });
      expect([ctx.timestamp_ms, ctx.timestamp_s, ctx.timestamp_ns]).toEqual([received, Math.floor(received / 1000), '1704164645678000000']);
      expect(ctx.timestamp).toBe(ts);
      const bare = buildContext(reading({}, ts), null, { received_ms: null });
      expect([bare.timestamp_ms, bare.timestamp_s, bare.timestamp_ns]).toEqual([undefined, undefined, undefined]);
    }
  });

  it('an unparsable timestamp is treated as none', () => {
    const ctx = buildContext(reading({}, '2021-13-40T99:00:00+02:00'), null);
    expect(ctx.timestamp_ms).toBe(undefined);
  });
});

describe('lists and flags', () => {
  it('values_list: every value in key order with a label, first and last', () => {
    const r = realReading('at-wienernetze-siemens-sel0');
    const list = buildContext(r, null).values_list as Record<string, unknown>[];
    expect(list.map((x) => x.obis)).toEqual(Object.keys(r.values));
    expect(list[0]).toEqual({ obis: '0-0:96.1.0', value: 'SMS1030788000020', unit: undefined, name: 'Meter number', first: true, last: false });
    expect(list[2]).toEqual({ obis: '1-0:1.8.0', value: 1465, unit: 'Wh', name: 'Active energy import', first: false, last: false });
    expect(list[list.length - 1]).toEqual({ obis: '1-0:4.7.0', value: 18, unit: 'var', name: 'Reactive power export', first: false, last: true });
  });

  it('fields: the numeric aliases present, in table order, then net power and derived values', () => {
    const r = reading({ '1-0:2.7.0': { value: 0, unit: 'W' }, '1-0:1.8.0': { value: 10, unit: 'Wh' }, '1-0:13.7.0': { value: 0.9 } });
    const derived: DerivedValues = {
      energy_today_import_wh: 3, energy_today_export_wh: undefined, energy_month_import_wh: 0, energy_month_export_wh: undefined,
      power_avg_15min_w: -1.5, power_avg_last_15min_w: undefined,
    };
    const ctx = buildContext(r, derived);
    const prom = (name: string, help: string, value: number, head = true) => ({ prom_name: 'meterbridge_' + name, prom_value: value, prom_labels: '', prom_head: head, prom_help: help });
    expect(ctx.fields).toEqual([
      { key: 'energy_import_wh', value: 10, unit: 'Wh', name: 'Active energy import', kind: 'counter', first: true, last: false, ...prom('active_energy_import_joules_total', 'Active energy import', 36000) },
      { key: 'power_export_w', value: 0, unit: 'W', name: 'Active power export', kind: 'gauge', first: false, last: false, ...prom('active_power_export_watts', 'Active power export', 0) },
      { key: 'power_factor', value: 0.9, unit: undefined, name: 'Power factor', kind: 'gauge', first: false, last: false, ...prom('power_factor_ratio', 'Power factor', 0.9) },
      { key: 'power_net_w', value: 0, unit: 'W', name: 'Active power net (import - export)', kind: 'gauge', first: false, last: false, ...prom('active_power_net_watts', 'Active power net (import - export)', 0) },
      { key: 'energy_today_import_wh', value: 3, unit: 'Wh', name: 'Active energy import today', kind: 'gauge', first: false, last: false, ...prom('active_energy_import_today_joules', 'Active energy import today', 10800) },
      { key: 'energy_month_import_wh', value: 0, unit: 'Wh', name: 'Active energy import this month', kind: 'gauge', first: false, last: false, ...prom('active_energy_import_month_joules', 'Active energy import this month', 0) },
      { key: 'power_avg_15min_w', value: -1.5, unit: 'W', name: 'Average net power, current quarter hour', kind: 'gauge', first: false, last: true, ...prom('active_power_net_average_current_quarter_watts', 'Average net power, current quarter hour', -1.5) },
    ]);
    // members of one metric (phases) share HELP and TYPE: only the first is the head
    const three = buildContext(reading({ '1-0:32.7.0': { value: 230, unit: 'V' }, '1-0:52.7.0': { value: 231, unit: 'V' } }), null);
    expect((three.fields as { prom_head: boolean; prom_labels: string; prom_help: string }[]).map((f) => [f.prom_head, f.prom_labels, f.prom_help])).toEqual([
      [true, ',phase="L1"', 'Voltage'],
      [false, ',phase="L2"', 'Voltage'],
    ]);
    for (const k of Object.keys(derived) as (keyof DerivedValues)[]) expect(ctx[k], k).toBe(derived[k]);
  });

  it('has.<name> is true exactly for the names with a value, 0 included', () => {
    const r = reading({ '1-0:2.7.0': { value: 0, unit: 'W' } }, null, '123');
    const has = buildContext(r, null, { base_topic: 'mb', nothing: null }).has as Record<string, boolean>;
    expect(Object.keys(has).sort()).toEqual(
      ['base_topic', 'fields', 'format', 'meter', 'meter_id', 'meter_number', 'meter_slug', 'power_export_w', 'power_net_w', 'reading_json', 'security', 'values', 'values_list'].sort(),
    );
    expect(Object.values(has).every((x) => x === true)).toBe(true);
  });

  it('an empty Reading: no fields, no aliases, still the Reading', () => {
    const ctx = buildContext(emptyReading(), null);
    expect(ctx.fields).toEqual([]);
    expect(ctx.values_list).toEqual([]);
    expect(aliases(ctx)).toEqual(NONE);
    expect(ctx.meter_id).toBe(undefined);
    expect(ctx.meter_slug).toBe(undefined);
    expect(ctx.reading_json).toBe(JSON.stringify(emptyReading()));
  });
});

describe('the Reading itself and extras', () => {
  it("the Reading's own fields are there unchanged", () => {
    const r = realReading('at-tinetz-kaifa-docexample');
    const ctx = buildContext(r, null);
    expect(ctx.meter).toBe(r.meter);
    expect(ctx.values).toBe(r.values);
    expect(ctx.security).toBe(r.security);
    expect([ctx.timestamp, ctx.frameCounter, ctx.format]).toEqual([r.timestamp, r.frameCounter, r.format]);
    expect(ctx.frame_counter).toBe(2710426);
    expect(ctx.system_title).toBe('4B464D1010000023');
  });

  it('extra adds names but cannot shadow the Reading', () => {
    const ctx = buildContext(reading({}, '2024-01-01T00:00:00', 'real'), null, { base_topic: 'home/meter', meter_number: 'fake', timestamp: 'fake' });
    expect([ctx.base_topic, ctx.meter_number, ctx.timestamp]).toEqual(['home/meter', 'real', '2024-01-01T00:00:00']);
  });

  it('meter_slug keeps [A-Za-z0-9_.-] only; meter_id falls back to the logical device name', () => {
    const r = reading({}, null, 'AB "1",2=3 x\n/#+');
    expect(buildContext(r, null).meter_slug).toBe('AB__1__2_3_x____');
    const l = emptyReading();
    l.meter.logicalDeviceName = 'KFM1200200182517';
    expect(buildContext(l, null).meter_id).toBe('KFM1200200182517');
  });
});

describe('buildValueContext', () => {
  it('one value with its label, the timestamp, the meter number and the extras', () => {
    const r = realReading('at-tinetz-kaifa-docexample');
    expect(buildValueContext(r, '1-0:32.7.0', { base_topic: 'mb' })).toEqual({
      base_topic: 'mb', obis: '1-0:32.7.0', value: 230.8, unit: 'V', name: 'Voltage L1', timestamp: '2021-07-19T15:46:35+02:00', meter_number: '1KFM0100000035',
    });
    expect(buildValueContext(r, '0-0:96.1.0')).toEqual({
      obis: '0-0:96.1.0', value: '1KFM0100000035', unit: undefined, name: 'Meter number', timestamp: '2021-07-19T15:46:35+02:00', meter_number: '1KFM0100000035',
    });
  });

  it('a key the Reading lacks, and a Reading without clock and number', () => {
    expect(buildValueContext(emptyReading(), '1-0:1.8.0')).toEqual({
      obis: '1-0:1.8.0', value: undefined, unit: undefined, name: 'Active energy import', timestamp: undefined, meter_number: undefined,
    });
  });
});

describe('obisName and electricityNumber', () => {
  it('labels known codes whatever B is; unknown codes and *F keys are their own name', () => {
    expect(obisName('1-0:1.8.0')).toBe('Active energy import');
    expect(obisName('1-1:72.7.0')).toBe('Voltage L3');
    expect(obisName('1-3:0.2.8')).toBe('DSMR version');
    expect(obisName('0-0:1.0.0')).toBe('Clock');
    expect(obisName('1-0:1.8.0*101')).toBe('1-0:1.8.0*101');
    expect(obisName('1-0:99.99.99')).toBe('1-0:99.99.99');
    expect(obisName('nonsense')).toBe('nonsense');
  });

  it('electricityNumber: the number in the base unit', () => {
    const v = { '1-1:1.7.0': { value: 2.5, unit: 'kW' } };
    expect(electricityNumber(v, '1.7.0', 'W')).toBe(2500);
    expect(electricityNumber(v, '2.7.0', 'W')).toBe(undefined);
  });
});
