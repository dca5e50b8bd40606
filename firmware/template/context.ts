/**
 * The context templates render against: the Reading's own fields plus friendly aliases, lists for
 * sections, derived values and whatever the caller adds (base_topic, received_ms).
 *
 *   meter, timestamp, frameCounter, security, format, values   the Reading as it is
 *   energy_import_wh … frequency_hz     aliases of electricity values (OBIS 1-0 or 1-1:C.D.E),
 *                                       in the base unit (Wh, W, var, varh, V, A, Hz); undefined
 *                                       when the Reading lacks them
 *   power_net_w                         import − export, when either is there
 *   meter_number, system_title, frame_counter, timestamp_ms/_s/_ns
 *   meter_id, meter_slug                a name for the meter: its number, else the system title,
 *                                       else the logical device name; the slug keeps only
 *                                       [A-Za-z0-9_.-] so it is safe in topics, Influx tags and
 *                                       Prometheus labels without escaping
 *   has.<name>                          true for every name above whose value is not null or
 *                                       undefined. A section over a number skips 0 (mustache
 *                                       falsiness), so test presence with
 *                                       {{#has.power_export_w}}…{{/has.power_export_w}}
 *   fields                              [{key, value, unit, name, kind, first, last}] for every
 *                                       numeric alias that has a value (kind: counter | gauge)
 *   values_list                         [{obis, value, unit, name, first, last}] in the order the
 *                                       meter sent them
 *   reading_json                        JSON.stringify(reading)
 *
 * Does not know: templates, topics, or where the derived values come from (derived.ts).
 */
import type { Reading, Value } from '../reading.js';
import { epochMs } from './clock.js';
import type { DerivedValues } from './derived.js';
import { deepFreeze } from '../freeze.js';

export type TemplateContext = Record<string, unknown>;

/** [alias, OBIS C.D.E, base unit (null: unitless, any unit accepted), Prometheus kind] */
type AliasSpec = readonly [string, string, string | null, 'counter' | 'gauge'];

/** The electricity aliases, in the order `fields` lists them. */
export const ALIASES: readonly AliasSpec[] = /* @__PURE__ */ deepFreeze([
  ['energy_import_wh', '1.8.0', 'Wh', 'counter'],
  ['energy_export_wh', '2.8.0', 'Wh', 'counter'],
  ['energy_import_t1_wh', '1.8.1', 'Wh', 'counter'],
  ['energy_import_t2_wh', '1.8.2', 'Wh', 'counter'],
  ['energy_export_t1_wh', '2.8.1', 'Wh', 'counter'],
  ['energy_export_t2_wh', '2.8.2', 'Wh', 'counter'],
  ['reactive_import_varh', '3.8.0', 'varh', 'counter'],
  ['reactive_export_varh', '4.8.0', 'varh', 'counter'],
  ['power_import_w', '1.7.0', 'W', 'gauge'],
  ['power_export_w', '2.7.0', 'W', 'gauge'],
  ['reactive_import_var', '3.7.0', 'var', 'gauge'],
  ['reactive_export_var', '4.7.0', 'var', 'gauge'],
  ['voltage_l1_v', '32.7.0', 'V', 'gauge'],
  ['voltage_l2_v', '52.7.0', 'V', 'gauge'],
  ['voltage_l3_v', '72.7.0', 'V', 'gauge'],
  ['current_l1_a', '31.7.0', 'A', 'gauge'],
  ['current_l2_a', '51.7.0', 'A', 'gauge'],
  ['current_l3_a', '71.7.0', 'A', 'gauge'],
  ['power_factor', '13.7.0', null, 'gauge'],
  ['frequency_hz', '14.7.0', 'Hz', 'gauge'],
] as const);

/** The derived values, in the order `fields` lists them after the aliases (all gauges). */
export const DERIVED_KEYS: readonly (keyof DerivedValues)[] = /* @__PURE__ */ Object.freeze([
  'energy_today_import_wh',
  'energy_today_export_wh',
  'energy_month_import_wh',
  'energy_month_export_wh',
  'power_avg_15min_w',
  'power_avg_last_15min_w',
] as const);

/** Short English labels, keyed `A:C.D.E` (B ignored: 1-0 and 1-1 name the same quantity). */
const NAMES: Readonly<Record<string, string>> = /* @__PURE__ */ Object.freeze({
  '0:1.0.0': 'Clock',
  '0:42.0.0': 'Logical device name',
  '0:96.1.0': 'Meter number',
  '0:96.1.1': 'Meter serial number',
  '0:96.1.7': 'Meter type',
  '0:96.14.0': 'Tariff',
  '1:0.2.8': 'DSMR version',
  '1:0.2.129': 'List version',
  '1:1.7.0': 'Active power import',
  '1:2.7.0': 'Active power export',
  '1:3.7.0': 'Reactive power import',
  '1:4.7.0': 'Reactive power export',
  '1:1.8.0': 'Active energy import',
  '1:1.8.1': 'Active energy import tariff 1',
  '1:1.8.2': 'Active energy import tariff 2',
  '1:2.8.0': 'Active energy export',
  '1:2.8.1': 'Active energy export tariff 1',
  '1:2.8.2': 'Active energy export tariff 2',
  '1:3.8.0': 'Reactive energy import',
  '1:3.8.1': 'Reactive energy import tariff 1',
  '1:3.8.2': 'Reactive energy import tariff 2',
  '1:4.8.0': 'Reactive energy export',
  '1:4.8.1': 'Reactive energy export tariff 1',
  '1:4.8.2': 'Reactive energy export tariff 2',
  '1:13.7.0': 'Power factor',
  '1:14.7.0': 'Frequency',
  '1:21.7.0': 'Active power import L1',
  '1:41.7.0': 'Active power import L2',
  '1:61.7.0': 'Active power import L3',
  '1:22.7.0': 'Active power export L1',
  '1:42.7.0': 'Active power export L2',
  '1:62.7.0': 'Active power export L3',
  '1:21.8.0': 'Active energy import L1',
  '1:41.8.0': 'Active energy import L2',
  '1:61.8.0': 'Active energy import L3',
  '1:31.7.0': 'Current L1',
  '1:51.7.0': 'Current L2',
  '1:71.7.0': 'Current L3',
  '1:91.7.0': 'Current neutral',
  '1:32.7.0': 'Voltage L1',
  '1:52.7.0': 'Voltage L2',
  '1:72.7.0': 'Voltage L3',
  '1:33.7.0': 'Power factor L1',
  '1:53.7.0': 'Power factor L2',
  '1:73.7.0': 'Power factor L3',
});

/** Labels of the aliases that are not plain OBIS values. */
const EXTRA_NAMES: Readonly<Record<string, string>> = /* @__PURE__ */ Object.freeze({
  power_net_w: 'Active power net (import - export)',
  energy_today_import_wh: 'Active energy import today',
  energy_today_export_wh: 'Active energy export today',
  energy_month_import_wh: 'Active energy import this month',
  energy_month_export_wh: 'Active energy export this month',
  power_avg_15min_w: 'Average net power, current quarter hour',
  power_avg_last_15min_w: 'Average net power, last quarter hour',
});

// Made on first use, never at module level: XS 8.2.3 crashes on exec() of a RegExp that the
// preload put in flash (hal/moddable/README.md, "Preload rules").
let obisKeyRe: RegExp | undefined;

/** A short English label for an OBIS key (`1-0:1.8.0`), or the key itself when unknown. */
export function obisName(obis: string): string {
  const m = (obisKeyRe ??= /^(\d{1,3})-\d{1,3}:(\d{1,3}\.\d{1,3}\.\d{1,3})(\*\d{1,3})?$/).exec(obis);
  if (!m || m[3] !== undefined) return obis; // *F: a billing period or profile, not the quantity
  return NAMES[m[1] + ':' + m[2]] ?? obis;
}

/**
 * Electricity OBIS 1-B:C.D.E as a number in the base unit (B 0 preferred over 1: Kamstrup sends
 * 1-1); undefined when absent, not a finite number, or in another unit.
 */
export function electricityNumber(values: Record<string, Value>, cde: string, base: string | null): number | undefined {
  const v = values['1-0:' + cde] ?? values['1-1:' + cde];
  if (!v || typeof v.value !== 'number' || !isFinite(v.value)) return undefined;
  if (base === null || v.unit === undefined || v.unit === base) return v.value;
  // the core converts kWh/kW already; this guards a decoder that does not
  if (v.unit === 'k' + base) return v.value * 1000;
  return undefined;
}

/** Rounds away binary fractions (0.30000000000000004) that would leak into payloads. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function defined(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function meterId(r: Reading): string | undefined {
  const m = r.meter;
  return m.number || m.systemTitle || m.logicalDeviceName || undefined;
}

/** The context of one Reading, for mode 'reading' templates. */
export function buildContext(reading: Reading, derived: DerivedValues | null, extra?: Record<string, unknown>): TemplateContext {
  const ctx: TemplateContext = {};
  // extra first: it may add names but never shadow the Reading's
  if (extra) for (const k of Object.keys(extra)) ctx[k] = extra[k];

  ctx.meter = reading.meter;
  ctx.timestamp = reading.timestamp;
  ctx.frameCounter = reading.frameCounter;
  ctx.security = reading.security;
  ctx.format = reading.format;
  ctx.values = reading.values;

  const fields: Record<string, unknown>[] = [];
  const addField = (key: string, value: number, unit: string | undefined, kind: string, name: string) => {
    fields.push({ key, value, unit, name, kind, first: fields.length === 0, last: false });
  };

  for (const [key, cde, base, kind] of ALIASES) {
    const v = electricityNumber(reading.values, cde, base);
    ctx[key] = v;
    if (v !== undefined) addField(key, v, base ?? undefined, kind, NAMES['1:' + cde]);
  }
  const imp = ctx.energy_import_wh as number | undefined;
  const exp = ctx.energy_export_wh as number | undefined;
  ctx.energy_import_kwh = imp === undefined ? undefined : round3(imp / 1000);
  ctx.energy_export_kwh = exp === undefined ? undefined : round3(exp / 1000);
  const pi = ctx.power_import_w as number | undefined;
  const pe = ctx.power_export_w as number | undefined;
  const net = pi === undefined && pe === undefined ? undefined : round3((pi ?? 0) - (pe ?? 0));
  ctx.power_net_w = net;
  if (net !== undefined) addField('power_net_w', net, 'W', 'gauge', EXTRA_NAMES.power_net_w);

  for (const key of DERIVED_KEYS) {
    const v = derived ? derived[key] : undefined;
    ctx[key] = v;
    if (v !== undefined) addField(key, v, key.endsWith('_w') ? 'W' : 'Wh', 'gauge', EXTRA_NAMES[key]);
  }
  if (fields.length > 0) fields[fields.length - 1].last = true;

  ctx.meter_number = reading.meter.number ?? undefined;
  ctx.system_title = reading.meter.systemTitle ?? undefined;
  const id = meterId(reading);
  ctx.meter_id = id;
  ctx.meter_slug = id === undefined ? undefined : id.replace(/[^A-Za-z0-9_.-]/g, '_');
  ctx.frame_counter = reading.frameCounter ?? undefined;

  // the meter's clock when it says which zone it is in, else when the gateway received the push
  let ms = epochMs(reading.timestamp);
  if (isNaN(ms) && extra && typeof extra.received_ms === 'number' && isFinite(extra.received_ms)) ms = extra.received_ms;
  if (isNaN(ms)) {
    ctx.timestamp_ms = undefined;
    ctx.timestamp_s = undefined;
    ctx.timestamp_ns = undefined;
  } else {
    ms = Math.floor(ms);
    ctx.timestamp_ms = ms;
    ctx.timestamp_s = Math.floor(ms / 1000);
    // a string: nanoseconds since 1970 pass 2^53, where a number would lose digits
    ctx.timestamp_ns = String(ms) + '000000';
  }

  const list: Record<string, unknown>[] = [];
  const keys = Object.keys(reading.values);
  for (let i = 0; i < keys.length; i++) {
    const v = reading.values[keys[i]];
    list.push({ obis: keys[i], value: v.value, unit: v.unit, name: obisName(keys[i]), first: i === 0, last: i === keys.length - 1 });
  }
  ctx.values_list = list;
  ctx.fields = fields;
  ctx.reading_json = JSON.stringify(reading);

  const has: Record<string, true> = {};
  for (const k of Object.keys(ctx)) if (defined(ctx[k])) has[k] = true;
  ctx.has = has;
  return ctx;
}

/**
 * The context of one value, for mode 'values' templates (one message per OBIS value):
 *
 *   obis          the key, `1-0:1.8.0`
 *   value, unit   as in the Reading (unit undefined when the meter sends none)
 *   name          obisName(obis)
 *   timestamp     the meter clock of the Reading
 *   meter_number  0-0:96.1.0 of the Reading
 *   …extra        e.g. base_topic, received_ms
 */
export function buildValueContext(reading: Reading, obis: string, extra?: Record<string, unknown>): TemplateContext {
  const ctx: TemplateContext = {};
  if (extra) for (const k of Object.keys(extra)) ctx[k] = extra[k];
  const v = reading.values[obis];
  ctx.obis = obis;
  ctx.value = v ? v.value : undefined;
  ctx.unit = v ? v.unit : undefined;
  ctx.name = obisName(obis);
  ctx.timestamp = reading.timestamp ?? undefined;
  ctx.meter_number = reading.meter.number ?? undefined;
  return ctx;
}
