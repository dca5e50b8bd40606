/**
 * Templates: preset pickers (GET /api/presets) and live previews (POST /api/template/preview,
 * 300 ms after the last keystroke), shown under each template.
 */
import type { Preset } from '../../firmware/template/presets';
import { call, errText } from './api';
import { $, $$, h, tid } from './dom';

let presets: Preset[] = [];

const val = (name: string) => $<HTMLInputElement>(`[name="${name}"]`);

/** What each preview renders: the template control, its escaping and mode. */
const PREVIEWS: Record<string, () => { source: string; escape: 'json' | 'none'; mode: string }> = {
  'mqtt-topic': () => ({ source: val('mqtt.topicTemplate').value, escape: 'none', mode: val('mqtt.mode').value }),
  'mqtt-payload': () => ({ source: val('mqtt.payloadTemplate').value, escape: presetEscape(val('mqtt.preset').value), mode: val('mqtt.mode').value }),
  'http-body': () => ({ source: val('httpPush.bodyTemplate').value, escape: val('httpPush.bodyFormat').value === 'text' ? 'none' : 'json', mode: 'reading' }),
  metrics: () => ({ source: val('http.metricsTemplate').value || (byId('prometheus')?.payloadTemplate ?? ''), escape: 'none', mode: 'reading' }),
};

const byId = (id: string) => presets.find((p) => p.id === id);

/** Like the gateway: a preset's escaping, JSON for 'custom'. */
const presetEscape = (id: string) => byId(id)?.escape ?? 'json';

const timers: Record<string, number> = {};
const seq: Record<string, number> = {};

export function preview(id: string, delay = 300): void {
  clearTimeout(timers[id]);
  timers[id] = window.setTimeout(async () => {
    const out = tid('preview-' + id);
    const n = (seq[id] = (seq[id] ?? 0) + 1);
    const p = PREVIEWS[id]();
    const a = await call('/api/template/preview', 'POST', { template: p.source, escape: p.escape, mode: p.mode });
    if (n !== seq[id]) return; // an answer to an older keystroke
    const d = a.data ?? {};
    const bad = !a.ok || !d.ok;
    out.dataset.state = bad ? 'bad' : 'ok';
    out.textContent = a.status === 409
      ? 'No reading yet: the preview shows the last reading from the meter as soon as there is one.'
      : !a.ok
        ? errText(a)
        : d.ok
          ? d.output || '(empty)'
          : `Line ${d.error.line}, column ${d.error.column}: ${d.error.message}`;
  }, delay);
}

export const previewAll = (): void => Object.keys(PREVIEWS).forEach((id) => preview(id, 0));

function describePreset(sel: HTMLSelectElement): void {
  const d = tid(`preset-${sel.dataset.preset}-description`);
  if (d) d.textContent = byId(sel.value)?.description ?? 'Your own templates.';
  if (sel.dataset.preset === 'mqtt') $('[data-oh]').hidden = sel.value !== 'openhab';
}

/** CA certificate and fingerprint only where TLS is used: MQTT with TLS, HTTP push to https. */
function tlsFields(): void {
  $('[data-tls=mqtt]').hidden = !val('mqtt.tls').checked;
  $('[data-tls=http]').hidden = !/^https:/i.test(val('httpPush.url').value.trim());
}

/** Puts "Name: value" in the headers text, replacing a header of that name. */
function setHeader(name: string, value: string): void {
  const t = val('httpPush.headers');
  const lines = t.value.split('\n').filter((l) => l.trim() && l.split(':')[0].trim().toLowerCase() !== name.toLowerCase());
  t.value = [`${name}: ${value}`, ...lines].join('\n');
}

/** A preset picked: its templates go into the editors (the user saves them). */
function apply(sel: HTMLSelectElement): void {
  const p = byId(sel.value);
  describePreset(sel);
  if (!p) return;
  const target = sel.dataset.preset;
  if (target === 'mqtt') {
    val('mqtt.topicTemplate').value = p.topicTemplate ?? '';
    val('mqtt.payloadTemplate').value = p.payloadTemplate;
    val('mqtt.mode').value = p.mode ?? 'reading';
  } else if (target === 'http') {
    val('httpPush.bodyTemplate').value = p.payloadTemplate;
    val('httpPush.bodyFormat').value = p.escape === 'json' ? 'json' : 'text';
    setHeader('Content-Type', p.contentType);
  } else {
    val('http.metricsTemplate').value = p.payloadTemplate;
    sel.value = '';
  }
  previewAll();
}

export async function loadPresets(): Promise<void> {
  const a = await call<Preset[]>('/api/presets');
  if (a.ok) presets = a.data;
  for (const sel of $$<HTMLSelectElement>('[data-preset]')) {
    const keep = sel.value;
    sel.replaceChildren(
      h('option', { value: sel.name ? 'custom' : '', text: sel.name ? 'Custom (your own templates)' : 'Choose a preset…' }),
      ...presets.filter((p) => p.targets.indexOf(sel.dataset.preset as 'mqtt') >= 0).map((p) => h('option', { value: p.id, text: p.name })),
    );
    if (keep) sel.value = keep;
  }
}

export function initPublishing(): void {
  for (const sel of $$<HTMLSelectElement>('[data-preset]')) sel.addEventListener('change', () => apply(sel));
  for (const c of $$<HTMLElement>('[data-preview]')) c.addEventListener('input', () => preview(c.dataset.preview!));
  val('mqtt.mode').addEventListener('change', () => (preview('mqtt-topic'), preview('mqtt-payload')));
  val('httpPush.bodyFormat').addEventListener('change', () => preview('http-body'));
  val('mqtt.tls').addEventListener('change', tlsFields);
  val('httpPush.url').addEventListener('input', tlsFields);
  for (const f of $$('#page-publishing form'))
    f.addEventListener('filled', () => {
      tlsFields();
      $$<HTMLSelectElement>('select[data-preset][name]', f).forEach(describePreset);
      // previews only where they are seen; the route starts them when the page opens
      if (f.offsetParent) $$('[data-preview]', f).forEach((c) => preview(c.dataset.preview!, 0));
    });
}
