/**
 * Values computed across Readings: energy since the start of the day and of the month, and the
 * average net power (import − export) of the current and of the last quarter hour.
 *
 * Everything follows the meter's OWN clock (Reading.timestamp). Its wall-clock part decides the
 * day, the month and the quarter hour, so neither the host's NTP nor its zone can shift them;
 * elapsed time comes from the offset when the meter sends one (so the repeated hour when summer
 * time ends still counts once), else from the wall clock. A Reading without a timestamp changes
 * nothing and yields no values.
 *
 *   today/month   counter − the counter of the first Reading seen in that day/month (so a
 *                 gateway started at noon counts from noon); a counter that goes backwards
 *                 (meter exchanged) becomes the new baseline
 *   15 min avg    time-weighted: each net power sample holds until the next Reading, split at
 *                 quarter-hour boundaries; gaps over MAX_GAP_MS are not bridged, the average is
 *                 over the time covered. A quarter with one sample and no elapsed time
 *                 averages to that sample.
 *
 * State is a fixed handful of numbers; toJSON/fromJSON carry it over a restart.
 * Does not know: templates, storage, the host clock.
 */
import type { Reading } from '../reading.js';
import { epochMs, localMs } from './clock.js';
import { electricityNumber, netPower, round3 } from '../quantities.js';
import { deepFreeze } from '../freeze.js';

export interface DerivedValues {
  energy_today_import_wh: number | undefined;
  energy_today_export_wh: number | undefined;
  energy_month_import_wh: number | undefined;
  energy_month_export_wh: number | undefined;
  /** time-weighted average net power over the current quarter hour so far (W) */
  power_avg_15min_w: number | undefined;
  /** the same over the last complete quarter hour (W) */
  power_avg_last_15min_w: number | undefined;
  /** the last completed quarter hour from the registers (history.ts), while it is the one just
   *  past; set by the gateway, not by DerivedTracker */
  energy_last_15min_import_wh?: number;
  energy_last_15min_export_wh?: number;
  /** its start and end, ISO 8601 local time with the UTC offset */
  energy_last_15min_start?: string;
  energy_last_15min_end?: string;
}

const DAY_MS = 86400000;
const QUARTER_MS = 900000;
/** Longer silences are not bridged: the gateway or the meter was away, the last power is stale. */
export const MAX_GAP_MS = 300000;
const STATE_VERSION = 1;

const STATE_KEYS = deepFreeze([
  'day', 'dayImport', 'dayExport', 'month', 'monthImport', 'monthExport',
  'quarter', 'qSum', 'qDur', 'lastEpoch', 'lastLocal', 'lastPower', 'lastAvg',
] as const);
/** keys that hold a counter index and must be whole numbers */
const INTEGER_KEYS: readonly string[] = deepFreeze(['day', 'month', 'quarter']);

/** A numeric derived value by its quantity key (quantities.ts); undefined when absent. */
export function derivedNumber(d: DerivedValues | null, key: string): number | undefined {
  const v = d ? d[key as keyof DerivedValues] : undefined;
  return typeof v === 'number' ? v : undefined;
}

function out(x: number): number | undefined {
  return isNaN(x) ? undefined : round3(x);
}

export class DerivedTracker {
  // NaN = unknown throughout
  private day = NaN;
  private dayImport = NaN;
  private dayExport = NaN;
  private month = NaN;
  private monthImport = NaN;
  private monthExport = NaN;
  /** the quarter hour (wall clock ms / 900 000) the sums belong to */
  private quarter = NaN;
  /** ∫ net power dt over the covered part of the quarter (W·ms) and that part's length (ms) */
  private qSum = 0;
  private qDur = 0;
  private lastEpoch = NaN;
  private lastLocal = NaN;
  /** the net power that holds since lastLocal */
  private lastPower = NaN;
  /** average of the last complete quarter hour */
  private lastAvg = NaN;

  update(reading: Reading): DerivedValues {
    const local = localMs(reading.timestamp);
    if (isNaN(local)) {
      return {
        energy_today_import_wh: undefined, energy_today_export_wh: undefined,
        energy_month_import_wh: undefined, energy_month_export_wh: undefined,
        power_avg_15min_w: undefined, power_avg_last_15min_w: undefined,
      };
    }
    const v = reading.values;
    const imp = electricityNumber(v, '1.8.0', 'Wh') ?? NaN;
    const exp = electricityNumber(v, '2.8.0', 'Wh') ?? NaN;
    const net = netPower(v) ?? NaN;

    const day = Math.floor(local / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.dayImport = imp;
      this.dayExport = exp;
    }
    const date = new Date(local);
    const month = date.getUTCFullYear() * 12 + date.getUTCMonth();
    if (month !== this.month) {
      this.month = month;
      this.monthImport = imp;
      this.monthExport = exp;
    }
    // a baseline missing so far (the first Reading lacked the counter) or above the counter
    if (!isNaN(imp)) {
      if (!(imp >= this.dayImport)) this.dayImport = imp;
      if (!(imp >= this.monthImport)) this.monthImport = imp;
    }
    if (!isNaN(exp)) {
      if (!(exp >= this.dayExport)) this.dayExport = exp;
      if (!(exp >= this.monthExport)) this.monthExport = exp;
    }

    this.quarterStep(local, epochMs(reading.timestamp), net);

    return {
      energy_today_import_wh: out(imp - this.dayImport),
      energy_today_export_wh: out(exp - this.dayExport),
      energy_month_import_wh: out(imp - this.monthImport),
      energy_month_export_wh: out(exp - this.monthExport),
      power_avg_15min_w: out(this.qDur > 0 ? this.qSum / this.qDur : this.lastPower),
      power_avg_last_15min_w: out(this.lastAvg),
    };
  }

  private quarterStep(local: number, epoch: number, net: number): void {
    const q = Math.floor(local / QUARTER_MS);
    // elapsed real time: from the offsets when both Readings have one, else the wall clock
    const dt = !isNaN(epoch) && !isNaN(this.lastEpoch) ? epoch - this.lastEpoch : local - this.lastLocal;
    const inTime = dt > 0 && dt <= MAX_GAP_MS;
    // the power that held since the last Reading; none across a gap or a clock jump
    const hold = inTime ? this.lastPower : NaN;
    if (q === this.quarter) {
      if (!isNaN(hold)) {
        this.qSum += hold * dt;
        this.qDur += dt;
      }
    } else {
      let carried = 0;
      if (!isNaN(hold)) {
        // the part of dt before the boundary still belongs to the old quarter
        let before = (this.quarter + 1) * QUARTER_MS - this.lastLocal;
        if (!(before >= 0)) before = 0;
        if (before > dt) before = dt;
        this.qSum += hold * before;
        this.qDur += before;
        carried = dt - before;
      }
      const oldAvg = this.qDur > 0 ? this.qSum / this.qDur : this.lastPower;
      // the old quarter is the last complete one only if it is the one just before this one:
      // by the wall clock, or in real time (the wall clock jumps when summer time ends)
      this.lastAvg = q === this.quarter + 1 || inTime ? oldAvg : NaN;
      this.quarter = q;
      this.qSum = isNaN(hold) ? 0 : hold * carried;
      this.qDur = isNaN(hold) ? 0 : carried;
    }
    // a Reading without power keeps the held value, unless that is stale
    this.lastPower = isNaN(net) ? hold : net;
    this.lastEpoch = epoch;
    this.lastLocal = local;
  }

  toJSON(): object {
    const o: Record<string, number | null> = { v: STATE_VERSION };
    for (const k of STATE_KEYS) {
      const x = this[k];
      o[k] = isNaN(x) ? null : x;
    }
    return o;
  }

  /** The tracker a toJSON() result describes; an empty one for anything else. */
  static fromJSON(x: unknown): DerivedTracker {
    const t = new DerivedTracker();
    if (x === null || typeof x !== 'object' || (x as Record<string, unknown>).v !== STATE_VERSION) return t;
    const src = x as Record<string, unknown>;
    const values: number[] = [];
    for (const k of STATE_KEYS) {
      const y = src[k];
      let n: number;
      if (y === null || (typeof y === 'number' && isNaN(y))) n = NaN;
      else if (typeof y === 'number' && isFinite(y)) n = y;
      else return t;
      if (INTEGER_KEYS.indexOf(k) >= 0 && !isNaN(n) && Math.floor(n) !== n) return t;
      values.push(n);
    }
    // the sums must be numbers, and a duration is never negative
    if (isNaN(values[7]) || isNaN(values[8]) || values[8] < 0) return t;
    for (let i = 0; i < STATE_KEYS.length; i++) t[STATE_KEYS[i]] = values[i];
    return t;
  }
}
