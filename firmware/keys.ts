/**
 * The customer's keys. The encryption key (GUEK) and the authentication key (GAK) get distinct
 * types so one cannot be passed where the other belongs. Parsing accepts what people copy out of
 * a grid operator's portal: spaces, `0x`, lower case.
 */
import { isHexParseError, parseHex } from './bytes.js';

export interface EncryptionKey {
  readonly kind: 'encryption';
  readonly bytes: Uint8Array;
}

export interface AuthenticationKey {
  readonly kind: 'authentication';
  readonly bytes: Uint8Array;
}

export type KeyParseResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

/** 32 hex digits, with any spaces, separators or `0x` prefixes. */
export function parseKeyText(text: string): KeyParseResult {
  const bytes = parseHex(text);
  if (isHexParseError(bytes)) {
    return { ok: false, message: `not a hex key (a key has 32 hex digits): ${bytes.detail}` };
  }
  if (bytes.length !== 16) return { ok: false, message: `a key has 32 hex digits (16 bytes); this one has ${bytes.length * 2}` };
  return { ok: true, bytes };
}

function keyBytes(key: string | Uint8Array, what: string): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length !== 16) throw new Error(`${what} must be 16 bytes, got ${key.length}`);
    return key.slice();
  }
  const r = parseKeyText(key);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  return r.bytes;
}

/** Throws on a malformed key: a configuration error, caught where config is validated. */
export function encryptionKey(key: string | Uint8Array): EncryptionKey {
  return Object.freeze({ kind: 'encryption', bytes: keyBytes(key, 'encryption key') });
}

export function authenticationKey(key: string | Uint8Array): AuthenticationKey {
  return Object.freeze({ kind: 'authentication', bytes: keyBytes(key, 'authentication key') });
}
