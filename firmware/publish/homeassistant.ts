/**
 * Home Assistant MQTT discovery: one device for the meter, one sensor per quantity the meter
 * actually sends, with the device_class / state_class / unit the Energy dashboard needs (energy:
 * total_increasing in Wh; power: measurement in W). All sensors read one flat JSON state topic
 * that the gateway publishes for Home Assistant whatever the user's own templates are, and share
 * the gateway's availability topic. Pure: builds topics and payloads, publishes nothing.
 */
import type { Reading } from '../reading.js';
import { deepFreeze } from '../freeze.js';

interface SensorSpec {
  /** key in the state JSON and in the object id */
  key: string;
  /** OBIS C.D.E the value comes from (B 0 or 1) */
  cde: string;
  name: string;
  deviceClass?: string;
  stateClass: 'measurement' | 'total_increasing' | 'total';
  unit?: string;
  precision?: number;
}

export const HA_SENSORS: readonly SensorSpec[] = deepFreeze([
  { key: 'energy_import_wh', cde: '1.8.0', name: 'Energy import', deviceClass: 'energy', stateClass: 'total_increasing', unit: 'Wh' },
  { key: 'energy_export_wh', cde: '2.8.0', name: 'Energy export', deviceClass: 'energy', stateClass: 'total_increasing', unit: 'Wh' },
  { key: 'energy_import_t1_wh', cde: '1.8.1', name: 'Energy import tariff 1', deviceClass: 'energy', stateClass: 'total_increasing', unit: 'Wh' },
  { key: 'energy_import_t2_wh', cde: '1.8.2', name: 'Energy import tariff 2', deviceClass: 'energy', stateClass: 'total_increasing', unit: 'Wh' },
  { key: 'reactive_import_varh', cde: '3.8.0', name: 'Reactive energy import', deviceClass: 'reactive_energy', stateClass: 'total_increasing', unit: 'varh' },
  { key: 'reactive_export_varh', cde: '4.8.0', name: 'Reactive energy export', deviceClass: 'reactive_energy', stateClass: 'total_increasing', unit: 'varh' },
  { key: 'power_import_w', cde: '1.7.0', name: 'Power import', deviceClass: 'power', stateClass: 'measurement', unit: 'W' },
  { key: 'power_export_w', cde: '2.7.0', name: 'Power export', deviceClass: 'power', stateClass: 'measurement', unit: 'W' },
  { key: 'reactive_import_var', cde: '3.7.0', name: 'Reactive power import', deviceClass: 'reactive_power', stateClass: 'measurement', unit: 'var' },
  { key: 'reactive_export_var', cde: '4.7.0', name: 'Reactive power export', deviceClass: 'reactive_power', stateClass: 'measurement', unit: 'var' },
  { key: 'voltage_l1_v', cde: '32.7.0', name: 'Voltage L1', deviceClass: 'voltage', stateClass: 'measurement', unit: 'V', precision: 1 },
  { key: 'voltage_l2_v', cde: '52.7.0', name: 'Voltage L2', deviceClass: 'voltage', stateClass: 'measurement', unit: 'V', precision: 1 },
  { key: 'voltage_l3_v', cde: '72.7.0', name: 'Voltage L3', deviceClass: 'voltage', stateClass: 'measurement', unit: 'V', precision: 1 },
  { key: 'current_l1_a', cde: '31.7.0', name: 'Current L1', deviceClass: 'current', stateClass: 'measurement', unit: 'A', precision: 2 },
  { key: 'current_l2_a', cde: '51.7.0', name: 'Current L2', deviceClass: 'current', stateClass: 'measurement', unit: 'A', precision: 2 },
  { key: 'current_l3_a', cde: '71.7.0', name: 'Current L3', deviceClass: 'current', stateClass: 'measurement', unit: 'A', precision: 2 },
  { key: 'power_factor', cde: '13.7.0', name: 'Power factor', deviceClass: 'power_factor', stateClass: 'measurement', precision: 3 },
  { key: 'frequency_hz', cde: '14.7.0', name: 'Frequency', deviceClass: 'frequency', stateClass: 'measurement', unit: 'Hz', precision: 2 },
]);

/** The value of OBIS 1-0:C.D.E (or 1-1:C.D.E, as Kamstrup sends) in a Reading. */
export function electricityValue(r: Reading, cde: string): number | undefined {
  const v = r.values['1-0:' + cde] ?? r.values['1-1:' + cde];
  return v && typeof v.value === 'number' ? v.value : undefined;
}

/** The flat state object every discovered sensor reads. */
export function haState(r: Reading): Record<string, number | string | null> {
  const s: Record<string, number | string | null> = {};
  for (const spec of HA_SENSORS) {
    const v = electricityValue(r, spec.cde);
    if (v !== undefined) s[spec.key] = v;
  }
  const imp = electricityValue(r, '1.7.0');
  const exp = electricityValue(r, '2.7.0');
  if (imp !== undefined || exp !== undefined) s.power_net_w = (imp ?? 0) - (exp ?? 0);
  s.meter_number = r.meter.number;
  s.timestamp = r.timestamp;
  return s;
}

const MAKERS: Readonly<Record<string, string>> = deepFreeze({
  KFM: 'Kaifa', LGZ: 'Landis+Gyr', SMS: 'Siemens', ELS: 'Honeywell Elster', SAG: 'Sagemcom', KAM: 'Kamstrup', AID: 'Aidon', ISK: 'Iskraemeco',
});

function manufacturer(r: Reading): string {
  const t = r.meter.systemTitle;
  if (!t || t.length < 6) return 'unknown';
  let code = '';
  for (let i = 0; i < 6; i += 2) code += String.fromCharCode(parseInt(t.slice(i, i + 2), 16));
  return MAKERS[code] ?? code;
}

export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The node id that names the meter in discovery topics and unique ids. */
export function haNodeId(r: Reading): string {
  return 'meterbridge_' + slug(r.meter.number ?? r.meter.systemTitle ?? 'meter');
}

/**
 * Retained config messages for the sensors this Reading has. `stateTopic` is where haState() is
 * published, `availabilityTopic` the gateway's online/offline status topic.
 */
export function discoveryMessages(r: Reading, prefix: string, stateTopic: string, availabilityTopic: string, swVersion: string): DiscoveryMessage[] {
  const node = haNodeId(r);
  const state = haState(r);
  const device = {
    identifiers: [node],
    name: `Smart meter ${r.meter.number ?? r.meter.systemTitle ?? ''}`.trim(),
    manufacturer: manufacturer(r),
    model: r.meter.logicalDeviceName ?? undefined,
    serial_number: r.meter.number ?? undefined,
    sw_version: `meterbridge ${swVersion}`,
    via_device: undefined,
  };
  const out: DiscoveryMessage[] = [];
  const specs: SensorSpec[] = HA_SENSORS.filter((s) => state[s.key] !== undefined);
  if (state.power_net_w !== undefined) specs.push({ key: 'power_net_w', cde: '', name: 'Power net', deviceClass: 'power', stateClass: 'measurement', unit: 'W' });
  for (const spec of specs) {
    const config: Record<string, unknown> = {
      name: spec.name,
      unique_id: `${node}_${spec.key}`,
      object_id: `${node}_${spec.key}`,
      state_topic: stateTopic,
      value_template: `{{ value_json.${spec.key} }}`,
      state_class: spec.stateClass,
      availability_topic: availabilityTopic,
      device,
    };
    if (spec.deviceClass) config.device_class = spec.deviceClass;
    if (spec.unit) config.unit_of_measurement = spec.unit;
    if (spec.precision !== undefined) config.suggested_display_precision = spec.precision;
    out.push({ topic: `${prefix}/sensor/${node}/${spec.key}/config`, payload: JSON.stringify(config) });
  }
  if (r.meter.number) {
    out.push({
      topic: `${prefix}/sensor/${node}/meter_number/config`,
      payload: JSON.stringify({
        name: 'Meter number', unique_id: `${node}_meter_number`, object_id: `${node}_meter_number`, state_topic: stateTopic,
        value_template: '{{ value_json.meter_number }}', entity_category: 'diagnostic', availability_topic: availabilityTopic, device,
      }),
    });
  }
  return out;
}
