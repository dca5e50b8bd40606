// GET /api/history/energy over the real HTTP server: JSON, CSV, the password, and every bad parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import { HISTORY_FILE, fileBlockStore } from '../hal/node/block-store.js';
import { History, isoLocal } from '../firmware/history/history.js';
import { parseHistoryQuery } from '../firmware/history/http.js';
import type { Reading } from '../firmware/reading.js';
import { fakeGateway, fakeWorld, memoryFlash } from './support/fakes.js';
import { createApi } from '../firmware/api.js';

process.env.TZ = 'Europe/Vienna';

const PASSWORD = 'correct horse';
const AUTH = { authorization: 'Basic ' + Buffer.from('x:' + PASSWORD).toString('base64') };
const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

function reading(t: number, withOffset = true): Reading {
  const off = -new Date(t).getTimezoneOffset();
  const ts = isoLocal(t, off);
  return {
    meter: { systemTitle: null, number: 'X', logicalDeviceName: null },
    timestamp: withOffset ? ts : ts.slice(0, 19),
    frameCounter: null,
    security: { control: null, encrypted: false, authenticated: false, tag: 'none' },
    format: 'dlms',
    // 500.5 W import, 100 W export
    values: { '1-0:1.8.0': { value: Math.floor((t / H) * 500.5 * 10) / 10, unit: 'Wh' }, '1-0:2.8.0': { value: Math.floor((t / H) * 100), unit: 'Wh' } },
  };
}

/** 2024-03-30 to 2024-04-02 every 30 s, silent 2024-04-01 10:07 to 13:20 (a gap). */
function fill(h: History) {
  const t0 = Date.parse('2024-03-30T00:00:00+01:00');
  const silent = [Date.parse('2024-04-01T10:07:00+02:00'), Date.parse('2024-04-01T13:20:00+02:00')];
  for (let t = t0 + 5_000; t < Date.parse('2024-04-02T00:20:00+02:00'); t += 30_000) {
    if (t >= silent[0] && t < silent[1]) continue;
    h.feed(reading(t), t);
  }
}

let g: RunningGateway;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meterbridge-history-api-'));
  const store = fileBlockStore(join(dir, HISTORY_FILE));
  fill(new History(store));
  store.close();
  const v = validateConfig({ web: { password: PASSWORD }, source: { type: 'simulator', simulator: { intervalMs: 1000 } } });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  g = await startGateway({ config: v.config, dataDir: dir, httpPort: 0, host: '127.0.0.1', log: () => {} });
  base = `http://127.0.0.1:${g.port}`;
});
afterAll(async () => {
  await g.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = AUTH) => fetch(base + path, { headers });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;
const body = async (r: Response | Promise<Response>): Promise<J> => (await r).json();

describe('GET /api/history/energy', () => {
  it('needs the password like every other /api route', async () => {
    const r = await get('/api/history/energy?resolution=day', {});
    expect(r.status).toBe(401);
  });

  it('answers quarter hours of a local day as JSON: 92 on the day summer time starts', async () => {
    const r = await get('/api/history/energy?resolution=15min&from=2024-03-31&to=2024-04-01');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const a = await body(r);
    expect(a.columns).toEqual(['start_epoch_ms', 'import_wh', 'export_wh', 'utc_offset_min', 'end_epoch_ms', 'end_utc_offset_min']);
    expect(a.from).toBe(Date.parse('2024-03-31T00:00:00+01:00'));
    expect(a.to).toBe(Date.parse('2024-04-01T00:00:00+02:00'));
    expect(a.points).toHaveLength(92);
    expect(a.points[0]).toEqual([Date.parse('2024-03-31T00:00:00+01:00'), expect.any(Number), 25, 60, Date.parse('2024-03-31T00:15:00+01:00'), 60]);
    expect(a.points[8][0]).toBe(Date.parse('2024-03-31T03:00:00+02:00'));
    expect(a.gaps).toEqual([]);
    expect(a.next).toBeNull();
    // the same in epoch ms, in epoch seconds and with offsets
    for (const q of [`from=${a.from}&to=${a.to}`, `from=${a.from / 1000}&to=${a.to / 1000}`, 'from=2024-03-30T23:00Z&to=2024-03-31T22:00:00Z', 'from=2024-03-31T00:00%2B01:00&to=2024-04-01T00:00:00%2B02:00']) {
      expect((await body(get(`/api/history/energy?resolution=15min&${q}`))).points).toEqual(a.points);
    }
  });

  it('shows a gap with its energy, and days and months', async () => {
    const a = await body(get('/api/history/energy?resolution=15min&from=2024-04-01&to=2024-04-02'));
    expect(a.gaps).toHaveLength(1);
    const [start, end, imp, exp] = a.gaps[0];
    expect([start, end]).toEqual([Date.parse('2024-04-01T10:00:00+02:00'), Date.parse('2024-04-01T13:30:00+02:00')]);
    expect(exp).toBe(350);
    expect(imp).toBeCloseTo(1751.75, 1);
    expect(a.points).toHaveLength(96 - 14);
    const d = await body(get('/api/history/energy?resolution=day&from=2024-03-30&to=2024-04-02'));
    // 31 March has 23 hours; the quarter hours and the gap add up to the day
    expect(d.points.map((p: number[]) => [p[0], p[2]])).toEqual([
      [Date.parse('2024-03-30T00:00:00+01:00'), 2400], [Date.parse('2024-03-31T00:00:00+01:00'), 2300], [Date.parse('2024-04-01T00:00:00+02:00'), 2400],
    ]);
    const sumImp = a.points.reduce((s: number, p: number[]) => s + p[1], 0) + imp;
    expect(Math.round(sumImp * 10)).toBe(Math.round(d.points[2][1] * 10));
    const m = await body(get('/api/history/energy?resolution=month&from=2024-01&to=2025-01'));
    expect(m.points).toEqual([]); // one month boundary so far: the baseline
  });

  it('gives CSV for Accept: text/csv and for format=csv, with local times for spreadsheets', async () => {
    const r = await get('/api/history/energy?resolution=15min&from=2024-04-01T09:30&to=2024-04-01T14:00', { ...AUTH, accept: 'text/csv' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="meterbridge-energy-15min-2024-04-01.csv"');
    const lines = (await r.text()).split('\r\n');
    expect(lines[0]).toBe('start_epoch_ms;start_local;end_local;utc_offset;import_wh;export_wh;status');
    expect(lines[1]).toMatch(/^1711956600000;2024-04-01 09:30;2024-04-01 09:45;\+02:00;125(,\d+)?;25;$/);
    expect(lines[3]).toMatch(/^1711958400000;2024-04-01 10:00;2024-04-01 13:30;\+02:00;1751,\d+;350;gap$/);
    expect(lines[4]).toMatch(/^1711971000000;2024-04-01 13:30;2024-04-01 13:45;\+02:00;125(,\d+)?;25;$/);
    expect(lines).toHaveLength(1 + 2 + 1 + 2 + 1);
    const same = await get('/api/history/energy?resolution=15min&from=2024-04-01T09:30&to=2024-04-01T14:00&format=csv');
    expect(await same.text()).toBe(lines.join('\r\n'));
  });

  it('refuses malformed parameters with a specific message', async () => {
    const cases: [string, string, RegExp][] = [
      ['', 'resolution is missing', /15min, day or month/],
      ['resolution=hour', 'unknown resolution "hour"', /15min, day or month/],
      ['resolution=day&from=yesterday', 'bad from', /"yesterday" is neither epoch milliseconds nor an ISO 8601 date/],
      ['resolution=day&to=2024-02-30', 'bad to', /"2024-02-30" is not a date that exists/],
      ['resolution=day&from=2024-03-01&to=2024-02-01', 'from is not before to', /must be earlier than/],
      ['resolution=day&format=xlsx', 'unknown format "xlsx"', /json or format=csv/],
    ];
    for (const [q, error, detail] of cases) {
      const r = await get('/api/history/energy?' + q);
      expect(r.status, q).toBe(400);
      const b = await body(r);
      expect(b.error).toBe(error);
      expect(b.detail).toMatch(detail);
    }
  });
});

describe('a gateway without a history store', () => {
  it('answers 404 with the reason', async () => {
    const v = validateConfig({ web: { password: PASSWORD } });
    if (!v.ok) throw new Error('config');
    const w = fakeWorld();
    const { g } = fakeGateway(v.config, w);
    const { handler } = createApi({ gateway: g, clock: w.clock, randomBytes: w.hal.randomBytes, save: () => {}, restart: () => {} });
    const r = await handler({ method: 'GET', url: '/api/history/energy?resolution=day', headers: { ...AUTH }, body: new Uint8Array(0) });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body as string)).toEqual({ error: 'no consumption history', detail: 'this gateway has no store for the history' });
    await g.stop();
  });
});

describe('parseHistoryQuery', () => {
  it('defaults to the last day, month or year up to now, and reads aliases', () => {
    const h = new History(memoryFlash());
    const now = Date.parse('2024-06-10T12:00:00Z');
    const p = parseHistoryQuery({ resolution: 'daily' }, undefined, h, now);
    expect(p).toEqual({ ok: true, request: { resolution: 'day', from: now - 31 * DAY, to: Infinity, csv: false } });
    const q = parseHistoryQuery({ resolution: '15m', to: String(now) }, 'text/csv, */*', h, 0);
    expect(q).toEqual({ ok: true, request: { resolution: '15min', from: now - DAY, to: now, csv: true } });
    // format=json wins over Accept
    expect(parseHistoryQuery({ resolution: 'month', format: 'json' }, 'text/csv', h, now)).toMatchObject({ ok: true, request: { csv: false } });
    // a local date with no history yet: UTC
    expect(parseHistoryQuery({ resolution: 'day', from: '2024-06', to: '2024-07-01' }, undefined, h, now)).toMatchObject({ ok: true, request: { from: Date.UTC(2024, 5, 1), to: Date.UTC(2024, 6, 1) } });
  });

  it('reads a local date in the meter\'s zone from the boundaries stored', () => {
    const h = new History(memoryFlash());
    fill(h);
    expect(parseHistoryQuery({ resolution: 'day', from: '2024-03-31', to: '2024-04-01 00:00' }, undefined, h, 0)).toMatchObject({
      ok: true, request: { from: Date.parse('2024-03-31T00:00:00+01:00'), to: Date.parse('2024-04-01T00:00:00+02:00') },
    });
    expect(h.offsetAt(Date.parse('2024-03-30T12:00:00Z'))).toBe(60);
    expect(h.offsetAt(Date.parse('2024-04-01T12:00:00Z'))).toBe(120);
  });
});
