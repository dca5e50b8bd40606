// The one table of electricity quantities and the helpers every consumer shares.
import { describe, expect, it } from 'vitest';
import { QUANTITIES, electricityNumber, netPower, quantityByKey, round3 } from '../firmware/quantities.js';

describe('the quantities table', () => {
  it('is frozen, keys are unique and unit-suffixed, Prometheus names follow the conventions', () => {
    expect(Object.isFrozen(QUANTITIES)).toBe(true);
    const keys = QUANTITIES.map((q) => q.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const q of QUANTITIES) {
      expect(Object.isFrozen(q) && Object.isFrozen(q.ha) && Object.isFrozen(q.prom), q.key).toBe(true);
      expect(q.prom.name, q.key).toMatch(/^meterbridge_[a-z0-9_]+$/);
      // counters end in _total, nothing else does; no abbreviated units in names
      expect(q.prom.name.endsWith('_total'), q.key).toBe(q.counter);
      expect(q.prom.name, q.key).not.toMatch(/_(w|wh|v|a|var|varh|hz|hours)(_|$)/);
      if (q.unit === 'Wh') expect(q.prom.name, q.key).toMatch(/_joules(_total)?$/);
      // registers are the only ones in the Energy dashboard
      if (q.counter) expect(q.ha.stateClass).toBe('total_increasing');
    }
    // members of one metric are adjacent, so HELP and TYPE come once before them
    const names = QUANTITIES.map((q) => q.prom.name);
    for (const n of new Set(names)) expect(names.lastIndexOf(n) - names.indexOf(n) + 1, n).toBe(names.filter((x) => x === n).length);
    expect(quantityByKey('voltage_l2_v')).toMatchObject({ cde: '52.7.0', unit: 'V', prom: { name: 'meterbridge_voltage_volts', labels: 'phase="L2"', scale: 1 } });
    expect(quantityByKey('nope')).toBe(undefined);
  });

  it('reads OBIS 1-0 before 1-1, converts kW/kWh, refuses other units and non-numbers', () => {
    expect(electricityNumber({ '1-1:1.7.0': { value: 5, unit: 'W' }, '1-0:1.7.0': { value: 7, unit: 'W' } }, '1.7.0', 'W')).toBe(7);
    expect(electricityNumber({ '1-1:1.7.0': { value: 5, unit: 'W' } }, '1.7.0', 'W')).toBe(5);
    expect(electricityNumber({ '1-0:1.8.0': { value: 1.5, unit: 'kWh' } }, '1.8.0', 'Wh')).toBe(1500);
    expect(electricityNumber({ '1-0:1.8.0': { value: 1.5, unit: 'varh' } }, '1.8.0', 'Wh')).toBe(undefined);
    expect(electricityNumber({ '1-0:1.8.0': { value: 'x' } }, '1.8.0', 'Wh')).toBe(undefined);
  });

  it('netPower is import minus export, when either is there', () => {
    expect(netPower({ '1-0:1.7.0': { value: 0.3, unit: 'W' }, '1-0:2.7.0': { value: 0.1, unit: 'W' } })).toBe(0.2);
    expect(netPower({ '1-0:2.7.0': { value: 500, unit: 'W' } })).toBe(-500);
    expect(netPower({})).toBe(undefined);
    expect(round3(0.1 + 0.2)).toBe(0.3);
  });
});
