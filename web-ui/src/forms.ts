/**
 * Config forms by convention: every control whose name is a dotted config path
 * (name="mqtt.port") is filled from GET /api/config and, when changed, sent back in a partial
 * PUT /api/config. Field errors from a 400 are shown next to the control with that name (or the
 * nearest parent path). Secrets (data-secret) are never filled: they show "set (fingerprint …)"
 * and are sent only when something new was typed, or "" when the user chose to remove them.
 */
import type { FieldError } from '../../firmware/config/types';
import type { RedactedConfig, SecretState } from '../../firmware/config/validate';
import { call, errText } from './api';
import { $, $$, busy, h, say, tid } from './dom';
import { checkKey } from './key';
import { cap } from './format';

export type Ctl = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
type Obj = Record<string, any>;

export const state: { config: RedactedConfig | null } = { config: null };

export function get(o: any, path: string): any {
  for (const k of path.split('.')) o = o == null ? undefined : o[k];
  return o;
}

function put(o: Obj, path: string, v: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  for (const k of keys) o = o[k] ??= {};
  o[last] = v;
}

export const controls = (root: ParentNode): Ctl[] => $$<Ctl>('[name*="."]', root);

const isSecret = (v: unknown): v is SecretState => typeof v === 'object' && v !== null && 'set' in v;

const secretText = (s: SecretState): string => (s.set ? (s.fingerprint ? `set (fingerprint ${s.fingerprint})` : 'set') : 'not set');

// ---- HTTP headers as "Name: value" lines ----------------------------------------------------

const savedMark = (s: SecretState): string => (s.fingerprint ? `(saved, fingerprint ${s.fingerprint})` : '(saved)');

function headersText(hs: Record<string, string | SecretState>): string {
  return Object.keys(hs)
    .map((k) => `${k}: ${isSecret(hs[k]) ? savedMark(hs[k] as SecretState) : hs[k]}`)
    .join('\n');
}

/** Lines to a header map; a credential line left as "(saved …)" becomes null: keep the value. */
function parseHeaders(text: string, saved: Record<string, string | SecretState>): Obj | string {
  const out: Obj = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const c = line.indexOf(':');
    if (c < 1) return `line ${i + 1}: write each header as Name: value`;
    const name = line.slice(0, c).trim();
    const value = line.slice(c + 1).trim();
    const old = saved[name];
    out[name] = isSecret(old) && value === savedMark(old) ? null : value;
  }
  return out;
}

// ---- fill and collect -------------------------------------------------------------------------

/** Puts the saved config into a form's controls and clears its errors. */
export function fill(form: HTMLElement): void {
  const cfg = state.config;
  if (!cfg) return;
  clearErrors(form);
  for (const c of controls(form)) {
    const v = get(cfg, c.name);
    if (c.hasAttribute('data-secret')) {
      c.value = '';
      delete c.dataset.clear;
      const s = v as SecretState;
      tid('secret-' + c.name).textContent = secretText(s);
      tid('clear-' + c.name).hidden = !s.set;
      (c as HTMLInputElement).placeholder = s.set ? 'leave empty to keep the saved value' : '';
    } else if (c.hasAttribute('data-headers')) c.value = headersText(v ?? {});
    else if (c instanceof HTMLInputElement && c.type === 'checkbox') c.checked = !!v;
    else {
      if (c instanceof HTMLSelectElement && v != null && !$$('option', c).some((o) => (o as HTMLOptionElement).value === String(v)))
        c.append(h('option', { value: String(v), text: String(v) }));
      c.value = v == null ? '' : String(v);
    }
  }
  // listeners bring their dependants up to date (key hints, previews, shown fieldsets)
  form.dispatchEvent(new Event('filled'));
}

/** The changed settings of a form as a partial config, and the errors found before sending. */
export function collect(form: HTMLElement): { changes: Obj; errors: FieldError[] } {
  const cfg = state.config!;
  const changes: Obj = {};
  const errors: FieldError[] = [];
  for (const c of controls(form)) {
    const saved = get(cfg, c.name);
    if (c.hasAttribute('data-secret')) {
      if (c.dataset.clear) put(changes, c.name, '');
      else if (c.value !== '') {
        const k = c.dataset.key ? checkKey(c.value) : null;
        if (k && k.message) errors.push({ field: c.name, message: `${k.digits} of 32 digits: ${k.message}` });
        else put(changes, c.name, c.value);
      }
    } else if (c.hasAttribute('data-headers')) {
      if (c.value.trim() !== headersText(saved ?? {})) {
        const p = parseHeaders(c.value, saved ?? {});
        if (typeof p === 'string') errors.push({ field: c.name, message: p });
        else put(changes, c.name, p);
      }
    } else if (c instanceof HTMLInputElement && c.type === 'checkbox') {
      if (c.checked !== saved) put(changes, c.name, c.checked);
    } else {
      let v: string | number = c.value;
      // numbers as numbers; anything else goes as typed and the gateway explains what is wrong
      if (c.dataset.type === 'number' && v.trim() !== '' && isFinite(+v)) v = +v;
      if (String(v) !== String(saved ?? '')) put(changes, c.name, v);
    }
  }
  return { changes, errors };
}

// ---- errors next to the controls --------------------------------------------------------------

export function clearErrors(root: ParentNode): void {
  $$('.ferr', root).forEach((e) => e.remove());
  $$('[aria-invalid]', root).forEach((c) => {
    c.removeAttribute('aria-invalid');
    c.setAttribute('aria-describedby', (c.getAttribute('aria-describedby') ?? '').replace(/\s*err-\S+/g, '').trim());
  });
}

/** The control for a dotted field path, or for its nearest parent path (httpPush.headers.X). */
export function controlFor(field: string): Ctl | null {
  for (let p = field; p; p = p.slice(0, Math.max(0, p.lastIndexOf('.')))) {
    const c = $<Ctl>(`[name="${CSS.escape(p)}"]`);
    if (c) return c;
  }
  return null;
}

/**
 * Shows field errors next to their controls inside `form`; the others, and a summary, in the
 * form's message element. Focuses the first bad control.
 */
export function showErrors(form: HTMLElement, msg: HTMLElement, errors: FieldError[]): void {
  clearErrors(document);
  const rest: string[] = [];
  let first: Ctl | null = null;
  for (const e of errors) {
    const c = controlFor(e.field);
    if (!c || !form.contains(c) || !e.field) {
      rest.push(`${e.field || 'file'}: ${e.message}`);
      continue;
    }
    const id = 'err-' + e.field;
    c.closest('.f, .chk, fieldset')!.append(h('p', { class: 'ferr', id, 'data-testid': 'error-' + e.field, text: cap(e.message) }));
    c.setAttribute('aria-invalid', 'true');
    c.setAttribute('aria-describedby', ((c.getAttribute('aria-describedby') ?? '') + ' ' + id).trim());
    const d = c.closest('details');
    if (d) d.open = true;
    first ??= c;
  }
  const n = errors.length;
  say(msg, n > 1 ? `Not saved: ${n} settings need attention.` : 'Not saved: 1 setting needs attention.', true, rest);
  first?.focus();
}

/** Saves the changed settings of a config form; returns true when the gateway took them. */
export async function saveForm(form: HTMLFormElement): Promise<boolean> {
  const msg = $('.msg', form);
  const { changes, errors } = collect(form);
  if (errors.length) {
    showErrors(form, msg, errors);
    return false;
  }
  if (!Object.keys(changes).length) {
    clearErrors(form);
    say(msg, 'Nothing changed.');
    return false;
  }
  const a = await busy(form, () => call('/api/config', 'PUT', changes));
  if (a.ok) {
    state.config = a.data.config;
    fill(form);
    say(msg, 'Saved.', false, a.data.warnings ?? []);
    form.dispatchEvent(new Event('saved'));
    return true;
  }
  if (a.status === 400 && a.data?.errors) showErrors(form, msg, a.data.errors);
  else say(msg, errText(a), true);
  return false;
}

/** Adds "set (fingerprint …)" and a Remove button to each secret control. */
export function secretWidgets(): void {
  for (const c of $$<HTMLInputElement>('[data-secret]')) {
    const info = h('span', { 'data-testid': 'secret-' + c.name, id: 'sec-' + c.name });
    const clear = h('button', { type: 'button', class: 'link', 'data-testid': 'clear-' + c.name, hidden: '' }, 'Remove');
    clear.setAttribute('aria-label', 'Remove the saved value when saving');
    clear.onclick = () => {
      c.value = '';
      c.dataset.clear = '1';
      info.textContent = 'will be removed when you save';
      clear.hidden = true;
    };
    c.addEventListener('input', () => {
      if (c.value && c.dataset.clear) {
        delete c.dataset.clear;
        info.textContent = 'a new value will be saved';
      }
    });
    c.after(h('p', { class: 'sec' }, 'Saved: ', info, ' ', clear));
  }
}

/** scheme://host:port of an address (the gateway's rule for where push credentials may go). */
function origin(u: string): string {
  try {
    const x = new URL(u.trim());
    return x.protocol + '//' + x.host + ':' + (x.port || (x.protocol === 'https:' ? '443' : '80'));
  } catch {
    return '';
  }
}

/**
 * A saved secret belongs to its destination: while the form names another broker or push server,
 * say that the saved password or credential headers will be removed and must be entered again.
 */
export function rebindHints(): void {
  const value = (name: string): string => {
    const c = $<Ctl>(`[name="${name}"]`);
    return c instanceof HTMLInputElement && c.type === 'checkbox' ? String(c.checked) : c.value.trim();
  };
  const rules: [string, string[], () => boolean][] = [
    ['mqtt', ['mqtt.host', 'mqtt.port', 'mqtt.tls', 'mqtt.password'], () => {
      const c = state.config;
      if (!c || !c.mqtt.password.set || value('mqtt.password') !== '') return false;
      return value('mqtt.host') !== c.mqtt.host || value('mqtt.port') !== String(c.mqtt.port) || value('mqtt.tls') !== String(c.mqtt.tls);
    }],
    ['http', ['httpPush.url', 'httpPush.headers'], () => {
      const c = state.config;
      if (!c || !Object.values(c.httpPush.headers).some((v) => isSecret(v) && v.set)) return false;
      return origin(value('httpPush.url')) !== origin(c.httpPush.url);
    }],
  ];
  for (const [id, names, show] of rules) {
    const hint = $(`[data-rebind="${id}"]`);
    const update = () => (hint.hidden = !show());
    for (const n of names) $(`[name="${n}"]`).addEventListener('input', update);
    for (const n of names) $(`[name="${n}"]`).addEventListener('change', update);
    controlFor(names[0])!.closest('form')!.addEventListener('filled', update);
  }
}

/** Points each control's aria-describedby at the hints of its field. */
export function describe(): void {
  for (const f of $$('.f')) {
    const c = $<Ctl>('input, select, textarea', f);
    if (!c) continue;
    const ids = $$('.hint, .sec, .kc', f).map((e, i) => (e.id ||= (c.id || c.name) + '-d' + i));
    if (ids.length) c.setAttribute('aria-describedby', ids.join(' '));
  }
}
