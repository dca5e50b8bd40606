/** Net power over the last hour on a canvas: above the zero line from the grid, below to it. */
import { now } from './api';
import { t } from './i18n';
import { $ } from './dom';
import { watts } from './format';

let points: [number, number][] = [];

export function drawChart(p?: [number, number][]): void {
  if (p) points = p;
  const c = $<HTMLCanvasElement>('#chart');
  const w = c.clientWidth;
  if (!w) return; // hidden page
  const ht = 170;
  const dpr = window.devicePixelRatio || 1;
  c.width = w * dpr;
  c.height = ht * dpr;
  const g = c.getContext('2d')!;
  g.scale(dpr, dpr);
  const css = getComputedStyle(c);
  const v = (n: string) => css.getPropertyValue(n).trim();
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = css.color;
  const t1 = now();
  const t0 = t1 - 3600e3;
  const pts = points.filter((q) => q[0] >= t0);
  const caption = $('#chart-caption');
  if (pts.length < 2) {
    g.fillText(t('Not enough data yet: the chart fills as readings arrive.'), 8, ht / 2);
    caption.textContent = 'Net power, last hour: no data yet.';
    c.setAttribute('aria-label', caption.textContent);
    return;
  }
  let lo = 0;
  let hi = 0;
  for (const q of pts) {
    lo = Math.min(lo, q[1]);
    hi = Math.max(hi, q[1]);
  }
  const L = 64, T = 10, B = 22, R = 8;
  const span = hi - lo || 1;
  const top = hi + span * 0.08;
  const bottom = lo - (lo < 0 ? span * 0.08 : 0);
  const X = (t: number) => L + ((t - t0) / 3600e3) * (w - L - R);
  const Y = (y: number) => T + ((top - y) / (top - bottom)) * (ht - T - B);
  // grid: zero, highest and lowest, and the time axis
  g.strokeStyle = v('--line');
  g.lineWidth = 1;
  g.textBaseline = 'middle';
  let lastY = -99;
  for (const y of [hi, 0, lo]) {
    const py = Math.round(Y(y)) + 0.5;
    if (Math.abs(py - lastY) < 14) continue;
    lastY = py;
    g.beginPath();
    g.moveTo(L, py);
    g.lineTo(w - R, py);
    g.stroke();
    g.fillText(watts(y), 2, py);
  }
  g.textBaseline = 'alphabetic';
  g.fillText('−60 min', L, ht - 4);
  g.fillText('−30 min', (L + w - R) / 2 - 20, ht - 4);
  g.fillText(t('now'), w - R - 22, ht - 4);
  const line = new Path2D();
  let prev = -Infinity;
  for (const q of pts) {
    // a gap of more than 2 minutes is not bridged
    if (q[0] - prev > 120e3) line.moveTo(X(q[0]), Y(q[1]));
    else line.lineTo(X(q[0]), Y(q[1]));
    prev = q[0];
  }
  g.lineWidth = 2;
  g.lineJoin = 'round';
  const z = Y(0);
  for (const [colour, y, hgt] of [[v('--imp'), 0, z], [v('--exp'), z, ht]] as const) {
    g.save();
    g.beginPath();
    g.rect(0, y, w, hgt - y);
    g.clip();
    g.strokeStyle = colour;
    g.stroke(line);
    g.restore();
  }
  // no "now" here: the chart has a point per 15 s, the Net power card the latest reading
  caption.textContent = `Net power, last hour: highest ${watts(hi)}, lowest ${watts(lo)}. Above zero (red): from the grid; below (green): to the grid.`;
  c.setAttribute('aria-label', caption.textContent);
}
