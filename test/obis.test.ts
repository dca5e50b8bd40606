// OBIS codes (IEC 62056-61: A-B:C.D.E*F) and DLMS units (IEC 62056-6-2 unit enumeration).
import { describe, expect, it } from 'vitest';
import { defaultUnit, looksLikeObis, obisKey, parseObis, unitName } from '../firmware/dlms/obis.js';

describe('obisKey', () => {
  it('leaves F out when it is 255', () => {
    expect(obisKey(Uint8Array.of(1, 0, 1, 8, 0, 255), 0)).toBe('1-0:1.8.0');
    expect(obisKey(Uint8Array.of(0, 0, 96, 1, 0, 255), 0)).toBe('0-0:96.1.0');
  });

  it('appends *F when F is not 255', () => {
    expect(obisKey(Uint8Array.of(1, 0, 1, 8, 0, 101), 0)).toBe('1-0:1.8.0*101');
    expect(obisKey(Uint8Array.of(1, 0, 1, 8, 0, 0), 0)).toBe('1-0:1.8.0*0');
    expect(obisKey(Uint8Array.of(1, 1, 0, 2, 129, 254), 0)).toBe('1-1:0.2.129*254');
  });

  it('reads at the offset given, in a larger buffer', () => {
    const b = Uint8Array.of(0x09, 0x06, 1, 0, 32, 7, 0, 255, 0x12);
    expect(obisKey(b, 2)).toBe('1-0:32.7.0');
  });
});

describe('parseObis', () => {
  const bytes = (s: string): number[] | null => {
    const r = parseObis(s);
    return r === null ? null : Array.from(r);
  };

  it('accepts A-B:C.D.E and fills F = 255', () => {
    expect(bytes('1-0:1.8.0')).toEqual([1, 0, 1, 8, 0, 255]);
    expect(bytes('0-0:96.1.0')).toEqual([0, 0, 96, 1, 0, 255]);
    expect(bytes('  1-0:32.7.0 ')).toEqual([1, 0, 32, 7, 0, 255]);
  });

  it('accepts A.B.C.D.E.F, A-B:C.D.E*F and A-B:C.D.E.F', () => {
    expect(bytes('1.0.1.8.0.255')).toEqual([1, 0, 1, 8, 0, 255]);
    expect(bytes('1-0:1.8.0*255')).toEqual([1, 0, 1, 8, 0, 255]);
    expect(bytes('1-0:1.8.0.255')).toEqual([1, 0, 1, 8, 0, 255]);
    expect(bytes('1-0:1.8.0*101')).toEqual([1, 0, 1, 8, 0, 101]);
    expect(bytes('0.0.96.1.0.255')).toEqual([0, 0, 96, 1, 0, 255]);
  });

  it('round-trips with obisKey', () => {
    for (const s of ['1-0:1.8.0', '1-1:0.2.129', '0-0:96.1.0', '1-0:1.8.0*101', '255-255:255.255.255*254']) {
      expect(obisKey(parseObis(s)!, 0)).toBe(s);
    }
  });

  it('rejects too few or too many groups, empty groups, values above 255 and non-digits', () => {
    for (const s of ['1-0:1.8', '1-0:1.8.0.255.1', '', '1--0:1.8.0', '1-0:1.8.0*', '1-0:1.8.256', '1-0:1.8.0*256', 'a-0:1.8.0', '1-0:1.8.0x', '1-0:1.8.-1', '1-0:1.8.1234']) {
      expect(parseObis(s), JSON.stringify(s)).toBeNull();
    }
  });
});

describe('unitName', () => {
  it('names the DLMS unit codes meters send', () => {
    expect(unitName(27)).toBe('W');
    expect(unitName(28)).toBe('VA');
    expect(unitName(29)).toBe('var');
    expect(unitName(30)).toBe('Wh');
    expect(unitName(31)).toBe('VAh');
    expect(unitName(32)).toBe('varh');
    expect(unitName(33)).toBe('A');
    expect(unitName(35)).toBe('V');
    expect(unitName(44)).toBe('Hz');
    expect(unitName(9)).toBe('°C');
    expect(unitName(13)).toBe('m³');
  });

  it('255 (count, no unit), 0 and unassigned codes have none', () => {
    expect(unitName(255)).toBeUndefined();
    expect(unitName(0)).toBeUndefined();
    expect(unitName(58)).toBeUndefined();
    expect(unitName(254)).toBeUndefined();
  });
});

describe('defaultUnit: the unit an electricity OBIS code implies', () => {
  it('energy (D = 8) versus power (D = 7) for the four quadrants', () => {
    expect(defaultUnit(1, 1, 8)).toBe('Wh'); // 1.8.0 +A
    expect(defaultUnit(1, 2, 8)).toBe('Wh'); // 2.8.0 -A
    expect(defaultUnit(1, 1, 7)).toBe('W'); // 1.7.0 +P
    expect(defaultUnit(1, 2, 7)).toBe('W'); // 2.7.0 -P
    expect(defaultUnit(1, 3, 8)).toBe('varh'); // 3.8.0 +R
    expect(defaultUnit(1, 4, 8)).toBe('varh'); // 4.8.0 -R
    expect(defaultUnit(1, 3, 7)).toBe('var'); // 3.7.0 +Q
    expect(defaultUnit(1, 9, 7)).toBe('VA'); // 9.7.0 +S
    expect(defaultUnit(1, 9, 8)).toBe('VAh');
  });

  it('per phase: C + 20/40/60 repeats the quantity', () => {
    expect(defaultUnit(1, 32, 7)).toBe('V'); // 32.7.0 U L1
    expect(defaultUnit(1, 52, 7)).toBe('V'); // U L2
    expect(defaultUnit(1, 72, 7)).toBe('V'); // U L3
    expect(defaultUnit(1, 31, 7)).toBe('A'); // I L1
    expect(defaultUnit(1, 71, 7)).toBe('A'); // 71.7.0 I L3
    expect(defaultUnit(1, 21, 7)).toBe('W'); // 21.7.0 +P L1
    expect(defaultUnit(1, 41, 8)).toBe('Wh'); // 41.8.0 +A L2
  });

  it('power factor (13.7.0) has no unit, frequency (14.7.0) is Hz', () => {
    expect(defaultUnit(1, 13, 7)).toBeUndefined();
    expect(defaultUnit(1, 33, 7)).toBeUndefined(); // PF L1
    expect(defaultUnit(1, 14, 7)).toBe('Hz');
  });

  it('abstract and service codes (C 0, 96-99) have none', () => {
    expect(defaultUnit(1, 0, 2)).toBeUndefined();
    expect(defaultUnit(1, 96, 1)).toBeUndefined();
    expect(defaultUnit(1, 99, 1)).toBeUndefined();
  });

  it('A other than 1 (not electricity) has none', () => {
    expect(defaultUnit(0, 1, 8)).toBeUndefined();
    expect(defaultUnit(0, 96, 1)).toBeUndefined();
    expect(defaultUnit(7, 1, 8)).toBeUndefined(); // gas
    expect(defaultUnit(2, 32, 7)).toBeUndefined();
  });
});

describe('looksLikeObis', () => {
  it('accepts A in 0-9 and 15, rejects printable text', () => {
    expect(looksLikeObis(Uint8Array.of(1, 0, 1, 8, 0, 255), 0)).toBe(true);
    expect(looksLikeObis(Uint8Array.of(15, 0, 1, 8, 0, 255), 0)).toBe(true);
    expect(looksLikeObis(Uint8Array.of(9, 0, 1, 8, 0, 255), 0)).toBe(true);
    expect(looksLikeObis(Uint8Array.of(10, 0, 1, 8, 0, 255), 0)).toBe(false);
    expect(looksLikeObis(Uint8Array.of(0x31, 0x32, 0x33, 0x34, 0x35, 0x36), 0)).toBe(false); // "123456"
  });
});
