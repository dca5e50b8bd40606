/**
 * The device's AES-128-GCM: the core's own TypeScript implementation (firmware/crypto/gcm.ts).
 *
 * Why not the SDK's native `crypt` module (modules/crypt/digest: BlockCipher + Mode("CTR"),
 * software AES in kcl/fips197.c, not the ESP32 AES peripheral)? A push is one APDU of about 250
 * bytes every 5 s, i.e. ~16 AES blocks, so even a slow JS AES costs a few milliseconds per push,
 * far inside the UART's slack (see serial.ts). Native CTR would add the crypt manifest (all
 * digests and ciphers), need ArrayBuffer keys and IVs (the crypt natives use
 * xsmcToArrayBuffer) with a copy per call, and would still leave tags (security byte 0x30) and
 * the simulator's encryption to JS (gcm.js in the SDK is JS over CTR + GHASH anyway). One
 * implementation on both engines is also the one the tests exercise. Revisit only if the XS
 * measurement of a push (lead's bench) shows decryption above ~20 ms.
 */
import type { Crypto } from '../../firmware/crypto/crypto.js';
import { softwareCrypto } from '../../firmware/crypto/gcm.js';

export const deviceCrypto: Crypto = softwareCrypto;
