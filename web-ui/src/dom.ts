/** Tiny DOM helpers; no framework. */

export const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T => root.querySelector(sel) as T;

export const $$ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T[] => Array.from(root.querySelectorAll<T>(sel));

export const tid = <T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T => $<T>(`[data-testid="${id}"]`, root);

/** Creates an element with attributes (text under the key `text`) and children. */
export function h(tag: string, attrs: Record<string, string | number | null | undefined> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v === null || v === undefined) continue;
    if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, String(v));
  }
  e.append(...children);
  return e;
}

/** Sets a message element: text or a list, good or bad (data-state). */
export function say(e: HTMLElement, text: string, bad = false, list: string[] = []): void {
  e.textContent = text;
  e.dataset.state = bad ? 'bad' : 'ok';
  if (list.length) e.append(h('ul', {}, ...list.map((s) => h('li', { text: s }))));
}

/** Disables a form's buttons while a request runs. */
export async function busy<T>(form: HTMLElement, job: () => Promise<T>): Promise<T> {
  const buttons = $$<HTMLButtonElement>('button', form).filter((b) => !b.disabled);
  buttons.forEach((b) => (b.disabled = true));
  form.setAttribute('aria-busy', 'true');
  try {
    return await job();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    form.removeAttribute('aria-busy');
  }
}
