/**
 * The gate's negative control (test/xs.test.ts): core code plus one Node-only API. Bundled the
 * same way as entry.ts, it must fail on XS, which proves a Buffer (process, require...) slipping
 * into firmware/ would be caught by the XS tests.
 */
import { toHex } from '../../firmware/index.js';

const hex = Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('hex');
(globalThis as unknown as { gateResult: string }).gateResult = toHex(new Uint8Array([1])) + hex;
