/**
 * COSEM mapping: from the decoded A-XDR nodes of a data-notification body to Reading values.
 * The families of list, recognised from the structure of the list, never from a utility setting:
 *
 * 1. Lists that name their values with OBIS codes, nested or flat:
 *      [obis, value, {scaler, unit}]...   Kaifa/Honeywell (TINETZ, Vorarlberg, Salzburg), Aidon
 *      obis, value, {scaler, unit}, ...   Netz NÖ / EVN (flat, clock first, meter number last)
 *      obis, value, obis, value, ...      Kamstrup, Landis+Gyr GBT pushes
 *    Items without a code around them are recognised by type: a date-time is the clock, a text
 *    is the meter number (or a list identifier such as `Kamstrup_V0001`).
 * 2. Descriptor lists (Landis+Gyr E450): the push setup's object list, an array of capture object
 *    definitions {class, OBIS, attribute, data index}, then the values of those objects in order.
 *    A list whose values cannot be lined up with its definitions is a `layout` error.
 * 3. Positional lists with no OBIS codes at all (Siemens IM350 and L+G E450 at Wiener Netze,
 *    Kärnten Netz, Wels, Netz Burgenland; Kaifa's KFM_001 lists 1-3 in Norway), matched against
 *    known type signatures below.
 * Values without a scaler/unit structure are reported unscaled, with the unit the OBIS code
 * implies.
 */
import {
  DT_DATE_TIME,
  DT_ENUM,
  DT_INT8,
  DT_OCTET_STRING,
  DT_STRUCTURE,
  DT_UINT16,
  DT_UINT32,
  DT_UTF8_STRING,
  DT_VISIBLE_STRING,
  DEVIATION_UNSPECIFIED,
  DT_ARRAY,
} from '../constants.js';
import { asciiString, isPrintable, toHex, utf8String } from '../bytes.js';
import { decodeError, type DecodeError } from '../errors.js';
import { ValueList, type Reading } from '../reading.js';
import { isNumeric, numberAt, typeName, type AxdrTable } from './axdr.js';
import { defaultUnit, looksLikeObis, obisKey, unitName } from './obis.js';
import { deepFreeze } from '../freeze.js';

// ---- date-time (IEC 62056-6-2 4.1.6.1): yyyy mm dd dow hh mm ss hs deviation(int16) status ----

/** '00'..'99' built once: timestamps are made on every push */
const PAD2: readonly string[] = /* @__PURE__ */ (() => {
  const t: string[] = [];
  for (let i = 0; i < 100; i++) t.push(i < 10 ? '0' + i : '' + i);
  return Object.freeze(t);
})();

function pad2(n: number): string {
  return n < 100 ? PAD2[n] : '' + n;
}

export function isPlausibleDateTime(b: Uint8Array, p: number): boolean {
  const year = (b[p] << 8) | b[p + 1];
  const month = b[p + 2];
  const day = b[p + 3];
  return year >= 1990 && year <= 2199 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && b[p + 5] <= 23 && b[p + 6] <= 59 && b[p + 7] <= 59;
}

/** ISO 8601 local time, with the offset when the deviation is given; null when unspecified. */
export function dateTimeString(b: Uint8Array, p: number): string | null {
  if (!isPlausibleDateTime(b, p)) return null;
  const year = (b[p] << 8) | b[p + 1];
  const s = `${year}-${pad2(b[p + 2])}-${pad2(b[p + 3])}T${pad2(b[p + 5])}:${pad2(b[p + 6])}:${pad2(b[p + 7])}`;
  const dev = ((b[p + 9] << 24) >> 16) | b[p + 10];
  if (dev === DEVIATION_UNSPECIFIED || dev < -840 || dev > 840) return s;
  // deviation is minutes from local time to UTC, so the ISO offset is its negation
  const off = -dev;
  const abs = off < 0 ? -off : off;
  return `${s}${off < 0 ? '-' : '+'}${pad2((abs / 60) | 0)}:${pad2(abs % 60)}`;
}

/** Date from octet-string(5) yyyy mm dd dow and time from octet-string(4) hh mm ss hs. */
function dateAndTimeString(b: Uint8Array, date: number, time: number): string | null {
  const year = (b[date] << 8) | b[date + 1];
  if (year < 1990 || year > 2199 || b[date + 2] < 1 || b[date + 2] > 12 || b[date + 3] < 1 || b[date + 3] > 31) return null;
  if (b[time] > 23 || b[time + 1] > 59 || b[time + 2] > 59) return null;
  return `${year}-${pad2(b[date + 2])}-${pad2(b[date + 3])}T${pad2(b[time])}:${pad2(b[time + 1])}:${pad2(b[time + 2])}`;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (year 1 on), in ms, plus the time of day:
 * Date.UTC's result by arithmetic alone (on XS no call into the host, on V8 no runtime call).
 */
export function civilMs(year: number, month: number, day: number, h: number, m: number, s: number): number {
  // March-based years put the leap day last; years from 1 on, so integer division is truncation
  const y = month <= 2 ? year - 1 : year;
  const era = (y / 400) | 0;
  const yoe = y - era * 400;
  const doy = (((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) | 0) + day - 1;
  const days = era * 146097 + yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy - 719468;
  return days * 86_400_000 + ((h * 60 + m) * 60 + s) * 1000;
}

/** The plausible date-time at p as the list's clock: its local time and, when given, its offset. */
function dateTimeClock(b: Uint8Array, p: number, list: ValueList): void {
  const dev = ((b[p + 9] << 24) >> 16) | b[p + 10];
  const offset = dev === DEVIATION_UNSPECIFIED || dev < -840 || dev > 840 ? NaN : -dev;
  list.clock(civilMs((b[p] << 8) | b[p + 1], b[p + 2], b[p + 3], b[p + 5], b[p + 6], b[p + 7]), offset);
}

/** Reading.timestamp from the date-time at p (the notification's own), and the list's clock. */
export function setTimestamp(r: Reading, list: ValueList, b: Uint8Array, p: number): void {
  r.timestamp = dateTimeString(b, p);
  if (r.timestamp !== null) dateTimeClock(b, p, list);
}

/**
 * One rule for the offset of the clock: the push's date-time (notification header) and the list's
 * clock (0-0:1.0.0) that show the same local time are the same instant, so when only one of them
 * carries the deviation, both get it. Reading.timestamp and the 0-0:1.0.0 value then agree.
 */
export function reconcileClock(r: Reading, list: ValueList): void {
  const ts = r.timestamp;
  const v = r.values['0-0:1.0.0'];
  if (ts === null || v === undefined || typeof v.value !== 'string') return;
  const clock = v.value;
  if (ts.length === clock.length || ts.length < 19 || clock.length < 19) return;
  for (let i = 0; i < 19; i++) if (ts.charCodeAt(i) !== clock.charCodeAt(i)) return;
  if (ts.length > clock.length) r.values['0-0:1.0.0'] = { value: ts };
  else {
    r.timestamp = clock;
    list.clockText(clock);
  }
}

// ---- node classification ----

function isDateTimeNode(t: AxdrTable, b: Uint8Array, i: number): boolean {
  const tag = t.tag[i];
  if (tag === DT_DATE_TIME) return true;
  return tag === DT_OCTET_STRING && t.length[i] === 12 && isPlausibleDateTime(b, t.start[i]);
}

/** End of a text without the NUL bytes that pad it to a fixed length (E450: `RATE2\0\0\0`). */
function textEnd(b: Uint8Array, s: number, e: number): number {
  while (e > s + 1 && b[e - 1] === 0) e--;
  return e;
}

function isTextNode(t: AxdrTable, b: Uint8Array, i: number): boolean {
  const tag = t.tag[i];
  if (tag === DT_VISIBLE_STRING || tag === DT_UTF8_STRING) return true;
  const s = t.start[i];
  return tag === DT_OCTET_STRING && isPrintable(b, s, textEnd(b, s, s + t.length[i]));
}

function isObisNode(t: AxdrTable, b: Uint8Array, i: number): boolean {
  return t.tag[i] === DT_OCTET_STRING && t.length[i] === 6 && looksLikeObis(b, t.start[i]);
}

/** structure { int8 scaler, enum unit } */
function isScalerUnit(t: AxdrTable, i: number): boolean {
  return i + 2 < t.count && t.tag[i] === DT_STRUCTURE && t.length[i] === 2 && t.tag[i + 1] === DT_INT8 && t.tag[i + 2] === DT_ENUM;
}

function textOf(t: AxdrTable, b: Uint8Array, i: number): string {
  const s = t.start[i];
  const e = s + t.length[i];
  if (t.tag[i] === DT_UTF8_STRING) return utf8String(b, s, e);
  if (t.tag[i] === DT_VISIBLE_STRING) return asciiString(b, s, e);
  const te = textEnd(b, s, e);
  if (isPrintable(b, s, te)) return asciiString(b, s, te);
  return toHex(b, s, e);
}

function scaled(v: number, scaler: number): number {
  if (scaler === 0) return v;
  // dividing by an exact power of ten keeps 2337 * 10^-1 at 233.7, not 233.70000000000002
  return scaler < 0 ? v / 10 ** -scaler : v * 10 ** scaler;
}

/** list identifiers: AIDON_V0001, Kamstrup_V0001, KFM_001 */
// Made on first use, never at module level: XS 8.2.3 crashes on exec() of a RegExp that the
// preload put in flash (hal/moddable/README.md, "Preload rules").
let listIdRe: RegExp | undefined;

/**
 * Where a list carries the meter number, best first: the grid operator's number, the meter
 * id (E450), the serial and the id of the Kamstrup lists, an unnamed text, then the logical
 * device name (which holds the maker's letters and the serial).
 */
const NUMBER_RANK_UNNAMED = 4;
const NUMBER_RANK_NONE = 99;
function numberRank(a: number, group: number, c: number, d: number, e: number): number {
  if (a === 0 && group === 0 && c === 96 && d === 1 && e <= 1) return e; // 0-0:96.1.0, 0-0:96.1.1
  if (a === 1 && c === 0 && d === 0 && (e === 5 || e === 1)) return e === 5 ? 2 : 3; // 1-b:0.0.5, 1-b:0.0.1
  if (a === 0 && group === 0 && c === 42 && d === 0 && e === 0) return 5; // 0-0:42.0.0
  return NUMBER_RANK_NONE;
}

/**
 * The texts of the last notifications by their bytes. A meter sends the same meter number, list
 * name and device name in every push, so each string is made once: on XS a string built a
 * character at a time leaves a chunk per character, and on V8 a rope that the first comparison
 * (the guard's meter number) or JSON.stringify must copy flat.
 */
const TEXT_SLOTS = 4;
const TEXT_MAX = 32;
class TextCache {
  private readonly bytes = new Uint8Array(TEXT_SLOTS * TEXT_MAX);
  private readonly lengths: number[] = new Array<number>(TEXT_SLOTS).fill(-1);
  private readonly tags: number[] = new Array<number>(TEXT_SLOTS).fill(0);
  private readonly texts: string[] = new Array<string>(TEXT_SLOTS).fill('');
  private next = 0;

  text(t: AxdrTable, b: Uint8Array, i: number): string {
    const s = t.start[i];
    const n = t.length[i];
    const tag = t.tag[i];
    if (n > TEXT_MAX) return textOf(t, b, i);
    const bytes = this.bytes;
    for (let k = 0; k < TEXT_SLOTS; k++) {
      if (this.lengths[k] !== n || this.tags[k] !== tag) continue;
      const at = k * TEXT_MAX;
      let j = 0;
      while (j < n && bytes[at + j] === b[s + j]) j++;
      if (j === n) return this.texts[k];
    }
    const k = this.next;
    this.next = (k + 1) % TEXT_SLOTS;
    const text = textOf(t, b, i);
    for (let j = 0; j < n; j++) bytes[k * TEXT_MAX + j] = b[s + j];
    this.lengths[k] = n;
    this.tags[k] = tag;
    this.texts[k] = text;
    return text;
  }
}

/** Collects values of one notification into a Reading, and into the decoder's ValueList. */
class Mapper {
  mapped = 0;
  private numberRank = NUMBER_RANK_NONE;
  private t!: AxdrTable;
  private b!: Uint8Array;
  private r!: Reading;

  private readonly texts = new TextCache();

  constructor(
    private readonly keys: ObisKeyCache,
    private readonly list: ValueList,
  ) {}

  /** One Mapper per decoder, reset for every notification. */
  reset(t: AxdrTable, b: Uint8Array, r: Reading): this {
    this.t = t;
    this.b = b;
    this.r = r;
    this.mapped = 0;
    this.numberRank = NUMBER_RANK_NONE;
    return this;
  }

  // values are set here and in put() only (one call less per number: calls cost on XS), so the
  // Reading and the list stay in step
  private setText(key: string, s: string): void {
    this.r.values[key] = { value: s };
    this.list.text(key);
  }

  private meterNumber(s: string, rank: number): void {
    if (rank >= this.numberRank) return;
    this.numberRank = rank;
    this.r.meter.number = s;
  }

  /** Node v, named by the OBIS code in code[at, at + 6). */
  put(code: Uint8Array, at: number, v: number, scaler: number, unit: number): void {
    const t = this.t;
    const b = this.b;
    const key = this.keys.key(code, at);
    const tag = t.tag[v];
    const a = code[at];
    const group = code[at + 1];
    const c = code[at + 2];
    const d = code[at + 3];
    const e = code[at + 4];
    const rank = numberRank(a, group, c, d, e);
    if (isNumeric(tag)) {
      const raw = numberAt(b, tag, t.start[v]);
      const value = scaled(raw, scaler);
      const u = unit >= 0 ? unitName(unit) : defaultUnit(a, c, d);
      this.r.values[key] = u !== undefined ? { value, unit: u } : { value };
      this.list.number(key, value, u);
      if (rank !== NUMBER_RANK_NONE) this.meterNumber('' + raw, rank);
    } else if (a === 0 && c === 1 && d === 0 && isDateTimeNode(t, b, v)) {
      const s = dateTimeString(b, t.start[v]);
      if (s === null) return;
      this.setText(key, s);
      this.clock(s, t.start[v], NaN);
    } else if (t.isContainer(v) || tag === 0) {
      return; // structured or empty values (e.g. a capture object list) are not readings
    } else {
      const s = this.texts.text(t, b, v);
      this.setText(key, s);
      if (rank !== NUMBER_RANK_NONE && s.length > 0) this.meterNumber(s, rank);
      if (a === 0 && group === 0 && c === 42 && d === 0 && e === 0) this.r.meter.logicalDeviceName = s;
    }
    this.mapped++;
  }

  /** The clock s, made of the date-time at p (or, p < 0, of a layout's date and time: local). */
  clock(s: string, p: number, localMs: number): void {
    if (!this.r.values['0-0:1.0.0']) this.setText('0-0:1.0.0', s);
    if (this.r.timestamp !== null) return;
    this.r.timestamp = s;
    if (p >= 0) dateTimeClock(this.b, p, this.list);
    else this.list.clock(localMs, NaN);
  }

  /** An item that no OBIS code names: recognised by its type. */
  unnamed(i: number): void {
    const t = this.t;
    const b = this.b;
    if (isDateTimeNode(t, b, i)) {
      const s = dateTimeString(b, t.start[i]);
      if (s !== null && !this.r.values['0-0:1.0.0']) {
        this.clock(s, t.start[i], NaN);
        this.mapped++;
      }
    } else if (isTextNode(t, b, i) && t.length[i] > 0) {
      const s = this.texts.text(t, b, i);
      if ((listIdRe ??= /^[A-Za-z][A-Za-z0-9]*_V?\d+$/).test(s)) {
        if (!this.r.values['1-1:0.2.129']) this.setText('1-1:0.2.129', s);
      } else if (this.numberRank > NUMBER_RANK_UNNAMED) {
        this.meterNumber(s, NUMBER_RANK_UNNAMED);
        if (!this.r.values['0-0:96.1.0']) this.setText('0-0:96.1.0', s);
        this.mapped++;
      }
    }
  }
}

// ---- positional layouts ----

const ANY_TEXT = -1;
const DATE_TIME = -2;
const OBIS = -3;
const TIME4 = -4;
const DATE5 = -5;

interface Slot {
  /** an A-XDR tag, or one of the pseudo types above */
  type: number;
  /** 6 OBIS bytes, or null for a position whose meaning is unknown (skipped) */
  obis: readonly number[] | null;
  optional?: boolean;
  /** decimal scaler the layout's documentation gives (the list itself carries none) */
  scaler?: number;
}

const o = (a: number, b: number, c: number, d: number, e: number): readonly number[] => Object.freeze([a, b, c, d, e, 255]);
const E = {
  importWh: o(1, 0, 1, 8, 0), exportWh: o(1, 0, 2, 8, 0), importVarh: o(1, 0, 3, 8, 0), exportVarh: o(1, 0, 4, 8, 0),
  importW: o(1, 0, 1, 7, 0), exportW: o(1, 0, 2, 7, 0), importVar: o(1, 0, 3, 7, 0), exportVar: o(1, 0, 4, 7, 0),
  u1: o(1, 0, 32, 7, 0), u2: o(1, 0, 52, 7, 0), u3: o(1, 0, 72, 7, 0),
  i1: o(1, 0, 31, 7, 0), i2: o(1, 0, 51, 7, 0), i3: o(1, 0, 71, 7, 0),
  number: o(0, 0, 96, 1, 0), clock: o(0, 0, 1, 0, 0),
  listId: o(1, 1, 0, 2, 129), meterType: o(0, 0, 96, 1, 7),
};
const u32 = (obis: readonly number[]): Slot => ({ type: DT_UINT32, obis });
const u16 = (obis: readonly number[] | null): Slot => ({ type: DT_UINT16, obis });
const FOUR_QUADRANT: Slot[] = [
  u32(E.importWh), u32(E.exportWh), u32(E.importVarh), u32(E.exportVarh),
  u32(E.importW), u32(E.exportW), u32(E.importVar), u32(E.exportVar),
];

interface Layout {
  name: string;
  slots: readonly Slot[];
}

// Kaifa MA304/MA105 in Norway (list id "KFM_001"): P+ P- Q+ Q- W/var, currents in mA, voltages
// in 0.1 V; list 3 adds the clock and the energy registers in Wh/varh (Kaifa's KFM_001 OBIS list)
const KAIFA_HEAD: Slot[] = [{ type: ANY_TEXT, obis: E.listId }, { type: ANY_TEXT, obis: E.number }, { type: ANY_TEXT, obis: E.meterType }];
const KAIFA_POWER: Slot[] = [u32(E.importW), u32(E.exportW), u32(E.importVar), u32(E.exportVar)];
const mA = (obis: readonly number[]): Slot => ({ type: DT_UINT32, obis, scaler: -3 });
const dV = (obis: readonly number[]): Slot => ({ type: DT_UINT32, obis, scaler: -1 });
const KAIFA_ENERGY: Slot[] = [{ type: DATE_TIME, obis: E.clock }, u32(E.importWh), u32(E.exportWh), u32(E.importVarh), u32(E.exportVarh)];
const KAIFA_1P: Slot[] = [...KAIFA_HEAD, ...KAIFA_POWER, mA(E.i1), dV(E.u1)];
const KAIFA_3P: Slot[] = [...KAIFA_HEAD, ...KAIFA_POWER, mA(E.i1), mA(E.i2), mA(E.i3), dV(E.u1), dV(E.u2), dV(E.u3)];

export const POSITIONAL_LAYOUTS: readonly Layout[] = deepFreeze([
  { name: 'Kaifa list 1', slots: [u32(E.importW)] },
  { name: 'Kaifa list 2, one phase', slots: KAIFA_1P },
  { name: 'Kaifa list 2, three phases', slots: KAIFA_3P },
  { name: 'Kaifa list 3, one phase', slots: [...KAIFA_1P, ...KAIFA_ENERGY] },
  { name: 'Kaifa list 3, three phases', slots: [...KAIFA_3P, ...KAIFA_ENERGY] },
  // Siemens IM350 / L+G E450 at Wiener Netze: meter number, clock, +A -A +R -R +P -P +Q -Q
  { name: 'Wiener Netze', slots: [{ type: ANY_TEXT, obis: E.number }, { type: DATE_TIME, obis: E.clock }, ...FOUR_QUADRANT] },
  // L+G E450 with the same energy block but no meter number
  { name: 'E450 clock + 4 quadrants', slots: [{ type: DATE_TIME, obis: E.clock }, ...FOUR_QUADRANT] },
  // Siemens IM350 at Kärnten Netz and Wels: list id 0-6:25.9.0, meter number, time, date,
  // +A -A +R -R +P -P, then optional customer info texts
  {
    name: 'Kärnten Netz / Wels',
    slots: [
      { type: OBIS, obis: null }, { type: ANY_TEXT, obis: E.number }, { type: TIME4, obis: null }, { type: DATE5, obis: null },
      ...FOUR_QUADRANT.slice(0, 6),
      { type: ANY_TEXT, obis: null, optional: true }, { type: ANY_TEXT, obis: null, optional: true },
    ],
  },
  // L+G E450 at Netz Burgenland: U1-3, I1-3, +P -P, +A -A, three undocumented values, meter id
  {
    name: 'Netz Burgenland',
    slots: [
      u16(E.u1), u16(E.u2), u16(E.u3), u16(E.i1), u16(E.i2), u16(E.i3),
      u32(E.importW), u32(E.exportW), u32(E.importWh), u32(E.exportWh),
      { type: DT_UINT16, obis: null, optional: true }, { type: DT_UINT16, obis: null, optional: true }, { type: DT_UINT16, obis: null, optional: true },
      { type: ANY_TEXT, obis: E.number, optional: true },
    ],
  },
]);

function slotMatches(t: AxdrTable, b: Uint8Array, i: number, type: number): boolean {
  switch (type) {
    case ANY_TEXT: return isTextNode(t, b, i) || (t.tag[i] === DT_OCTET_STRING && t.length[i] === 0);
    case DATE_TIME: return isDateTimeNode(t, b, i);
    case OBIS: return isObisNode(t, b, i);
    case TIME4: return t.tag[i] === DT_OCTET_STRING && t.length[i] === 4;
    case DATE5: return t.tag[i] === DT_OCTET_STRING && t.length[i] === 5;
    default: return t.tag[i] === type;
  }
}

/** Children of the root structure, if they are all plain values; else -1. */
function flatChildren(t: AxdrTable): number {
  if (t.count < 2 || t.tag[0] !== DT_STRUCTURE) return -1;
  for (let i = 1; i < t.count; i++) if (t.isContainer(i)) return -1;
  return t.count - 1;
}

function matchLayout(t: AxdrTable, b: Uint8Array, layout: Layout, n: number): boolean {
  const slots = layout.slots;
  if (n > slots.length) return false;
  for (let k = 0; k < slots.length; k++) {
    if (k >= n) return slots[k].optional === true;
    if (!slotMatches(t, b, k + 1, slots[k].type)) return false;
  }
  return true;
}

/** The layout's codes are copied into a 6-byte scratch so put() reads them like wire bytes. */
function applyLayout(m: Mapper, t: AxdrTable, b: Uint8Array, layout: Layout, n: number, scratch: Uint8Array): void {
  let time = -1;
  let date = -1;
  for (let k = 0; k < n; k++) {
    const slot = layout.slots[k];
    const i = k + 1;
    if (slot.type === TIME4) time = t.start[i];
    else if (slot.type === DATE5) date = t.start[i];
    if (slot.obis === null) continue;
    for (let j = 0; j < 6; j++) scratch[j] = slot.obis[j];
    m.put(scratch, 0, i, slot.scaler ?? 0, -1);
  }
  if (time >= 0 && date >= 0) {
    const s = dateAndTimeString(b, date, time);
    if (s !== null) m.clock(s, -1, civilMs((b[date] << 8) | b[date + 1], b[date + 2], b[date + 3], b[time], b[time + 1], b[time + 2]));
  }
}

// ---- descriptor lists: the push setup's object list (IEC 62056-6-2, class 40 push setup) ----
//
// A push sends one structure holding the value of every capture object of its push_object_list,
// in order. A capture object definition is
//   structure { class_id long-unsigned, logical_name octet-string(6), attribute_index integer,
//               data_index long-unsigned }   (some lists leave out data_index)
// Landis+Gyr E450 lists capture the object list itself first (class 40, attribute 2): its value is
// the array of definitions, so the structure holds that array and one value per other definition:
//   02 0F | 01 0F {40, 0-8:25.9.0, 2, 0} {40, 0-8:25.9.0, 1, 0} {1, 0-0:96.1.0, 2, 0} ... | value 2 ...
// Lists that do not capture it send the array, then one value per definition.

const CLASS_DATA = 1;
const CLASS_REGISTER = 3;
const CLASS_EXTENDED_REGISTER = 4;
const CLASS_DEMAND_REGISTER = 5;
const CLASS_CLOCK = 8;
const CLASS_PUSH_SETUP = 40;
const ATTR_LOGICAL_NAME = 1;
const ATTR_VALUE = 2;
/** scaler_unit: attribute 3 of (extended) registers, 4 of demand registers */
function scalerUnitAttribute(cls: number): number {
  return cls === CLASS_REGISTER || cls === CLASS_EXTENDED_REGISTER ? 3 : cls === CLASS_DEMAND_REGISTER ? 4 : -1;
}
/** at most this many scaler_unit definitions are remembered per list (a real list has a few) */
const MAX_SCALERS = 32;

/** Node d is a capture object definition: structure {uint16, octet-string(6), int8[, uint16]}. */
export function isCaptureDefinition(t: AxdrTable, b: Uint8Array, d: number): boolean {
  if (t.tag[d] !== DT_STRUCTURE || d + 3 >= t.count) return false;
  const n = t.length[d];
  if (n !== 3 && n !== 4) return false;
  if (t.tag[d + 1] !== DT_UINT16 || t.tag[d + 2] !== DT_OCTET_STRING || t.length[d + 2] !== 6 || t.tag[d + 3] !== DT_INT8) return false;
  if (n === 4 && (d + 4 >= t.count || t.tag[d + 4] !== DT_UINT16)) return false;
  return looksLikeObis(b, t.start[d + 2]);
}

function u16At(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/** Per-list scratch of the descriptor mapper, allocated once per decoder. */
export class DescriptorScratch {
  /** node index of each value, by definition index (-1: the object list itself) */
  readonly valueOf = new Int32Array(256);
  readonly scalerObis = new Int32Array(MAX_SCALERS);
  readonly scaler = new Int8Array(MAX_SCALERS);
  readonly unit = new Uint8Array(MAX_SCALERS);
  scalers = 0;
}

function sameObis(b: Uint8Array, p: number, q: number): boolean {
  for (let i = 0; i < 6; i++) if (b[p + i] !== b[q + i]) return false;
  return true;
}

/**
 * Maps a descriptor list. Returns false when the body is not one (the other families are tried),
 * null when mapped, and a `layout` error when it is one whose values cannot be placed for certain.
 */
function applyDescriptors(m: Mapper, t: AxdrTable, b: Uint8Array, ds: DescriptorScratch, bodyOffset: number): false | null | DecodeError {
  if (t.tag[0] !== DT_STRUCTURE || t.count < 3) return false;
  const m0 = t.length[0];
  // the array of definitions: a child of the root whose elements all are definitions
  let arr = -1;
  let arrPos = 0;
  for (let i = 1, k = 0; i < t.count && k < m0; i = t.next[i], k++) {
    if (t.tag[i] === DT_ARRAY && t.length[i] > 0 && isCaptureDefinition(t, b, i + 1)) {
      arr = i;
      arrPos = k;
      break;
    }
  }
  if (arr < 0) return false;
  const n = t.length[arr];
  let self = -1;
  let k = 0;
  for (let d = arr + 1; k < n; d = t.next[d], k++) {
    if (!isCaptureDefinition(t, b, d)) return shapeError(t, b, arr, n, m0, self, bodyOffset, `definition ${k + 1} is not {class, OBIS, attribute, index}`);
    if (self < 0 && u16At(b, t.start[d + 1]) === CLASS_PUSH_SETUP && b[t.start[d + 3]] === ATTR_VALUE) self = k;
  }
  if (n > ds.valueOf.length) return shapeError(t, b, arr, n, m0, self, bodyOffset, `more than ${ds.valueOf.length} definitions`);
  // line the values up with the definitions
  const valueOf = ds.valueOf;
  if (self >= 0 && m0 === n && self === arrPos) {
    // the object list is captured: the array stands where its value belongs
    for (let i = 1, j = 0; j < m0; i = t.next[i], j++) valueOf[j] = j === self ? -1 : i;
  } else if (self < 0 && m0 === n + 1 && arrPos === 0) {
    for (let i = t.next[arr], j = 0; j < n; i = t.next[i], j++) valueOf[j] = i;
  } else {
    return shapeError(t, b, arr, n, m0, self, bodyOffset, 'the values cannot be lined up with the definitions');
  }
  // scaler_unit definitions first: they may stand before or after the value they scale
  ds.scalers = 0;
  k = 0;
  for (let d = arr + 1; k < n; d = t.next[d], k++) {
    const cls = u16At(b, t.start[d + 1]);
    if (b[t.start[d + 3]] !== scalerUnitAttribute(cls) || valueOf[k] < 0) continue;
    const v = valueOf[k];
    if (!isScalerUnit(t, v)) return shapeError(t, b, arr, n, m0, self, bodyOffset, `value ${k + 1} (scaler and unit of ${obisKey(b, t.start[d + 2])}) is a ${typeName(t.tag[v])}, not {scaler, unit}`);
    if (ds.scalers < MAX_SCALERS) {
      ds.scalerObis[ds.scalers] = t.start[d + 2];
      ds.scaler[ds.scalers] = numberAt(b, DT_INT8, t.start[v + 1]);
      ds.unit[ds.scalers] = b[t.start[v + 2]];
      ds.scalers++;
    }
  }
  k = 0;
  for (let d = arr + 1; k < n; d = t.next[d], k++) {
    const v = valueOf[k];
    if (v < 0) continue;
    const cls = u16At(b, t.start[d + 1]);
    const attr = b[t.start[d + 3]];
    const code = t.start[d + 2];
    // the push setup's own attributes, logical names and attributes that hold no reading
    if (cls === CLASS_PUSH_SETUP || attr === ATTR_LOGICAL_NAME || attr !== ATTR_VALUE) continue;
    if (t.length[d] === 4 && u16At(b, t.start[d + 4]) !== 0) continue; // one entry of an array attribute
    const tag = t.tag[v];
    if (tag === 0) continue; // null: the meter has no value for it now
    if (cls === CLASS_CLOCK) {
      if (!isDateTimeNode(t, b, v)) return shapeError(t, b, arr, n, m0, self, bodyOffset, `value ${k + 1} (clock ${obisKey(b, code)}) is a ${typeName(tag)}, not a date-time`);
    } else if (cls === CLASS_REGISTER || cls === CLASS_EXTENDED_REGISTER || cls === CLASS_DEMAND_REGISTER) {
      if (!isNumeric(tag)) return shapeError(t, b, arr, n, m0, self, bodyOffset, `value ${k + 1} (register ${obisKey(b, code)}) is a ${typeName(tag)}, not a number`);
    } else if (cls !== CLASS_DATA || t.isContainer(v)) continue;
    let scaler = 0;
    let unit = -1;
    for (let s = 0; s < ds.scalers; s++) {
      if (sameObis(b, ds.scalerObis[s], code)) {
        scaler = ds.scaler[s];
        unit = ds.unit[s];
        break;
      }
    }
    m.put(b, code, v, scaler, unit);
  }
  return m.mapped > 0 ? null : noValues(t, bodyOffset);
}

/** The `layout` error of a descriptor list, with its shape. */
function shapeError(t: AxdrTable, b: Uint8Array, arr: number, n: number, m0: number, self: number, bodyOffset: number, why: string): DecodeError {
  let first = '';
  if (isCaptureDefinition(t, b, arr + 1)) first = `, the first {class ${u16At(b, t.start[arr + 2])}, ${obisKey(b, t.start[arr + 3])}, attribute ${numberAt(b, DT_INT8, t.start[arr + 4])}}`;
  const own = self >= 0 ? `, definition ${self + 1} being the object list itself` : '';
  return decodeError(
    'layout',
    bodyOffset,
    `descriptor list of ${n} capture object definitions${first}${own}, in a structure of ${m0} items (${m0 - 1} besides the definitions): ${why}`,
  );
}

// ---- entry point ----

/**
 * OBIS key strings by code, so a meter's keys are built once, not on every push. Bounded: a
 * stream of random codes cannot grow it past `limit`.
 */
export class ObisKeyCache {
  private readonly map = new Map<number, string>();
  constructor(private readonly limit = 256) {}

  key(code: Uint8Array, at: number): string {
    // 48 bits fit a double exactly
    const n = ((code[at] * 256 + code[at + 1]) * 256 + code[at + 2]) * 16777216 + ((code[at + 3] << 16) | (code[at + 4] << 8) | code[at + 5]);
    let s = this.map.get(n);
    if (s === undefined) {
      s = obisKey(code, at);
      if (this.map.size >= this.limit) this.map.clear();
      this.map.set(n, s);
    }
    return s;
  }
}

export interface MapScratch {
  code: Uint8Array;
  layoutName: string | null;
  mapper: Mapper;
  descriptors: DescriptorScratch;
}

/** `list` receives every value set, in order (one per decoder). */
export function newMapScratch(list: ValueList = new ValueList()): MapScratch {
  return { code: new Uint8Array(6), layoutName: null, mapper: new Mapper(new ObisKeyCache(), list), descriptors: new DescriptorScratch() };
}

/**
 * Maps the nodes of a notification body (table decoded from buf) into r.values, r.meter and
 * r.timestamp. `bodyOffset` is used for the error when nothing can be recognised.
 */
export function mapNotification(t: AxdrTable, b: Uint8Array, r: Reading, scratch: MapScratch, bodyOffset: number): DecodeError | null {
  const m = scratch.mapper.reset(t, b, r);
  scratch.layoutName = null;
  const flat = flatChildren(t);
  if (flat > 0) {
    for (let k = 0; k < POSITIONAL_LAYOUTS.length; k++) {
      const layout = POSITIONAL_LAYOUTS[k];
      if (matchLayout(t, b, layout, flat)) {
        scratch.layoutName = layout.name;
        applyLayout(m, t, b, layout, flat, scratch.code);
        return null;
      }
    }
  }
  const d = applyDescriptors(m, t, b, scratch.descriptors, bodyOffset);
  if (d !== false) {
    scratch.layoutName = 'descriptor list';
    return d;
  }
  let i = 0;
  while (i < t.count) {
    // a capture object definition names an object, it holds no value: never read its OBIS code
    // as a name followed by a value (its attribute index would become the reading)
    if (isCaptureDefinition(t, b, i)) {
      i = t.next[i];
      continue;
    }
    if (t.isContainer(i)) {
      i++;
      continue;
    }
    if (isObisNode(t, b, i) && i + 1 < t.count && !t.isContainer(i + 1)) {
      const v = i + 1;
      let scaler = 0;
      let unit = -1;
      let next = v + 1;
      if (isScalerUnit(t, next)) {
        scaler = numberAt(b, DT_INT8, t.start[next + 1]);
        unit = b[t.start[next + 2]];
        next += 3;
      }
      m.put(b, t.start[i], v, scaler, unit);
      i = next;
      continue;
    }
    m.unnamed(i);
    i++;
  }
  return m.mapped > 0 ? null : noValues(t, bodyOffset);
}

function noValues(t: AxdrTable, bodyOffset: number): DecodeError {
  let types = '';
  for (let i = 0; i < t.count && i < 12; i++) types += (i ? ', ' : '') + typeName(t.tag[i]);
  if (t.count > 12) types += ', ...';
  return decodeError('layout', bodyOffset, `the notification decodes (${t.count} items: ${types}) but matches no known list layout`);
}
