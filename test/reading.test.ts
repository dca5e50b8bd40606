// The decoder's ValueList (firmware/reading.ts): the values of each Reading in order, and its
// clock, handed to the plausibility guard so it never enumerates the Reading again. If the list
// and the Reading ever disagree, the guard judges values other than the ones published.
import { describe, expect, it } from 'vitest';
import { decode } from '../firmware/decoder.js';
import { PlausibilityGuard } from '../firmware/guard.js';
import { authenticationKey, encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { emptyReading, ValueList, type Reading } from '../firmware/reading.js';
import { allVectors, kfm001Push, wire } from './helpers.js';

interface Seen {
  keys: string[];
  numbers: number[];
  units: string[];
  clockMs: number;
  clockZoned: boolean;
}

/** A real guard that also keeps a copy of every list the decoder hands it. */
class ListSpy extends PlausibilityGuard {
  readonly seen: Seen[] = [];
  override check(r: Reading, receivedMs: number, list?: ValueList): number {
    if (list) {
      const n = list.count;
      this.seen.push({ keys: list.keys.slice(0, n), numbers: list.numbers.slice(0, n), units: list.units.slice(0, n), clockMs: list.clockMs, clockZoned: list.clockZoned });
    }
    return super.check(r, receivedMs, list);
  }
}

/** What the list must say about r: its values in order and its timestamp, read by Date.parse. */
function expected(r: Reading): Seen {
  const keys = Object.keys(r.values);
  const ts = r.timestamp;
  const zoned = ts !== null && ts.length === 25;
  return {
    keys,
    numbers: keys.map((k) => (typeof r.values[k].value === 'number' ? (r.values[k].value as number) : NaN)),
    units: keys.map((k) => (typeof r.values[k].value === 'number' ? (r.values[k].unit ?? '') : '')),
    clockMs: zoned ? Date.parse(ts) : ts !== null && ts.length === 19 ? Date.parse(ts + 'Z') : NaN,
    clockZoned: zoned,
  };
}

describe('the list the decoder hands the guard', () => {
  it('holds exactly the values and the clock of every Reading of every real fixture and of the KFM_001 lists', () => {
    let readings = 0;
    let zoned = 0;
    const captures: [string, Uint8Array, Parameters<typeof decode>[1]][] = allVectors.map((v) => [
      v.id,
      wire(v),
      { encryption: v.key ? encryptionKey(v.key) : null, authentication: v.auth_key ? authenticationKey(v.auth_key) : null },
    ]);
    for (const list of [1, 2, 3] as const) captures.push([`kfm001-${list}`, kfm001Push(list), { encryption: null, authentication: null }]);
    for (const [id, bytes, keys] of captures) {
      const spy = new ListSpy();
      const { readings: got } = decode(bytes, keys, softwareCrypto, { guard: spy });
      expect(spy.seen.length, id).toBeGreaterThanOrEqual(got.length);
      // the guard saw a list for every push it judged; the published ones are the accepted ones
      for (const r of got) {
        const i = spy.seen.findIndex((s) => s.keys.join() === Object.keys(r.values).join() && Object.is(s.clockMs, expected(r).clockMs));
        expect(i, `${id}: a list for ${JSON.stringify(r.values).slice(0, 80)}`).toBeGreaterThanOrEqual(0);
        expect(spy.seen[i], id).toEqual(expected(r));
        readings++;
        if (r.timestamp !== null && r.timestamp.length === 25) zoned++;
      }
    }
    expect(readings).toBeGreaterThanOrEqual(18);
    expect(zoned).toBeGreaterThanOrEqual(8); // clocks with the meter's offset are among them
  });
});

describe('ValueList', () => {
  const reading = (values: Record<string, number | string>): Reading => {
    const r = emptyReading();
    for (const [k, v] of Object.entries(values)) r.values[k] = typeof v === 'number' ? { value: v, unit: 'Wh' } : { value: v };
    return r;
  };

  it('settle: a list that named a code twice ends as the Reading, the later value in the first place', () => {
    const list = new ValueList();
    const r = reading({ '1-0:1.8.0': 200, '0-0:96.1.0': 'X' });
    list.begin();
    list.number('1-0:1.8.0', 100, 'Wh');
    list.text('0-0:96.1.0');
    list.number('1-0:1.8.0', 200, 'Wh'); // what the Reading kept
    list.settle(r);
    expect(list.count).toBe(2);
    expect(list.keys.slice(0, 2)).toEqual(['1-0:1.8.0', '0-0:96.1.0']);
    expect(list.numbers[0]).toBe(200);
    expect(list.units.slice(0, 2)).toEqual(['Wh', '']);
  });

  it('settle: the same names as the last push are taken as they are, a new list is checked again', () => {
    const list = new ValueList();
    const fill = (values: [string, number][]) => {
      list.begin();
      for (const [k, v] of values) list.number(k, v, 'W');
    };
    fill([['a', 1], ['b', 2]]);
    list.settle(reading({ a: 1, b: 2 }));
    fill([['a', 3], ['b', 4]]);
    list.settle(reading({})); // same names: not enumerated again (an empty Reading would shrink it)
    expect(list.count).toBe(2);
    fill([['a', 5], ['c', 6], ['a', 7]]);
    list.settle(reading({ a: 7, c: 6 }));
    expect([list.count, list.keys[0], list.numbers[0], list.keys[1]]).toEqual([2, 'a', 7, 'c']);
  });

  it('of: lists a Reading built elsewhere, with its clock read from the text', () => {
    const r = reading({ '1-0:1.8.0': 5, '0-0:1.0.0': '2024-03-31T03:00:00+02:00' });
    r.timestamp = '2024-03-31T03:00:00+02:00';
    const list = new ValueList().of(r);
    expect([list.count, list.numbers[0], Number.isNaN(list.numbers[1]), list.clockMs, list.clockZoned]).toEqual([2, 5, true, Date.UTC(2024, 2, 31, 1), true]);
    r.timestamp = '2024-03-31T03:00:00';
    expect(new ValueList().of(r).clockMs).toBe(Date.UTC(2024, 2, 31, 3));
    r.timestamp = null;
    expect(new ValueList().of(r).clockMs).toBeNaN();
  });

  it('clock: UTC from a local time and its offset; the local time alone without one', () => {
    const list = new ValueList();
    list.clock(Date.UTC(2024, 0, 1, 12), 60);
    expect([list.clockMs, list.clockZoned]).toEqual([Date.UTC(2024, 0, 1, 11), true]);
    list.clock(Date.UTC(2024, 0, 1, 12), -300);
    expect(list.clockMs).toBe(Date.UTC(2024, 0, 1, 17));
    list.clock(Date.UTC(2024, 0, 1, 12), NaN);
    expect([list.clockMs, list.clockZoned]).toEqual([Date.UTC(2024, 0, 1, 12), false]);
  });
});
