/**
 * The electricity quantities, one table for every consumer: the template alias (and Home
 * Assistant state key), the OBIS C.D.E it comes from, the base unit, the label, and how Home
 * Assistant and Prometheus see it. Adding a quantity is adding one row.
 *
 *   key          alias in templates and key in the Home Assistant state JSON, unit-suffixed
 *   cde          OBIS 1-0:C.D.E (1-1 accepted, as Kamstrup sends); '' = computed (net power) or
 *                derived across readings (derived.ts)
 *   unit         base unit the value is in (null: unitless); the core converts kWh/kW already
 *   counter      a register that only rises (energy), else an instantaneous value or a total that
 *                resets (today, this month)
 *   ha           device_class, state_class (null: no long-term statistics, see below), precision
 *   prom         metric name, constant labels and scale; names follow the Prometheus conventions
 *                (promtool's lint): base units spelled out (energy in joules: Wh × 3600; reactive
 *                energy in volt-ampere-reactive seconds: varh × 3600), `_total` on counters, one
 *                metric per quantity with a `phase` or `tariff` label where that is the only
 *                difference
 *
 * Home Assistant state classes: the meter's registers are total_increasing, the Energy dashboard
 * reads them. Energy today/this month and the quarter-hour averages are aggregates of those, so
 * they carry no state class: Home Assistant's statistics would otherwise count the same energy
 * twice, and a value that resets at midnight is not a measurement of the present.
 *
 * Does not know: templates, MQTT, HTTP. XS: frozen at module level, no RegExp.
 */
import { deepFreeze } from './freeze.js';
import type { Value } from './reading.js';

export interface HaSpec {
  deviceClass?: string;
  stateClass: 'measurement' | 'total_increasing' | null;
  precision?: number;
}

export interface Quantity {
  key: string;
  cde: string;
  unit: string | null;
  name: string;
  counter: boolean;
  /** computed from others or derived across readings, not an OBIS value */
  derived: boolean;
  ha: HaSpec;
  /** value × scale is the sample (3600: Wh to J, varh to var·s) */
  prom: { name: string; labels: string; scale: number };
}

function q(key: string, cde: string, unit: string | null, name: string, counter: boolean, ha: HaSpec, prom: string, labels = ''): Quantity {
  // Prometheus wants base units: energy in joules, reactive energy in volt-ampere-reactive seconds
  const scale = unit === 'Wh' || unit === 'varh' ? 3600 : 1;
  return Object.freeze({ key, cde, unit, name, counter, derived: cde === '', ha: Object.freeze(ha), prom: Object.freeze({ name: 'meterbridge_' + prom, labels, scale }) });
}

const ENERGY: HaSpec = { deviceClass: 'energy', stateClass: 'total_increasing' };
const REACTIVE_ENERGY: HaSpec = { deviceClass: 'reactive_energy', stateClass: 'total_increasing' };
const POWER: HaSpec = { deviceClass: 'power', stateClass: 'measurement' };
const REACTIVE_POWER: HaSpec = { deviceClass: 'reactive_power', stateClass: 'measurement' };
const VOLTAGE: HaSpec = { deviceClass: 'voltage', stateClass: 'measurement', precision: 1 };
const CURRENT: HaSpec = { deviceClass: 'current', stateClass: 'measurement', precision: 2 };
const ENERGY_AGGREGATE: HaSpec = { deviceClass: 'energy', stateClass: null };
const POWER_AGGREGATE: HaSpec = { deviceClass: 'power', stateClass: null };

/** In the order templates' `fields` list them; members of one Prometheus metric stay adjacent. */
export const QUANTITIES: readonly Quantity[] = /* @__PURE__ */ deepFreeze([
  q('energy_import_wh', '1.8.0', 'Wh', 'Active energy import', true, ENERGY, 'active_energy_import_joules_total'),
  q('energy_export_wh', '2.8.0', 'Wh', 'Active energy export', true, ENERGY, 'active_energy_export_joules_total'),
  q('energy_import_t1_wh', '1.8.1', 'Wh', 'Active energy import tariff 1', true, ENERGY, 'active_energy_import_tariff_joules_total', 'tariff="1"'),
  q('energy_import_t2_wh', '1.8.2', 'Wh', 'Active energy import tariff 2', true, ENERGY, 'active_energy_import_tariff_joules_total', 'tariff="2"'),
  q('energy_export_t1_wh', '2.8.1', 'Wh', 'Active energy export tariff 1', true, ENERGY, 'active_energy_export_tariff_joules_total', 'tariff="1"'),
  q('energy_export_t2_wh', '2.8.2', 'Wh', 'Active energy export tariff 2', true, ENERGY, 'active_energy_export_tariff_joules_total', 'tariff="2"'),
  q('reactive_import_varh', '3.8.0', 'varh', 'Reactive energy import', true, REACTIVE_ENERGY, 'reactive_energy_import_volt_ampere_reactive_seconds_total'),
  q('reactive_export_varh', '4.8.0', 'varh', 'Reactive energy export', true, REACTIVE_ENERGY, 'reactive_energy_export_volt_ampere_reactive_seconds_total'),
  q('power_import_w', '1.7.0', 'W', 'Active power import', false, POWER, 'active_power_import_watts'),
  q('power_export_w', '2.7.0', 'W', 'Active power export', false, POWER, 'active_power_export_watts'),
  q('reactive_import_var', '3.7.0', 'var', 'Reactive power import', false, REACTIVE_POWER, 'reactive_power_import_volt_amperes_reactive'),
  q('reactive_export_var', '4.7.0', 'var', 'Reactive power export', false, REACTIVE_POWER, 'reactive_power_export_volt_amperes_reactive'),
  q('voltage_l1_v', '32.7.0', 'V', 'Voltage L1', false, VOLTAGE, 'voltage_volts', 'phase="L1"'),
  q('voltage_l2_v', '52.7.0', 'V', 'Voltage L2', false, VOLTAGE, 'voltage_volts', 'phase="L2"'),
  q('voltage_l3_v', '72.7.0', 'V', 'Voltage L3', false, VOLTAGE, 'voltage_volts', 'phase="L3"'),
  q('current_l1_a', '31.7.0', 'A', 'Current L1', false, CURRENT, 'current_amperes', 'phase="L1"'),
  q('current_l2_a', '51.7.0', 'A', 'Current L2', false, CURRENT, 'current_amperes', 'phase="L2"'),
  q('current_l3_a', '71.7.0', 'A', 'Current L3', false, CURRENT, 'current_amperes', 'phase="L3"'),
  q('power_factor', '13.7.0', null, 'Power factor', false, { deviceClass: 'power_factor', stateClass: 'measurement', precision: 3 }, 'power_factor_ratio'),
  q('frequency_hz', '14.7.0', 'Hz', 'Frequency', false, { deviceClass: 'frequency', stateClass: 'measurement', precision: 2 }, 'frequency_hertz'),
  q('power_net_w', '', 'W', 'Active power net (import - export)', false, POWER, 'active_power_net_watts'),
  q('energy_today_import_wh', '', 'Wh', 'Active energy import today', false, ENERGY_AGGREGATE, 'active_energy_import_today_joules'),
  q('energy_today_export_wh', '', 'Wh', 'Active energy export today', false, ENERGY_AGGREGATE, 'active_energy_export_today_joules'),
  q('energy_month_import_wh', '', 'Wh', 'Active energy import this month', false, ENERGY_AGGREGATE, 'active_energy_import_month_joules'),
  q('energy_month_export_wh', '', 'Wh', 'Active energy export this month', false, ENERGY_AGGREGATE, 'active_energy_export_month_joules'),
  q('power_avg_15min_w', '', 'W', 'Average net power, current quarter hour', false, POWER_AGGREGATE, 'active_power_net_average_current_quarter_watts'),
  q('power_avg_last_15min_w', '', 'W', 'Average net power, last quarter hour', false, POWER_AGGREGATE, 'active_power_net_average_last_quarter_watts'),
  q('energy_last_15min_import_wh', '', 'Wh', 'Active energy import, last quarter hour', false, ENERGY_AGGREGATE, 'active_energy_import_last_quarter_joules'),
  q('energy_last_15min_export_wh', '', 'Wh', 'Active energy export, last quarter hour', false, ENERGY_AGGREGATE, 'active_energy_export_last_quarter_joules'),
]);

export function quantityByKey(key: string): Quantity | undefined {
  for (const x of QUANTITIES) if (x.key === key) return x;
  return undefined;
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

/** Import minus export active power (W), the one definition; undefined when neither is there. */
export function netPower(values: Record<string, Value>): number | undefined {
  const pi = electricityNumber(values, '1.7.0', 'W');
  const pe = electricityNumber(values, '2.7.0', 'W');
  return pi === undefined && pe === undefined ? undefined : round3((pi ?? 0) - (pe ?? 0));
}
