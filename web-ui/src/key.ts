/**
 * Checks a meter key as it is typed, with the rules of firmware/bytes.ts parseHex: hex digits in
 * pairs, `0x` before a pair, spaces and : , - between pairs; 32 digits make a key.
 */
import { $$, h } from './dom';

export interface KeyCheck {
  digits: number;
  /** what is wrong, null when it is a complete key */
  message: string | null;
  /** 'ok' complete, 'bad' wrong, 'info' incomplete but fine so far */
  state: 'ok' | 'bad' | 'info';
}

export function checkKey(text: string): KeyCheck {
  let digits = 0;
  let bad: string | null = null;
  for (let i = 0; i < text.length && !bad; i++) {
    const c = text[i];
    if (c === '0' && (text[i + 1] ?? '').toLowerCase() === 'x' && digits % 2 === 0) i++;
    else if (/[0-9a-f]/i.test(c)) digits++;
    else if (/[\s:,-]/.test(c)) {
      if (digits % 2) bad = `a single digit stands before position ${i + 1}: hex digits come in pairs`;
    } else
      bad = `"${c}" at position ${i + 1} is not a hex digit (only 0-9 and A-F)` + (/o/i.test(c) ? ': did you mean the digit 0?' : /[il]/i.test(c) ? ': did you mean the digit 1?' : '');
  }
  if (bad) return { digits, message: bad, state: 'bad' };
  if (digits === 64)
    return { digits, message: 'these are 64 digits, two keys? Put the encryption key (GUEK) here and the authentication key (GAK) in its own field', state: 'bad' };
  if (digits > 32) return { digits, message: digits > 33 ? `${digits - 32} digits too many` : '1 digit too many', state: 'bad' };
  if (digits < 32) return { digits, message: digits < 31 ? `${32 - digits} digits missing` : '1 digit missing', state: 'info' };
  return { digits, message: null, state: 'ok' };
}

/** Adds "28 of 32 digits" and a message under each key field, updated as the user types. */
export function keyWidgets(): void {
  for (const c of $$<HTMLInputElement>('[data-key]')) {
    const k = c.dataset.key;
    const count = h('span', { 'data-testid': k + '-count' });
    const hint = h('span', { 'data-testid': k + '-hint' });
    const update = () => {
      const r = checkKey(c.value);
      const empty = !c.value.trim();
      count.textContent = `${r.digits} of 32 digits`;
      hint.textContent = empty ? '' : r.message ? ': ' + r.message + '.' : ': looks right.';
      hint.dataset.state = count.dataset.state = empty ? 'info' : r.state;
      if (r.state === 'bad' && !empty) c.setAttribute('aria-invalid', 'true');
      else if (!c.parentElement!.querySelector('.ferr')) c.removeAttribute('aria-invalid');
    };
    c.addEventListener('input', update);
    c.form!.addEventListener('filled', update);
    c.parentElement!.append(h('p', { class: 'kc' }, count, hint));
    update();
  }
}
