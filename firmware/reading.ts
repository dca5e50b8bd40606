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
