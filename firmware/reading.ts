/**
 * The one data shape every consumer shares (see DESIGN.md, "The Reading"). A Reading reaches the
 * publishers only after the plausibility guard (guard.ts) accepted it: frame counter and clock
 * moving forward, energy never decreasing nor rising faster than the maximum power, values in
 * physical range. A refused push is an `implausible` error instead, never a Reading.
 */

export interface Value {
  value: number | string;
  unit?: string;
}

export interface Reading {
  meter: {
    /** from the ciphering header, hex; null for unencrypted pushes */
    systemTitle: string | null;
    /** the meter number: 0-0:96.1.0, else 0-0:96.1.1, 1-1:0.0.5, 1-1:0.0.1, an unnamed text, 0-0:42.0.0;
     *  never the system title */
    number: string | null;
    /** 0-0:42.0.0 */
    logicalDeviceName: string | null;
  };
  /** meter clock, ISO 8601 local time, with the offset when the meter sends a deviation; the
   *  0-0:1.0.0 value shows the same offset when it shows the same local time */
  timestamp: string | null;
  /** the invocation counter of the ciphering header; null for unencrypted pushes */
  frameCounter: number | null;
  security: {
    /** the security control byte, null when the push was not ciphered */
    control: number | null;
    encrypted: boolean;
    /** true only when a GCM tag was verified with the authentication key */
    authenticated: boolean;
    /** 'none': the meter sends no tag; 'verified'; 'unchecked': a tag came but no authentication key is set */
    tag: 'none' | 'verified' | 'unchecked';
  };
  /** the format inside the APDU: a DLMS data-notification or a DSMR P1 telegram */
  format: 'dlms' | 'dsmr';
  /** OBIS `A-B:C.D.E` (`*F` when F is not 255) -> scaled value and DLMS unit name */
  values: Record<string, Value>;
}

export function emptyReading(): Reading {
  return {
    meter: { systemTitle: null, number: null, logicalDeviceName: null },
    timestamp: null,
    frameCounter: null,
    security: { control: null, encrypted: false, authenticated: false, tag: 'none' },
    format: 'dlms',
    values: {},
  };
}

/**
 * The values of the Reading being decoded, in the order of Reading.values: the decoder puts every
 * value it sets here too, and the plausibility guard reads them from here. Enumerating the Reading
 * again and looking each value up by name would cost more than the guard's checks (on V8 a Reading
 * with more than 16 values is a dictionary; on XS every lookup by name walks the properties).
 * Numbers and unit names only, no Value objects: the list outlives the pushes, and on V8 storing a
 * new object into an old array costs a write barrier and later scavenges.
 * One per decoder, reused for every push: it allocates only when a meter sends a list not seen before.
 */
export class ValueList {
  count = 0;
  readonly keys: string[] = [];
  /** the value when it is a number; NaN for a text */
  readonly numbers: number[] = [];
  /** the unit of a number; '' when it has none and for a text */
  readonly units: string[] = [];
  /** Reading.timestamp in ms, from the bytes it was made of: UTC when the meter gave its offset
   *  (zoned), else the local time read as if UTC (only differences between pushes matter); NaN
   *  without a clock */
  clockMs = NaN;
  clockZoned = false;
  /** the names of the last settled list, which had no name twice */
  private settled: readonly string[] = [];

  begin(): void {
    this.count = 0;
    this.clockMs = NaN;
    this.clockZoned = false;
  }

  /** The clock from a local time in ms and the offset from UTC in minutes (NaN: not given). */
  clock(localMs: number, offsetMin: number): void {
    this.clockZoned = offsetMin === offsetMin;
    this.clockMs = this.clockZoned ? localMs - offsetMin * 60_000 : localMs;
  }

  /** The clock from the decoder's text forms, `yyyy-mm-ddThh:mm:ss` with or without `±hh:mm`, for
   *  timestamps not made from date-time bytes (DSMR, Readings built elsewhere). */
  clockText(ts: string | null): void {
    this.clockZoned = ts !== null && ts.length === 25;
    this.clockMs = this.clockZoned ? Date.parse(ts as string) : ts !== null && ts.length === 19 ? Date.parse(ts + 'Z') : NaN;
  }

  number(key: string, x: number, unit: string | undefined): void {
    const n = this.count++;
    this.keys[n] = key;
    this.numbers[n] = x;
    this.units[n] = unit ?? '';
  }

  text(key: string): void {
    const n = this.count++;
    this.keys[n] = key;
    this.numbers[n] = NaN;
    this.units[n] = '';
  }

  /**
   * Makes the list exactly r's values once all are set: a list that names a code twice put two
   * values, of which r keeps the later one in the first one's place. The same names as the last
   * push cost one comparison each; a list not seen before, one enumeration of r.
   */
  settle(r: Reading): void {
    const n = this.count;
    const keys = this.keys;
    const last = this.settled;
    if (last.length === n) {
      let i = 0;
      while (i < n && keys[i] === last[i]) i++;
      if (i === n) return;
    }
    let size = 0;
    for (const _ in r.values) size++;
    if (size !== n) this.of(r);
    this.settled = keys.slice(0, this.count);
  }

  /** Lists a Reading built elsewhere (a test, a replayed Reading): one enumeration. */
  of(r: Reading): this {
    const values = r.values;
    this.begin();
    this.clockText(r.timestamp);
    for (const key in values) {
      const v = values[key];
      if (typeof v.value === 'number') this.number(key, v.value, v.unit);
      else this.text(key);
    }
    return this;
  }
}
