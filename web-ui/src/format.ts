/** Numbers, times and error kinds in words a homeowner reads. Numbers use the browser's locale. */
import { now } from './api';

export const num = (n: number, digits: number): string =>
  n.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const watts = (w: number): string => (Math.abs(w) >= 1000 ? num(w / 1000, 2) + ' kW' : num(w, 0) + ' W');

/** "12 s ago" from an epoch-ms time on the gateway's clock. */
export function ago(at: number | null | undefined): string {
  if (!at) return 'never';
  const s = Math.max(0, Math.round((now() - at) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : s < 172800 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} days ago`;
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const hh = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d} d ${hh} h` : hh ? `${hh} h ${m} min` : `${m} min ${seconds % 60} s`;
}

export const cap = (s: string): string => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** The decoder's error kinds (firmware/errors.ts) in plain words. */
const KINDS: Record<string, string> = {
  checksum: 'Damaged data (checksum wrong)',
  length: 'Frame length does not add up',
  'stop-byte': 'Frame not properly ended',
  overflow: 'Message too large',
  'segment-order': 'Parts arrived out of order',
  'unknown-apdu': 'Unknown kind of message',
  truncated: 'Message cut short',
  'missing-key': 'Encrypted, but no key is set',
  'wrong-key-or-corrupt': 'Cannot decrypt: wrong key?',
  'tag-mismatch': 'Authentication failed: check the authentication key',
  security: 'Unsupported encryption setting',
  axdr: 'Malformed content',
  layout: 'No known values in the message',
  implausible: 'Implausible, not published',
  garbage: 'Stray bytes between frames',
};

export const kindText = (kind: string): string => KINDS[kind] ?? kind;
