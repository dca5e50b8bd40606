/**
 * Who may talk to the web UI and API, the same rules on both targets:
 *
 *   request ─► Host allowed? (421) ─► Origin names this gateway? (403) ─► password set? (403 but
 *   for the first-run routes) ─► session cookie, or HTTP Basic through the GuessLimiter (401/429)
 *
 * - Host allow-list against DNS rebinding: IP literals, `localhost`, the gateway's own names (mDNS
 *   `<hostname>.local`) and the names the owner adds. A page that rebinds its own name to the
 *   gateway's address sends its own name as Host and is refused.
 * - Guessing: every password check (Basic and login) goes through one GuessLimiter, a bucket of
 *   wrong guesses per client address and one for everyone. When a bucket is empty the request is
 *   answered at once with 429 and the password is not looked at, so parallel requests never sleep
 *   in bulk and the rate of checked guesses stays bounded however many connections there are.
 * - Sessions live in RAM (a reboot logs everyone out): they end 7 days after their last use and 30
 *   days after login; at most MAX_SESSIONS. When all are in use, a new login is refused rather than
 *   logging someone out; a session unused for an hour may make room.
 *
 * Not known here: routes, config, I/O. The clock is injected (monotonic ms).
 */
import { toHex, utf8String } from './bytes.js';

export const SESSION_COOKIE = 'mb_session';
/** the shortest web password accepted */
export const MIN_PASSWORD_LENGTH = 8;

const MAX_SESSIONS = 16;
const SESSION_IDLE_MS = 7 * 24 * 3600 * 1000;
const SESSION_MAX_MS = 30 * 24 * 3600 * 1000;
/** a session used within this time is in use and is never ended to make room */
const SESSION_IN_USE_MS = 3600 * 1000;

export interface GuessLimits {
  /** wrong guesses one client address may make at once */
  clientBurst: number;
  /** then one more per this many ms */
  clientRefillMs: number;
  /** wrong guesses all clients together may make at once */
  totalBurst: number;
  totalRefillMs: number;
  /** client addresses remembered (RAM on the device) */
  maxClients: number;
}

/**
 * In any minute at most totalBurst + 60 s / totalRefillMs = 20 + 40 = 60 wrong guesses are checked
 * in all; one address gets 5 at once and then one per 10 s, so the owner's right password is looked
 * at again at most 10 s after an attack from the owner's own address stops (1.5 s from another).
 */
export const GUESS_LIMITS: GuessLimits = Object.freeze({ clientBurst: 5, clientRefillMs: 10_000, totalBurst: 20, totalRefillMs: 1_500, maxClients: 32 });

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets of wrong guesses: per client address and in total. */
export class GuessLimiter {
  private readonly total: Bucket;
  private readonly clients = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number,
    private readonly limits: GuessLimits = GUESS_LIMITS,
  ) {
    this.total = { tokens: limits.totalBurst, at: now() };
  }

  private refill(b: Bucket, burst: number, refillMs: number, now: number): void {
    if (now > b.at) b.tokens = Math.min(burst, b.tokens + (now - b.at) / refillMs);
    b.at = now;
  }

  private client(address: string, now: number): Bucket | undefined {
    const b = this.clients.get(address);
    if (b) this.refill(b, this.limits.clientBurst, this.limits.clientRefillMs, now);
    return b;
  }

  /** ms until a password from this address may be checked; 0: now. */
  wait(address: string): number {
    const now = this.now();
    const l = this.limits;
    this.refill(this.total, l.totalBurst, l.totalRefillMs, now);
    const c = this.client(address, now);
    const own = c && c.tokens < 1 ? (1 - c.tokens) * l.clientRefillMs : 0;
    const all = this.total.tokens < 1 ? (1 - this.total.tokens) * l.totalRefillMs : 0;
    return Math.ceil(Math.max(own, all));
  }

  /** A wrong password was checked (only after wait() said 0). */
  wrong(address: string): void {
    const now = this.now();
    const l = this.limits;
    this.refill(this.total, l.totalBurst, l.totalRefillMs, now);
    this.total.tokens -= 1;
    let c = this.client(address, now);
    if (!c) {
      if (this.clients.size >= l.maxClients) this.forgetOne(now);
      c = { tokens: l.clientBurst, at: now };
      this.clients.set(address, c);
    }
    c.tokens -= 1;
  }

  /** The right password: this address starts afresh (the total bucket does not). */
  right(address: string): void {
    this.clients.delete(address);
  }

  /** Makes room: an address whose bucket is full again, else the one seen longest ago. */
  private forgetOne(now: number): void {
    const l = this.limits;
    for (const [a, b] of this.clients) {
      if (b.tokens + (now - b.at) / l.clientRefillMs >= l.clientBurst) {
        this.clients.delete(a);
        return;
      }
    }
    const first = this.clients.keys().next();
    if (!first.done) this.clients.delete(first.value);
  }
}

/** Constant-time string comparison, so response timing does not reveal the password. */
export function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i % (a.length || 1)) | 0) ^ (b.charCodeAt(i % (b.length || 1)) | 0);
  return diff === 0 && a.length === b.length;
}

/** The bytes of base64 text as UTF-8 (a password with umlauts is sent as its UTF-8 bytes). */
function base64Decode(s: string): string | null {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let end = s.length;
  while (end > 0 && s[end - 1] === '=') end--;
  if (end > 1024) return null;
  const out = new Uint8Array((end * 3) >> 2);
  let n = 0;
  let bits = 0;
  let value = 0;
  for (let i = 0; i < end; i++) {
    const v = alphabet.indexOf(s[i]);
    if (v < 0) return null;
    value = ((value << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >> bits) & 0xff;
    }
  }
  return utf8String(out, 0, n);
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

// ---- host names ------------------------------------------------------------------------------

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 3) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A dotted-quad IPv4 address, or an IPv6 address in brackets (as in a Host header or URL). */
export function isIpLiteral(name: string): boolean {
  if (name.length > 2 && name[0] === '[' && name[name.length - 1] === ']') {
    let colons = 0;
    for (let i = 1; i < name.length - 1; i++) {
      const c = name[i];
      if (c === ':') colons++;
      else if ('0123456789abcdef.'.indexOf(c) < 0) return false;
    }
    return colons >= 2;
  }
  const parts = name.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) if (!isDigits(p) || Number(p) > 255) return false;
  return true;
}

/** `name[:port]` of a Host header or an Origin's authority → lower-case name and port ('' = none); null if malformed. */
export function splitAuthority(authority: string): { name: string; port: string } | null {
  const a = authority.trim().toLowerCase();
  let name = a;
  let port = '';
  if (a[0] === '[') {
    const close = a.indexOf(']');
    if (close < 0) return null;
    name = a.slice(0, close + 1);
    const rest = a.slice(close + 1);
    if (rest !== '') {
      if (rest[0] !== ':') return null;
      port = rest.slice(1);
    }
  } else {
    const colon = a.indexOf(':');
    if (colon >= 0) {
      name = a.slice(0, colon);
      port = a.slice(colon + 1);
    }
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '' || name.indexOf('/') >= 0 || name.indexOf('@') >= 0) return null;
  for (let i = 0; i < port.length; i++) if ('0123456789'.indexOf(port[i]) < 0) return null;
  return { name, port };
}

/** Names that may reach the gateway: IP literals, localhost, its own names, the owner's list. */
export function hostAllowed(name: string, names: readonly string[]): boolean {
  if (isIpLiteral(name) || name === 'localhost') return true;
  for (const n of names) if (n.toLowerCase() === name) return true;
  return false;
}

/**
 * The cross-site rule for state changes: no Origin (not a browser, or an old one) passes; `null`
 * (sandboxed frames, file: pages, some redirects) does not; otherwise the Origin must name an allowed
 * host and be this gateway: the same host and port as the request's Host, or a name the owner added
 * (a reverse proxy in front of the gateway).
 */
export function originAllowed(origin: string | undefined, host: { name: string; port: string } | null, names: readonly string[], ownerNames: readonly string[]): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().toLowerCase();
  let rest: string;
  let defaultPort: string;
  if (o.startsWith('http://')) {
    rest = o.slice(7);
    defaultPort = '80';
  } else if (o.startsWith('https://')) {
    rest = o.slice(8);
    defaultPort = '443';
  } else return false;
  const a = splitAuthority(rest);
  if (!a || !hostAllowed(a.name, names)) return false;
  for (const n of ownerNames) if (n.toLowerCase() === a.name) return true;
  if (!host) return false;
  const port = (p: string) => (p === '' ? defaultPort : p);
  return a.name === host.name && port(a.port) === port(host.port);
}

// ---- passwords and sessions ------------------------------------------------------------------

interface Session {
  created: number;
  used: number;
}

export type Verdict =
  | { ok: true }
  | { ok: false; status: 401; error: string; detail: string }
  | { ok: false; status: 429; error: string; detail: string; waitMs: number };

export class Auth {
  private readonly sessions = new Map<string, Session>();
  readonly limiter: GuessLimiter;

  constructor(
    private readonly password: () => string,
    private readonly random: (n: number) => Uint8Array,
    /** monotonic ms */
    private readonly now: () => number,
    limits: GuessLimits = GUESS_LIMITS,
  ) {
    this.limiter = new GuessLimiter(now, limits);
  }

  get passwordSet(): boolean {
    return this.password() !== '';
  }

  /** A live session named by the request's cookie (and it counts as used now). */
  hasSession(headers: Record<string, string>): boolean {
    const token = cookieValue(headers.cookie, SESSION_COOKIE);
    if (!token) return false;
    const s = this.sessions.get(token);
    if (!s) return false;
    const now = this.now();
    if (now - s.used >= SESSION_IDLE_MS || now - s.created >= SESSION_MAX_MS) {
      this.sessions.delete(token);
      return false;
    }
    s.used = now;
    return true;
  }

  /** Checks a password through the limiter. */
  private verify(password: string, address: string): Verdict {
    const wait = this.limiter.wait(address);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      return { ok: false, status: 429, error: 'too many wrong passwords', detail: `try again in ${s} s`, waitMs: wait };
    }
    if (this.passwordSet && sameSecret(password, this.password())) {
      this.limiter.right(address);
      return { ok: true };
    }
    this.limiter.wrong(address);
    return { ok: false, status: 401, error: 'wrong password', detail: 'the web password is not right' };
  }

  /** A request with a password set: a live session, or HTTP Basic with the password (any user name). */
  authorize(headers: Record<string, string>, address: string): Verdict {
    if (this.hasSession(headers)) return { ok: true };
    const auth = headers.authorization;
    if (auth && auth.slice(0, 6).toLowerCase() === 'basic ') {
      const decoded = base64Decode(auth.slice(6).trim());
      const colon = decoded === null ? -1 : decoded.indexOf(':');
      return this.verify(colon >= 0 ? decoded!.slice(colon + 1) : '', address);
    }
    const stale = cookieValue(headers.cookie, SESSION_COOKIE) !== null;
    return {
      ok: false,
      status: 401,
      error: 'password required',
      detail: stale ? 'your session has ended (unused for 7 days, a new password, a restart, or made room for a newer login after an hour unused): log in again' : 'log in with the web password',
    };
  }

  /** POST /api/login: a session token, or why not. */
  login(password: string, address: string): { ok: true; token: string } | Exclude<Verdict, { ok: true }> | { ok: false; status: 503; error: string; detail: string } {
    const v = this.verify(password, address);
    if (!v.ok) return v;
    const token = this.newSession();
    if (token === null) return { ok: false, status: 503, error: 'too many sessions', detail: `${MAX_SESSIONS} browsers are logged in and were used within the last hour: log out in one of them, or use HTTP Basic auth` };
    return { ok: true, token };
  }

  /** A new session, or null when every place is taken by a session in use. */
  newSession(): string | null {
    const now = this.now();
    if (this.sessions.size >= MAX_SESSIONS) {
      let lru: string | null = null;
      let lruUsed = Infinity;
      for (const [t, s] of this.sessions) {
        if (now - s.used >= SESSION_IDLE_MS || now - s.created >= SESSION_MAX_MS) this.sessions.delete(t);
        else if (s.used < lruUsed) {
          lru = t;
          lruUsed = s.used;
        }
      }
      if (this.sessions.size >= MAX_SESSIONS) {
        if (lru === null || now - lruUsed < SESSION_IN_USE_MS) return null;
        this.sessions.delete(lru);
      }
    }
    const token = toHex(this.random(16));
    this.sessions.set(token, { created: now, used: now });
    return token;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  logout(headers: Record<string, string>): void {
    const token = cookieValue(headers.cookie, SESSION_COOKIE);
    if (token) this.sessions.delete(token);
  }

  /** A new password ends every session. */
  reset(): void {
    this.sessions.clear();
  }
}

/** The Set-Cookie value of a session (its cookie lives as long as a session at most). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${SESSION_MAX_MS / 1000}; HttpOnly; SameSite=Strict`;
}
