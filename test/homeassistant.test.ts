import { describe, expect, it } from 'vitest';
import { discoveryMessages, haNodeId, haState } from '../firmware/publish/homeassistant.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import type { Reading } from '../firmware/reading.js';
import { vector, wire } from './helpers.js';

function reading(id: string): Reading {
  const v = vector(id);
  return decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, softwareCrypto).readings[0];
}

describe('Home Assistant discovery', () => {
  const r = reading('at-tinetz-kaifa-docexample');

  it('flattens the Reading into the state every sensor reads', () => {
    expect(haState(r)).toEqual({
      energy_import_wh: 9108, energy_export_wh: 0, reactive_import_varh: 96, reactive_export_varh: 9,
      power_import_w: 0, power_export_w: 0, power_net_w: 0, voltage_l1_v: 230.8, current_l1_a: 0,
      meter_number: '1KFM0100000035', timestamp: '2021-07-19T15:46:35+02:00',
    });
  });

  it('announces one sensor per quantity the meter sends, ready for the Energy dashboard', () => {
    const msgs = discoveryMessages(r, 'homeassistant', 'mb/homeassistant/state', 'mb/status', '0.1.0');
    const node = haNodeId(r);
    expect(node).toBe('meterbridge_1KFM0100000035');
    const byKey = new Map(msgs.map((m) => [m.topic.split('/')[3], JSON.parse(m.payload)]));
    expect([...byKey.keys()].sort()).toEqual(
      ['current_l1_a', 'energy_export_wh', 'energy_import_wh', 'meter_number', 'power_export_w', 'power_import_w', 'power_net_w', 'reactive_export_varh', 'reactive_import_varh', 'voltage_l1_v'].sort(),
    );
    expect(msgs[0].topic).toBe(`homeassistant/sensor/${node}/energy_import_wh/config`);
    expect(byKey.get('energy_import_wh')).toMatchObject({
      unique_id: `${node}_energy_import_wh`, device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'Wh',
      state_topic: 'mb/homeassistant/state', availability_topic: 'mb/status',
    });
    expect(byKey.get('power_net_w')).toMatchObject({ device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W' });
    expect(byKey.get('meter_number')).toMatchObject({ entity_category: 'diagnostic' });
    expect(byKey.get('voltage_l1_v').device).toMatchObject({ identifiers: [node], manufacturer: 'Kaifa', serial_number: '1KFM0100000035' });
  });

  it('reads Kamstrup lists (B = 1) and names other makers by their system title', () => {
    const k = reading('dk-kamstrup-omnipower-authenc');
    expect(haState(k).voltage_l2_v).toBe(221);
    const msgs = discoveryMessages(k, 'ha', 's', 'a', 'x');
    expect(JSON.parse(msgs[0].payload).device.manufacturer).toBe('Kamstrup');
    expect(haNodeId(k)).toBe('meterbridge_4B414D4501349083'); // no meter number: the system title
  });
});
