/**
 * German and English. English is the UI's own language and the gateway's; German comes from a
 * table fetched from the gateway (/ui/de, built from web-ui/de.txt) only when German is chosen,
 * so the UI asset carries no second language.
 *
 * Translation happens where text reaches the page: every text node and every placeholder,
 * aria-label and title that appears or changes is looked up, so the UI code and the gateway's
 * messages (verdicts, field errors, diagnostics) stay English and need no calls here. A text is
 * looked up whole, then as a template with its numbers and quoted parts as parameters, then piece
 * by piece between ": ", ". ", ", " and "; " (and before a closing "." or ":"). What the table lacks stays English. Text inside
 * code, pre, textarea and anything marked translate="no" (keys, templates, raw bytes) is left
 * alone.
 */
import { hash, template } from './i18n-key.mjs';

export type Lang = 'en' | 'de';
const STORE = 'meterbridge-lang';
const ATTRS = ['placeholder', 'aria-label', 'title'];
let table: Map<string, string> | null = null;

/** The remembered choice, else the browser's first language. */
export function chosen(): Lang {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(STORE);
  } catch {
    // storage blocked: follow the browser
  }
  if (saved === 'de' || saved === 'en') return saved;
  return /^de\b/i.test(navigator.languages?.[0] ?? navigator.language ?? '') ? 'de' : 'en';
}

export function remember(lang: Lang): void {
  try {
    localStorage.setItem(STORE, lang);
  } catch {
    // not remembered: the browser's language next time
  }
}

function fill(german: string, params: string[]): string {
  let i = 0;
  return german.replace(/\{\}/g, () => params[i++] ?? '');
}

function lookup(text: string): string | null {
  const exact = table!.get(hash(text));
  if (exact !== undefined) return exact;
  const t = template(text);
  const german = t.params.length ? table!.get(hash(t.key)) : undefined;
  return german === undefined ? null : fill(german, t.params);
}

/** As written, or with a capital the UI added to a gateway message ("Must be …"). */
function whole(text: string): string | null {
  const g = lookup(text);
  if (g !== null || text[0] === text[0].toLowerCase()) return g;
  const lower = lookup(text[0].toLowerCase() + text.slice(1));
  return lower === null ? null : lower[0].toUpperCase() + lower.slice(1);
}

/** The German of an English text, or the text itself. */
export function t(text: string): string {
  const core = text.trim();
  if (!table || !core || !/[a-z]/i.test(core)) return text;
  let out = whole(core);
  if (out === null) {
    // piece by piece: composed texts ("connected, 3 sent, 0 waiting.") and gateway messages
    // with a translated head and an untranslatable detail ("cannot reach host:1883: …")
    const parts = core.split(/(: |\. |, |; |[.:]$)/);
    if (parts.length < 2) return text;
    let changed = false;
    out = parts
      .map((p, i) => {
        if (i % 2 || !p) return p;
        const g = whole(p) ?? whole(p + '.');
        if (g === null) return p;
        changed = true;
        return g.replace(/\.$/, p.endsWith('.') ? '.' : '');
      })
      .join('');
    if (!changed) return text;
  }
  return text.slice(0, text.indexOf(core)) + out + text.slice(text.indexOf(core) + core.length);
}

const skip = (n: Node | null): boolean => !!(n && (n as Element).closest?.('code,pre,textarea,script,style,[translate="no"]'));

function translateNode(n: Node): void {
  if (n.nodeType === Node.TEXT_NODE) {
    if (skip(n.parentElement)) return;
    const g = t(n.nodeValue ?? '');
    if (g !== n.nodeValue) n.nodeValue = g;
  } else if (n.nodeType === Node.ELEMENT_NODE && !skip(n)) {
    const e = n as Element;
    for (const a of ATTRS) {
      const v = e.getAttribute(a);
      if (v) {
        const g = t(v);
        if (g !== v) e.setAttribute(a, g);
      }
    }
    n.childNodes.forEach(translateNode);
  }
}

/** Loads the German table, translates the page and everything that changes on it later. */
export async function startGerman(): Promise<void> {
  const r = await fetch('/ui/de', { cache: 'no-cache' });
  if (!r.ok) throw new Error(`/ui/de: ${r.status}`);
  table = new Map();
  for (const line of (await r.text()).split('\n')) if (line.length > 7) table.set(line.slice(0, 7), line.slice(7));
  document.documentElement.lang = 'de';
  translateNode(document.body);
  document.title = t(document.title);
  new MutationObserver((records) => {
    for (const m of records) {
      if (m.type === 'childList') m.addedNodes.forEach(translateNode);
      else if (m.type === 'characterData') translateNode(m.target);
      else translateNode(m.target); // an attribute: its element's attributes, and its text again (cheap)
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS });
}
