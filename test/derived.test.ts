// Derived values from the meter's own clock: energy today and this month across day, month and
// year changes, quarter-hour averages of net power, DST, gaps, and the persisted state.
import { describe, expect, it } from 'vitest';
import { DerivedTracker, MAX_GAP_MS, type DerivedValues } from '../firmware/template/derived.js';
import { emptyReading, type Reading } from '../firmware/reading.js';

interface Meas {
  imp?: number;
  exp?: number;
  pi?: number;
  pe?: number;
}

/** A Reading as a Kaifa MA309M sends it: Wh counters, W powers. */
function r(timestamp: string | null, m: Meas): Reading {
  const x = emptyReading();
  x.timestamp = timestamp;
  if (m.imp !== undefined) x.values['1-0:1.8.0'] = { value: m.imp, unit: 'Wh' };
  if (m.exp !== undefined) x.values['1-0:2.8.0'] = { value: m.exp, unit: 'Wh' };
  if (m.pi !== undefined) x.values['1-0:1.7.0'] = { value: m.pi, unit: 'W' };
  if (m.pe !== undefined) x.values['1-0:2.7.0'] = { value: m.pe, unit: 'W' };
  return x;
}

const NONE: DerivedValues = {
  energy_today_import_wh: undefined, energy_today_export_wh: undefined,
  energy_month_import_wh: undefined, energy_month_export_wh: undefined,
  power_avg_15min_w: undefined, power_avg_last_15min_w: undefined,
};

function energy(d: DerivedValues): (number | undefined)[] {
  return [d.energy_today_import_wh, d.energy_today_export_wh, d.energy_month_import_wh, d.energy_month_export_wh];
}

function avg(d: DerivedValues): (number | undefined)[] {
  return [d.power_avg_15min_w, d.power_avg_last_15min_w];
}

describe('energy today and this month', () => {
  it('a day change takes a new day baseline and keeps the month one', () => {
    const t = new DerivedTracker();
    expect(energy(t.update(r('2024-03-01T23:59:50', { imp: 1000, exp: 500 })))).toEqual([0, 0, 0, 0]);
    expect(energy(t.update(r('2024-03-01T23:59:55', { imp: 1010, exp: 500 })))).toEqual([10, 0, 10, 0]);
    expect(energy(t.update(r('2024-03-02T00:00:05', { imp: 1020, exp: 505 })))).toEqual([0, 0, 20, 5]);
    expect(energy(t.update(r('2024-03-02T00:00:10', { imp: 1030, exp: 507 })))).toEqual([10, 2, 30, 7]);
  });

  it('a month change (and a year change) takes new day and month baselines', () => {
    const t = new DerivedTracker();
    t.update(r('2024-03-15T12:00:00', { imp: 4000, exp: 0 }));
    expect(energy(t.update(r('2024-03-31T23:59:58', { imp: 5000, exp: 40 })))).toEqual([0, 0, 1000, 40]);
    expect(energy(t.update(r('2024-04-01T00:00:03', { imp: 5002, exp: 40 })))).toEqual([0, 0, 0, 0]);
    expect(energy(t.update(r('2024-04-01T00:00:08', { imp: 5010, exp: 41 })))).toEqual([8, 1, 8, 1]);
    t.update(r('2024-12-31T23:59:59', { imp: 9000, exp: 100 }));
    expect(energy(t.update(r('2025-01-01T00:00:01', { imp: 9001, exp: 100 })))).toEqual([0, 0, 0, 0]);
    expect(energy(t.update(r('2025-01-01T00:10:00', { imp: 9101, exp: 100 })))).toEqual([100, 0, 100, 0]);
  });

  it("the wall-clock part decides the day, not the offset (here the UTC date does not change)", () => {
    const t = new DerivedTracker();
    t.update(r('2024-03-01T23:30:00-05:00', { imp: 100 })); // 2024-03-02T04:30Z
    expect(energy(t.update(r('2024-03-02T00:30:00-05:00', { imp: 150 })))).toEqual([0, undefined, 50, undefined]); // 05:30Z
  });

  it('the first Reading of the day without counters: the baseline is the first that has them', () => {
    const t = new DerivedTracker();
    expect(t.update(r('2024-05-05T08:00:00', { pi: 100 }))).toEqual({ ...NONE, power_avg_15min_w: 100 });
    expect(energy(t.update(r('2024-05-05T08:00:10', { imp: 500, exp: 7, pi: 100 })))).toEqual([0, 0, 0, 0]);
    expect(energy(t.update(r('2024-05-05T08:00:20', { imp: 510, exp: 7, pi: 100 })))).toEqual([10, 0, 10, 0]);
    // a short list without counters neither yields nor forgets them
    expect(energy(t.update(r('2024-05-05T08:00:30', { pi: 100 })))).toEqual([undefined, undefined, undefined, undefined]);
    expect(energy(t.update(r('2024-05-05T08:00:40', { imp: 520, exp: 9, pi: 100 })))).toEqual([20, 2, 20, 2]);
  });

  it('a counter that goes backwards (meter exchanged) becomes the new baseline', () => {
    const t = new DerivedTracker();
    t.update(r('2024-05-05T08:00:00', { imp: 1000 }));
    expect(energy(t.update(r('2024-05-05T08:00:10', { imp: 1010 })))[0]).toBe(10);
    expect(energy(t.update(r('2024-05-05T08:00:20', { imp: 50 })))).toEqual([0, undefined, 0, undefined]);
    expect(energy(t.update(r('2024-05-05T08:00:30', { imp: 60 })))).toEqual([10, undefined, 10, undefined]);
  });

  it('no timestamp: no values, and nothing changes', () => {
    const a = new DerivedTracker();
    const b = new DerivedTracker();
    const seq = [r('2024-03-01T10:00:00', { imp: 10, pi: 100 }), r('2024-03-01T10:00:10', { imp: 20, pi: 300 })];
    a.update(seq[0]);
    b.update(seq[0]);
    expect(b.update(r(null, { imp: 99999, pi: 5000 }))).toEqual(NONE);
    expect(b.update(r('not a time', { imp: 99999, pi: 5000 }))).toEqual(NONE);
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(b.update(seq[1])).toEqual(a.update(seq[1]));
  });
});

describe('quarter-hour averages of net power', () => {
  it('time-weighted within the quarter, split at the boundary, then the last complete quarter', () => {
    const t = new DerivedTracker();
    expect(avg(t.update(r('2024-03-01T10:00:00', { pi: 100, pe: 0 })))).toEqual([100, undefined]); // one sample, no time yet
    expect(avg(t.update(r('2024-03-01T10:05:00', { pi: 400, pe: 0 })))).toEqual([100, undefined]); // 300 s × 100 W
    expect(avg(t.update(r('2024-03-01T10:10:00', { pe: 200 })))).toEqual([250, undefined]); // + 300 s × 400 W
    // + 240 s × −200 W: 102 000 W·s / 840 s
    expect(avg(t.update(r('2024-03-01T10:14:00', { pi: 0, pe: 0 })))).toEqual([121.429, undefined]);
    // 60 s × 0 W close 10:00-10:15: 102 000 W·s / 900 s; 30 s × 0 W open 10:15-10:30
    expect(avg(t.update(r('2024-03-01T10:15:30', { pi: 50 })))).toEqual([0, 113.333]);
    expect(avg(t.update(r('2024-03-01T10:16:00', { pi: 60 })))).toEqual([25, 113.333]); // 30 s × 50 W / 60 s
  });

  it('gaps longer than MAX_GAP_MS are not bridged; a skipped quarter leaves no last average', () => {
    expect(MAX_GAP_MS).toBe(300000);
    const t = new DerivedTracker();
    t.update(r('2024-03-01T10:15:00', { pi: 50 }));
    expect(avg(t.update(r('2024-03-01T10:16:00', { pi: 10 })))).toEqual([50, undefined]);
    expect(avg(t.update(r('2024-03-01T10:21:01', { pi: 20 })))).toEqual([50, undefined]); // 301 s: not bridged
    expect(avg(t.update(r('2024-03-01T10:21:11', { pi: 20 })))).toEqual([45.714, undefined]); // (60 s × 50 W + 10 s × 20 W) / 70 s
    expect(avg(t.update(r('2024-03-01T11:00:00', { pi: 70 })))).toEqual([70, undefined]); // 10:30-10:45 had nothing
  });

  it('the next quarter after a long gap: the old quarter is still the last complete one', () => {
    const t = new DerivedTracker();
    t.update(r('2024-03-01T10:14:00', { pi: 100 }));
    expect(avg(t.update(r('2024-03-01T10:19:30', { pi: 300 })))).toEqual([300, 100]);
  });

  it('a Reading without power keeps the held value', () => {
    const t = new DerivedTracker();
    t.update(r('2024-03-01T10:00:00', { pi: 100 }));
    expect(avg(t.update(r('2024-03-01T10:00:10', { imp: 1 })))).toEqual([100, undefined]);
    expect(avg(t.update(r('2024-03-01T10:00:20', { pi: 300 })))).toEqual([100, undefined]);
    expect(avg(t.update(r('2024-03-01T10:00:30', { imp: 2 })))).toEqual([166.667, undefined]); // (2000 + 3000) / 30
  });

  it('no power ever: no averages', () => {
    const t = new DerivedTracker();
    t.update(r('2024-03-01T10:14:00', { imp: 1 }));
    expect(avg(t.update(r('2024-03-01T10:15:10', { imp: 2 })))).toEqual([undefined, undefined]);
  });

  it('end of summer time: the wall clock repeats an hour, the offsets keep the time running', () => {
    const t = new DerivedTracker();
    t.update(r('2024-10-27T02:59:50+02:00', { pi: 100, imp: 10 }));
    // 10 s to the end of 02:45-03:00 CEST, 5 s into 02:00-02:15 CET
    const d = t.update(r('2024-10-27T02:00:05+01:00', { pi: 200, imp: 11 }));
    expect(avg(d)).toEqual([100, 100]);
    expect(energy(d)).toEqual([1, undefined, 1, undefined]);
    expect(avg(t.update(r('2024-10-27T02:00:15+01:00', { pi: 200 })))).toEqual([166.667, 100]); // (500 + 2000) / 15
  });

  it('the same wall clock without offsets is a jump back: no bridging, no last average', () => {
    const t = new DerivedTracker();
    t.update(r('2024-10-27T02:59:50', { pi: 100 }));
    expect(avg(t.update(r('2024-10-27T02:00:05', { pi: 200 })))).toEqual([200, undefined]);
  });

  it('start of summer time: the wall clock skips an hour, the offsets bridge it', () => {
    const t = new DerivedTracker();
    t.update(r('2024-03-31T01:59:55+01:00', { pi: 100 }));
    expect(avg(t.update(r('2024-03-31T03:00:05+02:00', { pi: 200 })))).toEqual([100, 100]);
  });
});

describe('persisted state', () => {
  const part1 = [
    r('2024-03-31T23:59:40+02:00', { imp: 1000, exp: 10, pi: 100 }),
    r('2024-03-31T23:59:50+02:00', { imp: 1005, exp: 10, pi: 300 }),
    r('2024-04-01T00:00:00+02:00', { imp: 1010, exp: 12, pe: 50 }),
    r('2024-04-01T00:00:10+02:00', { imp: 1011, exp: 13, pi: 20 }),
  ];
  const part2 = [
    r('2024-04-01T00:00:20+02:00', { imp: 1020, exp: 15, pi: 30 }),
    r('2024-04-01T00:14:50+02:00', { imp: 1100, exp: 15, pi: 40 }),
    r('2024-04-01T00:15:10+02:00', { imp: 1110, exp: 20, pe: 60 }),
    r('2024-04-02T00:00:00+02:00', { imp: 2000, exp: 30, pi: 1 }),
  ];

  it('a fresh tracker serialises to its empty state', () => {
    expect(new DerivedTracker().toJSON()).toEqual({
      v: 1, day: null, dayImport: null, dayExport: null, month: null, monthImport: null, monthExport: null,
      quarter: null, qSum: 0, qDur: 0, lastEpoch: null, lastLocal: null, lastPower: null, lastAvg: null,
    });
  });

  it('a JSON round trip carries on exactly where the original does', () => {
    const a = new DerivedTracker();
    for (const x of part1) a.update(x);
    const b = DerivedTracker.fromJSON(JSON.parse(JSON.stringify(a)));
    expect(b.toJSON()).toEqual(a.toJSON());
    // and without a JSON text in between (NaN instead of null)
    const c = DerivedTracker.fromJSON(a.toJSON());
    const results: DerivedValues[] = [];
    for (const x of part2) {
      const want = a.update(x);
      results.push(want);
      expect(b.update(x)).toEqual(want);
      expect(c.update(x)).toEqual(want);
    }
    // the sequence really used the restored state: month and day baselines, the quarter hour
    expect(results[0]).toEqual({
      energy_today_import_wh: 10, energy_today_export_wh: 3, energy_month_import_wh: 10, energy_month_export_wh: 3,
      // (10 s × −50 W + 10 s × 20 W) / 20 s; 23:45-00:00: (10 s × 100 W + 10 s × 300 W) / 20 s
      power_avg_15min_w: -15, power_avg_last_15min_w: 200,
    });
    expect(results[3]).toEqual({
      energy_today_import_wh: 0, energy_today_export_wh: 0, energy_month_import_wh: 990, energy_month_export_wh: 18,
      power_avg_15min_w: 1, power_avg_last_15min_w: undefined,
    });
  });

  it('garbage falls back to an empty tracker', () => {
    const valid = (() => {
      const a = new DerivedTracker();
      for (const x of part1) a.update(x);
      return a.toJSON() as Record<string, unknown>;
    })();
    const garbage: unknown[] = [
      undefined, null, 0, 1, 'state', true, [], [1, 2], {}, { v: 2 }, { ...valid, v: 2 }, { ...valid, v: '1' },
      { ...valid, day: 'x' }, { ...valid, day: 19813.5 }, { ...valid, quarter: Infinity }, { ...valid, qDur: -1 },
      { ...valid, qSum: null }, { ...valid, lastPower: {} }, (() => {
        const o = { ...valid };
        delete o.lastAvg;
        return o;
      })(),
    ];
    const fresh = new DerivedTracker();
    const want = part2.map((x) => fresh.update(x));
    for (const g of garbage) {
      const t = DerivedTracker.fromJSON(g);
      expect(t.toJSON(), JSON.stringify(g)).toEqual(new DerivedTracker().toJSON());
      expect(part2.map((x) => t.update(x)), JSON.stringify(g)).toEqual(want);
    }
    // the valid state itself is accepted (so the cases above fail for their one defect)
    expect(DerivedTracker.fromJSON(valid).toJSON()).toEqual(valid);
  });

  it('the state stays a fixed handful of numbers however many Readings pass', () => {
    const t = new DerivedTracker();
    let imp = 0;
    const start = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 20000; i++) {
      const d = new Date(start + i * 7000);
      t.update(r(d.toISOString().slice(0, 19), { imp: (imp += 3), pi: i % 500 }));
    }
    const s = t.toJSON() as Record<string, unknown>;
    expect(Object.keys(s)).toHaveLength(14);
    expect(Object.values(s).every((x) => x === null || typeof x === 'number')).toBe(true);
  });
});
