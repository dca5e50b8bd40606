// The plausibility guard (firmware/guard.ts): a push that decodes but that no real meter can send is
// an `implausible` error and never a Reading; a rejected push changes nothing the next one is
// judged by; a meter restart is recognised after a few pushes that agree with each other.
import { describe, expect, it } from 'vitest';
import { decode, MeterDecoder, type DecoderKeys } from '../firmware/decoder.js';
import { GUARD_ACCEPT, GUARD_REJECT, GUARD_RESYNC, PlausibilityGuard, RESYNC_PUSHES } from '../firmware/guard.js';
import { authenticationKey, encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { emptyReading, type Reading } from '../firmware/reading.js';
import type { DecodeError } from '../firmware/errors.js';
import { crc16x25 } from '../firmware/link/hdlc.js';
import { concat, reencrypt, valueAt, vector, wire, type Vector } from './helpers.js';

const keysOf = (v: Vector): DecoderKeys => ({
  encryption: v.key ? encryptionKey(v.key) : null,
  authentication: v.auth_key ? authenticationKey(v.auth_key) : null,
});

/** Index of a big-endian uint32 `06 <value>` in a plaintext (positional lists name no OBIS code). */
function uint32At(plain: Uint8Array, value: number): number {
  for (let i = 0; i + 4 < plain.length; i++) {
    if (plain[i] === 0x06 && ((plain[i + 1] << 24) >>> 0) + (plain[i + 2] << 16) + (plain[i + 3] << 8) + plain[i + 4] === value) return i + 1;
  }
  throw new Error(`no uint32 ${value}`);
}

function flipBit(plain: Uint8Array, valueOffset: number, bit: number): void {
  plain[valueOffset + 3 - (bit >> 3)] ^= 1 << (bit & 7);
}

describe('a corruption behind a valid checksum, between two real pushes of one meter', () => {
  // the noise of the field report: bit 19 of the energy register flips (+524 288 Wh), the
  // checksum (M-Bus) or the FCS (HDLC) still matches, and encryption-only pushes carry no tag
  const cases: [string, (plain: Uint8Array) => number][] = [
    ['at-netznoe-kaifa-official', (p) => valueAt(p, [1, 0, 1, 8, 0, 255])],
    ['at-tinetz-kaifa-docexample', (p) => valueAt(p, [1, 0, 1, 8, 0, 255])],
    ['at-wienernetze-siemens-sel0', (p) => uint32At(p, 1465)],
    ['at-wels-siemens-im350-shrdzm-2', (p) => uint32At(p, 3532035)],
  ];

  it.each(cases)('%s: 2 Readings and 1 implausible error', (id, energyAt) => {
    const v = vector(id);
    const first = reencrypt(v);
    const n = first.counter;
    // the corrupted copy carries the counter of the real push that follows it
    const corrupted = reencrypt(v, { counter: n + 1, edit: (p) => flipBit(p, energyAt(p), 19) });
    const second = reencrypt(v, { counter: n + 1 });
    const stream = concat(first.wire, corrupted.wire, second.wire);

    const unguarded = decode(stream, keysOf(v), softwareCrypto, { guard: null });
    expect(unguarded.errors, 'every check below the guard passes').toEqual([]);
    expect(unguarded.readings).toHaveLength(3);
    expect(unguarded.readings[1].values['1-0:1.8.0'].value).toBe((unguarded.readings[0].values['1-0:1.8.0'].value as number) + 524288);

    const { readings, errors } = decode(stream, keysOf(v), softwareCrypto);
    expect(readings.map((r) => r.frameCounter)).toEqual([n, n + 1]);
    expect(readings[1].values['1-0:1.8.0']).toEqual(readings[0].values['1-0:1.8.0']);
    expect(errors).toHaveLength(1);
    const e = errors[0];
    expect(e).toMatchObject({ kind: 'implausible', offset: first.wire.length + (stream[0] === 0x68 ? 9 : 14), rule: 'energy-rate', obis: '1-0:1.8.0' });
    expect(e.previous).toBe(readings[0].values['1-0:1.8.0'].value);
    expect(e.value).toBe((e.previous as number) + 524288);
    expect(e.detail).toContain(`frame counter ${n + 1} is not published`);
  });

  it('the 0x30 push with a verified tag never needs the guard: the tag catches it first', () => {
    const v = vector('dk-kamstrup-omnipower-authenc');
    const good = reencrypt(v);
    const bad = good.wire.slice();
    bad[100] ^= 0x08;
    const frameLength = bad.length;
    const crc = crc16x25(bad, 1, frameLength - 3);
    bad[frameLength - 3] = crc & 0xff;
    bad[frameLength - 2] = crc >> 8;
    const { readings, errors } = decode(concat(good.wire, bad), keysOf(v), softwareCrypto);
    expect(readings).toHaveLength(1);
    expect(errors.map((x) => x.kind)).toEqual(['tag-mismatch']);
  });
});

describe('the guard in the pipeline', () => {
  const v = vector('at-netznoe-kaifa-official');

  function run(pushes: Uint8Array[], guard = new PlausibilityGuard()) {
    const readings: Reading[] = [];
    const errors: DecodeError[] = [];
    const notices: string[] = [];
    const d = new MeterDecoder({ crypto: softwareCrypto, keys: keysOf(v), guard, onReading: (r) => readings.push(r), onError: (e) => errors.push(e), onNotice: (m) => notices.push(m) });
    for (const p of pushes) d.push(p);
    d.finish();
    return { readings, errors, notices, stats: d.stats };
  }

  it('counts a rejected push as an error of kind implausible, not as a Reading', () => {
    const p = reencrypt(v).wire;
    const { stats, readings } = run([p, p]); // the same push twice: its frame counter does not grow
    expect(readings).toHaveLength(1);
    expect(stats.readings).toBe(1);
    expect(stats.errorsByKind).toEqual({ implausible: 1 });
    expect(stats.lastError).toMatchObject({ kind: 'implausible', rule: 'frame-counter', value: 0x23, previous: 0x23 });
  });

  it('a meter restart (frame counter from 0 again) is recognised after a few pushes, logged, and not a reason to stop', () => {
    const before = [100, 101].map((c) => reencrypt(v, { counter: c }).wire);
    const after = [1, 2, 3, 4].map((c) => reencrypt(v, { counter: c }).wire);
    const { readings, errors, notices } = run([...before, ...after]);
    // RESYNC_PUSHES - 1 pushes are refused, the one that confirms the restart is published
    expect(errors.map((e) => e.rule)).toEqual(Array(RESYNC_PUSHES - 1).fill('frame-counter'));
    expect(readings.map((r) => r.frameCounter)).toEqual([100, 101, 3, 4]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('a meter restart, a counter reset or a clock that was set');
  });

  it('is on by default in decode() and can be turned off', () => {
    const p = reencrypt(v).wire;
    expect(decode(concat(p, p), keysOf(v), softwareCrypto).readings).toHaveLength(1);
    expect(decode(concat(p, p), keysOf(v), softwareCrypto, { guard: null }).readings).toHaveLength(2);
  });

  it('unencrypted pushes have no frame counter: identical pushes pass', () => {
    const plain = vector('no-aidon-1phase-plain');
    expect(decode(concat(wire(plain), wire(plain)), {}, softwareCrypto).readings).toHaveLength(2);
  });
});

describe('the rules, on Readings', () => {
  const W = 'W', WH = 'Wh';
  function reading(counter: number | null, timestamp: string | null, values: Record<string, [number, string]>, title = '4B464D6750000009'): Reading {
    const r = emptyReading();
    r.meter.systemTitle = title;
    r.frameCounter = counter;
    r.timestamp = timestamp;
    for (const [k, [value, unit]] of Object.entries(values)) r.values[k] = { value, unit };
    return r;
  }
  const at = (s: number) => `2024-03-01T12:00:${String(s).padStart(2, '0')}+01:00`;

  it('energy may rise as fast as the maximum power allows, not faster', () => {
    const g = new PlausibilityGuard({ maxPowerW: 36_000 }); // 10 Wh per second
    expect(g.check(reading(1, at(0), { '1-0:1.8.0': [1000, WH] }), NaN)).toBe(GUARD_ACCEPT);
    expect(g.check(reading(2, at(10), { '1-0:1.8.0': [1101, WH] }), NaN)).toBe(GUARD_ACCEPT); // 100 Wh in 10 s, +1 Wh resolution
    expect(g.check(reading(3, at(20), { '1-0:1.8.0': [1203, WH] }), NaN)).toBe(GUARD_REJECT);
    expect(g.rule).toBe('energy-rate');
    expect(g.detail).toBe('1-0:1.8.0 rose from 1101 Wh to 1203 Wh in 10 s: 36.72 kW on average, more than the maximum of 36 kW (rule energy-rate); the push from 4B464D6750000009, frame counter 3 is not published');
    // judged against the last accepted push, not the rejected one
    expect(g.check(reading(3, at(20), { '1-0:1.8.0': [1150, WH] }), NaN)).toBe(GUARD_ACCEPT);
  });

  it('a register with kWh resolution may step by 1000 Wh in a second', () => {
    const g = new PlausibilityGuard();
    expect(g.check(reading(1, at(0), { '1-0:1.8.0': [4_408_000, WH] }), NaN)).toBe(GUARD_ACCEPT);
    expect(g.check(reading(2, at(1), { '1-0:1.8.0': [4_409_000, WH] }), NaN)).toBe(GUARD_ACCEPT);
  });

  it('energy never decreases; reactive energy too', () => {
    const g = new PlausibilityGuard();
    g.check(reading(1, at(0), { '1-0:1.8.0': [1000, WH], '1-0:3.8.0': [50, 'varh'] }), NaN);
    expect(g.check(reading(2, at(5), { '1-0:1.8.0': [1000, WH], '1-0:3.8.0': [49, 'varh'] }), NaN)).toBe(GUARD_REJECT);
    expect([g.rule, g.obis, g.value, g.previous]).toEqual(['energy-decrease', '1-0:3.8.0', 49, 50]);
  });

  it('without a meter clock, the arrival times bound the rise', () => {
    const g = new PlausibilityGuard();
    g.check(reading(1, null, { '1-0:1.8.0': [1000, WH] }), 0);
    expect(g.check(reading(2, null, { '1-0:1.8.0': [1500, WH] }), 10_000)).toBe(GUARD_REJECT); // 500 Wh in 10 s = 180 kW
    expect(g.check(reading(2, null, { '1-0:1.8.0': [1200, WH] }), 10_000)).toBe(GUARD_ACCEPT); // 72 kW
  });

  it('the clock moves forward; a local clock may go back an hour (end of summer time)', () => {
    const g = new PlausibilityGuard();
    g.check(reading(1, at(30), {}), NaN);
    expect(g.check(reading(2, at(29), {}), NaN)).toBe(GUARD_REJECT);
    expect(g.rule).toBe('clock');
    const local = new PlausibilityGuard();
    local.check(reading(1, '2024-10-27T02:59:58', {}), NaN);
    expect(local.check(reading(2, '2024-10-27T02:00:03', {}), NaN)).toBe(GUARD_ACCEPT);
    expect(local.check(reading(3, '2024-10-27T00:59:00', {}), NaN)).toBe(GUARD_REJECT);
  });

  it('a clock far ahead of the time that passed is refused, so it cannot poison what follows', () => {
    const g = new PlausibilityGuard();
    g.check(reading(1, at(0), {}), 0);
    expect(g.check(reading(2, '2150-03-01T12:00:05+01:00', {}), 5000)).toBe(GUARD_REJECT);
    expect(g.check(reading(3, at(10), {}), 10_000)).toBe(GUARD_ACCEPT);
  });

  it('instantaneous values stay within physical ranges', () => {
    const g = new PlausibilityGuard();
    expect(g.check(reading(1, null, { '1-0:32.7.0': [230.1, 'V'], '1-0:31.7.0': [12.5, 'A'], '1-0:1.7.0': [2500, W] }), NaN)).toBe(GUARD_ACCEPT);
    expect(g.check(reading(2, null, { '1-0:32.7.0': [6783.3, 'V'] }), NaN)).toBe(GUARD_REJECT);
    expect(g.detail).toContain('1-0:32.7.0 is 6783.3 V, outside 0-500 V');
    expect(g.check(reading(3, null, { '1-0:1.7.0': [524_288 + 2500, W] }), NaN)).toBe(GUARD_REJECT);
    expect(g.check(reading(4, null, { '1-0:31.7.0': [-20_000, 'A'] }), NaN)).toBe(GUARD_REJECT);
    // Kamstrup sends 0.01 A unscaled: 40 A arrives as 4000 and must pass
    expect(g.check(reading(5, null, { '1-1:31.7.0': [4000, 'A'] }), NaN)).toBe(GUARD_ACCEPT);
  });

  it('keeps each meter apart (system title)', () => {
    const g = new PlausibilityGuard();
    expect(g.check(reading(100, null, {}, 'AAAAAAAAAAAAAAAA'), NaN)).toBe(GUARD_ACCEPT);
    expect(g.check(reading(5, null, {}, 'BBBBBBBBBBBBBBBB'), NaN)).toBe(GUARD_ACCEPT);
    expect(g.check(reading(101, null, {}, 'AAAAAAAAAAAAAAAA'), NaN)).toBe(GUARD_ACCEPT);
  });

  it('starts again after RESYNC_PUSHES pushes that agree with each other', () => {
    const g = new PlausibilityGuard();
    g.check(reading(1000, at(0), { '1-0:1.8.0': [5000, WH] }), NaN);
    // the meter was replaced: a lower register and counter; each push agrees with the one before
    const results = [1, 2, 3].map((c) => g.check(reading(c, at(c), { '1-0:1.8.0': [10 + c, WH] }), NaN));
    expect(results).toEqual([GUARD_REJECT, GUARD_REJECT, GUARD_RESYNC]);
    expect(g.check(reading(4, at(4), { '1-0:1.8.0': [14, WH] }), NaN)).toBe(GUARD_ACCEPT);
  });

  it('random corrupted pushes in between do not add up to a restart', () => {
    const g = new PlausibilityGuard();
    g.check(reading(10, at(0), { '1-0:1.8.0': [5000, WH] }), NaN);
    expect(g.check(reading(3, at(1), { '1-0:1.8.0': [5000, WH] }), NaN)).toBe(GUARD_REJECT);
    expect(g.check(reading(11, at(2), { '1-0:1.8.0': [5001, WH] }), NaN)).toBe(GUARD_ACCEPT); // the real one clears it
    expect(g.check(reading(4, at(3), { '1-0:1.8.0': [5001, WH] }), NaN)).toBe(GUARD_REJECT);
    expect(g.check(reading(900, at(4), { '1-0:1.8.0': [90_000, WH] }), NaN)).toBe(GUARD_REJECT);
    expect(g.check(reading(5, at(5), { '1-0:1.8.0': [5001, WH] }), NaN)).toBe(GUARD_REJECT);
  });
});
