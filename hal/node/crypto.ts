/**
 * The host's `Crypto`: AES-128-GCM from node:crypto (OpenSSL), same contract as the TypeScript
 * softwareCrypto in firmware/crypto/gcm.ts. Node cannot work in place, so results go through a
 * temporary and are copied back; with a tag only after the tag has verified, so a mismatch leaves
 * the data untouched.
 */
import { createCipheriv, createDecipheriv, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { CipherKey, Crypto } from '../../firmware/crypto/crypto.js';

const IV_LENGTH = 12;
const MIN_TAG = 4;
const MAX_TAG = 16;

class NodeKey implements CipherKey {
  readonly bytes: Uint8Array;
  /** imported once, so OpenSSL does not re-validate raw key bytes on every call */
  readonly secret: KeyObject;
  /** IV ‖ 00000002, the first GCM keystream block, for the CTR path (reused per call) */
  readonly ctrIv = new Uint8Array(16);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new Error(`an AES-128 key has 16 bytes, not ${key.length}`);
    this.bytes = key.slice();
    this.secret = createSecretKey(this.bytes);
  }
}

function keyOf(key: CipherKey): NodeKey {
  if (!(key instanceof NodeKey)) throw new Error('this key was not imported by nodeCrypto');
  return key;
}

function checkArgs(iv: Uint8Array, data: Uint8Array, start: number, end: number): void {
  if (iv.length !== IV_LENGTH) throw new Error(`a GCM IV here has ${IV_LENGTH} bytes, not ${iv.length}`);
  if (!((start >>> 0) === start && (end >>> 0) === end && start <= end && end <= data.length)) {
    throw new Error(`range [${start}, ${end}) is not inside a buffer of ${data.length} bytes`);
  }
}

/** Tag lengths OpenSSL accepts for GCM; 5..7 and 9..11 need the manual comparison below. */
function nodeTagLength(n: number): boolean {
  return n === 4 || n === 8 || (n >= 12 && n <= 16);
}

/**
 * GCM without a tag is CTR from IV ‖ 00000002 (Node's GCM final() would reject the missing tag).
 * Returns the transformed bytes; the caller copies them.
 */
function ctr(k: NodeKey, iv: Uint8Array, src: Uint8Array): Uint8Array {
  k.ctrIv.set(iv, 0);
  k.ctrIv[12] = 0;
  k.ctrIv[13] = 0;
  k.ctrIv[14] = 0;
  k.ctrIv[15] = 2;
  const c = createDecipheriv('aes-128-ctr', k.secret, k.ctrIv);
  const out = c.update(src);
  c.final(); // CTR has no padding and nothing left over
  return out;
}

/** The full 16-byte tag over aad and the ciphertext that `plain` encrypts to. */
function fullTag(k: NodeKey, iv: Uint8Array, aad: Uint8Array | null, plain: Uint8Array): Uint8Array {
  // Re-encrypting the plaintext reproduces the ciphertext, so OpenSSL computes the tag over it.
  const c = createCipheriv('aes-128-gcm', k.secret, iv);
  if (aad !== null) c.setAAD(aad);
  c.update(plain);
  c.final();
  return c.getAuthTag();
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
  const cipher = data.subarray(start, end);
  if (tag === null) {
    data.set(ctr(k, iv, cipher), start);
    return true;
  }
  // a tag shorter than 4 bytes proves nothing, one longer than 16 cannot exist
  if (tag.length < MIN_TAG || tag.length > MAX_TAG) return false;
  if (!nodeTagLength(tag.length)) {
    // OpenSSL refuses these truncations; compare the leading bytes of the full tag ourselves
    const plain = ctr(k, iv, cipher);
    const full = fullTag(k, iv, aad, plain);
    if (!timingSafeEqual(full.subarray(0, tag.length), tag)) return false;
    data.set(plain, start);
    return true;
  }
  let plain: Uint8Array;
  try {
    const d = createDecipheriv('aes-128-gcm', k.secret, iv, { authTagLength: tag.length });
    if (aad !== null) d.setAAD(aad);
    d.setAuthTag(tag);
    plain = d.update(cipher);
    d.final(); // throws when the tag does not verify
  } catch {
    return false;
  }
  data.set(plain, start);
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
  const plain = data.subarray(start, end);
  if (tagOut === null) {
    data.set(ctr(k, iv, plain), start);
    return;
  }
  if (tagOut.length < MIN_TAG || tagOut.length > MAX_TAG) {
    throw new Error(`a GCM tag has ${MIN_TAG} to ${MAX_TAG} bytes, not ${tagOut.length}`);
  }
  const c = createCipheriv('aes-128-gcm', k.secret, iv);
  if (aad !== null) c.setAAD(aad);
  const out = c.update(plain);
  c.final();
  data.set(out, start);
  tagOut.set(c.getAuthTag().subarray(0, tagOut.length));
}

function importKey(key: Uint8Array): CipherKey {
  return new NodeKey(key);
}

/** AES-128-GCM from node:crypto, for the host. */
export const nodeCrypto: Crypto = Object.freeze({ importKey, gcmDecryptInPlace, gcmEncryptInPlace });
