/**
 * The consumption history: energy per quarter hour, per day and per month, from the meter's own
 * energy registers (1-0:1.8.0 import, 1-0:2.8.0 export), never from integrating power. It is fed
 * the Readings the plausibility guard accepted, and keeps its records in a RingLog, one ring per
 * resolution, so it survives restarts, power cuts and firmware updates.
 *
 *   boundary   the register values at a quarter hour of the meter's clock: the first push at or
 *              after it, within BOUNDARY_TOLERANCE_MS. A local midnight is also a day boundary,
 *              the 1st of a month at midnight also a month boundary.
 *   record     one per captured boundary and resolution: the registers there, and the energy
 *              since the previous captured boundary of that resolution (the delta)
 *   interval   a record whose previous boundary is the one just before (15 min; the local
 *              midnight before; the 1st of the month before)
 *   gap        a record whose previous boundary lies further back (meter silent, gateway off):
 *              the energy across it belongs to the gap as a whole, never to one interval
 *
 * Time: every interval is keyed by the epoch ms of its start. The meter's wall clock decides the
 * quarter hour, the day and the month; the UTC offset is the meter's own (its clock deviation)
 * when it sends one, else the difference between the meter's wall clock and the gateway's clock
 * rounded to 15 minutes, else (gateway clock not set) the last offset known. So a day has as
 * many quarter hours as the meter's day: 92 when summer time starts, 100 when it ends.
 *
 * A register that falls or rises more than the maximum power allows (meter exchanged) starts a
 * new baseline: the span becomes a gap without energy, never a negative or huge value. A
 * register that wraps (at a power of ten or at 2^32 of its raw unit) counts across the wrap.
 *
 *   record payload (44 bytes, little-endian; the RingLog adds a CRC-32)
 *    0 u32 end      minutes since the epoch (the key)      4 u32 start   minutes since the epoch
 *    8 i8  end UTC offset, quarter hours                   9 i8  start UTC offset, quarter hours
 *   10 u8  flags (bit 0: new baseline, no energy)         11 u8  the push's delay after the end, s
 *   12 f64 import register at the end, Wh                 20 f64 export register at the end, Wh
 *   28 f64 import since start, Wh (NaN: unknown)          36 f64 export since start, Wh
 *
 * Does not know: flash or files (the BlockStore), HTTP, MQTT.
 */
import type { BlockStore } from '../../hal/hal.js';
import type { Reading } from '../reading.js';
import { electricityNumber, round3 } from '../quantities.js';
import { epochMs, localMs } from '../template/clock.js';
import { deepFreeze } from '../freeze.js';
import { RingLog } from './ringlog.js';

export type Resolution = '15min' | 'day' | 'month';
export const RESOLUTIONS: readonly Resolution[] = /* @__PURE__ */ deepFreeze(['15min', 'day', 'month'] as Resolution[]);

const QUARTER = 0;
const DAY = 1;
const MONTH = 2;
const MIN_MS = 60_000;
const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;
/** a push this long after a quarter hour still gives that quarter hour's register values */
export const BOUNDARY_TOLERANCE_MS = 60_000;
/** a gateway clock further from the meter's wall clock than any UTC offset is not set */
const MAX_OFFSET_MS = 14 * 3_600_000;
const RECORD_SIZE = 48;
const PAYLOAD = RECORD_SIZE - 4;
const FLAG_BASELINE = 1;
/** sectors of the day and month rings; the quarter hours get the rest */
const DAY_SECTORS = 6;
const MONTH_SECTORS = 3;
/** what must fit: 7 days of quarter hours (DST days included), 400 days, 10 years */
const KEEP = /* @__PURE__ */ deepFreeze([7 * 100, 400, 120]);
/** register sizes counters wrap at, by their top: 10^4…10^13 and 2^32 of 1 mWh…1 kWh */
const MODULI: readonly number[] = /* @__PURE__ */ deepFreeze([
  1e4, 1e5, 1e6, 4294967.296, 1e7, 42949672.96, 1e8, 429496729.6, 1e9, 4294967296, 1e10, 42949672960, 1e11,
  429496729600, 1e12, 4294967296000, 1e13,
]);
/** a wrap is believed only when the register was in the top 1 % of its size and is now in the bottom 1 % */
const WRAP_MARGIN = 0.01;
/** most points one query answers; the answer says where to go on */
export const MAX_POINTS = 1000;

/** A completed quarter hour, as published. */
export interface CompletedInterval {
  /** epoch ms */
  start: number;
  end: number;
  importWh: number | null;
  exportWh: number | null;
  /** the local times of start and end, ISO 8601 with the UTC offset */
  startLocal: string;
  endLocal: string;
  /** the meter's clock at the pushes that gave the two boundaries, ISO 8601 with the offset */
  meterStart: string;
  meterEnd: string;
}

/** [start epoch ms, import Wh, export Wh, UTC offset at the start (min), end epoch ms, UTC offset at the end (min)] */
export type HistoryPoint = [number, number | null, number | null, number, number, number];
/** [start, end (epoch ms), import Wh, export Wh across the whole gap (null: unknown), UTC offsets at start and end (min)] */
export type HistoryGap = [number, number, number | null, number | null, number, number];

export interface HistoryAnswer {
  resolution: Resolution;
  points: HistoryPoint[];
  gaps: HistoryGap[];
  /** the interval in progress: [start, import Wh, export Wh, offset min, until epoch ms] */
  current: [number, number | null, number | null, number, number] | null;
  /** set when MAX_POINTS were reached: ask again from here */
  next: number | null;
}

/** The ring sizes for a store: day and month rings fixed, the quarter hours the rest. */
export function layout(store: BlockStore): number[] {
  const slots = Math.floor(store.sectorSize / RECORD_SIZE) - 1;
  const quarters = store.sectorCount - DAY_SECTORS - MONTH_SECTORS;
  const rings = [quarters, DAY_SECTORS, MONTH_SECTORS];
  for (let r = 0; r < 3; r++) {
    if ((rings[r] - 1) * slots < KEEP[r]) {
      throw new Error(`the history store (${store.sectorCount} sectors of ${store.sectorSize} bytes) is too small to keep ${KEEP[r]} records of ${RESOLUTIONS[r]}`);
    }
  }
  return rings;
}

/** "2024-03-31T03:00:00+02:00" of an epoch time and a UTC offset in minutes. */
export function isoLocal(epoch: number, offsetMin: number): string {
  const d = new Date(epoch + offsetMin * MIN_MS);
  const two = (n: number) => (n < 10 ? '0' : '') + n;
  const a = Math.abs(offsetMin);
  return (
    d.getUTCFullYear() + '-' + two(d.getUTCMonth() + 1) + '-' + two(d.getUTCDate()) + 'T' +
    two(d.getUTCHours()) + ':' + two(d.getUTCMinutes()) + ':' + two(d.getUTCSeconds()) +
    (offsetMin < 0 ? '-' : '+') + two(Math.floor(a / 60)) + ':' + two(a % 60)
  );
}

function nullable(x: number): number | null {
  return isNaN(x) ? null : round3(x);
}

/** The last captured boundary of one resolution. */
class Boundary {
  known = false;
  end = 0;
  offsetMin = 0;
  delayS = 0;
  imp = NaN;
  exp = NaN;
}

export class History {
  private readonly log: RingLog;
  private readonly rec = new Uint8Array(PAYLOAD);
  private readonly view = new DataView(this.rec.buffer);
  private readonly at: Boundary[] = [new Boundary(), new Boundary(), new Boundary()];
  /** the last push entered: epoch ms, offset, registers (for the interval in progress) */
  private sampleEpoch = NaN;
  private lastOffset = NaN;
  private lastImp = NaN;
  private lastExp = NaN;
  /** the largest power the meter measures (W): bounds a plausible delta */
  maxPowerW: number;
  /** pushes not entered: no meter clock, no registers, no UTC offset to be had */
  skipped = 0;
  /** the last quarter hour completed without a gap (after a restart: the newest stored one) */
  lastInterval: CompletedInterval | null = null;

  constructor(store: BlockStore, options: { maxPowerW?: number } = {}) {
    this.log = new RingLog(store, RECORD_SIZE, layout(store));
    this.maxPowerW = options.maxPowerW ?? 100_000;
    for (let r = 0; r < 3; r++) {
      if (!this.log.newest(r, this.rec)) continue;
      const b = this.at[r];
      b.known = true;
      b.end = this.view.getUint32(0, true) * MIN_MS;
      b.offsetMin = this.view.getInt8(8) * 15;
      b.delayS = this.rec[11];
      b.imp = this.view.getFloat64(12, true);
      b.exp = this.view.getFloat64(20, true);
    }
    const q = this.at[QUARTER];
    if (q.known) {
      this.lastOffset = q.offsetMin;
      const v = this.view;
      const found = this.log.newest(QUARTER, this.rec);
      const start = v.getUint32(4, true) * MIN_MS;
      if (found && !(this.rec[10] & FLAG_BASELINE) && q.end - start === QUARTER_MS) {
        const startOff = v.getInt8(9) * 15;
        this.lastInterval = {
          start, end: q.end,
          importWh: nullable(v.getFloat64(28, true)), exportWh: nullable(v.getFloat64(36, true)),
          startLocal: isoLocal(start, startOff), endLocal: isoLocal(q.end, q.offsetMin),
          // the push at the start is in the record before; its delay is not worth a second read
          meterStart: isoLocal(start, startOff), meterEnd: isoLocal(q.end + q.delayS * 1000, q.offsetMin),
        };
      }
    }
  }

  /** epoch ms of the meter's clock at the last push entered (NaN: none yet) */
  get lastEpoch(): number {
    return this.sampleEpoch;
  }

  /** What the log did to the flash (bench, status). */
  get stats() {
    return this.log.stats;
  }

  /**
   * Enters one accepted Reading; `gatewayNow` is the gateway's wall clock (epoch ms) when it
   * arrived. Returns the quarter hour it completed, if it completed one without a gap.
   */
  feed(r: Reading, gatewayNow: number): CompletedInterval | null {
    const local = localMs(r.timestamp);
    const imp = electricityNumber(r.values, '1.8.0', 'Wh') ?? NaN;
    const exp = electricityNumber(r.values, '2.8.0', 'Wh') ?? NaN;
    if (isNaN(local) || (isNaN(imp) && isNaN(exp))) {
      this.skipped++;
      return null;
    }
    let epoch = epochMs(r.timestamp);
    let offsetMin: number;
    if (!isNaN(epoch)) offsetMin = Math.round((local - epoch) / QUARTER_MS) * 15;
    else if (Math.abs(local - gatewayNow) <= MAX_OFFSET_MS) offsetMin = Math.round((local - gatewayNow) / QUARTER_MS) * 15;
    else if (!isNaN(this.lastOffset)) offsetMin = this.lastOffset;
    else {
      this.skipped++;
      return null;
    }
    epoch = local - offsetMin * MIN_MS;
    this.sampleEpoch = epoch;
    this.lastOffset = offsetMin;
    this.lastImp = imp;
    this.lastExp = exp;

    const b = Math.floor(epoch / QUARTER_MS) * QUARTER_MS;
    const q = this.at[QUARTER];
    if (epoch - b > BOUNDARY_TOLERANCE_MS || (q.known && b <= q.end)) return null;
    const delayS = Math.min(255, Math.round((epoch - b) / 1000));
    const prev = q.known ? q.end : NaN;
    const prevOffset = q.offsetMin;
    const prevDelay = q.delayS;
    // month and day first, the quarter hour last: a power cut in between leaves the quarter hour
    // to be taken again by the next push, and the day or month already taken is not taken twice
    const wall = b + offsetMin * MIN_MS;
    if (((wall % DAY_MS) + DAY_MS) % DAY_MS === 0) {
      if (new Date(wall).getUTCDate() === 1 && !(this.at[MONTH].known && b <= this.at[MONTH].end)) this.capture(MONTH, b, offsetMin, delayS, imp, exp);
      if (!(this.at[DAY].known && b <= this.at[DAY].end)) this.capture(DAY, b, offsetMin, delayS, imp, exp);
    }
    const done = this.capture(QUARTER, b, offsetMin, delayS, imp, exp);
    const dImp = this.deltas[0];
    const dExp = this.deltas[1];
    if (!done || b - prev !== QUARTER_MS) return null;
    return (this.lastInterval = {
      start: prev,
      end: b,
      importWh: nullable(dImp),
      exportWh: nullable(dExp),
      startLocal: isoLocal(prev, prevOffset),
      endLocal: isoLocal(b, offsetMin),
      meterStart: isoLocal(prev + prevDelay * 1000, prevOffset),
      meterEnd: isoLocal(epoch, offsetMin),
    });
  }

  /** the deltas of the last capture */
  private readonly deltas = new Float64Array(2);

  /** Writes the record of a boundary; false for a new baseline (no deltas). */
  private capture(ring: number, end: number, offsetMin: number, delayS: number, imp: number, exp: number): boolean {
    const p = this.at[ring];
    let flags = 0;
    let dImp = NaN;
    let dExp = NaN;
    if (!p.known) flags = FLAG_BASELINE;
    else {
      const span = end - p.end;
      dImp = this.delta(p.imp, imp, span);
      dExp = this.delta(p.exp, exp, span);
      if (dImp === -1 || dExp === -1) {
        flags = FLAG_BASELINE;
        dImp = NaN;
        dExp = NaN;
      }
    }
    const v = this.view;
    v.setUint32(0, end / MIN_MS, true);
    v.setUint32(4, (p.known ? p.end : end) / MIN_MS, true);
    v.setInt8(8, offsetMin / 15);
    v.setInt8(9, (p.known ? p.offsetMin : offsetMin) / 15);
    v.setUint8(10, flags);
    v.setUint8(11, delayS);
    v.setFloat64(12, imp, true);
    v.setFloat64(20, exp, true);
    v.setFloat64(28, dImp, true);
    v.setFloat64(36, dExp, true);
    this.log.append(ring, this.rec);
    p.known = true;
    p.end = end;
    p.offsetMin = offsetMin;
    p.delayS = delayS;
    // a register missing here leaves the next delta unknown too: never one delta over two intervals
    p.imp = imp;
    p.exp = exp;
    this.deltas[0] = dImp;
    this.deltas[1] = dExp;
    return (flags & FLAG_BASELINE) === 0;
  }

  /**
   * Energy between two register values `span` ms apart: NaN when one is missing, -1 when it
   * cannot be real (fell without a wrap, or rose faster than the maximum power allows).
   */
  private delta(before: number, after: number, span: number): number {
    if (isNaN(before) || isNaN(after)) return NaN;
    // +1 Wh: the registers' own resolution
    const most = (this.maxPowerW * span) / 3_600_000 + 1;
    const d = after - before;
    if (d >= 0) return d <= most ? d : -1;
    for (const m of MODULI) {
      if (m <= before) continue;
      // the smallest size above the old value is the one it can have wrapped at
      const w = after + m - before;
      return before >= m * (1 - WRAP_MARGIN) && after < m * WRAP_MARGIN && w <= most ? w : -1;
    }
    return -1;
  }

  /**
   * The epoch ms of a local wall time of the meter (wall ms as if UTC): with the UTC offset of the
   * stored boundary nearest to it, else the offset now, else UTC. Exact for every boundary the
   * history holds, DST days included.
   */
  epochOfLocal(wall: number): number {
    return wall - this.nearestOffset(wall, true) * MIN_MS;
  }

  /** The UTC offset (minutes) of the meter's clock at an epoch time, as epochOfLocal finds it. */
  offsetAt(epoch: number): number {
    return this.nearestOffset(epoch, false);
  }

  private nearestOffset(target: number, local: boolean): number {
    let best = Infinity;
    let offset = isNaN(this.lastOffset) ? 0 : this.lastOffset;
    const v = this.view;
    for (let ring = 0; ring < 3 && best > 0; ring++) {
      const after = Math.floor((target - MAX_OFFSET_MS - (ring === MONTH ? 32 : 1) * DAY_MS) / MIN_MS);
      this.log.forEach(ring, Math.max(0, after), (bytes) => {
        this.rec.set(bytes, 0);
        const off = v.getInt8(8) * 15;
        const d = v.getUint32(0, true) * MIN_MS + (local ? off * MIN_MS : 0) - target;
        if (Math.abs(d) < best) {
          best = Math.abs(d);
          offset = off;
        }
        return d <= 0;
      });
    }
    return offset;
  }

  /**
   * The intervals of a resolution that start in [from, to) (epoch ms), the gaps that overlap it
   * and the interval in progress if it starts there. At most maxPoints points; `next` says where
   * to continue.
   */
  query(resolution: Resolution, from: number, to: number, maxPoints = MAX_POINTS): HistoryAnswer {
    const ring = RESOLUTIONS.indexOf(resolution);
    const points: HistoryPoint[] = [];
    const gaps: HistoryGap[] = [];
    const answer: HistoryAnswer = { resolution, points, gaps, current: null, next: null };
    const v = this.view;
    const rec = this.rec;
    this.log.forEach(ring, Math.max(0, Math.floor(from / MIN_MS)), (bytes) => {
      rec.set(bytes, 0);
      const end = v.getUint32(0, true) * MIN_MS;
      const start = v.getUint32(4, true) * MIN_MS;
      if (start >= to) return false;
      if (start === end) return true; // the first baseline: no energy yet
      const endOff = v.getInt8(8) * 15;
      const startOff = v.getInt8(9) * 15;
      const imp = nullable(v.getFloat64(28, true));
      const exp = nullable(v.getFloat64(36, true));
      if (!(rec[10] & FLAG_BASELINE) && isStep(ring, start, startOff, end, endOff)) {
        if (start < from) return true;
        if (points.length >= maxPoints) {
          answer.next = start;
          return false;
        }
        points.push([start, imp, exp, startOff, end, endOff]);
      } else {
        gaps.push([start, end, imp, exp, startOff, endOff]);
      }
      return true;
    });
    const b = this.at[ring];
    if (answer.next === null && b.known && this.sampleEpoch > b.end && b.end >= from && b.end < to) {
      const wall = b.end + b.offsetMin * MIN_MS;
      // in progress only while it may still end at the next boundary of its resolution
      const limit = ring === QUARTER ? QUARTER_MS : ring === DAY ? DAY_MS + 3_600_000 : nextMonth(wall) - wall + 3_600_000;
      if (this.sampleEpoch - b.end < limit) {
        const di = this.lastImp - b.imp;
        const de = this.lastExp - b.exp;
        answer.current = [b.end, di >= 0 ? round3(di) : null, de >= 0 ? round3(de) : null, b.offsetMin, this.sampleEpoch];
      }
    }
    return answer;
  }
}

/** Local wall ms (as UTC) of the first day of the next month. */
function nextMonth(wall: number): number {
  const d = new Date(wall);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Whether [start, end) is one interval of the ring's resolution (by the local wall clock). */
function isStep(ring: number, start: number, startOff: number, end: number, endOff: number): boolean {
  if (ring === QUARTER) return end - start === QUARTER_MS;
  const a = start + startOff * MIN_MS;
  const z = end + endOff * MIN_MS;
  if (ring === DAY) return z - a === DAY_MS;
  return z === nextMonth(a);
}
