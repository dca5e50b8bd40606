// The AES-128 forward cipher of firmware/crypto/aes.ts against FIPS-197 and node:crypto.
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AES128_ROUND_KEY_WORDS, encryptBlock, encryptWords, expandKey128 } from '../firmware/crypto/aes.js';
import { toHex } from '../firmware/bytes.js';
import { hex, rng } from './helpers.js';

function aes(keyHex: string, inHex: string): string {
  const out = new Uint8Array(16);
  encryptBlock(expandKey128(hex(keyHex)), hex(inHex), 0, out, 0);
  return toHex(out).toLowerCase();
}

function nodeEcb(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return c.update(block);
}

describe('AES-128', () => {
  it('FIPS-197 Appendix B', () => {
    expect(aes('2b7e151628aed2a6abf7158809cf4f3c', '3243f6a8885a308d313198a2e0370734')).toBe('3925841d02dc09fbdc118597196a0b32');
  });

  it('FIPS-197 Appendix C.1', () => {
    expect(aes('000102030405060708090a0b0c0d0e0f', '00112233445566778899aabbccddeeff')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
  });

  it('the FIPS-197 vectors agree with node:crypto (guards against a mistyped vector)', () => {
    expect(toHex(nodeEcb(hex('2b7e151628aed2a6abf7158809cf4f3c'), hex('3243f6a8885a308d313198a2e0370734'))).toLowerCase()).toBe('3925841d02dc09fbdc118597196a0b32');
    expect(toHex(nodeEcb(hex('000102030405060708090a0b0c0d0e0f'), hex('00112233445566778899aabbccddeeff'))).toLowerCase()).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
  });

  it('key expansion matches FIPS-197 Appendix A.1', () => {
    const rk = expandKey128(hex('2b7e151628aed2a6abf7158809cf4f3c'));
    expect(rk.length).toBe(AES128_ROUND_KEY_WORDS);
    const w = (i: number) => rk[i].toString(16).padStart(8, '0');
    expect([w(4), w(5), w(6), w(7)]).toEqual(['a0fafe17', '88542cb1', '23a33939', '2a6c7605']);
    expect([w(40), w(41), w(42), w(43)]).toEqual(['d014f9a8', 'c9ee2589', 'e13f0cc8', 'b6630ca6']);
  });

  it('expands into a caller buffer', () => {
    const out = new Uint32Array(AES128_ROUND_KEY_WORDS);
    expect(expandKey128(hex('2b7e151628aed2a6abf7158809cf4f3c'), out)).toBe(out);
    expect(out[43]).toBe(0xb6630ca6);
  });

  it('rejects a key that is not 16 bytes with a plain Error', () => {
    for (const n of [0, 15, 17, 32]) {
      let err: unknown;
      try {
        expandKey128(new Uint8Array(n));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).constructor).toBe(Error);
    }
  });

  it('agrees with node:crypto on 200 random keys and blocks, at offsets and in place', () => {
    const r = rng(197);
    const byte = () => Math.floor(r() * 256);
    for (let n = 0; n < 200; n++) {
      const key = Uint8Array.from({ length: 16 }, byte);
      const buf = Uint8Array.from({ length: 40 }, byte);
      const inOff = Math.floor(r() * 25);
      const want = nodeEcb(key, buf.slice(inOff, inOff + 16));
      const rk = expandKey128(key);
      const out = new Uint8Array(40);
      const outOff = Math.floor(r() * 25);
      encryptBlock(rk, buf, inOff, out, outOff);
      expect(toHex(out, outOff, outOff + 16)).toBe(toHex(want));
      expect(out.subarray(0, outOff).every((b) => b === 0)).toBe(true);
      expect(out.subarray(outOff + 16).every((b) => b === 0)).toBe(true);
      encryptBlock(rk, buf, inOff, buf, inOff); // in place
      expect(toHex(buf, inOff, inOff + 16)).toBe(toHex(want));
    }
  });

  it('encryptWords equals encryptBlock', () => {
    const rk = expandKey128(hex('000102030405060708090a0b0c0d0e0f'));
    const out = new Uint32Array(4);
    encryptWords(rk, 0x00112233, 0x44556677, 0x8899aabb, 0xccddeeff, out);
    expect(Array.from(out, (v) => v.toString(16).padStart(8, '0')).join('')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
  });
});
