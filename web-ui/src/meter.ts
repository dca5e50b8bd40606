/** The Meter page: the source fieldsets and "Test key" (POST /api/test-key, nothing is saved). */
import { call, errText } from './api';
import { $, $$, busy, say } from './dom';
import { checkKey } from './key';
import { cap, kindText, num } from './format';
import { demoKey } from './status';

const NAMES: Record<string, [string, number]> = {
  '1.8.0': ['Energy from grid', 3],
  '2.8.0': ['Energy to grid', 3],
  '32.7.0': ['Voltage L1', 1],
  '1.7.0': ['Power from grid', 0],
};

export function initMeter(): void {
  const form = $<HTMLFormElement>('#form-meter');
  const out = $('#test-key-result');
  const type = $<HTMLSelectElement>('[name="source.type"]');
  const showSource = () => $$('fieldset[data-show]', form).forEach((f) => (f.hidden = f.dataset.show !== type.value));
  type.addEventListener('change', showSource);
  form.addEventListener('filled', showSource);
  // after a save, "Save to use it." under a tested key is no longer true
  form.addEventListener('saved', () => {
    if (out.dataset.ok === 'true') say(out, demoKey ? 'Saved. The demo meter keeps its demo key; yours is used once your meter is the source.' : 'Saved: the gateway uses this key now.');
  });

  $('#test-key').onclick = async () => {
    const key = $<HTMLInputElement>('[name="meter.key"]').value;
    const authKey = $<HTMLInputElement>('[name="meter.authKey"]').value;
    out.dataset.ok = '';
    if (!key.trim()) return say(out, 'Type the key to test it. The saved key never leaves the gateway, so it cannot be tested from here.', true);
    for (const [what, text] of [['Encryption key', key], ['Authentication key', authKey]]) {
      const k = checkKey(text);
      if (text.trim() && k.message) return say(out, `${what}: ${k.digits} of 32 digits: ${k.message}.`, true);
    }
    out.textContent = 'Testing…';
    const a = await busy(form, () => call('/api/test-key', 'POST', authKey.trim() ? { key, authKey } : { key }));
    const d = a.data;
    if (!a.ok) return say(out, errText(a), true);
    out.dataset.ok = String(!!d.ok);
    if (!d.ok) {
      const m = /^([a-z-]+): (.*)$/.exec(d.message);
      const kt = m ? kindText(m[1]) : '';
      let why = m && kt !== m[1] ? kt + (kt.endsWith('?') ? ' ' : '. ') + cap(m[2]) : d.message;
      if (demoKey) why += `. The demo meter sends now: only its key ${demoKey} opens its data. Test your meter's key once the meter is connected (Advanced: Source).`;
      else if (/no push/.test(d.message)) why += '. Nothing has arrived from the meter yet: see the Diagnostics page.';
      else if (m && /key|tag/.test(m[1])) why += '. Check for typing errors, and that the key belongs to this meter (every meter has its own).';
      return say(out, '✗ The key does not work. ' + why, true);
    }
    const s = d.sample;
    const cde = s?.obis.replace(/^\d+-\d+:/, '');
    const name = NAMES[cde];
    let proof = '';
    if (s && name && typeof s.value === 'number') {
      const kilo = s.unit === 'Wh';
      proof = `${name[0]}: ${num(kilo ? s.value / 1000 : s.value, name[1])} ${kilo ? 'kWh' : s.unit ?? ''}`;
    } else if (s) proof = `${s.obis}: ${s.value} ${s.unit ?? ''}`;
    say(out, '✓ The key works.', false, [`Meter number: ${d.meterNumber ?? 'not sent'}`, ...(proof ? [proof.trim()] : []), 'Save to use it.']);
  };
}
