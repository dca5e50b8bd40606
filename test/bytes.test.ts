// Byte helpers that run on any engine (firmware/bytes.ts): hex as people paste it, ASCII, UTF-8.
import { describe, expect, it } from 'vitest';
import { asciiString, hex2, isHexParseError, isPrintable, parseHex, toHex, utf8String, type HexParseError } from '../firmware/bytes.js';

const parsed = (text: string): number[] => {
  const r = parseHex(text);
  if (isHexParseError(r)) throw new Error(`unexpected error at ${r.position}: ${r.detail}`);
  return Array.from(r);
};
const error = (text: string): HexParseError => {
  const r = parseHex(text);
  if (!isHexParseError(r)) throw new Error(`expected an error, got ${toHex(r)}`);
  return r;
};
const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('parseHex', () => {
  it('plain upper and lower case', () => {
    expect(parsed('DB084B46')).toEqual([0xdb, 0x08, 0x4b, 0x46]);
    expect(parsed('db084b46')).toEqual([0xdb, 0x08, 0x4b, 0x46]);
    expect(parsed('dB08aBcDeF')).toEqual([0xdb, 0x08, 0xab, 0xcd, 0xef]);
  });

  it('spaces, tabs and newlines between bytes', () => {
    expect(parsed('DB 08 4B 46')).toEqual([0xdb, 0x08, 0x4b, 0x46]);
    expect(parsed('  DB08\n4B46\r\n\t00  ')).toEqual([0xdb, 0x08, 0x4b, 0x46, 0x00]);
  });

  it('0x prefixes, on the whole text or on each byte, either case of x', () => {
    expect(parsed('0xDB084B46')).toEqual([0xdb, 0x08, 0x4b, 0x46]);
    expect(parsed('0xDB 0x08 0X4b 0x46')).toEqual([0xdb, 0x08, 0x4b, 0x46]);
    expect(parsed('0x00 0x0a')).toEqual([0x00, 0x0a]);
  });

  it('colon, comma and dash separators', () => {
    expect(parsed('DB:08:4B:46')).toEqual([0xdb, 0x08, 0x4b, 0x46]);
    expect(parsed('0xdb, 0x08, 0x4b')).toEqual([0xdb, 0x08, 0x4b]);
    expect(parsed('36-C6-66-39')).toEqual([0x36, 0xc6, 0x66, 0x39]);
  });

  it('empty or separators only: no bytes', () => {
    expect(parsed('')).toEqual([]);
    expect(parsed(' \n: ')).toEqual([]);
  });

  it('an odd number of digits: the position of the digit without a partner', () => {
    expect(error('ABC')).toEqual({ position: 2, detail: 'odd number of hex digits: the digit at character 2 has no partner' });
    expect(error('DB 08 4')).toEqual({ position: 6, detail: 'odd number of hex digits: the digit at character 6 has no partner' });
  });

  it('a digit split from its partner by a separator: the position of the separator', () => {
    expect(error('D B')).toEqual({ position: 1, detail: 'a hex digit stands alone at character 0' });
    expect(error('DB 0 8')).toEqual({ position: 4, detail: 'a hex digit stands alone at character 3' });
  });

  it('a character that is not hex: its position', () => {
    expect(error('DB 0G')).toEqual({ position: 4, detail: 'character "G" at position 4 is not hex' });
    expect(error('zz')).toEqual({ position: 0, detail: 'character "z" at position 0 is not hex' });
    expect(error('DB;08')).toEqual({ position: 2, detail: 'character ";" at position 2 is not hex' });
  });

  it('isHexParseError tells the two results apart', () => {
    expect(isHexParseError(parseHex('00'))).toBe(false);
    expect(isHexParseError(parseHex('0'))).toBe(true);
  });
});

describe('toHex and hex2', () => {
  it('uppercase, two digits per byte, over [start, end)', () => {
    expect(toHex(u8(0xdb, 0x08, 0x4b, 0x00, 0xff))).toBe('DB084B00FF');
    expect(toHex(u8(0xdb, 0x08, 0x4b, 0x00, 0xff), 1, 3)).toBe('084B');
    expect(toHex(u8())).toBe('');
  });

  it('round-trips with parseHex', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(parsed(toHex(all))).toEqual(Array.from(all));
    expect(parsed(toHex(all).toLowerCase())).toEqual(Array.from(all));
  });

  it('hex2', () => {
    expect(hex2(0)).toBe('00');
    expect(hex2(0x0f)).toBe('0F');
    expect(hex2(0xdb)).toBe('DB');
  });
});

describe('asciiString and isPrintable', () => {
  it('asciiString is one character per byte over [start, end)', () => {
    expect(asciiString(u8(0x31, 0x4b, 0x46, 0x4d), 0, 4)).toBe('1KFM');
    expect(asciiString(u8(0x31, 0x4b, 0x46, 0x4d), 1, 3)).toBe('KF');
    expect(asciiString(u8(0xe9, 0x00), 0, 2)).toBe('\u00e9\u0000');
    expect(asciiString(u8(0x41), 1, 1)).toBe('');
  });

  it('isPrintable: 0x20-0x7E only, and an empty range is not text', () => {
    expect(isPrintable(u8(0x20, 0x41, 0x7e), 0, 3)).toBe(true);
    expect(isPrintable(u8(0x41, 0x1f), 0, 2)).toBe(false);
    expect(isPrintable(u8(0x41, 0x7f), 0, 2)).toBe(false);
    expect(isPrintable(u8(0x41, 0x80), 0, 2)).toBe(false);
    expect(isPrintable(u8(0x41, 0x0a), 0, 2)).toBe(false);
    expect(isPrintable(u8(0x00, 0x41, 0x00), 1, 2)).toBe(true);
    expect(isPrintable(u8(0x41), 0, 0)).toBe(false);
  });
});

describe('utf8String', () => {
  const utf8 = (...b: number[]): string => utf8String(Uint8Array.from(b), 0, b.length);

  it('ASCII, 2-, 3- and 4-byte sequences', () => {
    expect(utf8(0x41, 0x42)).toBe('AB');
    expect(utf8(0xc3, 0xa9)).toBe('é'); // U+00E9
    expect(utf8(0xc2, 0x80)).toBe('\u0080'); // smallest 2-byte
    expect(utf8(0xdf, 0xbf)).toBe('\u07ff'); // largest 2-byte
    expect(utf8(0xe2, 0x82, 0xac)).toBe('€'); // U+20AC
    expect(utf8(0xef, 0xbf, 0xbf)).toBe('\uffff');
    expect(utf8(0xf0, 0x9f, 0x98, 0x80)).toBe('😀'); // U+1F600: a surrogate pair in JS
    expect(utf8(0xf0, 0x9f, 0x98, 0x80).length).toBe(2);
    expect(utf8(0xf4, 0x8f, 0xbf, 0xbf)).toBe('\u{10ffff}'); // largest code point
    expect(utf8(0x5a, 0xc3, 0xa4, 0x68, 0x6c, 0x65, 0x72, 0x20, 0xe2, 0x82, 0xac)).toBe('Zähler €');
  });

  it('decodes only [start, end)', () => {
    const b = Uint8Array.from([0xff, 0xc3, 0xa9, 0x41, 0xff]);
    expect(utf8String(b, 1, 4)).toBe('éA');
  });

  it('invalid lead bytes and lone continuation bytes are U+FFFD each', () => {
    expect(utf8(0xff)).toBe('\uFFFD');
    expect(utf8(0x80)).toBe('\uFFFD');
    expect(utf8(0x41, 0xfe, 0x42)).toBe('A\uFFFDB');
    expect(utf8(0xc0, 0x80)).toBe('\uFFFD\uFFFD'); // C0/C1 can only be overlong
    expect(utf8(0xf5, 0x80, 0x80, 0x80)).toBe('\uFFFD\uFFFD\uFFFD\uFFFD');
  });

  it('a sequence broken by a non-continuation byte is U+FFFD, the byte survives', () => {
    expect(utf8(0xc3, 0x41)).toBe('\uFFFDA');
  });

  it('a sequence cut off by the end is one U+FFFD', () => {
    expect(utf8(0x41, 0xe2, 0x82)).toBe('A\uFFFD');
    expect(utf8(0xf0, 0x9f, 0x98)).toBe('\uFFFD');
    expect(utf8(0xc3)).toBe('\uFFFD');
  });

  it('a code point above U+10FFFF (F4 90 80 80) is U+FFFD, not a RangeError', () => {
    let s = '';
    expect(() => {
      s = utf8(0xf4, 0x90, 0x80, 0x80);
    }).not.toThrow();
    expect(s).toBe(new TextDecoder().decode(Uint8Array.of(0xf4, 0x90, 0x80, 0x80))); // 4 x U+FFFD
    expect(s).toBe('\uFFFD\uFFFD\uFFFD\uFFFD');
  });

  it('overlong encodings and UTF-16 surrogates (invalid in UTF-8, RFC 3629) are U+FFFD', () => {
    expect(utf8(0xe0, 0x80, 0x80)).toBe('\uFFFD\uFFFD\uFFFD'); // overlong U+0000
    expect(utf8(0xf0, 0x80, 0x80, 0x80)).toBe('\uFFFD\uFFFD\uFFFD\uFFFD'); // overlong U+0000
    expect(utf8(0xed, 0xa0, 0x80)).toBe('\uFFFD\uFFFD\uFFFD'); // U+D800
  });
});
