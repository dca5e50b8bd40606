/**
 * The context templates render against: the Reading's own fields plus friendly aliases, lists for
 * sections, derived values and whatever the caller adds (base_topic, received_ms).
 *
 *   meter, timestamp, frameCounter, security, format, values   the Reading as it is
 *   energy_import_wh … frequency_hz     aliases of electricity values (quantities.ts), in the
 *                                       base unit (Wh, W, var, varh, V, A, Hz); undefined when
 *                                       the Reading lacks them
 *   power_net_w                         import − export, when either is there (netPower)
 *   energy_today_import_wh …            the derived values, when given
 *   energy_last_15min_import_wh/_export_wh, energy_last_15min_start/_end
 *                                       the last completed quarter hour from the meter's
 *                                       registers (the history) while it is the one just past;
 *                                       start/end ISO 8601 local time with the offset
 *   meter_number, system_title, frame_counter, timestamp_ms/_s/_ns
 *   meter_id, meter_slug                a name for the meter: `extra.meter_id` when the caller
 *                                       gives one (the gateway's, which never flips between
 *                                       lists), else its number, else the system title, else
 *                                       the logical device name; the slug keeps only
 *                                       [A-Za-z0-9_.-] so it is safe in topics, Influx tags and
 *                                       Prometheus labels without escaping
 *   has.<name>                          true for every name above whose value is not null or
 *                                       undefined. A section over a number skips 0 (mustache
 *                                       falsiness), so test presence with
 *                                       {{#has.power_export_w}}…{{/has.power_export_w}}
 *   fields                              [{key, value, unit, name, kind, first, last, prom_name,
 *                                       prom_value, prom_labels, prom_head, prom_help}] for every quantity
 *                                       that has a value (kind: counter | gauge); prom_head marks
 *                                       the first sample of a Prometheus metric
 *   values_list                         [{obis, value, unit, name, first, last}] in the order the
 *                                       meter sent them
 *   reading_json                        JSON.stringify(reading)
 *
 * Does not know: templates, topics, or where the derived values come from (derived.ts).
 */
import type { Reading } from '../reading.js';
import { epochMs } from './clock.js';
import { derivedNumber, type DerivedValues } from './derived.js';
import { QUANTITIES, electricityNumber, netPower, round3 } from '../quantities.js';
import { deepFreeze } from '../freeze.js';

export type TemplateContext = Record<string, unknown>;

/** Short English labels, keyed `A:C.D.E` (B ignored: 1-0 and 1-1 name the same quantity). */
const NAMES: Readonly<Record<string, string>> = /* @__PURE__ */ deepFreeze({
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

// Made on first use, never at module level: XS 8.2.3 crashes on exec() of a RegExp that the
// preload put in flash (hal/moddable/README.md, "Preload rules").
let obisKeyRe: RegExp | undefined;

/** A short English label for an OBIS key (`1-0:1.8.0`), or the key itself when unknown. */
export function obisName(obis: string): string {
  const m = (obisKeyRe ??= /^(\d{1,3})-\d{1,3}:(\d{1,3}\.\d{1,3}\.\d{1,3})(\*\d{1,3})?$/).exec(obis);
  if (!m || m[3] !== undefined) return obis; // *F: a billing period or profile, not the quantity
  return NAMES[m[1] + ':' + m[2]] ?? obis;
}

export { electricityNumber, round3 };

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
  let family = '';
  for (const qty of QUANTITIES) {
    let v: number | undefined;
    if (!qty.derived) v = electricityNumber(reading.values, qty.cde, qty.unit);
    else if (qty.key === 'power_net_w') v = netPower(reading.values);
    else v = derivedNumber(derived, qty.key);
    ctx[qty.key] = v;
    if (v === undefined) continue;
    fields.push({
      key: qty.key, value: v, unit: qty.unit ?? undefined, name: qty.name, kind: qty.counter ? 'counter' : 'gauge', first: fields.length === 0, last: false,
      // Prometheus: HELP and TYPE once per metric, before its first sample
      prom_name: qty.prom.name, prom_value: qty.prom.scale === 1 ? v : round3(v * qty.prom.scale), prom_labels: qty.prom.labels ? ',' + qty.prom.labels : '', prom_head: qty.prom.name !== family,
      prom_help: qty.prom.labels ? qty.name.slice(0, qty.name.lastIndexOf(' ')) : qty.name,
    });
    family = qty.prom.name;
  }
  const imp = ctx.energy_import_wh as number | undefined;
  const exp = ctx.energy_export_wh as number | undefined;
  ctx.energy_last_15min_start = derived ? derived.energy_last_15min_start : undefined;
  ctx.energy_last_15min_end = derived ? derived.energy_last_15min_end : undefined;
  ctx.energy_import_kwh = imp === undefined ? undefined : round3(imp / 1000);
  ctx.energy_export_kwh = exp === undefined ? undefined : round3(exp / 1000);
  if (fields.length > 0) fields[fields.length - 1].last = true;

  ctx.meter_number = reading.meter.number ?? undefined;
  ctx.system_title = reading.meter.systemTitle ?? undefined;
  // the gateway's name for the meter, which does not flip between lists, when it gives one
  const id = typeof ctx.meter_id === 'string' ? ctx.meter_id : meterId(reading);
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
 * The contexts of mode 'fields' templates, one per quantity present (`fields` of buildContext):
 *
 *   key, value, unit, name   the quantity (`energy_import_wh`, 1234, 'Wh', 'Active energy import')
 *   timestamp, meter_number, frame_counter, meter_id   of the Reading
 *   …extra                   e.g. base_topic, received_ms
 */
export function buildFieldContexts(reading: Reading, derived: DerivedValues | null, extra?: Record<string, unknown>): TemplateContext[] {
  const all = buildContext(reading, derived, extra);
  const out: TemplateContext[] = [];
  for (const f of all.fields as Record<string, unknown>[]) {
    const ctx: TemplateContext = {};
    if (extra) for (const k of Object.keys(extra)) ctx[k] = extra[k];
    ctx.key = f.key;
    ctx.value = f.value;
    ctx.unit = f.unit;
    ctx.name = f.name;
    ctx.timestamp = reading.timestamp ?? undefined;
    ctx.meter_number = reading.meter.number ?? undefined;
    ctx.frame_counter = reading.frameCounter ?? undefined;
    ctx.meter_id = all.meter_id;
    out.push(ctx);
  }
  return out;
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
