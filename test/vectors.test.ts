// Every real push in test/fixtures/real-meters.json and more-meters.json through the pipeline the
// firmware runs.
import { describe, expect, it } from 'vitest';
import { MeterDecoder, decode, type DecoderKeys } from '../firmware/decoder.js';
import { authenticationKey, encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import type { Reading } from '../firmware/reading.js';
import type { DecodeError } from '../firmware/errors.js';
import { crc16x25 } from '../firmware/link/hdlc.js';
import { allVectors as vectors, apduOf, concat, hex, vector, wire, type Vector } from './helpers.js';

function keysOf(v: Vector): DecoderKeys {
  return {
    encryption: v.key ? encryptionKey(v.key) : null,
    authentication: v.auth_key ? authenticationKey(v.auth_key) : null,
  };
}

function expectValues(r: Reading, v: Vector): void {
  for (const [obis, want] of Object.entries(v.expected)) {
    const got = r.values[obis];
    expect(got, `${v.id}: ${obis} missing`).toBeDefined();
    if (typeof want === 'number' && typeof got.value === 'number') expect(got.value, `${v.id}: ${obis}`).toBe(want);
    else expect(String(got.value), `${v.id}: ${obis}`).toBe(String(want));
  }
}

const decodable = vectors.filter((v) => Object.keys(v.expected).length > 0);

describe.each([
  ['software AES-GCM', softwareCrypto],
  ['node:crypto', nodeCrypto],
])('real meter pushes (%s)', (_name, crypto) => {
  it.each(decodable.map((v) => [v.id, v] as const))('%s decodes to the expected values', (_id, v) => {
    const { readings, errors } = decode(wire(v), keysOf(v), crypto);
    expect(errors).toEqual([]);
    expect(readings).toHaveLength(1);
    expectValues(readings[0], v);
    if (v.timestamp) expect(readings[0].timestamp?.slice(0, 19)).toBe(v.timestamp);
  });
});

describe('what the Readings say besides the values', () => {
  const one = (id: string): Reading => {
    const v = vectors.find((x) => x.id === id)!;
    const { readings, errors } = decode(wire(v), keysOf(v), softwareCrypto);
    expect(errors).toEqual([]);
    return readings[0];
  };

  it('keeps the meter number apart from the system title (TINETZ)', () => {
    const r = one('at-tinetz-kaifa-docexample');
    expect(r.meter).toEqual({ systemTitle: '4B464D1010000023', number: '1KFM0100000035', logicalDeviceName: 'KFM1100100000035' });
    expect(r.frameCounter).toBe(0x00295b9a); // DB 08 <title> 82 01 09 21 | 00 29 5B 9A
    expect(r.security).toEqual({ control: 0x21, encrypted: true, authenticated: false, tag: 'none' });
    expect(r.timestamp).toBe('2021-07-19T15:46:35+02:00'); // deviation -120 min: CEST
    expect(r.values['1-0:32.7.0']).toEqual({ value: 230.8, unit: 'V' }); // 2308, scaler -1
    expect(r.values['1-0:1.8.0']).toEqual({ value: 9108, unit: 'Wh' }); // scaler 0, unit 30
  });

  it('reads the frame counter from the ciphering header (Netz NÖ: 0x00000023)', () => {
    const r = one('at-netznoe-kaifa-official');
    expect(r.frameCounter).toBe(0x23);
    expect(r.meter.number).toBe('181220000009'); // unnamed last item of the flat list
    expect(r.meter.systemTitle).toBe('4B464D6750000009');
    expect(r.values['0-0:1.0.0']).toEqual({ value: '2021-09-27T09:47:15+02:00' }); // unnamed first item
    expect(r.values['1-0:13.7.0']).toEqual({ value: 1 }); // 1000 * 10^-3, unit 255: none
  });

  it('says a 0x30 push without an authentication key is unauthenticated (L+G GBT)', () => {
    const r = one('lgz-e450-gbt-1');
    expect(r.security).toEqual({ control: 0x30, encrypted: true, authenticated: false, tag: 'unchecked' });
    expect(r.values['1-0:1.8.0']).toEqual({ value: 4408736, unit: 'Wh' }); // unit from the OBIS code
  });

  it('verifies the tag when the authentication key is known (Kamstrup, Burgenland)', () => {
    for (const id of ['dk-kamstrup-omnipower-authenc', 'at-netzburgenland-lgz-e450-amsreader501']) {
      expect(one(id).security).toEqual({ control: 0x30, encrypted: true, authenticated: true, tag: 'verified' });
    }
    expect(one('dk-kamstrup-omnipower-authenc').values['1-1:0.2.129']).toEqual({ value: 'Kamstrup_V0001' });
    expect(one('dk-kamstrup-omnipower-authenc').meter.number).toBe('12343400'); // 1-1:0.0.1
  });

  it('maps the E450 descriptor list: meter id 0-0:96.1.1, padded tariff text, no reading from the disconnect control mode', () => {
    const r = one('cy-lgz-e450-descriptor-list-2');
    expect(r.meter).toEqual({ systemTitle: null, number: '1538088', logicalDeviceName: 'LGZ1030790258946' });
    expect(r.values['0-0:96.14.0']).toEqual({ value: 'RATE2' }); // 52 41 54 45 32 00 00 00
    expect(r.values['0-0:96.3.10']).toBeUndefined(); // class 70 attribute 3: the control mode
    expect(r.values['1-0:1.8.0']).toEqual({ value: 132573, unit: 'Wh' });
  });

  it('decodes the DSMR telegram inside the ciphering (Steiermark)', () => {
    const r = one('at-steiermark-sagemcom-t210dr-shrdzm');
    expect(r.format).toBe('dsmr');
    expect(r.timestamp).toBe('2021-09-29T11:47:30+02:00');
    expect(r.values['1-0:2.7.0']).toEqual({ value: 1803, unit: 'W' });
  });

  it('combines the separate time and date items of the Kärnten list into the clock', () => {
    const r = one('at-kn-layout-siemens-im350-shrdzm-2');
    // items 3 and 4: 0E 37 27 00 / 07 E5 03 07 07 carry no deviation; the notification header's
    // date-time shows the same local time with deviation -60: one instant, one offset in both places
    expect(r.values['0-0:1.0.0']).toEqual({ value: '2021-03-07T14:55:39+01:00' });
    expect(r.timestamp).toBe('2021-03-07T14:55:39+01:00');
    expect(r.meter.number).toBe('2221202033801');
  });
});

describe('a push without a published key (Salzburg Netz documentation example)', () => {
  const v = vectors.find((x) => x.id === 'at-salzburgnetz-elster-docexample-nokey')!;

  it('frames and parses the header, then says exactly what is missing', () => {
    const { readings, errors } = decode(wire(v), {}, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0].kind).toBe('missing-key');
    expect(errors[0].offset).toBe(9); // the DB tag after 68 5D 5D 68 53 FF 10 01 67
    expect(errors[0].detail).toContain('system title 454C536570000001 (ELS)');
    expect(errors[0].detail).toContain('security 0x20');
  });

  it('reports a wrong key as wrong-key-or-corrupt, never as a Reading', () => {
    const { readings, errors } = decode(wire(v), { encryption: encryptionKey('00112233445566778899AABBCCDDEEFF') }, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors.map((e) => e.kind)).toEqual(['wrong-key-or-corrupt']);
  });
});

describe('streaming: the same bytes split anywhere give the same Readings', () => {
  const run = (v: Vector, chunks: Uint8Array[]): { readings: Reading[]; errors: DecodeError[] } => {
    const readings: Reading[] = [];
    const errors: DecodeError[] = [];
    const d = new MeterDecoder({ crypto: softwareCrypto, keys: keysOf(v), onReading: (r) => readings.push(r), onError: (e) => errors.push(e) });
    for (const c of chunks) d.push(c);
    return { readings, errors };
  };
  const framed = vectors.filter((v) => v.frames_hex[0].startsWith('68') || v.frames_hex[0].startsWith('7E'));

  it.each(framed.map((v) => [v.id, v] as const))('%s at every chunk boundary and byte by byte', (_id, v) => {
    const bytes = wire(v);
    const whole = run(v, [bytes]);
    if (Object.keys(v.expected).length > 0) expect(whole.readings).toHaveLength(1);
    const expected = JSON.stringify(whole);
    for (let k = 1; k < bytes.length; k++) {
      expect(JSON.stringify(run(v, [bytes.subarray(0, k), bytes.subarray(k)])), `split at ${k}`).toBe(expected);
    }
    const single = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    expect(JSON.stringify(run(v, single))).toBe(expected);
  });

  it('auto framing decodes an M-Bus stream and an HDLC stream alike', () => {
    const a = vectors.find((x) => x.id === 'at-netznoe-kaifa-official')!;
    const b = vectors.find((x) => x.id === 'dk-kamstrup-omnipower-authenc')!;
    expect(run(a, [wire(a), wire(a)]).readings).toHaveLength(2);
    expect(run(b, [wire(b), wire(b)]).readings).toHaveLength(2);
  });
});

describe('plaintext check', () => {
  it.each(vectors.filter((v) => v.plaintext_hex && v.key).map((v) => [v.id, v] as const))('%s: the expected plaintext decodes to the same values', (_id, v) => {
    const { readings, errors } = decode(hex(v.plaintext_hex!), {}, softwareCrypto);
    expect(errors).toEqual([]);
    expectValues(readings[0], v);
  });
});

/**
 * An encrypted descriptor-list push as a Landis+Gyr E450 sends one: the plain Cyprus push
 * (cy-lgz-e450-descriptor-list-1) encrypted and authenticated (security 0x30) with the keys and
 * system title of the Burgenland E450 (at-netzburgenland-lgz-e450-amsreader501), then split into
 * General-Block-Transfer blocks, one per HDLC frame, with the frame header of the E450's own
 * pushes (7E A0xx CE FF 03 13, the LLC header in the first frame only; lgz-e450-gbt-1).
 */
function e450Push(plain: Uint8Array, counter: number, sc = 0x30): Uint8Array {
  const keys = vector('at-netzburgenland-lgz-e450-amsreader501');
  const title = hex('4C 47 5A 67 72 A9 A1 11'); // LGZ… of the Burgenland push
  const data = plain.slice();
  const tag = sc & 0x10 ? new Uint8Array(12) : null;
  const iv = concat(title, Uint8Array.of(counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff));
  const aad = tag ? concat(Uint8Array.of(sc), hex(keys.auth_key!)) : null;
  softwareCrypto.gcmEncryptInPlace(softwareCrypto.importKey(hex(keys.key!)), iv, data, 0, data.length, aad, tag);
  const content = 5 + data.length + (tag ? 12 : 0);
  const glo = concat(Uint8Array.of(0xdb, 8), title, Uint8Array.of(0x82, content >> 8, content & 0xff, sc), iv.subarray(8), data, tag ?? new Uint8Array(0));
  const frames: Uint8Array[] = [];
  const BLOCK = 120;
  for (let at = 0, n = 1; at < glo.length; at += BLOCK, n++) {
    const block = glo.subarray(at, at + BLOCK);
    const last = at + BLOCK >= glo.length;
    const gbt = concat(Uint8Array.of(0xe0, last ? 0xc0 : 0x40, n >> 8, n & 0xff, 0, 0), block.length < 0x80 ? Uint8Array.of(block.length) : Uint8Array.of(0x81, block.length), block);
    const info = n === 1 ? concat(hex('E6 E7 00'), gbt) : gbt;
    const f = concat(hex('7E A0 00 CE FF 03 13 00 00'), info, new Uint8Array(3));
    f[2] = f.length - 2;
    const hcs = crc16x25(f, 1, 7);
    f[7] = hcs & 0xff;
    f[8] = hcs >> 8;
    const fcs = crc16x25(f, 1, f.length - 3);
    f[f.length - 3] = fcs & 0xff;
    f[f.length - 2] = fcs >> 8;
    f[f.length - 1] = 0x7e;
    frames.push(f);
  }
  return concat(...frames);
}

describe('an encrypted E450 descriptor-list push, end to end', () => {
  const cy = vector('cy-lgz-e450-descriptor-list-1');
  const plain = apduOf(cy);
  const burgenland = vector('at-netzburgenland-lgz-e450-amsreader501');
  const keys = keysOf(burgenland);

  it('the plain push is what the encrypted one carries: a structure of 21 (the definitions and 20 values)', () => {
    expect(plain[0]).toBe(0x0f); // data-notification
    expect([...plain.subarray(18, 27)]).toEqual([0x02, 21, 0x01, 21, 0x02, 0x04, 0x12, 0x00, 0x28]); // first definition: class 40
  });

  it.each([
    ['software AES-GCM', softwareCrypto],
    ['node:crypto', nodeCrypto],
  ])('decrypts, verifies the tag and lines the 20 values up with definitions 2…21 (%s)', (_name, crypto) => {
    const bytes = e450Push(plain, 0x2180f7);
    expect(bytes.length).toBeGreaterThan(3 * 120); // four GBT blocks in four HDLC frames
    const { readings, errors } = decode(bytes, keys, crypto);
    expect(errors).toEqual([]);
    expect(readings).toHaveLength(1);
    const r = readings[0];
    expectValues(r, cy);
    expect(Object.keys(r.values)).toHaveLength(Object.keys(cy.expected).length + 1); // and the clock 0-0:1.0.0
    expect(r.timestamp?.slice(0, 19)).toBe(cy.timestamp);
    expect(r.frameCounter).toBe(0x2180f7);
    expect(r.meter.systemTitle).toBe('4C475A6772A9A111');
    expect(r.security).toEqual({ control: 0x30, encrypted: true, authenticated: true, tag: 'verified' });
    expect(r.values['1-0:1.7.0']).toEqual({ value: 187, unit: 'W' });
  });

  it('chunked anywhere it gives the same Reading', () => {
    const bytes = e450Push(plain, 0x2180f8);
    const whole = decode(bytes, keys, softwareCrypto).readings;
    for (const size of [1, 7, 64, 133]) {
      const got: Reading[] = [];
      const d = new MeterDecoder({ crypto: softwareCrypto, keys, onReading: (r) => got.push(r), onError: (e) => expect.fail(`${e.kind}: ${e.detail}`) });
      for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
      expect(got).toEqual(whole);
    }
  });

  // one value too many: a structure of 22 for 21 definitions whose first is the object list
  const malformed = concat(plain.subarray(0, 19), Uint8Array.of(22), plain.subarray(20), hex('12 00 01'));

  it('a malformed descriptor list behind a verified tag is a layout error naming its shape, never a Reading', () => {
    const { readings, errors } = decode(e450Push(malformed, 0x2180f9), keys, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0].kind).toBe('layout');
    expect(errors[0].detail).toContain('descriptor list of 21 capture object definitions, the first {class 40, 0-8:25.9.0, attribute 2}, definition 1 being the object list itself, in a structure of 22 items (21 besides the definitions): the values cannot be lined up with the definitions');
  });

  it('encryption only (security 0x20, no tag): the same list decodes, a malformed one is refused as wrong key or corrupt', () => {
    const ok = decode(e450Push(plain, 0x2180fa, 0x20), keys, softwareCrypto);
    expect(ok.errors).toEqual([]);
    expectValues(ok.readings[0], cy);
    expect(ok.readings[0].security).toMatchObject({ control: 0x20, encrypted: true, authenticated: false });
    const bad = decode(e450Push(malformed, 0x2180fb, 0x20), keys, softwareCrypto);
    expect(bad.readings).toEqual([]);
    expect(bad.errors.map((e) => e.kind)).toEqual(['wrong-key-or-corrupt']);
    expect(bad.errors[0].detail).toContain('(layout: descriptor list of 21 capture object definitions');
  });
});
