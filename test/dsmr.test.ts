// DSMR P1 telegrams (NEN-EN-IEC 62056-21 mode D, DSMR 5) inside the DLMS ciphering: firmware/dlms/dsmr.ts.
//
//   /XXX5\ident          identification line, then a blank line
//   A-B:C.D.E(value*unit)
//   0-0:1.0.0(YYMMDDhhmmssX)   X = S (summer, +02:00) or W (winter, +01:00)
//   !CCCC                CRC-16/ARC (poly 0xA001 reflected, init 0) over '/' .. '!' inclusive
import { describe, expect, it } from 'vitest';
import { crc16arc, parseDsmr } from '../firmware/dlms/dsmr.js';
import { emptyReading, ValueList, type Reading } from '../firmware/reading.js';
import type { DecodeError } from '../firmware/errors.js';
import { concat, hex, rng, vector } from './helpers.js';

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const crcHex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** Lines joined with CR LF, closed by '!' and the CRC computed with the exported crc16arc. */
function telegram(lines: string[]): Uint8Array {
  const body = bytesOf(lines.join('\r\n') + '\r\n!');
  return concat(body, bytesOf(crcHex(crc16arc(body, 0, body.length)) + '\r\n'));
}

function parse(b: Uint8Array, start = 0, end = b.length): { r: Reading; e: DecodeError | null } {
  const r = emptyReading();
  const e = parseDsmr(b, start, end, r);
  return { r, e };
}

describe('crc16arc', () => {
  it('the CRC-16/ARC check value: "123456789" -> 0xBB3D', () => {
    expect(crc16arc(bytesOf('123456789'), 0, 9)).toBe(0xbb3d);
  });

  it('covers exactly [start, end)', () => {
    const b = bytesOf('xx123456789yy');
    expect(crc16arc(b, 2, 11)).toBe(0xbb3d);
    expect(crc16arc(b, 0, 0)).toBe(0);
    expect(crc16arc(bytesOf('A'), 0, 1)).toBe(0x30c0);
  });

  it('the Steiermark telegram carries the CRC of its own bytes (EEE5)', () => {
    const pt = hex(vector('at-steiermark-sagemcom-t210dr-shrdzm').plaintext_hex!);
    const bang = pt.lastIndexOf(0x21);
    expect(crc16arc(pt, 0, bang + 1)).toBe(0xeee5);
  });
});

describe('the Steiermark telegram (Sagemcom T210-D-r, Energienetze Steiermark)', () => {
  const v = vector('at-steiermark-sagemcom-t210dr-shrdzm');
  const pt = hex(v.plaintext_hex!);

  it('decodes every expected value, with units in Wh/W/varh/var as sent', () => {
    const { r, e } = parse(pt);
    expect(e).toBeNull();
    expect(r.format).toBe('dsmr');
    expect(r.timestamp).toBe('2021-09-29T11:47:30+02:00'); // 210929114730S: summer time
    for (const [key, want] of Object.entries(v.expected)) expect(r.values[key]?.value, key).toBe(want);
    expect(Object.keys(r.values).length).toBe(Object.keys(v.expected).length + 1); // + 0-0:1.0.0
    expect(r.values['0-0:1.0.0']).toEqual({ value: '2021-09-29T11:47:30+02:00' });
    expect(r.values['1-3:0.2.8']).toEqual({ value: 50 }); // DSMR version 5.0: no unit
    expect(r.values['1-0:1.8.0']).toEqual({ value: 14159934, unit: 'Wh' });
    expect(r.values['1-0:1.7.0']).toEqual({ value: 544, unit: 'W' });
    expect(r.values['1-0:3.8.0']).toEqual({ value: 3866, unit: 'varh' });
    expect(r.values['1-0:4.7.0']).toEqual({ value: 1659, unit: 'var' });
    expect(r.meter.number).toBeNull(); // this telegram names no meter
  });

  it('a wrong CRC is a checksum error at the CRC', () => {
    const bad = pt.slice();
    const bang = bad.lastIndexOf(0x21);
    expect(String.fromCharCode(...bad.subarray(bang + 1, bang + 5))).toBe('EEE5');
    bad[bang + 4] = 0x34; // EEE4
    expect(parse(bad).e).toEqual({ kind: 'checksum', offset: bang + 1, detail: 'DSMR CRC is EEE4, the telegram gives EEE5' });
  });

  it('a flipped value digit is a checksum error too', () => {
    const bad = pt.slice();
    const at = String.fromCharCode(...bad).indexOf('014159934');
    bad[at + 8] = 0x35; // ...935
    const bang = bad.lastIndexOf(0x21);
    const got = parse(bad).e;
    expect(got?.kind).toBe('checksum');
    expect(got?.offset).toBe(bang + 1);
  });
});

describe('a hand-made DSMR 5 telegram', () => {
  const lines = [
    '/ISk5\\2MT382-1000',
    '',
    '1-3:0.2.8(50)',
    '0-0:1.0.0(101209113020W)',
    '0-0:96.1.1(4B384547303034303436333935353037)',
    '1-0:1.8.1(001234.567*kWh)',
    '1-0:1.8.2(000000.001*kWh)',
    '1-0:2.8.1(000000.000*kWh)',
    '1-0:3.8.0(000012.345*kvarh)',
    '1-0:1.7.0(01.193*kW)',
    '1-0:32.7.0(220.1*V)',
    '1-0:31.7.0(001*A)',
    '0-0:96.14.0(0002)',
    '0-0:96.13.0()',
    '0-1:24.2.1(101209112500W)(12785.123*m3)',
  ];
  const t = telegram(lines);

  it('converts kWh, kW and kvarh to Wh, W and varh exactly; keeps other units', () => {
    const { r, e } = parse(t);
    expect(e).toBeNull();
    expect(r.values).toEqual({
      '1-3:0.2.8': { value: 50 },
      '0-0:1.0.0': { value: '2010-12-09T11:30:20+01:00' }, // W: winter time
      '0-0:96.1.1': { value: 'K8EG004046395507' }, // hex-encoded ASCII
      '1-0:1.8.1': { value: 1234567, unit: 'Wh' }, // 001234.567 kWh
      '1-0:1.8.2': { value: 1, unit: 'Wh' }, // 0.001 kWh
      '1-0:2.8.1': { value: 0, unit: 'Wh' },
      '1-0:3.8.0': { value: 12345, unit: 'varh' }, // 12.345 kvarh
      '1-0:1.7.0': { value: 1193, unit: 'W' }, // 1.193 kW
      '1-0:32.7.0': { value: 220.1, unit: 'V' },
      '1-0:31.7.0': { value: 1, unit: 'A' },
      '0-0:96.14.0': { value: 2 }, // tariff indicator
      '0-0:96.13.0': { value: '' }, // empty text message
      '0-1:24.2.1': { value: 12785.123, unit: 'm³' }, // gas: the last group is the value, the first its capture time; m3 named as DLMS names it
    });
    expect(r.timestamp).toBe('2010-12-09T11:30:20+01:00');
    expect(r.meter.number).toBe('K8EG004046395507'); // from 96.1.1 when there is no 96.1.0
    expect(r.format).toBe('dsmr');
  });

  it('puts every value and the clock into the list the guard reads; a line sent twice ends as the Reading keeps it', () => {
    const twice = telegram([...lines.slice(0, 6), '1-0:1.8.1(001234.999*kWh)', ...lines.slice(6)]);
    const r = emptyReading();
    const list = new ValueList();
    expect(parseDsmr(twice, 0, twice.length, r, list)).toBeNull();
    expect(list.count).toBe(Object.keys(r.values).length + 1); // both 1.8.1 lines were put
    list.settle(r);
    expect(list.keys.slice(0, list.count)).toEqual(Object.keys(r.values));
    expect(list.numbers[list.keys.indexOf('1-0:1.8.1')]).toBe(1234999);
    expect(r.values['1-0:1.8.1'].value).toBe(1234999);
    expect([list.clockMs, list.clockZoned]).toEqual([Date.UTC(2010, 11, 9, 10, 30, 20), true]);
  });

  it('0-0:96.1.0 is the meter number even after 96.1.1', () => {
    const { r, e } = parse(telegram(['/ABC5', '', '0-0:96.1.1(4B38)', '0-0:96.1.0(4B464D31)']));
    expect(e).toBeNull();
    expect(r.meter.number).toBe('KFM1');
    expect(r.values['0-0:96.1.1']).toEqual({ value: 'K8' });
    expect(r.values['0-0:96.1.0']).toEqual({ value: 'KFM1' });
  });

  it('a hex-encoded equipment id made only of decimal digits is still text, and the meter number', () => {
    // "E0034006031713216" hex-encodes to digits only (E = 45, 0-9 = 30-39)
    const { r, e } = parse(telegram(['/ABC5', '', '0-0:96.1.1(4530303334303036303331373133323136)', '1-0:1.8.1(000001.000*kWh)']));
    expect(e).toBeNull();
    expect(r.values['0-0:96.1.1']).toEqual({ value: 'E0034006031713216' });
    expect(r.meter.number).toBe('E0034006031713216');
    expect(r.values['1-0:1.8.1']).toEqual({ value: 1000, unit: 'Wh' });
  });

  it('error offsets index the caller\'s buffer when the telegram starts later', () => {
    const b = concat(hex('DB 00 00'), t);
    expect(parse(b, 3).e).toBeNull();
    const bad = b.slice();
    const bang = bad.lastIndexOf(0x21);
    bad[bang + 1] = bad[bang + 1] === 0x30 ? 0x31 : 0x30;
    expect(parse(bad, 3).e).toMatchObject({ kind: 'checksum', offset: bang + 1 });
  });

  it('a binary byte inside: wrong-key-or-corrupt at that byte', () => {
    const bad = t.slice();
    const at = String.fromCharCode(...bad).indexOf('220.1');
    bad[at + 1] = 0x00;
    expect(parse(bad).e).toEqual({ kind: 'wrong-key-or-corrupt', offset: at + 1, detail: 'DSMR telegram contains the binary byte 0x00' });
    bad[at + 1] = 0xc3;
    expect(parse(bad).e).toEqual({ kind: 'wrong-key-or-corrupt', offset: at + 1, detail: 'DSMR telegram contains the binary byte 0xc3' });
  });

  it('binary bytes where the CRC should be: wrong-key-or-corrupt at the start', () => {
    const body = bytesOf('/ABC5\r\n\r\n1-0:1.8.0(000001*Wh)\r\n!');
    const b = concat(hex('00 00 00'), body, hex('01 02 03 04'));
    expect(parse(b, 3).e).toEqual({ kind: 'wrong-key-or-corrupt', offset: 3, detail: 'DSMR telegram contains binary data' });
  });

  it('a "!" made by noise inside the telegram: never read in part', () => {
    const { r, e } = parse(bytesOf('/ABC5\r\n\r\n1-0:1.8.0(000001*Wh)\r\n1-0:2!8.0(000002*Wh)\r\n!\r\n'));
    expect(e).toEqual({ kind: 'checksum', offset: 37, detail: 'DSMR telegram does not end in "!", a 4-digit CRC and the line end: cut short or damaged' });
    expect(r.values).toEqual({});
  });

  it('without a CRC (older DSMR) the telegram is accepted', () => {
    const { r, e } = parse(bytesOf('/ABC5\r\n\r\n1-0:1.8.0(000001.5*kWh)\r\n!\r\n'));
    expect(e).toBeNull();
    expect(r.values).toEqual({ '1-0:1.8.0': { value: 1500, unit: 'Wh' } });
  });

  it('no closing "!": truncated at the end', () => {
    const b = bytesOf('/ABC5\r\n\r\n1-0:1.8.0(000001*Wh)\r\n');
    expect(parse(b).e).toEqual({ kind: 'truncated', offset: b.length, detail: 'DSMR telegram has no closing "!" line' });
  });

  it('no OBIS line: layout at the start', () => {
    const b = telegram(['/ABC5', '', 'hello']);
    expect(parse(b).e).toEqual({ kind: 'layout', offset: 0, detail: 'DSMR telegram holds no OBIS lines' });
  });
});

describe('cheap fuzzing', () => {
  it('random printable and binary bytes never throw; offsets stay in the window', () => {
    const next = rng(2024);
    const alphabet = bytesOf('0123456789-:.*()!/\r\nkWhSW');
    const b = new Uint8Array(120);
    for (let round = 0; round < 5000; round++) {
      const n = 1 + Math.floor(next() * b.length);
      for (let i = 0; i < n; i++) b[i] = next() < 0.95 ? alphabet[Math.floor(next() * alphabet.length)] : Math.floor(next() * 256);
      b[0] = 0x2f;
      const r = emptyReading();
      const e = parseDsmr(b, 0, n, r);
      if (e) {
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(n);
      }
    }
  });
});
