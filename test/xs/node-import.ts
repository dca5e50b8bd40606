/**
 * The gate's other negative control (test/xs.test.ts): a `node:` import cannot be bundled for XS
 * (buildXsScript keeps nothing external), so firmware/ importing one fails at build time.
 */
import { readFileSync } from 'node:fs';
import { toHex } from '../../firmware/index.js';

(globalThis as unknown as { gateResult: string }).gateResult = toHex(new Uint8Array(readFileSync('/etc/hostname')));
