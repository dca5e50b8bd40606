/**
 * The History page (#history): energy from and to the grid per quarter hour of a day, per day of
 * a month, per month of a year, from GET /api/history/energy, with totals, date navigation and
 * the CSV download. Its own asset (/ui/history, built by build.mjs with its own size limit),
 * fetched by main.ts the first time the page is opened, so the main page does not carry it.
 *
 * Slots follow local time: a day is midnight to midnight, so a day when the clocks change has 92
 * or 100 quarter hours. A slot in the past with no point is a gap (the gateway was off or the
 * meter silent) and is drawn as one, never as zero. Texts are English; the main page's
 * translation (i18n.ts) turns them German as they appear.
 */
import { call, errText, now } from './api';
import { $, h, say } from './dom';
import { num } from './format';
import { RESOLUTION, gapEnergy, period, toSlots, type Point, type Slot, type View } from './history-slots';

const QUARTER = 900e3;
const NO_DATA: Record<View, string> = { day: 'quarter hours without data', month: 'days without data', year: 'months without data' };
const ACROSS: Record<View, string> = { day: 'it belongs to no single quarter hour', month: 'it belongs to no single day', year: 'it belongs to no single month' };

let view: View = 'day';
/** a local date inside the period shown */
let at = new Date();
let seq = 0;
let slots: Slot[] = [];
/** energy across the gaps of the answer, Wh */
let across = { imp: 0, exp: 0 };

const lang = (): string => document.documentElement.lang || 'en';
const kwh = (wh: number): string => num(wh / 1000, Math.abs(wh) >= 1e6 ? 0 : Math.abs(wh) >= 1e4 ? 1 : 2) + ' kWh';

function title(v: View, d: Date): string {
  if (v === 'day') return d.toLocaleDateString(lang(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  if (v === 'month') return d.toLocaleDateString(lang(), { month: 'long', year: 'numeric' });
  return String(d.getFullYear());
}

/** when a slot was, for the detail line */
function when(s: Slot, i: number): string {
  const d = new Date(s.t);
  if (view === 'day') {
    const end = new Date(i + 1 < slots.length ? slots[i + 1].t : s.t + QUARTER);
    const hm = (x: Date) => x.toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    return `${hm(d)}–${hm(end)}`;
  }
  return view === 'month' ? d.toLocaleDateString(lang(), { weekday: 'short', day: 'numeric', month: 'short' }) : d.toLocaleDateString(lang(), { month: 'long', year: 'numeric' });
}

/** a label under the slot? every 3 hours, the 1st/5th/10th… day, every month */
function label(s: Slot): string {
  const d = new Date(s.t);
  if (view === 'day') return d.getMinutes() === 0 && d.getHours() % 3 === 0 ? String(d.getHours()) : '';
  if (view === 'month') return d.getDate() === 1 || d.getDate() % 5 === 0 ? String(d.getDate()) : '';
  return d.toLocaleDateString(lang(), { month: 'narrow' });
}

function detail(i: number): void {
  const s = slots[i];
  const line = $('#hist-detail');
  if (!s) return void (line.textContent = '');
  line.textContent = s.gap && s.imp === null
    ? `${when(s, i)}: no data (gateway off or meter silent)`
    : s.imp === null ? `${when(s, i)}: not yet` : `${when(s, i)}: from grid ${kwh(s.imp)}, to grid ${kwh(s.exp ?? 0)}` + (s.now ? ', so far' : '');
}

function draw(): void {
  let maxImp = 0;
  let maxExp = 0;
  let imp = 0;
  let exp = 0;
  let gaps = 0;
  for (const s of slots) {
    maxImp = Math.max(maxImp, s.imp ?? 0);
    maxExp = Math.max(maxExp, s.exp ?? 0);
    imp += s.imp ?? 0;
    exp += s.exp ?? 0;
    if (s.gap) gaps++;
  }
  const scale = maxImp + maxExp || 1;
  // the zero line: all the height for import when nothing was exported
  const axis = maxExp ? (maxImp / scale) * 100 : 100;
  const chart = $('#hist-chart');
  chart.style.setProperty('--ax', axis + '%');
  chart.replaceChildren(...slots.map((s, i) => {
    const bar = h('div', { class: 'hs', 'data-testid': 'hist-bar', 'data-i': i, 'data-t': s.t, 'data-gap': s.gap ? 'true' : null, 'data-now': s.now ? 'true' : null, 'data-import': s.imp, 'data-export': s.exp });
    if (s.imp !== null) {
      bar.append(h('i', { class: 'hi', style: `height:${((s.imp / scale) * 100).toFixed(2)}%` }), h('i', { class: 'he', style: `height:${(((s.exp ?? 0) / scale) * 100).toFixed(2)}%` }));
    }
    const l = label(s);
    if (l) bar.append(h('b', { text: l }));
    return bar;
  }));
  const unit = NO_DATA[view];
  const tiles = [['hist-import', 'From grid', imp], ['hist-export', 'To grid', exp], ['hist-net', 'Net', imp - exp]] as const;
  $('#hist-totals').replaceChildren(...tiles.map(([id, name, wh]) => h('div', { class: 'tile' }, h('span', { text: name }), h('b', { 'data-testid': id, 'data-value': wh, text: kwh(wh) }))));
  const summary = `From grid ${kwh(imp)}, to grid ${kwh(exp)}` + (gaps ? `; ${gaps} ${unit}` : '') + '.';
  $('#hist-caption').textContent = summary;
  chart.setAttribute('aria-label', summary);
  $('#hist-gaps').textContent = (gaps ? `${gaps} of ${slots.length} ${unit}: gateway off or meter silent; shown hatched, not as zero.` : '')
    + (across.imp || across.exp ? ` Across gaps: from grid ${kwh(across.imp)}, to grid ${kwh(across.exp)}, not counted above: ${ACROSS[view]}.` : '');
  detail(-1);
}

function query(format?: string): string {
  const [from, to] = period(view, at);
  return `/api/history/energy?resolution=${RESOLUTION[view]}&from=${from.getTime()}&to=${to.getTime()}${format ? '&format=' + format : ''}`;
}

async function load(): Promise<void> {
  const mine = ++seq;
  const [from, to] = period(view, at);
  $('#hist-title').textContent = title(view, at);
  $<HTMLInputElement>('#hist-date').value = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}`;
  for (const b of document.querySelectorAll<HTMLElement>('#hist-views button')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  const busy = $('#hist-chart');
  busy.setAttribute('aria-busy', 'true');
  const a = await call<{ points: Point[]; gaps?: Point[]; current?: Point | null }>(query());
  if (mine !== seq) return; // a later navigation won
  busy.removeAttribute('aria-busy');
  const msg = $('#hist-msg');
  if (!a.ok) {
    slots = toSlots(view, from, to, [], [], null, 0);
    across = { imp: 0, exp: 0 };
    say(msg, errText(a), true);
  } else {
    msg.textContent = '';
    const d = a.data;
    slots = toSlots(view, from, to, d?.points ?? [], d?.gaps ?? [], d?.current ?? null, now());
    across = gapEnergy(d?.gaps ?? []);
  }
  draw();
}

/** one period earlier (-1) or later (1) */
function step(n: number): void {
  const y = at.getFullYear();
  const m = at.getMonth();
  at = view === 'day' ? new Date(y, m, at.getDate() + n) : view === 'month' ? new Date(y, m + n, 1) : new Date(y + n, 0, 1);
  void load();
}

async function csv(): Promise<void> {
  const msg = $('#hist-msg');
  let r: Response;
  try {
    r = await fetch(query('csv'), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/csv' } });
  } catch {
    return say(msg, 'Cannot reach the gateway: check that it is on and connected to your network.', true);
  }
  if (!r.ok) return say(msg, 'No CSV: the gateway answered ' + r.status + '.', true);
  const [from] = period(view, at);
  const day = $<HTMLInputElement>('#hist-date').value;
  const name = /filename="?([^";]+)/.exec(r.headers.get('Content-Disposition') ?? '')?.[1] ?? `meterbridge-energy-${RESOLUTION[view]}-${view === 'day' ? day : view === 'month' ? day.slice(0, 7) : from.getFullYear()}.csv`;
  const url = URL.createObjectURL(await r.blob());
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
  say(msg, 'Downloaded: ' + name);
}

const CSS = `#hist-views button[aria-pressed=true]{background:var(--accent);color:var(--accent-fg)}
.hn input{width:auto;flex:1 1 9rem}.hn button{min-width:44px;padding:8px 12px}
.hc{position:relative;display:flex;height:220px;margin:8px 0 22px;border-bottom:1px solid transparent;touch-action:manipulation}
.hc::before{content:"";position:absolute;left:0;right:0;top:var(--ax);border-top:1px solid var(--muted)}
.hs{position:relative;flex:1 1 0;min-width:0;cursor:pointer}
.hs i{position:absolute;left:12%;right:12%}
.hi{bottom:calc(100% - var(--ax));background:var(--imp)}
.he{top:var(--ax);background:var(--exp)}
.hs[data-now] i{opacity:.5}
.hs[data-gap]{background:repeating-linear-gradient(135deg,transparent 0 3px,var(--line) 3px 5px)}
.hs b{position:absolute;top:100%;left:0;font-size:.75rem;font-weight:400;color:var(--muted);white-space:nowrap}
.hs:hover,.hs[aria-current]{outline:1px solid var(--accent)}
#hist-detail{min-height:1.5em;margin:4px 0;font-variant-numeric:tabular-nums}`;

/** Builds the page under its heading (index.html has the section and the h1) and shows it. */
function init(): void {
  const page = $('#page-history');
  document.head.append(h('style', { text: CSS }));
  const btn = (attrs: Record<string, string>, text: string) => h('button', { type: 'button', class: 'alt', ...attrs, text });
  const views = h('div', { class: 'actions', id: 'hist-views', role: 'group', 'aria-label': 'Period' },
    ...(['day', 'month', 'year'] as const).map((v) => btn({ 'data-view': v, 'data-testid': 'hist-view-' + v }, v === 'day' ? 'Day' : v === 'month' ? 'Month' : 'Year')));
  const nav = h('div', { class: 'actions hn' },
    btn({ 'data-testid': 'hist-prev', 'aria-label': 'Earlier' }, '‹'),
    h('input', { type: 'date', id: 'hist-date', 'data-testid': 'hist-date', 'aria-label': 'Date' }),
    btn({ 'data-testid': 'hist-next', 'aria-label': 'Later' }, '›'),
    btn({ 'data-testid': 'hist-today' }, 'Today'));
  page.append(
    views, nav,
    h('h2', { id: 'hist-title', 'data-testid': 'hist-title', 'aria-live': 'polite' }),
    h('div', { class: 'tiles', id: 'hist-totals' }),
    h('figure', {},
      h('div', { class: 'hc', id: 'hist-chart', 'data-testid': 'hist-chart', role: 'img' }),
      h('p', { id: 'hist-detail', 'data-testid': 'hist-detail', role: 'status' }),
      h('figcaption', { id: 'hist-caption', 'data-testid': 'hist-caption' })),
    h('p', { class: 'hint', id: 'hist-gaps', 'data-testid': 'hist-gaps' }),
    h('p', { class: 'msg', id: 'hist-msg', 'data-testid': 'hist-msg', role: 'status' }),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'hist-csv', 'data-testid': 'hist-csv' }, 'Download CSV')),
    h('p', { class: 'hint' }, "From grid (red, up) and to grid (green, down) from the meter's own energy registers. Tap a bar for its values; in the month and year views, tap twice to open it."));
  views.onclick = (ev) => {
    const v = (ev.target as HTMLElement).dataset.view as View | undefined;
    if (v) { view = v; void load(); }
  };
  (nav.children[0] as HTMLElement).onclick = () => step(-1);
  (nav.children[2] as HTMLElement).onclick = () => step(1);
  (nav.children[3] as HTMLElement).onclick = () => { at = new Date(); void load(); };
  $<HTMLInputElement>('#hist-date').onchange = (ev) => {
    const [y, m, d] = (ev.target as HTMLInputElement).value.split('-').map(Number);
    if (y) { at = new Date(y, m - 1, d); void load(); }
  };
  $('#hist-csv').onclick = () => void csv();
  const chart = $('#hist-chart');
  let chosenSlot = -1;
  const slotOf = (ev: Event) => Number((ev.target as HTMLElement).closest<HTMLElement>('.hs')?.dataset.i ?? -1);
  chart.onpointermove = (ev) => detail(slotOf(ev));
  chart.onclick = (ev) => {
    const i = slotOf(ev);
    if (i < 0) return;
    // a second tap on the same day or month opens it
    if (i === chosenSlot && view !== 'day') {
      at = new Date(slots[i].t);
      view = view === 'year' ? 'month' : 'day';
      chosenSlot = -1;
      return void load();
    }
    chosenSlot = i;
    for (const b of chart.children) b.toggleAttribute('aria-current', b === chart.children[i]);
    detail(i);
  };
  // back on the page: fresh figures; while it is shown, every 5 minutes
  window.addEventListener('hashchange', () => location.hash === '#history' && load());
  window.setInterval(() => location.hash === '#history' && !document.hidden && load(), 300e3);
  void load();
}

// loaded once by main.ts; a second load would build the page twice
if (!document.getElementById('hist-chart')) init();
