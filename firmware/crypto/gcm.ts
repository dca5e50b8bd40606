/**
 * AES-128-GCM in plain ECMAScript on top of aes.ts: the `Crypto` the core ships for devices
 * without a native cipher (the XS engine on an ESP32, ~100 KB heap).
 *
 * Knows: 12-byte IVs only (J0 = IV ‖ 00000001, keystream from IV ‖ 00000002, inc32 on the last
 * word), tags of 4..16 bytes (a truncated tag is compared against the first bytes of the full
 * one), in-place operation on a range of a larger buffer. Does not know: DLMS (the caller builds
 * IV and AAD), other IV lengths, other key sizes, streaming across calls.
 *
 * Memory: importKey allocates the key copy, the 44-word key schedule, a 256-byte GHASH table
 * (Shoup's 4-bit method; an 8-bit table would cost 4 KB per key) and 48 bytes of scratch. After
 * that no call allocates. The scratch lives on the key, not at module level, because XS makes the
 * typed arrays of a preloaded module read-only; module-level data here is read-only tables.
 */
import { AES128_ROUND_KEY_WORDS, encryptWords, expandKey128 } from './aes.js';
import type { CipherKey, Crypto } from './crypto.js';

const IV_LENGTH = 12;
const MIN_TAG = 4;
const MAX_TAG = 16;

/** What importKey prepares: the key schedule and the GHASH table for H = E(K, 0^128). */
class SoftwareKey implements CipherKey {
  readonly bytes: Uint8Array;
  readonly rk: Uint32Array;
  /** H·i for the 16 nibble values i, 4 big-endian words each (bit-reflected GCM order). */
  readonly ht: Uint32Array;
  /** one AES output block: keystream, H, E(J0), then the tag */
  readonly ks = new Uint32Array(4);
  /** the GHASH accumulator */
  readonly y = new Uint32Array(4);
  /** len(A) ‖ len(C) in bits, the last GHASH block */
  readonly lenBlock = new Uint8Array(16);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new Error(`an AES-128 key has 16 bytes, not ${key.length}`);
    this.bytes = key.slice();
    this.rk = expandKey128(this.bytes, new Uint32Array(AES128_ROUND_KEY_WORDS));
    this.ht = new Uint32Array(64);
    const ks = this.ks;
    encryptWords(this.rk, 0, 0, 0, 0, ks); // H = E(K, 0^128)
    buildGhashTable(this.ht, ks[0], ks[1], ks[2], ks[3]);
  }
}
Object.freeze(SoftwareKey.prototype);

// Reduction constants for shifting a GHASH value right by 4 bits: the 4 bits that fall off the
// low end, reduced by the GCM polynomial, folded into the top 16 bits (Shoup's "last4" << 16).
const R4 = Uint32Array.of(
  0x0000 << 16, 0x1c20 << 16, 0x3840 << 16, 0x2460 << 16, 0x7080 << 16, 0x6ca0 << 16, 0x48c0 << 16, 0x54e0 << 16,
  0xe100 << 16, 0xfd20 << 16, 0xd940 << 16, 0xc560 << 16, 0x9180 << 16, 0x8da0 << 16, 0xa9c0 << 16, 0xb5e0 << 16,
);

function buildGhashTable(t: Uint32Array, h0: number, h1: number, h2: number, h3: number): void {
  // In GCM's reflected bit order nibble value 8 stands for x^0, so t[8] = H and halving the
  // index multiplies by x (a right shift, reduced by 0xe1 ‖ 0^120 when a bit falls off).
  t[32] = h0;
  t[33] = h1;
  t[34] = h2;
  t[35] = h3;
  for (let i = 4; i > 0; i >>= 1) {
    const r = h3 & 1 ? 0xe1000000 : 0;
    h3 = (h3 >>> 1) | (h2 << 31);
    h2 = (h2 >>> 1) | (h1 << 31);
    h1 = (h1 >>> 1) | (h0 << 31);
    h0 = (h0 >>> 1) ^ r;
    t[4 * i] = h0;
    t[4 * i + 1] = h1;
    t[4 * i + 2] = h2;
    t[4 * i + 3] = h3;
  }
  // multiplication is linear: every other entry is the XOR of the power-of-two entries
  for (let i = 2; i <= 8; i <<= 1) {
    for (let j = 1; j < i; j++) {
      for (let w = 0; w < 4; w++) t[4 * (i + j) + w] = t[4 * i + w] ^ t[4 * j + w];
    }
  }
  t[0] = t[1] = t[2] = t[3] = 0;
}

/** Y = (Y ⊕ block)·H over src[off, end), the last partial block padded with zeros. */
function ghash(k: SoftwareKey, src: Uint8Array, off: number, end: number): void {
  const ht = k.ht;
  const y = k.y;
  let y0 = y[0];
  let y1 = y[1];
  let y2 = y[2];
  let y3 = y[3];
  let p = off;
  while (p < end) {
    if (end - p >= 16) {
      y0 ^= (src[p] << 24) | (src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3];
      y1 ^= (src[p + 4] << 24) | (src[p + 5] << 16) | (src[p + 6] << 8) | src[p + 7];
      y2 ^= (src[p + 8] << 24) | (src[p + 9] << 16) | (src[p + 10] << 8) | src[p + 11];
      y3 ^= (src[p + 12] << 24) | (src[p + 13] << 16) | (src[p + 14] << 8) | src[p + 15];
      p += 16;
    } else {
      // the tail: rare (once per call), so a byte loop is fine
      for (let i = 0; p < end; i++, p++) {
        const v = src[p] << (24 - ((i & 3) << 3));
        const w = i >> 2;
        if (w === 0) y0 ^= v;
        else if (w === 1) y1 ^= v;
        else if (w === 2) y2 ^= v;
        else y3 ^= v;
      }
    }
    // Z = Y·H, Shoup's 4-bit method: consume Y a nibble at a time from its last (highest-degree)
    // nibble, Z = Z·x^4 ⊕ H·nibble.
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    let x = y3;
    for (let n = 0; n < 32; n++) {
      if ((n & 7) === 0 && n !== 0) x = n === 8 ? y2 : n === 16 ? y1 : y0;
      const r = R4[z3 & 0xf];
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ r;
      const t = (x & 0xf) << 2;
      x >>>= 4;
      z0 ^= ht[t];
      z1 ^= ht[t + 1];
      z2 ^= ht[t + 2];
      z3 ^= ht[t + 3];
    }
    y0 = z0;
    y1 = z1;
    y2 = z2;
    y3 = z3;
  }
  y[0] = y0;
  y[1] = y1;
  y[2] = y2;
  y[3] = y3;
}

/** data[start, end) ^= keystream from counter block n0 ‖ n1 ‖ n2 ‖ 00000002. */
function ctr(k: SoftwareKey, n0: number, n1: number, n2: number, data: Uint8Array, start: number, end: number): void {
  const rk = k.rk;
  const ks = k.ks;
  let c = 2;
  let p = start;
  while (p < end) {
    encryptWords(rk, n0, n1, n2, c, ks);
    c = (c + 1) >>> 0; // inc32: only the last word counts, modulo 2^32
    if (end - p >= 16) {
      for (let w = 0; w < 4; w++) {
        const v = ks[w];
        data[p] ^= v >>> 24;
        data[p + 1] ^= v >>> 16;
        data[p + 2] ^= v >>> 8;
        data[p + 3] ^= v;
        p += 4;
      }
    } else {
      for (let i = 0; p < end; i++, p++) data[p] ^= ks[i >> 2] >>> (24 - ((i & 3) << 3));
    }
  }
}

/**
 * The full 16-byte tag over aad and the ciphertext data[start, end), left in k.ks as words.
 * k.y must already hold GHASH(aad) (startGhash): encryption hashes the AAD before it writes data.
 */
function tagWords(k: SoftwareKey, n0: number, n1: number, n2: number, aad: Uint8Array | null, data: Uint8Array, start: number, end: number): void {
  const ks = k.ks;
  const y = k.y;
  ghash(k, data, start, end);
  writeBitLength(k.lenBlock, aad === null ? 0 : aad.length, 0);
  writeBitLength(k.lenBlock, end - start, 8);
  ghash(k, k.lenBlock, 0, 16);
  encryptWords(k.rk, n0, n1, n2, 1, ks); // E(K, J0)
  ks[0] ^= y[0];
  ks[1] ^= y[1];
  ks[2] ^= y[2];
  ks[3] ^= y[3];
}

function startGhash(k: SoftwareKey, aad: Uint8Array | null): void {
  const y = k.y;
  y[0] = y[1] = y[2] = y[3] = 0;
  if (aad !== null) ghash(k, aad, 0, aad.length);
}

/** A byte count as a 64-bit big-endian bit count into b[at, at + 8). */
function writeBitLength(b: Uint8Array, bytes: number, at: number): void {
  const hi = Math.floor(bytes / 0x20000000);
  const lo = (bytes * 8) >>> 0; // exact: bytes * 8 stays far below 2^53
  b[at] = hi >>> 24;
  b[at + 1] = hi >>> 16;
  b[at + 2] = hi >>> 8;
  b[at + 3] = hi;
  b[at + 4] = lo >>> 24;
  b[at + 5] = lo >>> 16;
  b[at + 6] = lo >>> 8;
  b[at + 7] = lo;
}

function keyOf(key: CipherKey): SoftwareKey {
  // a key from another Crypto has no schedule here; mixing them is a wiring bug
  if (!(key instanceof SoftwareKey)) throw new Error('this key was not imported by softwareCrypto');
  return key;
}

function checkArgs(iv: Uint8Array, data: Uint8Array, start: number, end: number): void {
  if (iv.length !== IV_LENGTH) throw new Error(`a GCM IV here has ${IV_LENGTH} bytes, not ${iv.length}`);
  if (!((start >>> 0) === start && (end >>> 0) === end && start <= end && end <= data.length)) {
    throw new Error(`range [${start}, ${end}) is not inside a buffer of ${data.length} bytes`);
  }
}

function word(b: Uint8Array, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
}

function gcmDecryptInPlace(
  key: CipherKey,
  iv: Uint8Array,
  data: Uint8Array,
  start: number,
  end: number,
  aad: Uint8Array | null,
  tag: Uint8Array | null,
): boolean {
  const k = keyOf(key);
  checkArgs(iv, data, start, end);
  const n0 = word(iv, 0);
  const n1 = word(iv, 4);
  const n2 = word(iv, 8);
  if (tag !== null) {
    // a tag shorter than 4 bytes proves nothing, one longer than 16 cannot exist
    if (tag.length < MIN_TAG || tag.length > MAX_TAG) return false;
    startGhash(k, aad);
    tagWords(k, n0, n1, n2, aad, data, start, end);
    // constant time over tag.length bytes: no early exit, one OR-accumulated difference
    const full = k.ks;
    let diff = 0;
    for (let i = 0; i < tag.length; i++) diff |= tag[i] ^ ((full[i >> 2] >>> (24 - ((i & 3) << 3))) & 0xff);
    if (diff !== 0) return false;
  }
  ctr(k, n0, n1, n2, data, start, end);
  return true;
}

function gcmEncryptInPlace(
  key: CipherKey,
  iv: Uint8Array,
  data: Uint8Array,
  start: number,
  end: number,
  aad: Uint8Array | null,
  tagOut: Uint8Array | null,
): void {
  const k = keyOf(key);
  checkArgs(iv, data, start, end);
  if (tagOut !== null && (tagOut.length < MIN_TAG || tagOut.length > MAX_TAG)) {
    throw new Error(`a GCM tag has ${MIN_TAG} to ${MAX_TAG} bytes, not ${tagOut.length}`);
  }
  const n0 = word(iv, 0);
  const n1 = word(iv, 4);
  const n2 = word(iv, 8);
  // hash the AAD before writing, in case the caller's AAD shares bytes with data
  if (tagOut !== null) startGhash(k, aad);
  ctr(k, n0, n1, n2, data, start, end);
  if (tagOut === null) return;
  tagWords(k, n0, n1, n2, aad, data, start, end);
  const full = k.ks;
  for (let i = 0; i < tagOut.length; i++) tagOut[i] = full[i >> 2] >>> (24 - ((i & 3) << 3));
}

function importKey(key: Uint8Array): CipherKey {
  return new SoftwareKey(key);
}

/** AES-128-GCM in TypeScript; see the module header for what it does and does not handle. */
export const softwareCrypto: Crypto = Object.freeze({ importKey, gcmDecryptInPlace, gcmEncryptInPlace });
