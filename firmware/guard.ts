/**
 * The plausibility guard: the last check before a Reading is published. The M-Bus checksum has 8
 * bits and encryption-only pushes (security 0x20/0x21) carry no tag, so noise that keeps the
 * checksum valid decrypts to a well-formed push with one changed value. The guard judges every
 * Reading against the last accepted push of the same meter (by system title) and refuses what no
 * real meter can send:
 *
 *   frame-counter    the invocation counter only increases
 *   clock            the meter clock does not go back (a local clock without offset may go back
 *                    by up to an hour: the end of summer time)
 *   energy-decrease  energy registers (Wh, varh, VAh) never decrease
 *   energy-rate      ... and never rise faster than the maximum power allows over the time since
 *                    the last accepted push (meter clock, else the time the pushes arrived)
 *   range            voltage 0-500 V, current and power within the maximum power
 *   meter            the meter number and the logical device name do not change
 *   keys             a push with as many values as the last accepted one (or the one before,
 *                    for meters that alternate two lists) names them with the same OBIS codes
 *
 * A rejected push never changes what the next push is judged against, so a corrupted copy of a
 * push cannot cost the real one that follows. A meter restart, a counter reset or a clock that
 * was set shows as pushes that break a rule against the last accepted one but agree with each
 * other: after RESYNC_PUSHES such pushes in a row the guard starts again from them, and says so.
 * It knows Readings, not bytes: what a corruption did to a low digit of a value it cannot see.
 */
import { ValueList, type Reading } from './reading.js';

export interface GuardOptions {
  /** the largest power the meter can measure per direction, in W (default 100 kW) */
  maxPowerW?: number;
}

export type GuardRule = 'frame-counter' | 'clock' | 'energy-decrease' | 'energy-rate' | 'range' | 'meter' | 'keys';

export const DEFAULT_MAX_POWER_W = 100_000;
/** pushes in a row that break a rule but agree with each other before the guard starts from them */
export const RESYNC_PUSHES = 3;
const MAX_METERS = 4;
const MAX_VOLTAGE = 500;
/** a local clock (no offset) goes back by an hour at the end of summer time */
const LOCAL_CLOCK_BACK_MS = 3_660_000;
/** the meter clock may run ahead of the arrival times by this much (a clock set by the operator;
 *  a local clock also jumps an hour at the start of summer time) */
const CLOCK_AHEAD_MS = 5 * 60_000;
const LOCAL_CLOCK_AHEAD_MS = 65 * 60_000;

export const GUARD_ACCEPT = 0;
export const GUARD_REJECT = 1;
/** accepted after a restart, counter reset or clock change: the guard started again */
export const GUARD_RESYNC = 2;

/** What one meter's pushes are judged against. */
class Baseline {
  set = false;
  counter = -1;
  clockMs = NaN;
  clockZoned = false;
  receivedMs = NaN;
  number: string | null = null;
  name: string | null = null;
  /** the OBIS codes of the push, in order (the decoder's cached strings: compared by reference);
   *  never changed once assigned, so baselines with the same list share one array */
  keys: readonly string[] = NO_KEYS;
  /** the energy registers and their last values; a register missing from a push keeps an older
   *  value, which still bounds it from below */
  readonly energyKeys: string[] = [];
  readonly energy: number[] = [];
  energyCount = 0;

  /** Where key is among the energy registers, -1 when not there. Callers first try where it
   *  usually is, the same place as in the push: a call costs more than that check on XS. */
  energyIndex(key: string): number {
    const keys = this.energyKeys;
    for (let i = 0; i < this.energyCount; i++) if (keys[i] === key) return i;
    return -1;
  }

  assign(r: Reading, p: Push, receivedMs: number): void {
    this.set = true;
    this.number = r.meter.number;
    this.name = r.meter.logicalDeviceName;
    const keys = p.keys;
    // the push's names are the decoder's list, refilled on every push: kept as a copy, made only
    // when the meter sends a list not seen before
    this.keys = p.keysLike ?? keys.slice(0, p.count);
    this.counter = r.frameCounter ?? -1;
    this.clockMs = p.clockMs;
    this.clockZoned = p.zoned;
    this.receivedMs = receivedMs;
    const at = p.energyAt;
    for (let k = 0; k < p.energyCount; k++) {
      const key = keys[at[k]];
      let i = k < this.energyCount && this.energyKeys[k] === key ? k : this.energyIndex(key);
      if (i < 0) {
        i = this.energyCount++;
        this.energyKeys[i] = key;
      }
      this.energy[i] = p.energy[k];
    }
  }

  copyFrom(o: Baseline): void {
    this.set = o.set;
    this.counter = o.counter;
    this.clockMs = o.clockMs;
    this.clockZoned = o.clockZoned;
    this.receivedMs = o.receivedMs;
    this.number = o.number;
    this.name = o.name;
    this.keys = o.keys;
    this.energyCount = o.energyCount;
    for (let i = 0; i < o.energyCount; i++) {
      this.energyKeys[i] = o.energyKeys[i];
      this.energy[i] = o.energy[i];
    }
  }
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/** The Reading being judged, read once from the decoder's ValueList: its OBIS codes in order,
 *  where its energy registers are and their values, its clock. Judging a push allocates nothing
 *  unless the meter sends a list not seen before. */
class Push {
  /** the list's names and units: valid up to count */
  keys: readonly string[] = NO_KEYS;
  units: readonly string[] = NO_KEYS;
  count = 0;
  /** the energy registers (numbers in Wh, varh, VAh): where they are in keys, and their values */
  readonly energyAt: number[] = [];
  readonly energy: number[] = [];
  energyCount = 0;
  /** an accepted push's list of the same keys in the same order (shared instead of copied), or null */
  keysLike: readonly string[] | null = null;
  clockMs = NaN;
  zoned = false;
}

class MeterState {
  accepted = new Baseline();
  /** the accepted push before it, and the last accepted Reading itself */
  before = new Baseline();
  last: Reading | null = null;
  /** the last rejected push and how many rejected pushes in a row agree with it */
  readonly candidate = new Baseline();
  streak = 0;

  accept(r: Reading, p: Push, receivedMs: number): void {
    // swapped, not copied: registers missing from this push keep an older value, which still
    // bounds them from below
    const t = this.before;
    this.before = this.accepted;
    this.accepted = t;
    t.assign(r, p, receivedMs);
    this.last = r;
    this.streak = 0;
  }
}

/** The push carries every energy register of base (a chain that starts again may not skip one). */
function hasRegisters(p: Push, base: Baseline): boolean {
  let n = 0;
  for (let k = 0; k < p.energyCount; k++) if (base.energyIndex(p.keys[p.energyAt[k]]) >= 0) n++;
  return n === base.energyCount;
}

/** The same push again (a repeated frame): same counter, clock and values. */
function samePush(a: Reading, b: Reading): boolean {
  if (a.frameCounter !== b.frameCounter || a.timestamp !== b.timestamp) return false;
  const av = a.values;
  const bv = b.values;
  for (const k in av) {
    const x = bv[k];
    if (x === undefined || x.value !== av[k].value) return false;
  }
  return true;
}

/** The largest of 1000, 100, 10 that divides both values: the register's resolution. */
function resolution(a: number, b: number): number {
  if (a % 1000 === 0 && b % 1000 === 0) return 1000;
  if (a % 100 === 0 && b % 100 === 0) return 100;
  if (a % 10 === 0 && b % 10 === 0) return 10;
  return 1;
}

export class PlausibilityGuard {
  readonly maxPowerW: number;
  /** the last violation: which rule, which value, what it was before, in words */
  rule: GuardRule = 'range';
  obis = '';
  value: number | string | null = null;
  previous: number | string | null = null;
  detail = '';
  private readonly meters = new Map<string, MeterState>();
  private lastId: string | null = null;
  private lastMeter: MeterState | undefined = undefined;
  private readonly push = new Push();
  /** for Readings judged without the decoder's list */
  private readonly own = new ValueList();

  constructor(options: GuardOptions = {}) {
    this.maxPowerW = options.maxPowerW ?? DEFAULT_MAX_POWER_W;
  }

  /** Forgets every meter (a new key or source). */
  reset(): void {
    this.meters.clear();
    this.lastId = null;
    this.lastMeter = undefined;
  }

  /**
   * Judges a Reading; `receivedMs` is when it arrived (a monotonic clock), NaN when unknown;
   * `list` its values in order, as the decoder set them (made here when not given).
   * GUARD_ACCEPT / GUARD_RESYNC: publish it; GUARD_REJECT: `rule`, `detail` and the values say why.
   */
  check(r: Reading, receivedMs: number, list: ValueList = this.own.of(r)): number {
    // by system title; unencrypted pushes have none, so by meter number (a corrupted number then
    // looks like another meter: its push is judged by the ranges alone)
    const id = r.meter.systemTitle ?? r.meter.number ?? '';
    // the decoder hands the same system title string for every push of a meter: compared by reference
    let m = id === this.lastId ? this.lastMeter : this.meters.get(id);
    if (m === undefined) {
      if (this.meters.size >= MAX_METERS) this.meters.delete(this.meters.keys().next().value as string);
      m = new MeterState();
      this.meters.set(id, m);
    }
    this.lastId = id;
    this.lastMeter = m;
    if (!this.read(r, m, list)) return GUARD_REJECT; // out of range: never plausible, whatever came before
    // the names are those of the accepted push: the usual case, checked without a call (calls cost on XS)
    if (this.fits(m.accepted, r, receivedMs) && (this.push.keysLike === m.accepted.keys || this.sameKeys(m, r))) {
      m.accept(r, this.push, receivedMs);
      return GUARD_ACCEPT;
    }
    // keep the violation against the accepted push: that is what gets reported
    const rule = this.rule, obis = this.obis, value = this.value, previous = this.previous, detail = this.detail;
    // A push that follows from the one accepted before the last, but not from the last: the last
    // was corrupted in a way no rule could see (a clock a minute ahead); going on from it would
    // cost this real push and the ones after it.
    if (m.before.set && m.last !== null && !samePush(r, m.last) && this.fits(m.before, r, receivedMs)) {
      const t = m.accepted;
      m.accepted = m.before;
      m.before = t;
      m.accept(r, this.push, receivedMs);
      return GUARD_ACCEPT;
    }
    // a chain of pushes that agree with each other, each carrying every register the chain has
    if (m.streak > 0 && hasRegisters(this.push, m.candidate) && this.fits(m.candidate, r, receivedMs)) m.streak++;
    else {
      m.streak = 1;
      m.candidate.energyCount = 0;
    }
    m.candidate.assign(r, this.push, receivedMs);
    if (m.streak >= RESYNC_PUSHES) {
      m.accepted.copyFrom(m.candidate);
      m.before.set = false;
      m.last = r;
      m.streak = 0;
      this.detail = `${RESYNC_PUSHES} pushes in a row from ${describe(r)} agree with each other but not with the last accepted one (${detail}): a meter restart, a counter reset or a clock that was set; judging from them on`;
      return GUARD_RESYNC;
    }
    this.rule = rule;
    this.obis = obis;
    this.value = value;
    this.previous = previous;
    this.detail = detail;
    return GUARD_REJECT;
  }

  /**
   * Reads the decoder's list into `push` in one pass: where the energy registers are and their
   * values, whether the names are those of `accepted`, and the clock. Checks the physical ranges
   * on the way: false (the violation set) at the first value out of range.
   */
  private read(r: Reading, m: MeterState, list: ValueList): boolean {
    const accepted = m.accepted;
    const p = this.push;
    const energyAt = p.energyAt;
    const energy = p.energy;
    const theirs = accepted.keys;
    const keys = list.keys;
    const numbers = list.numbers;
    const units = list.units;
    const count = list.count;
    const maxW = this.maxPowerW;
    let same = accepted.set && theirs.length === count;
    let e = 0;
    p.keys = keys;
    p.units = units;
    p.count = 0;
    for (let n = 0; n < count; n++) {
      const key = keys[n];
      if (same && theirs[n] !== key) same = false;
      const u = units[n];
      if (u !== '') {
        const x = numbers[n];
        if (u === 'Wh' || u === 'varh' || u === 'VAh') {
          if (!(x >= 0)) return this.fail('range', r, key, x, null, `${key} is ${x} ${u}: an energy register is never negative`);
          energyAt[e] = n;
          energy[e++] = x;
        } else if (u === 'V') {
          if (!(x >= 0 && x <= MAX_VOLTAGE)) return this.fail('range', r, key, x, null, `${key} is ${x} V, outside 0-${MAX_VOLTAGE} V`);
        } else if (u === 'A') {
          // a tenth of the power limit in amperes: lists that send 0.01 A unscaled (Kamstrup) fit
          if (!(x >= -maxW / 10 && x <= maxW / 10)) return this.fail('range', r, key, x, null, `${key} is ${x} A, more than the ${maxW / 10} A a ${maxW / 1000} kW meter can carry`);
        } else if (u === 'W' || u === 'var' || u === 'VA') {
          if (!(x >= -maxW && x <= maxW)) return this.fail('range', r, key, x, null, `${key} is ${x} ${u}, more than the maximum power of ${maxW / 1000} kW`);
        }
      }
    }
    p.count = count;
    p.energyCount = e;
    p.keysLike = same ? theirs : m.before.set && this.keysOf(m.before) ? m.before.keys : null;
    // the decoder read the clock from the date-time bytes: no parsing of Reading.timestamp here
    p.clockMs = list.clockMs;
    p.zoned = list.clockZoned;
    return true;
  }

  private keysOf(base: Baseline): boolean {
    const p = this.push;
    const n = p.count;
    const theirs = base.keys;
    if (theirs.length !== n) return false;
    const mine = p.keys;
    for (let i = 0; i < n; i++) if (mine[i] !== theirs[i]) return false;
    return true;
  }

  /** A changed OBIS code: as many values as an accepted list, named differently. */
  private sameKeys(m: MeterState, r: Reading): boolean {
    const a = m.accepted;
    const n = this.push.count;
    const like = this.push.keysLike;
    if (!a.set || n !== a.keys.length || like === a.keys) return true;
    if (like !== null && like === m.before.keys) return true;
    return this.fail('keys', r, '', n, a.keys.length, `the push has ${n} values like the last accepted one, but not under the same OBIS codes`);
  }

  private fail(rule: GuardRule, r: Reading, obis: string, value: number | string | null, previous: number | string | null, what: string): false {
    this.rule = rule;
    this.obis = obis;
    this.value = value;
    this.previous = previous;
    this.detail = `${what} (rule ${rule}); the push from ${describe(r)} is not published`;
    return false;
  }

  /** Does r follow from base? Sets the violation when not. */
  private fits(base: Baseline, r: Reading, receivedMs: number): boolean {
    if (!base.set) return true;
    const number = r.meter.number;
    if (number !== null && base.number !== null && number !== base.number) return this.fail('meter', r, '0-0:96.1.0', number, base.number, `the meter number changed from ${base.number} to ${number}`);
    const name = r.meter.logicalDeviceName;
    if (name !== null && base.name !== null && name !== base.name) return this.fail('meter', r, '0-0:42.0.0', name, base.name, `the logical device name changed from ${base.name} to ${name}`);
    const fc = r.frameCounter;
    if (fc !== null && base.counter >= 0 && fc <= base.counter) {
      return this.fail('frame-counter', r, '', fc, base.counter, `frame counter ${fc} does not follow ${base.counter}`);
    }
    // elapsed time: the meter clock when both pushes have a comparable one, else the arrival times
    let dtMs = NaN;
    const p = this.push;
    const clock = p.clockMs;
    if (clock === clock && base.clockMs === base.clockMs && p.zoned === base.clockZoned) {
      dtMs = clock - base.clockMs;
      if (dtMs < 0) {
        if (p.zoned || dtMs < -LOCAL_CLOCK_BACK_MS) return this.fail('clock', r, '0-0:1.0.0', r.timestamp, null, `the meter clock went back by ${Math.round(-dtMs / 1000)} s to ${r.timestamp}`);
        dtMs = NaN; // the end of summer time on a local clock: judge by arrival time
      } else if (receivedMs === receivedMs && base.receivedMs === base.receivedMs && dtMs > receivedMs - base.receivedMs + (p.zoned ? CLOCK_AHEAD_MS : LOCAL_CLOCK_AHEAD_MS)) {
        return this.fail('clock', r, '0-0:1.0.0', r.timestamp, null, `the meter clock jumped ${Math.round(dtMs / 1000)} s ahead to ${r.timestamp} while ${Math.round((receivedMs - base.receivedMs) / 1000)} s passed`);
      }
    }
    if (dtMs !== dtMs && receivedMs === receivedMs && base.receivedMs === base.receivedMs) dtMs = receivedMs - base.receivedMs;
    const seconds = dtMs === dtMs ? (dtMs < 1000 ? 1 : dtMs / 1000) : NaN;
    const keys = p.keys;
    const energyAt = p.energyAt;
    for (let k = 0; k < p.energyCount; k++) {
      const key = keys[energyAt[k]];
      const i = k < base.energyCount && base.energyKeys[k] === key ? k : base.energyIndex(key);
      if (i < 0) continue;
      const x = p.energy[k];
      const prev = base.energy[i];
      if (x < prev) {
        const unit = p.units[energyAt[k]];
        return this.fail('energy-decrease', r, key, x, prev, `${key} went down from ${prev} ${unit} to ${x} ${unit}`);
      }
      // the register's resolution only when it matters: % of a double is a call into C on V8
      const limit = (this.maxPowerW * seconds) / 3600;
      if (x - prev > limit && x - prev > limit + resolution(prev, x)) {
        const unit = p.units[energyAt[k]];
        const kw = Math.round(((x - prev) * 3600) / seconds) / 1000;
        return this.fail('energy-rate', r, key, x, prev, `${key} rose from ${prev} ${unit} to ${x} ${unit} in ${Math.round(seconds)} s: ${kw} k${unit.slice(0, -1)} on average, more than the maximum of ${this.maxPowerW / 1000} kW`);
      }
    }
    return true;
  }
}

function describe(r: Reading): string {
  const who = r.meter.systemTitle ?? r.meter.number ?? 'the meter';
  return r.frameCounter === null ? who : `${who}, frame counter ${r.frameCounter}`;
}
