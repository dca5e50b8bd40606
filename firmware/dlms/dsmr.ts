/**
 * DSMR P1 text telegrams (NEN-EN-IEC 62056-21 mode D, DSMR 5), as some Sagemcom T210-D-r
 * (Energienetze Steiermark) carry inside the DLMS ciphering:
 *
 *   /EST5\253717584_A            identification line
 *                                 (blank line)
 *   1-0:1.8.0(014159934*Wh)      OBIS(value*unit)(...)
 *   0-0:1.0.0(210929114730S)     YYMMDDhhmmss + S (summer, UTC+2) / W (winter, UTC+1)
 *   !EEE5                        CRC-16/ARC over '/' to '!' inclusive
 *
 * Values become the same Reading as a DLMS list; kWh/kW/kvarh/kvar are converted to the DLMS
 * base units (Wh, W, varh, var) so consumers see one unit per quantity whatever the meter sends.
 */
import { asciiString, isPrintable } from '../bytes.js';
import { decodeError, type DecodeError } from '../errors.js';
import { ValueList, type Reading } from '../reading.js';
import { deepFreeze } from '../freeze.js';

const CRC_ARC = /* @__PURE__ */ (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function crc16arc(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_ARC[(crc ^ b[i]) & 0xff];
  return crc;
}

// Made on first use, never at module level: XS 8.2.3 crashes on exec() of a RegExp that the
// preload put in flash (hal/moddable/README.md, "Preload rules").
let lineRe: RegExp | undefined;
let numberRe: RegExp | undefined;
const KILO: Readonly<Record<string, string>> = deepFreeze({ kWh: 'Wh', kW: 'W', kvarh: 'varh', kvar: 'var', kVAh: 'VAh', kVA: 'VA' });

function dsmrTime(s: string): string | null {
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)([SW])?$/.exec(s);
  if (!m) return null;
  const iso = `20${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
  return m[7] === 'S' ? iso + '+02:00' : m[7] === 'W' ? iso + '+01:00' : iso;
}

function hexText(s: string): string | null {
  if (s.length < 2 || s.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(s)) return null;
  let out = '';
  for (let i = 0; i < s.length; i += 2) {
    const c = parseInt(s.slice(i, i + 2), 16);
    if (c < 0x20 || c > 0x7e) return null;
    out += String.fromCharCode(c);
  }
  return out;
}

/**
 * Parses the telegram in b[start, end) into r, and its values into list. Error offsets index b.
 */
export function parseDsmr(b: Uint8Array, start: number, end: number, r: Reading, list: ValueList = new ValueList()): DecodeError | null {
  // the first '!' closes the telegram: only its CRC (4 hex digits, DSMR 4 and later) and the line
  // end may follow, so a telegram cut short or with a '!' made by noise is never read in part
  let bang = -1;
  for (let i = start; i < end; i++) {
    if (b[i] === 0x21) {
      bang = i;
      break;
    }
  }
  if (bang < 0) return decodeError('truncated', end, 'DSMR telegram has no closing "!" line');

  if (!isPrintable(b, bang + 1, Math.min(end, bang + 5)) && bang + 1 < end && b[bang + 1] !== 0x0d) {
    return decodeError('wrong-key-or-corrupt', start, 'DSMR telegram contains binary data');
  }
  for (let i = start; i < bang; i++) {
    const c = b[i];
    if ((c < 0x20 || c > 0x7e) && c !== 0x0d && c !== 0x0a) return decodeError('wrong-key-or-corrupt', i, `DSMR telegram contains the binary byte 0x${c.toString(16).padStart(2, '0')}`);
  }
  let tail = bang + 1;
  let hexDigits = 0;
  while (tail < end && hexDigits < 4 && isHexDigit(b[tail])) {
    tail++;
    hexDigits++;
  }
  while (tail < end && (b[tail] === 0x0d || b[tail] === 0x0a)) tail++;
  if ((hexDigits !== 0 && hexDigits !== 4) || tail !== end) {
    return decodeError('checksum', bang + 1, 'DSMR telegram does not end in "!", a 4-digit CRC and the line end: cut short or damaged');
  }
  const crcText = asciiString(b, bang + 1, Math.min(end, bang + 5));
  if (/^[0-9A-Fa-f]{4}$/.test(crcText)) {
    const want = parseInt(crcText, 16);
    const got = crc16arc(b, start, bang + 1);
    if (want !== got) return decodeError('checksum', bang + 1, `DSMR CRC is ${crcText}, the telegram gives ${got.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  r.format = 'dsmr';
  const text = asciiString(b, start, bang);
  const lines = text.split('\n');
  let count = 0;
  for (let k = 1; k < lines.length; k++) {
    const m = (lineRe ??= /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\*(\d{1,3}))?((?:\([^()]*\))+)\s*$/).exec(lines[k].replace(/\r$/, ''));
    if (!m) continue;
    const f = m[6] === undefined ? 255 : Number(m[6]);
    const key = `${m[1]}-${m[2]}:${m[3]}.${m[4]}.${m[5]}${f === 255 ? '' : '*' + f}`;
    const groups = m[7].slice(1, -1).split(')(');
    // the measured value is the last group; earlier ones are capture times (gas, max demand)
    const raw = groups[groups.length - 1];
    const star = raw.indexOf('*');
    const v = star >= 0 ? raw.slice(0, star) : raw;
    let unit = star >= 0 ? raw.slice(star + 1) : undefined;
    const identifier = (m[3] === '96' && m[4] === '1') || m[3] === '42'; // equipment ids and names are text, even all digits
    if ((numberRe ??= /^[-+]?\d+(\.\d+)?$/).test(v) && !identifier) {
      let value = Number(v);
      if (unit !== undefined && KILO[unit] !== undefined) {
        value = Math.round(value * 1000 * 1000) / 1000;
        unit = KILO[unit];
      }
      if (unit === 'm3') unit = 'm³'; // the DLMS unit name, as binary lists report it
      r.values[key] = unit ? { value, unit } : { value };
      list.number(key, value, unit || undefined);
    } else {
      const time = identifier ? null : dsmrTime(v);
      const textValue = time ?? hexText(v) ?? v;
      r.values[key] = { value: textValue };
      list.text(key);
      if (key === '0-0:1.0.0' && time !== null) {
        r.timestamp = time;
        list.clockText(time);
      }
      if (key === '0-0:96.1.0' || (key === '0-0:96.1.1' && r.meter.number === null)) r.meter.number = textValue;
    }
    count++;
  }
  if (count === 0) return decodeError('layout', start, 'DSMR telegram holds no OBIS lines');
  return null;
}
