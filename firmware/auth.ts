/**
 * Access to the web UI and API: open until a web password is set (the UI asks for one), then a
 * session cookie from POST /api/login or HTTP Basic auth on every request. Wrong passwords cost a
 * growing delay (up to 8 s) so guessing is slow even on a device. Sessions live in RAM: a reboot
 * logs everyone out, which is the safe default for a device in a home network.
 */
import { toHex } from './bytes.js';

const MAX_SESSIONS = 8;
const SESSION_MS = 30 * 24 * 3600 * 1000;
const MAX_DELAY_MS = 8000;

export const SESSION_COOKIE = 'mb_session';

/** Constant-time string comparison, so response timing does not reveal the password. */
export function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i % (a.length || 1)) | 0) ^ (b.charCodeAt(i % (b.length || 1)) | 0);
  return diff === 0 && a.length === b.length;
}

function base64Decode(s: string): string | null {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const c of s.replace(/=+$/, '')) {
    const v = alphabet.indexOf(c);
    if (v < 0) return null;
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
    }
  }
  return out;
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export class Auth {
  private readonly sessions = new Map<string, number>();
  private failures = 0;
  private lockedUntil = 0;

  constructor(
    private readonly password: () => string,
    private readonly random: (n: number) => Uint8Array,
    private readonly now: () => number,
  ) {}

  get passwordSet(): boolean {
    return this.password() !== '';
  }

  /** True when the request may pass: no password yet, a live session, or Basic auth. */
  check(headers: Record<string, string>): boolean {
    if (!this.passwordSet) return true;
    const token = cookieValue(headers.cookie, SESSION_COOKIE);
    if (token) {
      const expires = this.sessions.get(token);
      if (expires !== undefined && expires > this.now()) return true;
      if (expires !== undefined) this.sessions.delete(token);
    }
    const auth = headers.authorization;
    if (auth && auth.startsWith('Basic ')) {
      const decoded = base64Decode(auth.slice(6).trim());
      if (decoded !== null) {
        const colon = decoded.indexOf(':');
        if (colon >= 0 && sameSecret(decoded.slice(colon + 1), this.password())) return true;
      }
    }
    return false;
  }

  /** ms the caller must wait before the next attempt is looked at (0 = now). */
  delay(): number {
    return Math.max(0, this.lockedUntil - this.now());
  }

  /** Checks a login password: a session token, or null (and the next attempt waits longer). */
  login(password: string): string | null {
    if (!this.passwordSet || !sameSecret(password, this.password())) {
      this.failures++;
      this.lockedUntil = this.now() + Math.min(MAX_DELAY_MS, 250 * 2 ** Math.min(this.failures, 6));
      return null;
    }
    this.failures = 0;
    this.lockedUntil = 0;
    return this.newSession();
  }

  newSession(): string {
    const token = toHex(this.random(16));
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(token, this.now() + SESSION_MS);
    return token;
  }

  logout(headers: Record<string, string>): void {
    const token = cookieValue(headers.cookie, SESSION_COOKIE);
    if (token) this.sessions.delete(token);
  }

  /** A new password ends every session. */
  reset(): void {
    this.sessions.clear();
    this.failures = 0;
    this.lockedUntil = 0;
  }
}
