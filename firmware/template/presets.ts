/**
 * The shipped template presets: a topic and a payload template per target system, with the
 * escaping and content type they are written for. The names they use are those of context.ts.
 *
 * Two rules keep every payload valid whatever the meter sends:
 *  - a number is written only inside {{#has.x}}…{{/has.x}} (a section over the number itself
 *    would skip a real 0 W), or by iterating `fields`, which lists only the values present;
 *  - separators come first (`,"x":…`) after a key that is always written, or from `first`.
 *
 * mode 'values' (openhab) renders once per OBIS value with buildValueContext():
 *   { obis, value, unit, name, timestamp, meter_number, base_topic, received_ms }
 * mode 'fields' (iobroker) renders once per quantity present with buildFieldContexts():
 *   { key, value, unit, name, timestamp, meter_number, frame_counter, base_topic, received_ms }
 * `targets` says where a preset fits; the UI offers it only there.
 *
 * Does not know: MQTT, HTTP, or which preset a config uses.
 */
import { QUANTITIES } from '../quantities.js';
import { deepFreeze } from '../freeze.js';

export interface Preset {
  id: string;
  name: string;
  description: string;
  /** MQTT topic; absent for presets that are pulled (Prometheus) */
  topicTemplate?: string;
  payloadTemplate: string;
  escape: 'json' | 'none';
  contentType: string;
  /** 'reading' (default): one message per Reading; 'values': one per OBIS value; 'fields': one per quantity */
  mode?: 'reading' | 'values' | 'fields';
  /** where it fits: MQTT, HTTP push, GET /metrics */
  targets: readonly ('mqtt' | 'http' | 'metrics')[];
}

/** `"key":"{{key}}"`, or `"key":null` when the name is unset */
function jsonString(key: string): string {
  return `"${key}":{{#${key}}}"{{${key}}}"{{/${key}}}{{^${key}}}null{{/${key}}}`;
}

/** `,"key":{{key}}`, written only when the value exists (0 included) */
function jsonNumber(key: string): string {
  return `{{#has.${key}}},"${key}":{{${key}}}{{/has.${key}}}`;
}

/**
 * The keys the Home Assistant discovery configs read (`value_json.<key>`): the quantities
 * (quantities.ts), the same as publish/homeassistant.ts haState().
 */
export const HA_STATE_KEYS: readonly string[] = /* @__PURE__ */ Object.freeze(QUANTITIES.map((q) => q.key));

const HA_PAYLOAD =
  '{' + jsonString('meter_number') + ',' + jsonString('timestamp') +
  ',"frame_counter":{{#has.frame_counter}}{{frame_counter}}{{/has.frame_counter}}{{^has.frame_counter}}null{{/has.frame_counter}}' +
  HA_STATE_KEYS.map(jsonNumber).join('') + '}';

// Line protocol: measurement[,tag=v] field=v[,field=v…] [timestamp ns]. No line at all without
// fields (a line without them is invalid); no tag without a meter name (an empty tag is invalid).
const INFLUX_PAYLOAD =
  '{{#fields.length}}electricity{{#meter_slug}},meter={{meter_slug}}{{/meter_slug}} ' +
  '{{#fields}}{{^first}},{{/first}}{{key}}={{value}}{{/fields}}' +
  '{{#timestamp_ns}} {{timestamp_ns}}{{/timestamp_ns}}{{/fields.length}}';

// Text exposition format 0.0.4: HELP and TYPE once per metric, one sample per value present;
// names and labels from quantities.ts. The gateway adds its own metrics (up, counters, queues).
const PROMETHEUS_PAYLOAD =
  '{{#fields}}\n' +
  '{{#prom_head}}\n' +
  '# HELP {{prom_name}} {{prom_help}}\n' +
  '# TYPE {{prom_name}} {{kind}}\n' +
  '{{/prom_head}}\n' +
  '{{prom_name}}{meter="{{meter_slug}}"{{{prom_labels}}}} {{prom_value}}\n' +
  '{{/fields}}\n';

export const PRESETS: readonly Preset[] = /* @__PURE__ */ Object.freeze([
  {
    id: 'homeassistant',
    name: 'Home Assistant',
    description:
      'Flat JSON state with the keys the MQTT discovery sensors read (energy_import_wh, power_import_w, voltage_l1_v…, meter_number, timestamp); values the meter does not send are left out.',
    topicTemplate: '{{base_topic}}/state',
    payloadTemplate: HA_PAYLOAD,
    escape: 'json',
    contentType: 'application/json',
    mode: 'reading',
    targets: ['mqtt'],
  },
  {
    id: 'openhab',
    name: 'openHAB',
    description:
      'One message per OBIS value on {{base_topic}}/<OBIS code>, the plain value as payload, for Generic MQTT Thing channels. Names: obis, value, unit, name, timestamp, meter_number. Once saved, GET /api/openhab-thing gives the Thing ready to paste into a .things file: a channel per value, and the gateway\'s status topic as availability with the payloads online/offline (openHAB\'s defaults are ON/OFF).',
    topicTemplate: '{{base_topic}}/{{obis}}',
    payloadTemplate: '{{value}}',
    escape: 'none',
    contentType: 'text/plain; charset=utf-8',
    mode: 'values',
    targets: ['mqtt'],
  },
  {
    id: 'iobroker',
    name: 'ioBroker',
    description:
      'One message per quantity on {{base_topic}}/<name> (energy_import_wh, power_import_w, voltage_l1_v…, the derived day/month energy and quarter-hour averages), the plain number as payload: the MQTT adapter makes each a number state.',
    topicTemplate: '{{base_topic}}/{{key}}',
    payloadTemplate: '{{value}}',
    escape: 'none',
    contentType: 'text/plain; charset=utf-8',
    mode: 'fields',
    targets: ['mqtt'],
  },
  {
    id: 'influxdb',
    name: 'InfluxDB line protocol',
    description:
      'One line of measurement "electricity", tag meter, a float field per value present, nanosecond timestamp from the meter clock (or the time of receipt). For InfluxDB 1.x POST /write?db=<database>, 2.x POST /api/v2/write?bucket=<bucket>&precision=ns, or Telegraf.',
    topicTemplate: '{{base_topic}}/influx',
    payloadTemplate: INFLUX_PAYLOAD,
    escape: 'none',
    contentType: 'text/plain; charset=utf-8',
    mode: 'reading',
    targets: ['mqtt', 'http'],
  },
  {
    id: 'prometheus',
    name: 'Prometheus',
    description: 'Text exposition format for GET /metrics: one metric per quantity present, named in base units (energy in joules: Wh × 3600; meterbridge_active_energy_import_joules_total, meterbridge_voltage_volts{phase="L1"}…), label meter. The gateway adds its own metrics.',
    payloadTemplate: PROMETHEUS_PAYLOAD,
    escape: 'none',
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    mode: 'reading',
    targets: ['metrics'],
  },
  {
    id: 'json',
    name: 'Generic JSON',
    description: 'The whole Reading as JSON: meter, timestamp, frameCounter, security, format and values keyed by OBIS code.',
    topicTemplate: '{{base_topic}}/reading',
    payloadTemplate: '{{{reading_json}}}',
    escape: 'json',
    contentType: 'application/json',
    mode: 'reading',
    targets: ['mqtt', 'http'],
  },
].map((p) => deepFreeze(p as Preset)));

export function presetById(id: string): Preset | undefined {
  for (const p of PRESETS) if (p.id === id) return p;
  return undefined;
}
