/**
 * The one seam between the DLMS layer and a block cipher. The core ships a pure TypeScript
 * implementation (aes.ts + gcm.ts); the host plugs in node:crypto and the device may plug in a
 * native cipher. Callers build the IV and AAD (see dlms/apdu.ts); this layer knows nothing of
 * DLMS.
 */

/** A 16-byte AES-128 key that has been prepared (key schedule, GHASH subkey) once. */
export interface CipherKey {
  readonly bytes: Uint8Array;
}

export interface Crypto {
  /** Prepares a 16-byte key. Throws on a key of the wrong length (a config error). */
  importKey(key: Uint8Array): CipherKey;
  /**
   * AES-128-GCM decryption of data[start, end) in place, with a 12-byte IV (J0 = IV ‖ 00000001,
   * keystream from IV ‖ 00000002).
   * With a tag (any length from 4 to 16 bytes, DLMS uses 12) the tag is checked first, over
   * aad (null = empty) and the ciphertext; on a mismatch false is returned and data is untouched.
   * Without a tag nothing can be verified and true is returned.
   */
  gcmDecryptInPlace(
    key: CipherKey,
    iv: Uint8Array,
    data: Uint8Array,
    start: number,
    end: number,
    aad: Uint8Array | null,
    tag: Uint8Array | null,
  ): boolean;
  /**
   * AES-128-GCM encryption of data[start, end) in place. If tagOut is given, the tag over aad and
   * the ciphertext is written into it (its length decides how many bytes: 12 for DLMS).
   * Used by the meter simulator and tests.
   */
  gcmEncryptInPlace(
    key: CipherKey,
    iv: Uint8Array,
    data: Uint8Array,
    start: number,
    end: number,
    aad: Uint8Array | null,
    tagOut: Uint8Array | null,
  ): void;
}
