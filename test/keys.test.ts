// The customer's keys (firmware/keys.ts): 16 bytes each, typed apart, parsed from what people paste.
import { describe, expect, it } from 'vitest';
import { authenticationKey, encryptionKey, parseKeyText } from '../firmware/keys.js';
import { toHex } from '../firmware/bytes.js';

const NETZ_NOE = '36C66639E48A8CA4D6BC8B282A793BBB'; // the published Netz NÖ example key

const okHex = (text: string): string => {
  const r = parseKeyText(text);
  if (!r.ok) throw new Error(r.message);
  return toHex(r.bytes);
};

describe('parseKeyText', () => {
  it('accepts the key as a portal shows it: spaced pairs', () => {
    expect(okHex('36 C6 66 39 E4 8A 8C A4 D6 BC 8B 28 2A 79 3B BB')).toBe(NETZ_NOE);
  });

  it('accepts 0x, lower case, surrounding white space, per-byte prefixes and separators', () => {
    expect(okHex('0x36c66639e48a8ca4d6bc8b282a793bbb')).toBe(NETZ_NOE);
    expect(okHex('  0X36C66639E48A8CA4D6BC8B282A793BBB\n')).toBe(NETZ_NOE);
    expect(okHex('0x36 0xC6 0x66 0x39 0xE4 0x8A 0x8C 0xA4 0xD6 0xBC 0x8B 0x28 0x2A 0x79 0x3B 0xBB')).toBe(NETZ_NOE);
    expect(okHex('36:c6:66:39:e4:8a:8c:a4:d6:bc:8b:28:2a:79:3b:bb')).toBe(NETZ_NOE);
    expect(okHex('36C66639-E48A8CA4-D6BC8B28-2A793BBB')).toBe(NETZ_NOE);
  });

  it('gives 16 bytes', () => {
    const r = parseKeyText(NETZ_NOE);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.bytes).toBeInstanceOf(Uint8Array);
      expect(r.bytes.length).toBe(16);
      expect(r.bytes[0]).toBe(0x36);
      expect(r.bytes[15]).toBe(0xbb);
    }
  });

  it('rejects 31 digits, saying the count is odd and where', () => {
    expect(parseKeyText(NETZ_NOE.slice(0, 31))).toEqual({ ok: false, message: 'not a hex key (a key has 32 hex digits): odd number of hex digits: the digit at character 30 has no partner' });
  });

  it('rejects 30 and 34 digits, saying how many a key has', () => {
    expect(parseKeyText(NETZ_NOE.slice(0, 30))).toEqual({ ok: false, message: 'a key has 32 hex digits (16 bytes); this one has 30' });
    expect(parseKeyText(NETZ_NOE + '00')).toEqual({ ok: false, message: 'a key has 32 hex digits (16 bytes); this one has 34' });
    expect(parseKeyText('')).toEqual({ ok: false, message: 'a key has 32 hex digits (16 bytes); this one has 0' });
  });

  it('rejects a non-hex character, naming it and its position', () => {
    expect(parseKeyText('36C66G39E48A8CA4D6BC8B282A793BBB')).toEqual({ ok: false, message: 'not a hex key (a key has 32 hex digits): character "G" at position 5 is not hex' });
    expect(parseKeyText('36 C6 66 39 E4 8A 8C A4 D6 BC 8B 28 2A 79 3B BO')).toEqual({ ok: false, message: 'not a hex key (a key has 32 hex digits): character "O" at position 46 is not hex' });
  });

  it('the position counts the characters the person typed, 0x included', () => {
    // "0x36C66G..." : the G is character 7 of the text
    expect(parseKeyText('0x36C66G39E48A8CA4D6BC8B282A793BBB')).toEqual({ ok: false, message: 'not a hex key (a key has 32 hex digits): character "G" at position 7 is not hex' });
  });
});

describe('encryptionKey and authenticationKey', () => {
  it('carry their kind and the 16 bytes', () => {
    const ek = encryptionKey(NETZ_NOE);
    expect(ek.kind).toBe('encryption');
    expect(toHex(ek.bytes)).toBe(NETZ_NOE);
    const ak = authenticationKey('00112233445566778899AABBCCDDEEFF');
    expect(ak.kind).toBe('authentication');
    expect(toHex(ak.bytes)).toBe('00112233445566778899AABBCCDDEEFF');
  });

  it('are frozen', () => {
    const ek = encryptionKey(NETZ_NOE);
    expect(Object.isFrozen(ek)).toBe(true);
    expect(() => {
      (ek as { kind: string }).kind = 'authentication';
    }).toThrow(TypeError);
  });

  it('accept 16 bytes and copy them', () => {
    const raw = Uint8Array.from({ length: 16 }, (_, i) => i);
    const ek = encryptionKey(raw);
    const ak = authenticationKey(raw);
    raw[0] = 0xff;
    expect(toHex(ek.bytes)).toBe('000102030405060708090A0B0C0D0E0F');
    expect(toHex(ak.bytes)).toBe('000102030405060708090A0B0C0D0E0F');
    expect(ek.bytes).not.toBe(ak.bytes);
  });

  it('throw on a Uint8Array of the wrong length, naming the key', () => {
    expect(() => encryptionKey(new Uint8Array(15))).toThrow(new Error('encryption key must be 16 bytes, got 15'));
    expect(() => authenticationKey(new Uint8Array(17))).toThrow(new Error('authentication key must be 16 bytes, got 17'));
    expect(() => encryptionKey(new Uint8Array(0))).toThrow(new Error('encryption key must be 16 bytes, got 0'));
  });

  it('throw on malformed text with the parser\'s message', () => {
    expect(() => encryptionKey(NETZ_NOE.slice(0, 30))).toThrow(new Error('encryption key: a key has 32 hex digits (16 bytes); this one has 30'));
    expect(() => authenticationKey('XYZ')).toThrow(new Error('authentication key: not a hex key (a key has 32 hex digits): character "X" at position 0 is not hex'));
  });
});
