/** Renders /api/status, /api/reading and /api/history onto the Status, Diagnostics and Device pages. */
import type { Reading } from '../../firmware/reading';
import type { GatewayStatus } from '../../firmware/gateway';
import { $, $$, h, tid } from './dom';
import { ago, cap, duration, kindText, num, watts } from './format';

export type Status = GatewayStatus & { passwordSet: boolean };

/** Text with a time that the 1 s ticker keeps current ("12 s ago"). */
function timed(e: HTMLElement, at: number | null, prefix = ''): void {
  e.dataset.at = String(at ?? '');
  e.dataset.prefix = prefix;
  e.textContent = prefix + ago(at);
}

export function tick(): void {
  for (const e of $$('[data-at]')) e.textContent = (e.dataset.prefix ?? '') + ago(+e.dataset.at! || null);
}

const VERDICT = { ok: 'Working', warning: 'Attention', error: 'Problem' };

/** Text only when it changed, so open <details> and focus survive the 5 s refresh. */
function same(e: HTMLElement, key: string): boolean {
  if (e.dataset.key === key) return true;
  e.dataset.key = key;
  return false;
}

/** the demo meter's key while the simulator is the source (Test key explains itself with it) */
export let demoKey: string | null = null;

export function showStatus(s: Status): void {
  demoKey = s.demo?.key ?? null;
  $('#banner-demo').hidden = !demoKey;
  tid('demo-key').textContent = demoKey ?? '';
  for (const e of $$('[data-verdict]')) {
    e.dataset.level = s.verdict.level;
    e.replaceChildren(h('b', { text: VERDICT[s.verdict.level] + ': ' }), cap(s.verdict.message));
  }
  for (const e of $$('[data-source-error]')) {
    e.hidden = !s.sourceError;
    e.textContent = s.sourceError ? 'The source could not be opened: ' + s.sourceError : '';
  }
  for (const e of $$('[data-config-warnings]')) {
    e.hidden = !s.configWarnings.length;
    if (!same(e, s.configWarnings.join())) e.replaceChildren(...s.configWarnings.map((w) => h('li', { text: w })));
  }
  timed(tid('value-last-frame'), s.pipeline.last.frame);
  timed(tid('value-last-reading'), s.pipeline.last.reading);
  for (const e of $$('[data-pubs]')) {
    if (same(e, JSON.stringify(s.publishers.map((p) => [p.name, p.enabled, p.state, p.queued, p.delivered, p.rejected, p.failures, p.lastError]))) && e.childNodes.length) continue;
    const items = s.publishers.map((p) => {
      const li = h('li', { 'data-testid': 'publisher-' + p.name, 'data-state': p.state });
      li.append(h('b', { text: p.label }), ` (${p.target}): ${p.enabled ? p.state : 'off'}, ${p.delivered} sent, ${p.queued} waiting` + (p.dropped ? `, ${p.dropped} dropped` : '') + (p.rejected ? `, ${p.rejected} refused by the server` : '') + (p.failures ? `, ${p.failures} failed attempts` : '') + '. ');
      if (p.lastSuccessAt) li.append(timed_(p.lastSuccessAt, 'Last sent '));
      if (p.lastError) li.append(' Last error: ' + p.lastError);
      return li;
    });
    // on the Publishing page itself the switches are right below
    const none = e.closest('#page-publishing') ? 'Nothing is published yet: turn on MQTT or HTTP push below.' : 'Nothing is published: turn on MQTT or HTTP push on the Publishing page.';
    e.replaceChildren(...(items.length ? items : [h('li', { text: none })]));
  }
  // the Status page shows the newest few, Diagnostics all
  for (const e of $$('[data-errors]')) errorList(e, s.lastErrors.slice(-(+e.dataset.errors! || 99)));
  pipeline(s);
  // Device page
  tid('firmware-version').textContent = s.version;
  tid('uptime').textContent = duration(s.uptimeSeconds);
  tid('memory').textContent = s.memory ? `${num(s.memory.used / 1024, 0)} of ${num(s.memory.total / 1024, 0)} KB used` : 'not known on this platform';
}

/**
 * The last errors, newest first. Items are kept across refreshes (keyed by time, offset and
 * kind), so an opened <details> stays open and keeps the focus.
 */
function errorList(box: HTMLElement, errors: Status['lastErrors']): void {
  const key = (r: Status['lastErrors'][0]) => `${r.at}/${r.offset}/${r.kind}`;
  const want = errors.slice().reverse();
  const keys = want.map(key);
  for (const c of Array.from(box.children) as HTMLElement[]) if (keys.indexOf(c.dataset.id!) < 0) c.remove();
  want.forEach((r, i) => {
    const at = box.children[i] as HTMLElement | undefined;
    if (at?.dataset.id === keys[i]) return;
    const old = $<HTMLElement>(`[data-id="${keys[i]}"]`, box);
    box.insertBefore(old ?? errorItem(r, keys[i]), at ?? null);
  });
  if (!errors.length) box.append(h('p', { 'data-id': '', text: 'None.' }));
}

function errorItem(r: Status['lastErrors'][0], id: string): HTMLElement {
  return h(
    'details',
    { 'data-testid': 'error-item', 'data-kind': r.kind, 'data-id': id },
    h('summary', {}, h('b', { text: kindText(r.kind) }), ' · ', timed_(r.at)),
    h('p', { text: cap(r.detail) }),
    h(
      'dl',
      { class: 'facts' },
      h('dt', { text: 'Kind' }),
      h('dd', {}, h('code', { text: r.kind })),
      ...(r.rule ? [h('dt', { text: 'Rule' }), h('dd', { text: `${r.rule} ${r.obis ?? ''} ${r.value} (was ${r.previous ?? '–'})` })] : []),
      h('dt', { text: 'At byte' }),
      h('dd', { text: r.offset }),
      h('dt', { text: 'Bytes around it' }),
      h('dd', {}, h('code', { 'data-testid': 'error-context', text: r.context ?? 'no longer in memory' })),
    ),
  );
}

function timed_(at: number | null, prefix = ''): HTMLElement {
  const e = h('span');
  timed(e, at, prefix);
  return e;
}

/** Security control byte: 0x20 encryption, 0x10 authentication (low nibble: the suite). */
function security(hex: string): string {
  const b = parseInt(hex, 16);
  return b & 0x20 ? (b & 0x10 ? 'encrypted and authenticated' : 'encrypted') : b & 0x10 ? 'authenticated' : 'not protected';
}

/** The decode pipeline, top to bottom; the first stage that gets nothing is marked. */
function pipeline(s: Status): void {
  const p = s.pipeline;
  const t = p.last;
  const lastChecksum = s.lastErrors.filter((e) => e.kind === 'checksum').pop()?.at ?? null;
  const sec = p.lastSecurityControl;
  const stages: [string, string, number | string, number | null, string][] = [
    ['bytes', 'Bytes received', p.bytes, t.byte, 'Anything at all from the meter: if this stays 0, check the wiring and whether the interface is activated.'],
    ['frames', 'Valid frames', p.frames, t.frame, 'Bytes that form complete M-Bus or HDLC frames: if 0, check baud rate and parity.'],
    ['checksum', 'Damaged frames (checksum errors)', p.checksumErrors, lastChecksum, 'A few are normal; many point at the cable or the adapter.'],
    ['apdus', 'Complete messages', p.apdus, t.apdu, 'Frames put together into one message from the meter.'],
    ['security', 'Security byte', sec ? `${sec} (${security(sec)})` : 'none seen', t.apdu, 'How the meter protects its data.'],
    ['decrypted', 'Decrypted', p.decrypted, t.decrypted, 'Messages the key opened: if this stays 0 while messages arrive, check the key.'],
    ['implausible', 'Implausible', p.implausible, null, 'Decoded, but no meter sends that (a value jumped): not published.'],
    ['readings', 'Readings', p.readings, t.reading, 'Decoded sets of values.'],
    ['values', 'Values in the last reading', p.values, t.reading, 'Energy, power, voltages and currents the meter sends.'],
  ];
  const ol = $('#pipeline');
  let stopped = false;
  let prev = 1;
  ol.replaceChildren(
    ...stages.map(([id, label, count, at, help]) => {
      let st: string;
      if (id === 'checksum' || id === 'implausible') st = +count > 0 ? 'warn' : 'ok';
      else if (id === 'security') st = sec ? 'ok' : 'idle';
      // a meter that does not encrypt has nothing to decrypt
      else if (id === 'decrypted' && !(parseInt(sec ?? '0', 16) & 0x20) && !+count) st = 'idle';
      else {
        st = +count > 0 ? 'ok' : stopped || !prev ? 'idle' : 'bad';
        prev = +count;
      }
      if (st === 'bad') stopped = true;
      const when = h('span', { 'data-testid': `stage-${id}-last` });
      timed(when, at, 'last: ');
      return h(
        'li',
        { 'data-testid': 'stage-' + id, 'data-state': st },
        h('i', { 'aria-hidden': 'true', text: st === 'ok' ? '✓' : st === 'bad' ? '✗' : st === 'warn' ? '!' : '–' }),
        label + ': ',
        h('b', { 'data-testid': `stage-${id}-count`, text: count }),
        st === 'bad' ? ' (nothing gets past here)' : '',
        h('small', {}, when, '. ' + help),
      );
    }),
  );
  const facts: [string, string][] = [
    ['Source', s.source],
    ['Framing', s.framing],
    ['Errors in total', String(p.errors)],
    ['Errors by kind', Object.keys(p.errorsByKind).map((k) => `${k}: ${p.errorsByKind[k]}`).join(', ') || 'none'],
    ['Running for', duration(s.uptimeSeconds)],
  ];
  const dl = $('#diag-facts');
  if (!same(dl, JSON.stringify(facts))) dl.replaceChildren(...facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
}

/** An electricity value (OBIS 1-0 or 1-1:C.D.E) in the base unit, scaled from k-units. */
function value(r: Reading, cde: string): number | undefined {
  const v = r.values['1-0:' + cde] ?? r.values['1-1:' + cde];
  if (!v || typeof v.value !== 'number') return undefined;
  return /^k/.test(v.unit ?? '') ? v.value * 1000 : v.value;
}

/** A value with its unit in smaller type; data-value holds the number in the base unit. */
function show(id: string, v: number | undefined, text: (n: number) => string): void {
  const e = tid(id);
  e.dataset.value = v === undefined ? '' : String(v);
  const [n, unit] = v === undefined ? ['–'] : text(v).split(' ');
  e.replaceChildren(n, ...(unit ? [h('small', { text: ' ' + unit })] : []));
}

export function showReading(r: Reading | null): void {
  const imp = r && value(r, '1.7.0');
  const exp = r && value(r, '2.7.0');
  show('value-power-import', imp ?? undefined, watts);
  show('value-power-export', exp ?? undefined, watts);
  const net = imp == null && exp == null ? undefined : (imp ?? 0) - (exp ?? 0);
  show('value-power-net', net, watts);
  tid('value-power-net-dir').textContent = net === undefined ? '' : net > 0 ? 'from the grid' : net < 0 ? 'to the grid' : 'balanced';
  // one decimal: a tenth of a kWh is what a household reads; the card keeps the exact Wh in data-value
  const kwh = (n: number) => num(n / 1000, 1) + ' kWh';
  show('value-energy-import', r ? value(r, '1.8.0') : undefined, kwh);
  show('value-energy-export', r ? value(r, '2.8.0') : undefined, kwh);
  let phases = 0;
  for (const n of [1, 2, 3]) {
    const u = r ? value(r, `${12 + 20 * n}.7.0`) : undefined;
    const i = r ? value(r, `${11 + 20 * n}.7.0`) : undefined;
    show('value-voltage-l' + n, u, (x) => num(x, 1) + ' V');
    show('value-current-l' + n, i, (x) => num(x, 2) + ' A');
    const row = $(`[data-phase="${n}"]`);
    row.hidden = u === undefined && i === undefined;
    if (!row.hidden) phases++;
  }
  $('#phases').hidden = !phases;
  tid('value-meter-number').textContent = r?.meter.number ?? (r?.meter.systemTitle ? `not sent (system title ${r.meter.systemTitle})` : '–');
  // the meter's clock in the reader's words and time zone; the ISO text stays in the tooltip
  const ts = tid('value-timestamp');
  const at = r?.timestamp ? new Date(r.timestamp) : null;
  ts.textContent = at && !isNaN(+at) ? at.toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' }) : r?.timestamp ?? '–';
  ts.title = r?.timestamp ?? '';
}
