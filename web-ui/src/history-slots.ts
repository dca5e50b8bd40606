/**
 * The History page's periods and bars, without the page: which slots a day, month or year has in
 * local time, and which points of GET /api/history/energy fall into which slot.
 */
export type View = 'day' | 'month' | 'year';
/** the API's resolution for each view */
export const RESOLUTION: Record<View, string> = { day: '15min', month: 'day', year: 'month' };
const QUARTER = 900e3;

/** [startEpochMs, importWh, exportWh, …]; null energy: not known */
export type Point = (number | null)[];
/** a bar: its start, the energy (null: none known), a gap, the interval still in progress */
export interface Slot { t: number; imp: number | null; exp: number | null; gap: boolean; now?: boolean }

/** the period of the view around `d`: local midnights, first days of months */
export function period(v: View, d: Date): [Date, Date] {
  const y = d.getFullYear();
  const m = d.getMonth();
  if (v === 'day') return [new Date(y, m, d.getDate()), new Date(y, m, d.getDate() + 1)];
  if (v === 'month') return [new Date(y, m, 1), new Date(y, m + 1, 1)];
  return [new Date(y, 0, 1), new Date(y + 1, 0, 1)];
}

/** slot starts: quarter hours (92, 96 or 100 a day), days of the month, months */
function starts(v: View, from: Date, to: Date): number[] {
  const out: number[] = [];
  if (v === 'day') for (let t = from.getTime(); t < to.getTime(); t += QUARTER) out.push(t);
  else {
    for (let i = 0; ; i++) {
      const s = v === 'month' ? new Date(from.getFullYear(), from.getMonth(), 1 + i) : new Date(from.getFullYear(), i, 1);
      if (s >= to) break;
      out.push(s.getTime());
    }
  }
  return out;
}

/**
 * The answer of GET /api/history/energy in slots: each point to the slot it starts in; the
 * interval in progress (`current`) to its slot, marked `now`. A slot is a gap when a gap range
 * ([from, to, …] in epoch ms) touches it, or when it has begun (before `nowMs`) and has no known
 * energy: never zero.
 */
export function toSlots(v: View, from: Date, to: Date, points: Point[], gaps: Point[], current: Point | null, nowMs: number): Slot[] {
  const s = starts(v, from, to);
  const out: Slot[] = s.map((t) => ({ t, imp: null, exp: null, gap: false }));
  const put = (p: Point, now: boolean) => {
    const t = p[0] ?? NaN;
    let i = s.length - 1;
    while (i >= 0 && s[i] > t) i--;
    if (i < 0 || !(t < to.getTime()) || p[1] === null || p[1] === undefined) return;
    const o = out[i];
    if (now && o.imp !== null) return; // a completed interval wins over the one in progress
    o.imp = (o.imp ?? 0) + p[1];
    o.exp = (o.exp ?? 0) + (p[2] ?? 0);
    if (now) o.now = true;
  };
  for (const p of points) put(p, false);
  if (current) put(current, true);
  for (let i = 0; i < out.length; i++) {
    const end = i + 1 < s.length ? s[i + 1] : to.getTime();
    out[i].gap = gaps.some((g) => (g[0] ?? 0) < end && (g[1] ?? 0) > s[i]) || (out[i].imp === null && s[i] < nowMs);
  }
  return out;
}

/** The energy across the gaps of an answer (it belongs to no one interval), Wh. */
export function gapEnergy(gaps: Point[]): { imp: number; exp: number } {
  let imp = 0;
  let exp = 0;
  for (const g of gaps) {
    imp += g[2] ?? 0;
    exp += g[3] ?? 0;
  }
  return { imp, exp };
}
