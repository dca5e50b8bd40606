/**
 * The meter clock as the Reading carries it: ISO 8601 local time `YYYY-MM-DDTHH:MM:SS`, with an
 * offset (`+02:00`) only when the meter sends a deviation. Knows nothing of the host's zone: a
 * time without an offset stays local time of an unknown zone.
 */

// Made on first use, never at module level: XS 8.2.3 crashes on exec() of a RegExp that the
// preload put in flash (hal/moddable/README.md, "Preload rules").
let isoRe: RegExp | undefined;

function fields(iso: string | null): RegExpExecArray | null {
  if (typeof iso !== 'string') return null;
  const m = (isoRe ??= /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/).exec(iso);
  if (!m) return null;
  const mo = +m[2];
  const d = +m[3];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || +m[4] > 23 || +m[5] > 59 || +m[6] > 60) return null;
  return m;
}

function wallClock(m: RegExpExecArray): number {
  const frac = m[7] === undefined ? 0 : Math.floor(Number('0.' + m[7]) * 1000);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], frac);
}

/**
 * The wall-clock time as if it were UTC, in ms: day, month and quarter hour follow from it
 * without any zone (floor(ms / 86 400 000) is the meter's local day). NaN when unparsable.
 */
export function localMs(iso: string | null): number {
  const m = fields(iso);
  return m ? wallClock(m) : NaN;
}

/** Epoch ms when the timestamp carries an offset (or Z); NaN without one or when unparsable. */
export function epochMs(iso: string | null): number {
  const m = fields(iso);
  if (!m || m[8] === undefined) return NaN;
  const local = wallClock(m);
  if (m[8] === 'Z') return local;
  const sign = m[8].charAt(0) === '-' ? -1 : 1;
  const digits = m[8].replace(':', '');
  const offsetMin = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  return local - offsetMin * 60000;
}
