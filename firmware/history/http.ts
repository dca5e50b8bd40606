/**
 * GET /api/history/energy: the query's parameters read liberally, with a specific message for
 * anything that cannot be read, and the answer as JSON or as CSV for spreadsheets.
 *
 *   resolution   15min | day | month (also 15m, quarter, daily, monthly)
 *   from, to     epoch ms (or s: 10 digits), or ISO 8601: 2024-06, 2024-06-01, 2024-06-01T12:00,
 *                with Z or an offset, else the meter's local time; default: the last day (15min),
 *                31 days (day) or 12 months (month) up to now
 *   format       json (default) | csv; or Accept: text/csv
 *
 * CSV: semicolons and a decimal comma, the list separator and decimal mark of German-language
 * Excel, which opens such a file by double-click into columns; local times as "2024-06-01 12:15",
 * which Excel reads as a date-time, with the UTC offset in its own column.
 *
 * Does not know: HTTP servers (it returns status and text), the history's storage.
 */
import { deepFreeze } from '../freeze.js';
import { isoLocal, type History, type HistoryAnswer, type Resolution } from './history.js';

const DAY_MS = 86_400_000;
const ALIASES: Readonly<Record<string, Resolution>> = /* @__PURE__ */ deepFreeze({
  '15min': '15min', '15m': '15min', quarter: '15min', '15': '15min',
  day: 'day', daily: 'day', d: 'day',
  month: 'month', monthly: 'month', m: 'month',
} as Record<string, Resolution>);
const DEFAULT_SPAN_MS: Readonly<Record<Resolution, number>> = /* @__PURE__ */ deepFreeze({ '15min': DAY_MS, day: 31 * DAY_MS, month: 366 * DAY_MS });

export interface HistoryRequest {
  resolution: Resolution;
  from: number;
  to: number;
  csv: boolean;
}

export type Parsed = { ok: true; request: HistoryRequest } | { ok: false; error: string; detail: string };

let isoRe: RegExp | undefined;
let digitsRe: RegExp | undefined;

/** Epoch ms of a from/to value; a string in words when it cannot be read. */
function timeOf(name: string, text: string, history: History): number | string {
  const s = text.trim();
  if ((digitsRe ??= /^-?\d+$/).test(s)) {
    const n = Number(s);
    // ten digits or fewer: seconds (epoch ms of today have 13)
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  const m = (isoRe ??= /^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?)?)?(Z|[+-]\d\d:?\d\d)?$/).exec(s);
  if (!m) return `${name} "${text}" is neither epoch milliseconds nor an ISO 8601 date such as 2024-06-01 or 2024-06-01T12:00+02:00`;
  const mo = m[2] === undefined ? 1 : +m[2];
  const d = m[3] === undefined ? 1 : +m[3];
  const h = m[4] === undefined ? 0 : +m[4];
  const mi = m[5] === undefined ? 0 : +m[5];
  const se = m[6] === undefined ? 0 : +m[6];
  const wall = Date.UTC(+m[1], mo - 1, d, h, mi, se);
  const back = new Date(wall);
  if (mo < 1 || mo > 12 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return `${name} "${text}" is not a date that exists`;
  if (m[7] === undefined) return history.epochOfLocal(wall);
  if (m[7] === 'Z') return wall;
  const z = m[7].replace(':', '');
  const off = (z.charAt(0) === '-' ? -1 : 1) * (+z.slice(1, 3) * 60 + +z.slice(3, 5));
  return wall - off * 60_000;
}

/** Reads the query (name → value, already %-decoded) of a request. */
export function parseHistoryQuery(q: Record<string, string>, accept: string | undefined, history: History, now: number): Parsed {
  const rs = q.resolution;
  if (rs === undefined || rs === '') return { ok: false, error: 'resolution is missing', detail: 'give resolution=15min, day or month' };
  const resolution = ALIASES[rs.trim().toLowerCase()];
  if (resolution === undefined) return { ok: false, error: `unknown resolution "${rs}"`, detail: 'give resolution=15min, day or month' };
  let to = Infinity;
  if (q.to !== undefined && q.to !== '') {
    const t = timeOf('to', q.to, history);
    if (typeof t === 'string') return { ok: false, error: 'bad to', detail: t };
    to = t;
  }
  let from: number;
  if (q.from !== undefined && q.from !== '') {
    const f = timeOf('from', q.from, history);
    if (typeof f === 'string') return { ok: false, error: 'bad from', detail: f };
    from = f;
  } else {
    from = (to === Infinity ? now : to) - DEFAULT_SPAN_MS[resolution];
  }
  if (!(from < to)) return { ok: false, error: 'from is not before to', detail: `from ${new Date(from).toISOString()} must be earlier than to ${new Date(to).toISOString()}` };
  const f = q.format === undefined ? '' : q.format.trim().toLowerCase();
  if (f !== '' && f !== 'json' && f !== 'csv') return { ok: false, error: `unknown format "${q.format}"`, detail: 'give format=json or format=csv' };
  const csv = f === 'csv' || (f === '' && accept !== undefined && accept.toLowerCase().indexOf('text/csv') >= 0);
  return { ok: true, request: { resolution, from, to, csv } };
}

/** "2024-06-01 12:15" of an epoch time at a UTC offset (minutes): what Excel reads as a date-time. */
function excelLocal(epoch: number, offsetMin: number): string {
  const s = isoLocal(epoch, offsetMin);
  return s.slice(0, 10) + ' ' + s.slice(11, 16);
}

function offsetText(offsetMin: number): string {
  return isoLocal(0, offsetMin).slice(19);
}

function num(x: number | null): string {
  return x === null ? '' : String(x).replace('.', ',');
}

/** The answer as CSV rows in time order: intervals, gaps and the interval in progress. */
export function historyCsv(a: HistoryAnswer): string {
  const rows: [number, string][] = [];
  const line = (start: number, startOff: number, end: number, endOff: number, imp: number | null, exp: number | null, status: string): [number, string] =>
    [start, `${start};${excelLocal(start, startOff)};${excelLocal(end, endOff)};${offsetText(startOff)};${num(imp)};${num(exp)};${status}\r\n`];
  for (const p of a.points) rows.push(line(p[0], p[3], p[4], p[5], p[1], p[2], ''));
  for (const g of a.gaps) rows.push(line(g[0], g[4], g[1], g[5], g[2], g[3], 'gap'));
  const c = a.current;
  if (c) rows.push(line(c[0], c[3], c[4], c[3], c[1], c[2], 'in progress'));
  rows.sort((x, y) => x[0] - y[0]);
  let out = 'start_epoch_ms;start_local;end_local;utc_offset;import_wh;export_wh;status\r\n';
  for (const r of rows) out += r[1];
  return out;
}

/** A file name for the download: meterbridge-energy-<resolution>-<local date of from>.csv */
export function csvFileName(r: HistoryRequest, offsetMin: number): string {
  return `meterbridge-energy-${r.resolution}-${isoLocal(r.from, offsetMin).slice(0, 10)}.csv`;
}
