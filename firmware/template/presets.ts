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
 *
 * Does not know: MQTT, HTTP, or which preset a config uses.
 */

export interface Preset {
  id: string;
  name: string;
  description: string;
  /** MQTT topic; absent for presets that are pulled (Prometheus) */
  topicTemplate?: string;
  payloadTemplate: string;
  escape: 'json' | 'none';
  contentType: string;
  /** 'reading' (default): one message per Reading; 'values': one per OBIS value */
  mode?: 'reading' | 'values';
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
 * The keys the Home Assistant discovery configs read (`{{ value_json.<key> }}`, see
 * publish/homeassistant.ts HA_SENSORS and haState()).
 */
export const HA_STATE_KEYS: readonly string[] = /* @__PURE__ */ Object.freeze([
  'energy_import_wh', 'energy_export_wh', 'energy_import_t1_wh', 'energy_import_t2_wh',
  'reactive_import_varh', 'reactive_export_varh', 'power_import_w', 'power_export_w',
  'reactive_import_var', 'reactive_export_var', 'voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v',
  'current_l1_a', 'current_l2_a', 'current_l3_a', 'power_factor', 'frequency_hz', 'power_net_w',
]);

const HA_PAYLOAD = '{' + jsonString('meter_number') + ',' + jsonString('timestamp') + HA_STATE_KEYS.map(jsonNumber).join('') + '}';

const IOBROKER_PAYLOAD =
  '{' + jsonString('meter_number') + ',' + jsonString('timestamp') +
  ',"timestamp_ms":{{#has.timestamp_ms}}{{timestamp_ms}}{{/has.timestamp_ms}}{{^has.timestamp_ms}}null{{/has.timestamp_ms}}' +
  '{{#fields}},"{{key}}":{{value}}{{/fields}}}';

// Line protocol: measurement[,tag=v] field=v[,field=v…] [timestamp ns]. No line at all without
// fields (a line without them is invalid); no tag without a meter name (an empty tag is invalid).
const INFLUX_PAYLOAD =
  '{{#fields.length}}electricity{{#meter_slug}},meter={{meter_slug}}{{/meter_slug}} ' +
  '{{#fields}}{{^first}},{{/first}}{{key}}={{value}}{{/fields}}' +
  '{{#timestamp_ns}} {{timestamp_ns}}{{/timestamp_ns}}{{/fields.length}}';

// Text exposition format 0.0.4: HELP, TYPE and one sample per value present.
const PROMETHEUS_PAYLOAD =
  '{{#fields}}\n' +
  '# HELP meterbridge_{{key}} {{name}}\n' +
  '# TYPE meterbridge_{{key}} {{kind}}\n' +
  'meterbridge_{{key}}{meter="{{meter_slug}}"} {{value}}\n' +
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
  },
  {
    id: 'openhab',
    name: 'openHAB',
    description:
      'One message per OBIS value on {{base_topic}}/<OBIS code>, the plain value as payload, for Generic MQTT Thing channels. Names: obis, value, unit, name, timestamp, meter_number.',
    topicTemplate: '{{base_topic}}/{{obis}}',
    payloadTemplate: '{{value}}',
    escape: 'none',
    contentType: 'text/plain; charset=utf-8',
    mode: 'values',
  },
  {
    id: 'iobroker',
    name: 'ioBroker',
    description: 'Flat JSON: meter_number, timestamp, timestamp_ms and every value present under its friendly name, including the derived day/month energy and quarter-hour averages.',
    topicTemplate: '{{base_topic}}/data',
    payloadTemplate: IOBROKER_PAYLOAD,
    escape: 'json',
    contentType: 'application/json',
    mode: 'reading',
  },
  {
    id: 'influxdb',
    name: 'InfluxDB line protocol',
    description:
      'One line of measurement "electricity", tag meter, a float field per value present, nanosecond timestamp from the meter clock (or the time of receipt). For POST /api/v2/write?precision=ns or Telegraf.',
    topicTemplate: '{{base_topic}}/influx',
    payloadTemplate: INFLUX_PAYLOAD,
    escape: 'none',
    contentType: 'text/plain; charset=utf-8',
    mode: 'reading',
  },
  {
    id: 'prometheus',
    name: 'Prometheus',
    description: 'Text exposition format for GET /metrics: one meterbridge_<name> metric per value present (energy counters as counter, the rest as gauge), label meter.',
    payloadTemplate: PROMETHEUS_PAYLOAD,
    escape: 'none',
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    mode: 'reading',
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
  },
].map((p) => Object.freeze(p as Preset)));

export function presetById(id: string): Preset | undefined {
  for (const p of PRESETS) if (p.id === id) return p;
  return undefined;
}
