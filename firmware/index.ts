/** The engine-neutral core: everything the device and the host share. */
export { MeterDecoder, decode, framingOf, type DecoderKeys, type DecoderOptions, type DecoderStats, type DecodeOptions, type DecodeResult, type Framing } from './decoder.js';
export { PlausibilityGuard, DEFAULT_MAX_POWER_W, type GuardOptions, type GuardRule } from './guard.js';
export { encryptionKey, authenticationKey, parseKeyText, type EncryptionKey, type AuthenticationKey } from './keys.js';
export { formatError, type DecodeError, type ErrorKind } from './errors.js';
export { parseHex, isHexParseError, toHex } from './bytes.js';
export { ValueList, type Reading, type Value } from './reading.js';
export type { Crypto, CipherKey } from './crypto/crypto.js';
export { softwareCrypto } from './crypto/gcm.js';
