import { describe, expect, it } from 'vitest';
import { History, MAX_POINTS, isoLocal, layout, type HistoryAnswer } from '../firmware/history/history.js';
import type { Reading } from '../firmware/reading.js';
import { defaultConfig } from '../firmware/config/defaults.js';
import { fakeGateway, fakeWorld, memoryFlash } from './support/fakes.js';
import { MeterSimulator } from '../firmware/simulator.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { DEMO_KEY } from '../firmware/config/defaults.js';
import { hex } from './helpers.js';

// the meter's zone: Austria, with summer time (the simulator takes the host's zone)
process.env.TZ = 'Europe/Vienna';

const MIN = 60_000;
const Q = 15 * MIN;
const H = 60 * MIN;
const DAY = 24 * H;

/** The meter's wall clock at an epoch time, in the host's zone, with or without the offset. */
function meterClock(epoch: number, withOffset = true): string {
  const off = -new Date(epoch).getTimezoneOffset();
  const s = isoLocal(epoch, off);
  return withOffset ? s : s.slice(0, 19);
}

function reading(timestamp: string | null, imp: number | null, exp: number | null): Reading {
  const values: Reading['values'] = {};
  if (imp !== null) values['1-0:1.8.0'] = { value: imp, unit: 'Wh' };
  if (exp !== null) values['1-0:2.8.0'] = { value: exp, unit: 'Wh' };
  values['1-0:1.7.0'] = { value: 500, unit: 'W' };
  return {
    meter: { systemTitle: '4B464D1020019F8B', number: '1KFM0200204035', logicalDeviceName: null },
    timestamp,
    frameCounter: 1,
    security: { control: 0x20, encrypted: true, authenticated: false, tag: 'none' },
    format: 'dlms',
    values,
  };
}

/** A meter drawing 500 W and feeding in 100 W, registers in whole Wh from a start value. */
class Meter {
  constructor(public t0: number, public imp0 = 1_000_000, public exp0 = 50_000) {}
  imp(t: number) {
    return this.imp0 + Math.floor(((t - this.t0) / H) * 500);
  }
  exp(t: number) {
    return this.exp0 + Math.floor(((t - this.t0) / H) * 100);
  }
  at(t: number, withOffset = true): Reading {
    return reading(meterClock(t, withOffset), this.imp(t), this.exp(t));
  }
}

/** Pushes every `step` ms in [from, to). */
function run(h: History, m: Meter, from: number, to: number, step = 30_000, withOffset = true) {
  const done = [];
  for (let t = from; t < to; t += step) {
    const iv = h.feed(m.at(t, withOffset), t);
    if (iv) done.push(iv);
  }
  return done;
}

const sum = (a: HistoryAnswer, col: 1 | 2) => a.points.reduce((s, p) => s + (p[col] ?? NaN), 0);

describe('History', () => {
  it('records quarter hours and days from the registers, keyed by the start in epoch ms', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const m = new Meter(t0);
    const done = run(h, m, t0 + 5_000, t0 + 2 * DAY + 20 * MIN);
    const day = h.query('15min', Date.parse('2024-06-11T00:00:00+02:00'), Date.parse('2024-06-12T00:00:00+02:00'));
    expect(day.points).toHaveLength(96);
    expect(day.gaps).toEqual([]);
    expect(day.points[0].slice(0, 1)).toEqual([Date.parse('2024-06-10T22:00:00Z')]);
    for (let i = 0; i < 96; i++) {
      const p = day.points[i];
      expect(p[0]).toBe(Date.parse('2024-06-10T22:00:00Z') + i * Q);
      expect(p[3]).toBe(120); // UTC offset of summer time, minutes
      expect(p[4]).toBe(p[0] + Q);
      // the registers at the first push of each boundary (5 s after it)
      expect(p[1]).toBe(m.imp(p[4] + 5_000) - m.imp(p[0] + 5_000));
    }
    expect(sum(day, 1)).toBe(12_000); // 500 W for 24 h
    expect(sum(day, 2)).toBe(2_400);
    const days = h.query('day', t0 - DAY, t0 + 3 * DAY);
    // the first midnight is the baseline; the second completes a day
    expect(days.points).toEqual([[t0, 12_000, 2_400, 120, t0 + DAY, 120], [t0 + DAY, 12_000, 2_400, 120, t0 + 2 * DAY, 120]]);
    // the interval in progress: today since midnight, up to the last push
    expect(days.current?.[0]).toBe(t0 + 2 * DAY);
    expect(days.current?.[1]).toBe(m.imp(t0 + 2 * DAY + 20 * MIN - 25_000) - m.imp(t0 + 2 * DAY + 5_000));
    // every completed quarter hour was reported once, in order
    expect(done).toHaveLength(2 * 96 + 1);
    expect(done[0]).toMatchObject({
      start: t0, end: t0 + Q, importWh: 125, exportWh: 25,
      startLocal: '2024-06-10T00:00:00+02:00', endLocal: '2024-06-10T00:15:00+02:00',
      meterStart: '2024-06-10T00:00:05+02:00', meterEnd: '2024-06-10T00:15:05+02:00',
    });
  });

  it('a summer-time start has 92 quarter hours and a summer-time end 100', () => {
    for (const [date, next, n, offsets] of [
      ['2024-03-31T00:00:00+01:00', '2024-04-01T00:00:00+02:00', 92, [60, 120]],
      ['2024-10-27T00:00:00+02:00', '2024-10-28T00:00:00+01:00', 100, [120, 60]],
    ] as const) {
      const h = new History(memoryFlash());
      const start = Date.parse(date);
      const end = Date.parse(next);
      const m = new Meter(start - DAY);
      run(h, m, start - DAY + 3_000, end + DAY);
      const a = h.query('15min', start, end);
      expect(a.points).toHaveLength(n);
      expect(a.gaps).toEqual([]);
      expect(new Set(a.points.map((p) => p[3]))).toEqual(new Set(offsets));
      const days = h.query('day', start - 1, start + 1);
      expect(days.points).toEqual([[start, m.imp(end + 3_000) - m.imp(start + 3_000), m.exp(end + 3_000) - m.exp(start + 3_000), offsets[0], end, offsets[1]]]);
      // the day's quarter hours add up to the day exactly
      expect(sum(a, 1)).toBe(days.points[0][1]);
      expect(sum(a, 2)).toBe(days.points[0][2]);
      // asked for by local date, the day starts at its own midnight
      expect(h.epochOfLocal(Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)))).toBe(start);
    }
  });

  it('gives the energy across a gap to the gap, keeps the day exact, and reports no interval for it', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const m = new Meter(t0);
    run(h, m, t0 + 5_000, t0 + 10 * H + 7 * MIN);
    // silent from 10:07 to 13:20 (the gateway was off)
    const back = run(h, m, t0 + 13 * H + 20 * MIN, t0 + 2 * DAY + 5 * MIN);
    const a = h.query('15min', t0, t0 + DAY);
    expect(a.gaps).toEqual([[t0 + 10 * H, t0 + 13 * H + 30 * MIN, m.imp(t0 + 13.5 * H + 5_000) - m.imp(t0 + 10 * H + 5_000), m.exp(t0 + 13.5 * H + 5_000) - m.exp(t0 + 10 * H + 5_000), 120, 120]]);
    expect(a.points).toHaveLength(96 - 14);
    expect(a.points.some((p) => p[0] >= t0 + 10 * H && p[0] < t0 + 13.5 * H)).toBe(false);
    // the gap is not published as an interval
    expect(back.some((iv) => iv.end === t0 + 13.5 * H)).toBe(false);
    expect(back[0].start).toBe(t0 + 13.5 * H);
    // points plus the gap are the day
    const day = h.query('day', t0, t0 + 1);
    expect(day.points[0][1]).toBe(sum(a, 1) + a.gaps[0][2]!);
    expect(day.points[0][1]).toBe(12_000);
  });

  it('a gap over midnight makes the day a gap too, with its energy, never a wrong day', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const m = new Meter(t0);
    run(h, m, t0 + 5_000, t0 + DAY - 30 * MIN);
    run(h, m, t0 + DAY + 2 * H, t0 + 3 * DAY + 5 * MIN);
    const days = h.query('day', t0, t0 + 3 * DAY);
    expect(days.points).toEqual([[t0 + 2 * DAY, 12_000, 2_400, 120, t0 + 3 * DAY, 120]]);
    expect(days.gaps).toEqual([[t0, t0 + 2 * DAY, 24_000, 4_800, 120, 120]]);
  });

  it('carries on after a restart: no interval twice, none lost, the same records as without it', () => {
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const m = new Meter(t0);
    const whole = new History(memoryFlash());
    run(whole, m, t0 + 5_000, t0 + DAY + 10 * MIN);
    const flash = memoryFlash();
    let h = new History(flash);
    const done = run(h, m, t0 + 5_000, t0 + 7 * H + 3 * MIN);
    // restarted within the tolerance after 07:00 was taken, and again just before 12:15
    h = new History(flash);
    done.push(...run(h, m, t0 + 7 * H + 3 * MIN + 30_000, t0 + 12 * H + 14 * MIN));
    h = new History(flash);
    // the last quarter hour is known again at once (for templates)
    expect(h.lastInterval).toMatchObject({ start: t0 + 12 * H - Q, end: t0 + 12 * H, importWh: 125, exportWh: 25, endLocal: '2024-06-10T12:00:00+02:00' });
    done.push(...run(h, m, t0 + 12 * H + 14 * MIN + 30_000, t0 + DAY + 10 * MIN));
    const a = h.query('15min', t0, t0 + 2 * DAY);
    const b = whole.query('15min', t0, t0 + 2 * DAY);
    expect(a.points).toHaveLength(96);
    expect(a.points).toEqual(b.points);
    expect(a.gaps).toEqual([]);
    expect(h.query('day', t0, t0 + 2 * DAY).points).toEqual(whole.query('day', t0, t0 + 2 * DAY).points);
    expect(done.map((d) => d.start)).toEqual(Array.from({ length: 96 }, (_, i) => t0 + i * Q));
  });

  it('a power cut between the day record and the quarter-hour record at midnight loses neither', () => {
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const m = new Meter(t0);
    const flash = memoryFlash();
    let h = new History(flash);
    run(h, m, t0 + 5_000, t0 + DAY - 20_000);
    // the push at 00:00:10 writes the day record, then the power goes before the quarter hour's
    const write = flash.write;
    let n = 0;
    flash.write = (o, b) => {
      if (++n === 2) throw new Error('power cut');
      write(o, b);
    };
    expect(() => h.feed(m.at(t0 + DAY + 10_000), t0 + DAY + 10_000)).toThrow(/power cut/);
    flash.write = write;
    h = new History(flash);
    run(h, m, t0 + DAY + 40_000, t0 + 2 * DAY + 5 * MIN);
    const days = h.query('day', t0, t0 + 2 * DAY);
    expect(days.points.map((p) => p[0])).toEqual([t0, t0 + DAY]);
    expect(days.gaps).toEqual([]);
    const quarters = h.query('15min', t0 + DAY - H, t0 + DAY + H);
    expect(quarters.points).toHaveLength(8);
    expect(quarters.gaps).toEqual([]);
  });

  it('counts a register that wraps across the wrap, and a meter exchange as a new baseline', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    // a 6-digit kWh register: wraps at 10^9 Wh, 500 Wh an hour
    const m = new Meter(t0, 1e9 - 1550, 50_000);
    const done = run(h, m, t0 + 5_000, t0 + 3 * H + 5 * MIN);
    const wrapped = (t: number) => m.imp(t) % 1e9;
    h.feed(reading(meterClock(t0 + 3 * H + 15 * MIN + 5_000), wrapped(t0 + 3 * H + 15 * MIN + 5_000), m.exp(t0 + 3 * H + 15 * MIN + 5_000)), 0);
    const a = h.query('15min', t0, t0 + DAY);
    expect(a.points.map((p) => p[1])).toEqual(Array(13).fill(125));
    expect(done.length).toBe(12);
    // a new meter: the import register starts again at 20 Wh
    h.feed(reading(meterClock(t0 + 3.5 * H + 5_000), 20, m.exp(t0 + 3.5 * H + 5_000)), 0);
    h.feed(reading(meterClock(t0 + 3.75 * H + 5_000), 145, m.exp(t0 + 3.75 * H + 5_000)), 0);
    const b = h.query('15min', t0 + 3 * H, t0 + DAY);
    expect(b.gaps).toEqual([[t0 + 3.25 * H, t0 + 3.5 * H, null, null, 120, 120]]);
    expect(b.points.map((p) => [p[0], p[1], p[2]])).toEqual([[t0 + 3 * H, 125, 25], [t0 + 3.5 * H, 125, 25]]);
    // a jump no meter can make in 15 minutes (100 kW at most): a baseline, not 5 MWh
    h.feed(reading(meterClock(t0 + 4 * H + 5_000), 5_000_145, m.exp(t0 + 4 * H + 5_000)), 0);
    expect(h.query('15min', t0 + 3.75 * H, t0 + DAY).gaps).toEqual([[t0 + 3.75 * H, t0 + 4 * H, null, null, 120, 120]]);
  });

  it('wraps at 2^32 of a raw register with a scaler', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const top = 429496729.6; // raw 2^32 in 0.1 Wh
    h.feed(reading(meterClock(t0 + 5_000), top - 50.2, 0), 0);
    h.feed(reading(meterClock(t0 + Q + 5_000), 70.4, 0), 0);
    expect(h.query('15min', t0, t0 + H).points.map((p) => p[1])).toEqual([120.6]);
  });

  it('takes the UTC offset from the gateway clock when the meter sends none, else the last one known', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-03-30T00:00:00+01:00');
    const m = new Meter(t0);
    // local time without offset; the gateway clock runs 2 minutes fast
    for (let t = t0 + 5_000; t < t0 + 2 * DAY + 5 * MIN; t += 30_000) h.feed(m.at(t, false), t + 2 * MIN);
    expect(h.query('15min', t0 + DAY, t0 + 2 * DAY - H).points).toHaveLength(92);
    expect(h.query('day', t0, t0 + 1).points[0][4]).toBe(t0 + DAY);
    // a gateway whose clock is not set (before SNTP): the last offset known
    const last = t0 + 2 * DAY + 15 * MIN + 5_000;
    h.feed(m.at(last, false), 0);
    expect(h.query('15min', last - Q - 5_000, last).points.map((p) => p[0])).toEqual([last - 5_000 - Q]);
    // no offset ever known: not entered
    const fresh = new History(memoryFlash());
    expect(fresh.feed(m.at(last, false), 0)).toBeNull();
    expect(fresh.skipped).toBe(1);
    expect(fresh.feed(reading(null, 1, 1), last)).toBeNull();
    expect(fresh.feed(reading(meterClock(last), null, null), last)).toBeNull();
    expect(fresh.skipped).toBe(3);
  });

  it('takes a boundary only from a push within the tolerance after it', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    const m = new Meter(t0);
    // pushes every 2 minutes at :01:30, :03:30 …: the quarter hours at :00 are missed by 90 s
    run(h, m, t0 + 90_000, t0 + 2 * H, 120_000);
    const a = h.query('15min', t0, t0 + 2 * H);
    // 00:15 (00:15:30), 00:45, 01:15, 01:45 are taken; the others are gaps between them
    expect(a.points).toEqual([]);
    expect(a.gaps.map((g) => [g[0] - t0, g[1] - t0])).toEqual([[15 * MIN, 45 * MIN], [45 * MIN, 75 * MIN], [75 * MIN, 105 * MIN]]);
  });

  it('keeps 7 days of quarter hours, 400 days and 10 years of months in 32 sectors of 4 KB', () => {
    expect(layout(memoryFlash())).toEqual([23, 6, 3]);
    expect(() => layout(memoryFlash(16))).toThrow(/too small to keep 700 records of 15min/);
    const flash = memoryFlash();
    const h = new History(flash);
    const t0 = Date.parse('2014-01-01T00:00:00+01:00');
    const m = new Meter(t0);
    // ten and a half years, one push a day just after midnight, and the last 8 days in full
    const end = Date.parse('2024-07-01T00:00:00+02:00');
    for (let t = t0; t < end - 8 * DAY; t += DAY) {
      const mid = Date.parse(meterClock(t).slice(0, 10) + 'T00:00:05' + meterClock(t).slice(19));
      h.feed(m.at(mid), mid);
    }
    run(h, m, end - 8 * DAY + 5_000, end + 5 * MIN);
    const quarters = h.query('15min', end - 7 * DAY, end);
    expect(quarters.points).toHaveLength(7 * 96);
    const days = h.query('day', end - 400 * DAY, end);
    expect(days.points.length + days.gaps.length).toBe(400);
    // 500 W over each day's own length (23 and 25 h days included)
    expect(days.points.every((p) => Math.abs(p[1]! - ((p[4] - p[0]) / H) * 500) <= 1)).toBe(true);
    const months = h.query('month', Date.parse('2014-07-01T00:00:00+02:00'), end);
    expect(months.points).toHaveLength(120);
    expect(months.points[0][0]).toBe(Date.parse('2014-07-01T00:00:00+02:00'));
    // February 2024: 29 days of 500 W
    const feb = months.points.find((p) => p[0] === Date.parse('2024-02-01T00:00:00+01:00'))!;
    expect(feb[1]).toBe(29 * 12_000);
    expect(feb[4]).toBe(Date.parse('2024-03-01T00:00:00+01:00'));
    // a query answers at most MAX_POINTS and says where to go on
    const many = h.query('15min', 0, end);
    expect(many.points.length + many.gaps.length).toBeGreaterThan(7 * 96);
    const big = h.query('day', 0, end);
    expect(big.points.length).toBeLessThanOrEqual(MAX_POINTS);
  });

  it('gives MAX_POINTS at most and the start to ask again from', () => {
    const h = new History(memoryFlash());
    const t0 = Date.parse('2024-06-10T00:00:00+02:00');
    run(h, new Meter(t0), t0 + 5_000, t0 + 11 * DAY, 60_000);
    const a = h.query('15min', t0, t0 + 11 * DAY);
    expect(a.points).toHaveLength(MAX_POINTS);
    expect(a.next).toBe(t0 + MAX_POINTS * Q);
    expect(a.current).toBeNull();
    const b = h.query('15min', a.next!, t0 + 11 * DAY);
    expect(b.points[0][0]).toBe(a.next);
    expect(b.points.length).toBe(11 * 96 - 1 - MAX_POINTS);
    // a smaller limit (the device's)
    const c = h.query('15min', t0, t0 + 11 * DAY, 96);
    expect(c.points).toHaveLength(96);
    expect(c.next).toBe(t0 + DAY);
  });
});

describe('History in the gateway', () => {
  it('is fed the simulator\'s accepted readings through the pipeline, over a summer-time end', async () => {
    const w = fakeWorld();
    const flash = memoryFlash();
    w.hal.historyStore = flash;
    const start = Date.parse('2024-10-26T23:50:00+02:00');
    w.clock.wall = start;
    const { g, push } = fakeGateway(defaultConfig(), w);
    for (let t = 0; t < 25 * H + 30 * MIN; t += 30_000) {
      push();
      await w.clock.advance(30_000);
    }
    const h = g.energyHistory!;
    const day = Date.parse('2024-10-27T00:00:00+02:00');
    const a = h.query('15min', day, day + 25 * H);
    expect(a.points).toHaveLength(100);
    expect(a.gaps).toEqual([]);
    const d = h.query('day', day, day + 1);
    expect(d.points).toHaveLength(1);
    expect(d.points[0][4] - d.points[0][0]).toBe(25 * H);
    expect(Math.round(sum(a, 1) * 1000)).toBe(Math.round(d.points[0][1]! * 1000));
    expect(d.points[0][1]).toBeGreaterThan(1000);
    expect(g.status().history).toMatchObject({ available: true, error: null, skipped: 0 });
    expect(g.status().history.lastInterval?.end).toBe(Date.parse('2024-10-28T00:15:00+01:00'));
    await g.stop();
  });

  it('never enters a push the plausibility guard refused', async () => {
    const w = fakeWorld();
    w.hal.historyStore = memoryFlash();
    w.clock.wall = Date.parse('2024-06-10T23:59:00+02:00');
    const { g, push } = fakeGateway(defaultConfig(), w);
    push();
    await w.clock.advance(66_000); // 00:00:06
    push();
    const writes = g.energyHistory!.stats.writes;
    expect(writes).toBeGreaterThan(0); // the midnight boundary
    // 00:15:03: a push whose registers are a month ahead (what corruption can make of one)
    await w.clock.advance(15 * MIN - 3_000);
    const other = new MeterSimulator({ crypto: nodeCrypto, key: hex(DEMO_KEY), phases: 3 });
    g.bytes(other.push(w.clock.now() + 30 * DAY));
    expect(g.status().pipeline.implausible).toBe(1);
    expect(g.energyHistory!.stats.writes).toBe(writes);
    // the real push that follows gives the boundary
    await w.clock.advance(10_000);
    push();
    expect(g.energyHistory!.stats.writes).toBe(writes + 1);
    const day = Date.parse('2024-06-11T00:00:00+02:00');
    const a = g.energyHistory!.query('15min', day, day + H);
    expect(a.points).toHaveLength(1);
    expect(a.points[0][1]).toBeLessThan(1000);
    await g.stop();
  });
});
