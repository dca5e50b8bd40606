/**
 * The one way to talk to the gateway (web-ui/API.md): JSON in and out, a 401 opens the login
 * form, a network failure shows the offline banner. The gateway's clock is estimated from the
 * Date header so that "12 s ago" stays right when the device clock and the phone disagree.
 */
import { $ } from './dom';

export interface Answer<T = any> {
  /** 0: the gateway could not be reached */
  status: number;
  ok: boolean;
  data: T;
  headers: Headers | null;
}

let skew = 0;
let unauthorized: () => void = () => {};

export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

/** Now on the gateway's clock (epoch ms). */
export const now = (): number => Date.now() + skew;

export async function call<T = any>(path: string, method = 'GET', body?: unknown): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined || method !== 'GET') {
    // state-changing calls must be JSON (CSRF rule of the API), even without a body
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let r: Response;
  try {
    r = await fetch(path, init);
  } catch {
    $('#banner-offline').hidden = false;
    return { status: 0, ok: false, data: null as T, headers: null };
  }
  $('#banner-offline').hidden = true;
  const date = Date.parse(r.headers.get('Date') ?? '');
  if (date) {
    const s = date - Date.now();
    // the header has whole seconds: only trust a clear difference
    skew = Math.abs(s) > 5000 ? s : 0;
  }
  let data: any = null;
  if ((r.headers.get('Content-Type') ?? '').indexOf('json') >= 0) data = await r.json().catch(() => null);
  if (r.status === 401 && path !== '/api/login') unauthorized();
  return { status: r.status, ok: r.ok, data, headers: r.headers };
}

/** One sentence for a failed answer. */
export function errText(a: Answer): string {
  if (a.status === 0) return 'Cannot reach the gateway: check that it is on and connected to your network.';
  if (a.status === 413) return 'Too large: the gateway takes at most 16 KB.';
  const d = a.data ?? {};
  const s = d.error ? d.error + (d.detail ? ': ' + d.detail : '') : 'the gateway answered ' + a.status;
  return s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}

/** Fetches a file from the gateway and hands it to the browser's download. */
export async function download(path: string, fallbackName: string): Promise<Answer> {
  const a = await call(path);
  if (!a.ok) return a;
  const cd = a.headers?.get('Content-Disposition') ?? '';
  const name = /filename="?([^";]+)/.exec(cd)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(new Blob([JSON.stringify(a.data, null, 2)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
  return a;
}
