/**
 * The History page's periods and bars, without the page: which slots a day, month or year has in
 * local time, and which points of GET /api/history/energy fall into which slot.
 */
export type View = 'day' | 'month' | 'year';
/** the API's resolution for each view */
export const RESOLUTION: Record<View, string> = { day: '15min', month: 'day', year: 'month' };
const QUARTER = 900e3;

/** [startEpochMs, importWh, exportWh, …] */
export type Point = number[];
/** a bar: its start, the energy (null: no point), and whether it is a gap */
export interface Slot { t: number; imp: number | null; exp: number | null; gap: boolean }

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
 * Points into slots: each point to the slot it starts in. A slot is a gap when a gap range
 * ([from, to) in epoch ms) touches it, or when it has begun (before `nowMs`) and has no point.
 */
export function toSlots(v: View, from: Date, to: Date, points: Point[], gaps: number[][], nowMs: number): Slot[] {
  const s = starts(v, from, to);
  const out: Slot[] = s.map((t) => ({ t, imp: null, exp: null, gap: false }));
  for (const p of points) {
    let i = s.length - 1;
    while (i >= 0 && s[i] > p[0]) i--;
    if (i < 0 || p[0] >= to.getTime()) continue;
    out[i].imp = (out[i].imp ?? 0) + (p[1] ?? 0);
    out[i].exp = (out[i].exp ?? 0) + (p[2] ?? 0);
  }
  for (let i = 0; i < out.length; i++) {
    const end = i + 1 < s.length ? s[i + 1] : to.getTime();
    out[i].gap = gaps.some((g) => g[0] < end && g[1] > s[i]) || (out[i].imp === null && s[i] < nowMs);
  }
  return out;
}
