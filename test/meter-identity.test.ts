// The meter's name that never flips between the lists a meter alternates.
import { describe, expect, it } from 'vitest';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { MeterIdentity } from '../firmware/meter-identity.js';
import type { Reading } from '../firmware/reading.js';
import { vector, wire } from './helpers.js';
import { memoryStorage } from './support/fakes.js';

function reading(id: string): Reading {
  const v = vector(id);
  return decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, softwareCrypto).readings[0];
}

describe('MeterIdentity', () => {
  const plain = (number: string | null): Reading => ({ ...reading('no-aidon-1phase-plain'), meter: { systemTitle: null, number, logicalDeviceName: null } });

  it('an unencrypted meter alternating lists with and without the number keeps the number', () => {
    const id = new MeterIdentity(memoryStorage());
    expect(id.of(plain(null))).toBe(null); // nothing known yet
    expect(id.of(plain('6970631403757615'))).toBe('6970631403757615');
    for (let i = 0; i < 5; i++) expect(id.of(plain(i % 2 ? '6970631403757615' : null))).toBe('6970631403757615');
  });

  it('an encrypted meter keeps the name chosen for its system title, across a restart', () => {
    const storage = memoryStorage();
    const r = reading('at-tinetz-kaifa-docexample');
    const noNumber = { ...r, meter: { ...r.meter, number: null } };
    const id = new MeterIdentity(storage);
    expect(id.of(noNumber)).toBe(r.meter.systemTitle);
    expect(id.of(r)).toBe(r.meter.systemTitle);
    const other = new MeterIdentity(storage);
    expect(other.of(r)).toBe(r.meter.systemTitle);
    const fresh = new MeterIdentity(memoryStorage());
    expect(fresh.of(r)).toBe('1KFM0100000035');
    expect(fresh.of(noNumber)).toBe('1KFM0100000035');
  });

  it('a new meter (another number or system title) gets a new name', () => {
    const id = new MeterIdentity(memoryStorage());
    expect(id.of(plain('A'))).toBe('A');
    expect(id.of(plain('B'))).toBe('B');
    const r = reading('at-tinetz-kaifa-docexample');
    expect(id.of(r)).toBe('1KFM0100000035');
    expect(id.of({ ...r, meter: { ...r.meter, systemTitle: '4B464D0000000001', number: null } })).toBe('4B464D0000000001');
  });
});
