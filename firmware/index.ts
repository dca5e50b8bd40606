/** The engine-neutral core: everything the device and the host share. */
export { MeterDecoder, decode, type DecoderKeys, type DecoderOptions, type DecoderStats, type DecodeResult, type Framing } from './decoder.js';
export { encryptionKey, authenticationKey, parseKeyText, type EncryptionKey, type AuthenticationKey } from './keys.js';
export { formatError, type DecodeError, type ErrorKind } from './errors.js';
export { parseHex, isHexParseError, toHex } from './bytes.js';
export type { Reading, Value } from './reading.js';
export type { Crypto, CipherKey } from './crypto/crypto.js';
export { softwareCrypto } from './crypto/gcm.js';
