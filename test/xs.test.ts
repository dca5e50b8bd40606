// The engine-neutral core proven on the real XS engine (xsnap-worker of @agoric/xsnap, XS 13.3):
// every real push of test/fixtures/real-meters.json decodes on XS to exactly what it decodes to
// in Node, and a bundle that uses a Node-only API fails there. The binary comes from
// scripts/build-xsnap.mjs (built here if missing); the worker is driven over its netstring
// protocol (test/xs/driver.mjs), so this realm is not locked down by @endo/init.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticationKey, decode, encryptionKey, softwareCrypto, type DecoderKeys } from '../firmware/index.js';
import { hex, reencrypt, toHexOf, vectors, wire, type Vector } from './helpers.js';
import { buildXsScript } from './xs/bundle.mjs';
import { xsnapBinary } from './support/tools.js';
import { decodeJson, encodeJson, type XsCommand } from './xs/codec.js';
import { XsWorker, type XsMeters } from './xs/driver.mjs';

/** The vector's key with every bit flipped: certainly wrong (a fixed test key can be a real one). */
const wrongKey = (v: Vector): string => v.key!.replace(/[0-9A-Fa-f]/g, (d) => (15 - parseInt(d, 16)).toString(16).toUpperCase());

let worker: XsWorker;
let bin: string;
let script: string;
const meters: Record<string, XsMeters | null> = {};

beforeAll(async () => {
  bin = xsnapBinary();
  script = await buildXsScript();
  worker = XsWorker.start(bin);
  await worker.evaluate(script);
}, 120_000);

afterAll(async () => {
  await worker?.close();
  if (process.env.XS_METERS) console.table(meters);
});

function keysOf(key: string | null, authKey: string | null): DecoderKeys {
  return { encryption: key ? encryptionKey(key) : null, authentication: authKey ? authenticationKey(authKey) : null };
}

/** The same decode on XS (in the worker) and in this process, both through the same JSON codec. */
async function both(label: string, frames: string[], key: string | null, authKey: string | null) {
  const command: XsCommand = { op: 'decode', frames, key, authKey };
  const xs = await worker.command(encodeJson(command));
  meters[label] = xs.meters;
  const node = encodeJson(decode(hex(frames.join('')), keysOf(key, authKey), softwareCrypto));
  return { xs: xs.text, node, xsValue: decodeJson(xs.text), nodeValue: decodeJson(node), meters: xs.meters };
}

describe('the core on XS (xsnap-worker)', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('%s: XS decodes exactly as Node', async (_id, v: Vector) => {
    const r = await both(v.id, v.frames_hex, v.key, v.auth_key);
    expect(r.xsValue, r.xs).not.toHaveProperty('exception');
    expect(r.xsValue).toEqual(r.nodeValue);
    expect(r.xs).toBe(r.node); // same key order and the same number formatting
    const { readings, errors } = r.nodeValue as ReturnType<typeof decode>;
    expect(readings.length + errors.length).toBeGreaterThan(0);
    expect(r.meters!.compute).toBeGreaterThan(0);
    expect(r.meters!.currentHeapCount).toBeGreaterThan(0);
  });

  // A meter's next push (the next frame counter) through one decoder with the guard and one without:
  // judging an accepted push allocates nothing per value (a few slots at most: the clock string of
  // a meter without offset); every push is accepted.
  it.each(['at-tinetz-kaifa-docexample', 'lgz-e450-rddl-workshop-encOnly-2', 'dk-kamstrup-omnipower-authenc'])('%s: the guard judges the next push on XS without allocating per value', async (id) => {
    const v = vectors.find((x) => x.id === id)!;
    const first = reencrypt(v).counter + 1;
    const pushes = Array.from({ length: 12 }, (_, i) => toHexOf(reencrypt(v, { counter: first + i }).wire));
    const cmd = async (c: XsCommand) => {
      const r = await worker.command(encodeJson(c));
      const value = decodeJson(r.text) as { readings?: number; errors?: number; exception?: string };
      expect(value, r.text).not.toHaveProperty('exception');
      return { value, heap: r.meters!.currentHeapCount };
    };
    await cmd({ op: 'series', id, pushes, key: v.key, authKey: v.auth_key });
    const slots: Record<string, number[]> = { true: [], false: [] };
    for (let i = 0; i < 12; i++) {
      for (const guard of [false, true]) {
        const g = await cmd({ op: 'gc' });
        const r = await cmd({ op: 'next', id, guard });
        expect(r.value).toEqual({ readings: 1, errors: 0 });
        if (i >= 4) slots[String(guard)].push(r.heap - g.heap); // after the first pushes set the baselines up
      }
    }
    const extra = slots.true.map((n, i) => n - slots.false[i]);
    expect(Math.max(...extra)).toBeLessThanOrEqual(4);
  });

  const plaintexts = vectors.filter((v) => v.plaintext_hex);
  it.each(plaintexts.map((v) => [v.id, v] as const))('%s: the decrypted APDU alone decodes on XS as on Node', async (_id, v: Vector) => {
    const r = await both(`${v.id} (plaintext)`, [v.plaintext_hex!], null, null);
    expect(r.xsValue, r.xs).not.toHaveProperty('exception');
    expect(r.xs).toBe(r.node);
  });

  const keyed = vectors.filter((v) => v.key);
  it.each(keyed.map((v) => [v.id, v] as const))('%s: a wrong key gives the same error on XS as on Node', async (_id, v: Vector) => {
    const r = await both(`${v.id} (wrong key)`, v.frames_hex, wrongKey(v), v.auth_key);
    expect(r.xsValue, r.xs).not.toHaveProperty('exception');
    expect(r.xsValue).toEqual(r.nodeValue);
    expect(r.xs).toBe(r.node);
    const { readings, errors } = r.nodeValue as ReturnType<typeof decode>;
    expect(readings).toEqual([]);
    expect(errors.map((e) => e.kind)).toContainEqual(expect.stringMatching(/^(wrong-key-or-corrupt|tag-mismatch)$/));
  });

  it('a wrong key fails an unauthenticated 0x20 push as wrong-key-or-corrupt and a tagged 0x30 push as tag-mismatch', async () => {
    const m = keyed.find((v) => v.id === 'at-netznoe-kaifa-official')!;
    const t = keyed.find((v) => v.id === 'at-netzburgenland-lgz-e450-amsreader501')!;
    const kinds = async (v: Vector) => ((await both(`${v.id} (wrong key, kinds)`, v.frames_hex, wrongKey(v), v.auth_key)).xsValue as ReturnType<typeof decode>).errors.map((e) => e.kind);
    expect(await kinds(m)).toEqual(['wrong-key-or-corrupt']);
    expect(await kinds(t)).toEqual(['tag-mismatch']);
  });

  it('a malformed key throws the same message on XS as on Node', async () => {
    const v = keyed[0];
    const xs = decodeJson((await worker.command(encodeJson({ op: 'decode', frames: v.frames_hex, key: 'not a key' }))).text) as { exception: string };
    expect(() => decode(wire(v), keysOf('not a key', null), softwareCrypto)).toThrow();
    let node = '';
    try {
      encryptionKey('not a key');
    } catch (e) {
      node = String(e);
    }
    expect(xs.exception).toBe(node);
  });

  it('the gate works: a bundle that uses Buffer is rejected by XS', async () => {
    const gate = await buildXsScript(fileURLToPath(new URL('./xs/node-only.ts', import.meta.url)));
    expect(gate).toContain('Buffer.from');
    await expect(worker.evaluate(gate)).rejects.toThrow(/Buffer/);
    // and the worker survives it for the other tests
    const again = await both('after the gate', vectors[0].frames_hex, vectors[0].key, vectors[0].auth_key);
    expect(again.xs).toBe(again.node);
  }, 120_000); // a rollup + TypeScript build: tens of seconds on a loaded 2-core machine

  it('decodes the same with the built-ins frozen, as after preload on the device', async () => {
    // xsnap has no lockdown(); harden every global but globalThis itself: built-in constructors,
    // their prototypes and functions become frozen, so e.g. `err.name = ...` on an Error subclass
    // would throw as it does on the device (research §0.4).
    const frozen = XsWorker.start(bin);
    try {
      await frozen.evaluate(`for (const k of Reflect.ownKeys(globalThis)) {
        const d = Object.getOwnPropertyDescriptor(globalThis, k);
        if (d && 'value' in d && d.value !== globalThis && (typeof d.value === 'object' || typeof d.value === 'function') && d.value !== null) harden(d.value);
      }
      if (!Object.isFrozen(Error.prototype) || !Object.isFrozen(Uint8Array.prototype)) throw Error('not frozen');`);
      await frozen.evaluate(script);
      for (const v of vectors) {
        const xs = await frozen.command(encodeJson({ op: 'decode', frames: v.frames_hex, key: v.key, authKey: v.auth_key } satisfies XsCommand));
        const node = encodeJson(decode(wire(v), keysOf(v.key, v.auth_key), softwareCrypto));
        expect(xs.text, v.id).toBe(node);
      }
    } finally {
      await frozen.close();
    }
  }, 30_000);

  it('the gate works: a node: import does not even bundle for XS', async () => {
    await expect(buildXsScript(fileURLToPath(new URL('./xs/node-import.ts', import.meta.url)))).rejects.toThrow(/UNRESOLVED_IMPORT: "node:fs"/);
  }, 120_000);
});
