// AES-128-GCM: the TypeScript softwareCrypto and the host's nodeCrypto against the GCM spec
// vectors, against raw node:crypto, and against a real DLMS push.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CipherKey, Crypto } from '../firmware/crypto/crypto.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { toHex } from '../firmware/bytes.js';
import { concat, hex, rng, vector } from './helpers.js';

interface GcmVector {
  name: string;
  key: string;
  iv: string;
  plain: string;
  aad: string;
  cipher: string;
  tag: string;
}

const P3 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const C3 =
  '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
  '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985';

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, AES-128 test cases
// 1-4 (96-bit IVs). Test case 4 is test case 3's key and IV with AAD and a 60-byte plaintext.
const SPEC: GcmVector[] = [
  { name: 'test case 1', key: '00000000000000000000000000000000', iv: '000000000000000000000000', plain: '', aad: '', cipher: '', tag: '58e2fccefa7e3061367f1d57a4e7455a' },
  {
    name: 'test case 2',
    key: '00000000000000000000000000000000',
    iv: '000000000000000000000000',
    plain: '00000000000000000000000000000000',
    aad: '',
    cipher: '0388dace60b6a392f328c2b971b2fe78',
    tag: 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  { name: 'test case 3', key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', plain: P3, aad: '', cipher: C3, tag: '4d5c2af327cd64a62cf35abd2ba6fab4' },
  {
    name: 'test case 4 (AAD)',
    key: 'feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    plain: P3.slice(0, 120),
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    cipher: C3.slice(0, 120),
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
];

const lower = (b: Uint8Array) => toHex(b).toLowerCase();

/** Raw node:crypto GCM encryption, independent of both implementations under test. */
function nodeGcmEncrypt(key: Uint8Array, iv: Uint8Array, aad: Uint8Array | null, plain: Uint8Array): { cipher: Uint8Array; tag: Uint8Array } {
  const c = createCipheriv('aes-128-gcm', key, iv);
  if (aad) c.setAAD(aad);
  const cipher = concat(c.update(plain), c.final());
  return { cipher, tag: new Uint8Array(c.getAuthTag()) };
}

/** Raw node:crypto CTR from IV ‖ 00000002: GCM's keystream without the tag. */
function nodeCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const d = createDecipheriv('aes-128-ctr', key, concat(iv, Uint8Array.of(0, 0, 0, 2)));
  return concat(d.update(data), d.final());
}

describe('the GCM spec vectors as typed here', () => {
  it.each(SPEC.map((v) => [v.name, v] as const))('%s agrees with raw node:crypto', (_name, v) => {
    const { cipher, tag } = nodeGcmEncrypt(hex(v.key), hex(v.iv), v.aad ? hex(v.aad) : null, hex(v.plain));
    expect(lower(cipher)).toBe(v.cipher);
    expect(lower(tag)).toBe(v.tag);
  });
});

// The Netz NÖ official example (Kaifa MA309): security 0x20, encryption only, no tag.
// DLMS APDU: DB 08 <system title 4B464D6750000009> 81 F8 <248 bytes> 20 <counter 00000023> <ciphertext>,
// split over two M-Bus frames; each frame's data ends before checksum and stop byte.
function netzNoe(): { key: Uint8Array; iv: Uint8Array; cipher: Uint8Array; plain: Uint8Array } {
  const v = vector('at-netznoe-kaifa-official');
  const f1 = hex(v.frames_hex[0]);
  const f2 = hex(v.frames_hex[1]);
  const apdu1 = f1.subarray(9, f1.length - 2); // 68 FA FA 68 53 FF 00 01 67
  expect(lower(apdu1.subarray(0, 17))).toBe('db084b464d675000000981f82000000023');
  const cipher = concat(apdu1.subarray(17), f2.subarray(9, f2.length - 2)); // 68 14 14 68 53 FF 11 01 67
  expect(cipher.length).toBe(248 - 5); // the length byte counts security byte and counter too
  const iv = concat(apdu1.subarray(2, 10), apdu1.subarray(13, 17));
  expect(lower(iv)).toBe('4b464d675000000900000023');
  return { key: hex(v.key!), iv, cipher, plain: hex(v.plaintext_hex!) };
}

describe.each([
  ['softwareCrypto', softwareCrypto],
  ['nodeCrypto', nodeCrypto],
] as const)('%s', (_impl, crypto: Crypto) => {
  /** Encrypts a copy of plain inside a padded buffer; returns the whole buffer. */
  function encryptPadded(key: CipherKey, iv: Uint8Array, plain: Uint8Array, aad: Uint8Array | null, tagOut: Uint8Array | null, pad = 7): Uint8Array {
    const buf = new Uint8Array(plain.length + 2 * pad).fill(0xa5);
    buf.set(plain, pad);
    crypto.gcmEncryptInPlace(key, iv, buf, pad, pad + plain.length, aad, tagOut);
    return buf;
  }

  describe('importKey', () => {
    it('keeps a copy of the key bytes', () => {
      const raw = hex('feffe9928665731c6d6a8f9467308308');
      const k = crypto.importKey(raw);
      expect(lower(k.bytes)).toBe('feffe9928665731c6d6a8f9467308308');
      raw.fill(0);
      expect(lower(k.bytes)).toBe('feffe9928665731c6d6a8f9467308308');
    });

    it('throws a plain Error for a key that is not 16 bytes', () => {
      for (const n of [0, 8, 15, 17, 24, 32]) {
        let err: unknown;
        try {
          crypto.importKey(new Uint8Array(n));
        } catch (e) {
          err = e;
        }
        expect(err, `${n} bytes`).toBeInstanceOf(Error);
        expect((err as Error).constructor).toBe(Error);
        expect((err as Error).name).toBe('Error');
      }
    });
  });

  describe.each(SPEC.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const aad = v.aad ? hex(v.aad) : null;
    const iv = hex(v.iv);

    it('encrypts to the spec ciphertext and tag', () => {
      const key = crypto.importKey(hex(v.key));
      const tag = new Uint8Array(16);
      const buf = encryptPadded(key, iv, hex(v.plain), aad, tag);
      expect(toHex(buf, 7, buf.length - 7).toLowerCase()).toBe(v.cipher);
      expect(lower(tag)).toBe(v.tag);
      expect(buf.subarray(0, 7).every((b) => b === 0xa5) && buf.subarray(buf.length - 7).every((b) => b === 0xa5)).toBe(true);
    });

    it('decrypts with the tag, and with every truncation of it from 4 to 16 bytes', () => {
      const key = crypto.importKey(hex(v.key));
      for (let n = 4; n <= 16; n++) {
        const buf = hex(v.cipher).slice();
        expect(crypto.gcmDecryptInPlace(key, iv, buf, 0, buf.length, aad, hex(v.tag).slice(0, n)), `${n}-byte tag`).toBe(true);
        expect(lower(buf)).toBe(v.plain);
      }
    });

    it('writes a truncated tag as the leading bytes of the full tag', () => {
      const key = crypto.importKey(hex(v.key));
      for (const n of [4, 8, 12]) {
        const tag = new Uint8Array(n);
        encryptPadded(key, iv, hex(v.plain), aad, tag);
        expect(lower(tag)).toBe(v.tag.slice(0, 2 * n));
      }
    });

    it('decrypts without a tag (true, nothing verified)', () => {
      const key = crypto.importKey(hex(v.key));
      const buf = hex(v.cipher).slice();
      expect(crypto.gcmDecryptInPlace(key, iv, buf, 0, buf.length, aad, null)).toBe(true);
      expect(lower(buf)).toBe(v.plain);
    });

    it('rejects a tampered tag, ciphertext, AAD or IV and leaves the data untouched', () => {
      const key = crypto.importKey(hex(v.key));
      const tries: { what: string; tag: Uint8Array; data: Uint8Array; aad: Uint8Array | null; iv: Uint8Array }[] = [];
      for (const n of [4, 12, 16]) {
        for (let bit = 0; bit < 8 * n; bit += 5) {
          const tag = hex(v.tag).slice(0, n);
          tag[bit >> 3] ^= 1 << (bit & 7);
          tries.push({ what: `bit ${bit} of a ${n}-byte tag`, tag, data: hex(v.cipher), aad, iv });
        }
      }
      const c = hex(v.cipher);
      for (let bit = 0; bit < 8 * c.length; bit += 37) {
        const data = c.slice();
        data[bit >> 3] ^= 1 << (bit & 7);
        tries.push({ what: `ciphertext bit ${bit}`, tag: hex(v.tag).slice(0, 12), data, aad, iv });
      }
      if (c.length > 0) tries.push({ what: 'ciphertext one byte short', tag: hex(v.tag), data: c.slice(0, -1), aad, iv });
      tries.push({ what: 'AAD changed', tag: hex(v.tag), data: hex(v.cipher), aad: aad ? Uint8Array.from(aad, (b, i) => (i === 0 ? b ^ 0x80 : b)) : Uint8Array.of(0), iv });
      if (aad) tries.push({ what: 'AAD dropped', tag: hex(v.tag), data: hex(v.cipher), aad: null, iv });
      tries.push({ what: 'IV changed', tag: hex(v.tag), data: hex(v.cipher), aad, iv: Uint8Array.from(iv, (b, i) => (i === 11 ? b ^ 1 : b)) });
      for (const t of tries) {
        const buf = concat(Uint8Array.of(1, 2, 3), t.data, Uint8Array.of(4, 5));
        const before = buf.slice();
        expect(crypto.gcmDecryptInPlace(key, t.iv, buf, 3, 3 + t.data.length, t.aad, t.tag), t.what).toBe(false);
        expect(lower(buf), t.what).toBe(lower(before));
      }
    });
  });

  it('rejects tags shorter than 4 or longer than 16 bytes without touching the data', () => {
    const v = SPEC[2];
    const key = crypto.importKey(hex(v.key));
    const full = hex(v.tag);
    for (const tag of [new Uint8Array(0), full.slice(0, 1), full.slice(0, 3), concat(full, Uint8Array.of(0))]) {
      const buf = hex(v.cipher).slice();
      expect(crypto.gcmDecryptInPlace(key, hex(v.iv), buf, 0, buf.length, null, tag), `${tag.length}-byte tag`).toBe(false);
      expect(lower(buf)).toBe(v.cipher);
    }
  });

  it('authenticates AAD alone (empty data range, the DLMS authentication-only case)', () => {
    const key = crypto.importKey(hex(SPEC[3].key));
    const iv = hex(SPEC[3].iv);
    const aad = hex(SPEC[3].aad);
    const want = nodeGcmEncrypt(hex(SPEC[3].key), iv, aad, new Uint8Array(0)).tag;
    const tag = new Uint8Array(12);
    const buf = Uint8Array.of(9, 9, 9);
    crypto.gcmEncryptInPlace(key, iv, buf, 1, 1, aad, tag);
    expect(lower(tag)).toBe(lower(want.subarray(0, 12)));
    expect(crypto.gcmDecryptInPlace(key, iv, buf, 2, 2, aad, tag)).toBe(true);
    tag[11] ^= 1;
    expect(crypto.gcmDecryptInPlace(key, iv, buf, 2, 2, aad, tag)).toBe(false);
    expect(Array.from(buf)).toEqual([9, 9, 9]);
  });

  it('decryption without a tag equals CTR decryption from IV ‖ 00000002', () => {
    const r = rng(0xc7);
    const byte = () => Math.floor(r() * 256);
    for (let n = 0; n < 40; n++) {
      const rawKey = Uint8Array.from({ length: 16 }, byte);
      const iv = Uint8Array.from({ length: 12 }, byte);
      const data = Uint8Array.from({ length: Math.floor(r() * 300) }, byte);
      const key = crypto.importKey(rawKey);
      const buf = data.slice();
      expect(crypto.gcmDecryptInPlace(key, iv, buf, 0, buf.length, null, null)).toBe(true);
      expect(lower(buf)).toBe(lower(nodeCtr(rawKey, iv, data)));
    }
  });

  it('round-trips random lengths 0..600 at random offsets, byte for byte equal to node:crypto', () => {
    const r = rng(0x9c3);
    const byte = () => Math.floor(r() * 256);
    for (let n = 0; n < 300; n++) {
      const rawKey = Uint8Array.from({ length: 16 }, byte);
      const key = crypto.importKey(rawKey);
      const iv = Uint8Array.from({ length: 12 }, byte);
      const len = n < 40 ? n : Math.floor(r() * 601);
      const start = Math.floor(r() * 50);
      const end = start + len;
      const buf = Uint8Array.from({ length: end + Math.floor(r() * 50) }, byte);
      const original = buf.slice();
      const plain = buf.slice(start, end);
      const aad = r() < 0.3 ? null : Uint8Array.from({ length: Math.floor(r() * 40) }, byte);
      const tagLength = r() < 0.2 ? 0 : 4 + Math.floor(r() * 13);
      const tag = tagLength ? new Uint8Array(tagLength) : null;

      crypto.gcmEncryptInPlace(key, iv, buf, start, end, aad, tag);
      const want = nodeGcmEncrypt(rawKey, iv, aad, plain);
      const what = `case ${n}: ${len} bytes at ${start}, ${aad ? aad.length : 'no'} AAD bytes, ${tagLength}-byte tag`;
      expect(toHex(buf, start, end), what).toBe(toHex(want.cipher));
      if (tag) expect(toHex(tag), what).toBe(toHex(want.tag.subarray(0, tagLength)));
      expect(toHex(buf, 0, start), what).toBe(toHex(original, 0, start));
      expect(toHex(buf, end), what).toBe(toHex(original, end));

      expect(crypto.gcmDecryptInPlace(key, iv, buf, start, end, aad, tag), what).toBe(true);
      expect(toHex(buf), what).toBe(toHex(original));
    }
  });

  it('decrypts the Netz NÖ example push (real DLMS frames) to the official plaintext', () => {
    const { key, iv, cipher, plain } = netzNoe();
    expect(lower(cipher.subarray(0, 8))).toBe('88d5ab4f97515aaf');
    const buf = cipher.slice();
    expect(crypto.gcmDecryptInPlace(crypto.importKey(key), iv, buf, 0, buf.length, null, null)).toBe(true);
    expect(toHex(buf, 0, 10)).toBe('0F8006870E0C07E5091B');
    expect(toHex(buf)).toBe(toHex(plain));
    // and in place within the first frame's buffer, as the decoder does it
    const v = vector('at-netznoe-kaifa-official');
    const f1 = hex(v.frames_hex[0]).slice();
    const before = f1.slice();
    expect(crypto.gcmDecryptInPlace(crypto.importKey(key), iv, f1, 26, f1.length - 2, null, null)).toBe(true);
    expect(toHex(f1, 26, f1.length - 2)).toBe(toHex(plain, 0, f1.length - 28));
    expect(toHex(f1, 0, 26)).toBe(toHex(before, 0, 26)); // header untouched
    expect(toHex(f1, f1.length - 2)).toBe('1716'); // checksum and stop byte untouched
  });

  it('throws on an IV that is not 12 bytes or a range outside the buffer', () => {
    const key = crypto.importKey(new Uint8Array(16));
    const buf = new Uint8Array(32);
    expect(() => crypto.gcmDecryptInPlace(key, new Uint8Array(16), buf, 0, 16, null, null)).toThrow(Error);
    expect(() => crypto.gcmEncryptInPlace(key, new Uint8Array(8), buf, 0, 16, null, null)).toThrow(Error);
    expect(() => crypto.gcmDecryptInPlace(key, new Uint8Array(12), buf, 0, 33, null, null)).toThrow(Error);
    expect(() => crypto.gcmDecryptInPlace(key, new Uint8Array(12), buf, 10, 9, null, null)).toThrow(Error);
    expect(() => crypto.gcmEncryptInPlace(key, new Uint8Array(12), buf, -1, 9, null, null)).toThrow(Error);
    expect(() => crypto.gcmEncryptInPlace(key, new Uint8Array(12), buf, 0, 16, null, new Uint8Array(17))).toThrow(Error);
    expect(buf.every((b) => b === 0)).toBe(true);
  });

  it('refuses a key imported by the other implementation', () => {
    const other = crypto === softwareCrypto ? nodeCrypto : softwareCrypto;
    const key = other.importKey(new Uint8Array(16));
    expect(() => crypto.gcmDecryptInPlace(key, new Uint8Array(12), new Uint8Array(16), 0, 16, null, null)).toThrow(Error);
  });
});

describe('softwareCrypto and nodeCrypto agree', () => {
  it('on the Netz NÖ push and on 100 random messages', () => {
    const { key, iv, cipher } = netzNoe();
    const a = cipher.slice();
    const b = cipher.slice();
    softwareCrypto.gcmDecryptInPlace(softwareCrypto.importKey(key), iv, a, 0, a.length, null, null);
    nodeCrypto.gcmDecryptInPlace(nodeCrypto.importKey(key), iv, b, 0, b.length, null, null);
    expect(toHex(a)).toBe(toHex(b));
    const r = rng(77);
    const byte = () => Math.floor(r() * 256);
    for (let n = 0; n < 100; n++) {
      const rawKey = Uint8Array.from({ length: 16 }, byte);
      const nonce = Uint8Array.from({ length: 12 }, byte);
      const data = Uint8Array.from({ length: Math.floor(r() * 200) }, byte);
      const aad = Uint8Array.from({ length: Math.floor(r() * 30) }, byte);
      const x = data.slice();
      const y = data.slice();
      const tx = new Uint8Array(16);
      const ty = new Uint8Array(16);
      softwareCrypto.gcmEncryptInPlace(softwareCrypto.importKey(rawKey), nonce, x, 0, x.length, aad, tx);
      nodeCrypto.gcmEncryptInPlace(nodeCrypto.importKey(rawKey), nonce, y, 0, y.length, aad, ty);
      expect(toHex(x) + toHex(tx)).toBe(toHex(y) + toHex(ty));
    }
  });
});
