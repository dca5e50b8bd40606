/**
 * OBIS codes (IEC 62056-61) and DLMS units (IEC 62056-6-2, unit enumeration). Tables only: which
 * code a meter sends where is cosem.ts's business.
 */

/** `A-B:C.D.E`, or `A-B:C.D.E*F` when F is not 255: the key of Reading.values. */
export function obisKey(b: Uint8Array, p: number): string {
  const base = `${b[p]}-${b[p + 1]}:${b[p + 2]}.${b[p + 3]}.${b[p + 4]}`;
  return b[p + 5] === 255 ? base : `${base}*${b[p + 5]}`;
}

/** Parses `1-0:1.8.0`, `1.0.1.8.0.255`, `1-0:1.8.0*255`, `1-0:1.8.0.255` into 6 bytes. */
export function parseObis(text: string): Uint8Array | null {
  const parts = text.trim().split(/[-:.*]/);
  if (parts.length !== 5 && parts.length !== 6) return null;
  const out = new Uint8Array(6);
  out[5] = 255;
  for (let i = 0; i < parts.length; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const v = Number(parts[i]);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Plausibility for a 6-byte octet string standing where an OBIS code may stand. */
export function looksLikeObis(b: Uint8Array, p: number): boolean {
  // value group A is 0-9 or 15 (abstract, electricity, heat cost, heat, gas, water...); C 0-255
  const a = b[p];
  return a <= 9 || a === 15;
}

/** DLMS unit enumeration -> name. 255 (count) and 0 have no unit. */
const UNITS: readonly (string | undefined)[] = /* @__PURE__ */ (() => {
  const u: (string | undefined)[] = [];
  const names: [number, string][] = [
    [1, 'a'], [2, 'mo'], [3, 'wk'], [4, 'd'], [5, 'h'], [6, 'min'], [7, 's'], [8, '°'], [9, '°C'],
    [10, 'currency'], [11, 'm'], [12, 'm/s'], [13, 'm³'], [14, 'm³'], [15, 'm³/h'], [16, 'm³/h'],
    [17, 'm³/d'], [18, 'm³/d'], [19, 'l'], [20, 'kg'], [21, 'N'], [22, 'Nm'], [23, 'Pa'], [24, 'bar'],
    [25, 'J'], [26, 'J/h'], [27, 'W'], [28, 'VA'], [29, 'var'], [30, 'Wh'], [31, 'VAh'], [32, 'varh'],
    [33, 'A'], [34, 'C'], [35, 'V'], [36, 'V/m'], [37, 'F'], [38, 'Ω'], [39, 'Ωm²/m'], [40, 'Wb'],
    [41, 'T'], [42, 'A/m'], [43, 'H'], [44, 'Hz'], [45, '1/(Wh)'], [46, '1/(varh)'], [47, '1/(VAh)'],
    [48, 'V²h'], [49, 'A²h'], [50, 'kg/s'], [51, 'S'], [52, 'K'], [53, '1/(V²h)'], [54, '1/(A²h)'],
    [55, '1/m³'], [56, '%'], [57, 'Ah'], [60, 'Wh/m³'], [61, 'J/m³'], [62, 'Mol %'], [63, 'g/m³'],
    [64, 'Pa s'], [65, 'J/kg'], [70, 'dBm'], [71, 'dBµV'], [72, 'dB'],
  ];
  for (const [k, v] of names) u[k] = v;
  return Object.freeze(u);
})();

export function unitName(code: number): string | undefined {
  return UNITS[code];
}

/**
 * The unit an electricity OBIS code implies, for lists that send no scaler/unit (Kamstrup, L+G,
 * the positional Austrian lists): quantity from C, energy (D 8) versus power (D 7 and averages).
 */
export function defaultUnit(a: number, c: number, d: number): string | undefined {
  if (a !== 1) return undefined;
  const q = c % 20; // L1, L2, L3 repeat the quantities in steps of 20 from C 21, 41, 61
  const energy = d === 8 || d === 9 || d === 29;
  if (c === 0 || c === 96 || c === 97 || c === 98 || c === 99) return undefined;
  if (q === 1 || q === 2 || c === 15 || c === 16) return energy ? 'Wh' : 'W';
  if (q === 3 || q === 4 || (q >= 5 && q <= 8)) return energy ? 'varh' : 'var';
  if (q === 9 || q === 10) return energy ? 'VAh' : 'VA';
  if (q === 11) return 'A';
  if (q === 12) return 'V';
  if (q === 14) return 'Hz';
  return undefined; // 13: power factor, 33/53/73 likewise; others unknown
}
