// Golden Readings: the full output (every key, value, unit, meter block, timestamp, security, and
// the errors) of every real fixture, kept as a reviewed snapshot in fixtures/golden-readings.json.
// Any change in what the decoder says about a real push shows as a diff of that file; a wanted
// change is taken with `npx vitest run test/golden.test.ts -u` and reviewed like code.
import { expect, it } from 'vitest';
import { decode } from '../firmware/decoder.js';
import { authenticationKey, encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { allVectors, wire } from './helpers.js';

it('every real fixture decodes to its golden Readings', async () => {
  const golden: Record<string, unknown> = {};
  for (const v of allVectors) {
    const keys = { encryption: v.key ? encryptionKey(v.key) : null, authentication: v.auth_key ? authenticationKey(v.auth_key) : null };
    golden[v.id] = decode(wire(v), keys, softwareCrypto);
  }
  await expect(JSON.stringify(golden, null, 1) + '\n').toMatchFileSnapshot('fixtures/golden-readings.json');
});
