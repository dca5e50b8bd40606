// web-ui/src/history-slots.ts: the History page's bars in local time (Europe/Vienna, as the
// homeowners' browsers are), including both days a year when the clocks change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const before = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'Europe/Vienna';
});
afterAll(() => {
  process.env.TZ = before;
});

const { gapEnergy, period, toSlots } = await import('../web-ui/src/history-slots.js');

const day = (y: number, m: number, d: number) => period('day', new Date(y, m - 1, d, 12));

describe('History bars', () => {
  it('a day has 96 quarter hours, the spring-forward day 92 and the fall-back day 100', () => {
    expect(new Date(2026, 0, 1).getTimezoneOffset()).toBe(-60); // the zone took effect
    for (const [d, n] of [[day(2026, 6, 15), 96], [day(2026, 3, 29), 92], [day(2026, 10, 25), 100]] as const) {
      expect(toSlots('day', d[0], d[1], [], [], null, 0)).toHaveLength(n);
    }
    const [from, to] = day(2026, 3, 29);
    expect([from.toISOString(), to.toISOString()]).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
  });

  it('a month has a bar per day, a year one per month, starting at local midnight', () => {
    const [mf, mt] = period('month', new Date(2026, 1, 14));
    const feb = toSlots('month', mf, mt, [], [], null, 0);
    expect(feb).toHaveLength(28);
    expect(new Date(feb[27].t).toISOString()).toBe('2026-02-27T23:00:00.000Z');
    const [yf, yt] = period('year', new Date(2026, 6, 1));
    const year = toSlots('year', yf, yt, [], [], null, 0);
    expect(year.map((s) => new Date(s.t).getMonth())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // the month after the switch to summer time starts an hour earlier in UTC
    expect(new Date(year[3].t).toISOString()).toBe('2026-03-31T22:00:00.000Z');
  });

  it('puts each point into the slot it starts in, and marks past slots without one as gaps, never as zero', () => {
    const [from, to] = day(2026, 3, 29);
    const t0 = from.getTime();
    const q = 900e3;
    // 02:00–03:00 does not exist that day: 01:45 is followed by 03:00, slot 8
    const points = [[t0, 100, 0], [t0 + 8 * q, 250, 20], [to.getTime(), 999, 999]];
    const now = t0 + 10 * q + 1;
    const s = toSlots('day', from, to, points, [[t0 + 4 * q, t0 + 5 * q, 40, 0]], null, now);
    expect(new Date(s[8].t).getHours()).toBe(3);
    expect(s[0]).toEqual({ t: t0, imp: 100, exp: 0, gap: false });
    expect(s[8]).toMatchObject({ imp: 250, exp: 20, gap: false });
    expect(s.filter((x) => x.gap).map((x) => s.indexOf(x))).toEqual([1, 2, 3, 4, 5, 6, 7, 9, 10]);
    expect(s[4].imp).toBeNull(); // a gap range: a gap, no value
    expect(s[11]).toMatchObject({ imp: null, gap: false }); // not begun yet: neither data nor a gap
    expect(s.reduce((a, x) => a + (x.imp ?? 0), 0)).toBe(350); // the point at `to` belongs to the next day
  });

  it('shows the interval in progress in its slot, unknown energy as a gap, and sums the energy across gaps', () => {
    const [from, to] = day(2026, 6, 15);
    const t0 = from.getTime();
    const q = 900e3;
    const points = [[t0, 10, 1], [t0 + q, null, null]];
    const s = toSlots('day', from, to, points, [], [t0 + 2 * q, 5, 0, 120, t0 + 2 * q + 60e3], t0 + 2 * q + 60e3);
    expect(s[0]).toMatchObject({ imp: 10, exp: 1, gap: false });
    expect(s[1]).toMatchObject({ imp: null, gap: true }); // a point whose energy is not known
    expect(s[2]).toMatchObject({ imp: 5, exp: 0, gap: false, now: true });
    expect(s[3]).toMatchObject({ imp: null, gap: false });
    // a completed interval wins over the interval in progress in the same slot
    expect(toSlots('day', from, to, points, [], [t0, 99, 0], t0 + q)[0]).toMatchObject({ imp: 10 });
    expect(gapEnergy([[t0, t0 + 3 * q, 700, 20], [t0 + 5 * q, t0 + 9 * q, null, null]])).toEqual({ imp: 700, exp: 20 });
  });
});
