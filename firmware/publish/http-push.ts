/**
 * HTTP push: every Reading POSTed (or PUT) to a URL with a templated body and templated header
 * values, optionally with basic or bearer authentication. It drains the gateway's outbox for HTTP
 * push in order:
 *
 *   2xx                       delivered, next
 *   4xx but 408 and 429       the server refuses this reading for good: it is dropped, counted
 *                             (`rejected`) and shown, and the next one goes (retrying cannot help,
 *                             and would block every later reading)
 *   408, 429, 5xx, network    kept, retried with backoff (1 s doubling to 60 s), in order
 *
 * Every setting is taken over in place (there is no connection to restart); a new URL or new
 * credentials end a waiting backoff, so readings queued for a wrong address go to the corrected
 * one at once, in order.
 */
import type { TimerHandle } from '../../hal/hal.js';
import type { Config, HttpPushConfig } from '../config/types.js';
import type { Outbox } from '../outbox.js';
import { buildContext } from '../template/context.js';
import { compileOrEmpty, type Escape, type Template } from '../template/template.js';
import { Health, publisherStatus, type Delivery, type Publisher, type PublisherEnv, type PublisherKind, type PublisherStatus } from './publisher.js';

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

function bodyEscape(c: HttpPushConfig): Escape {
  return c.bodyFormat === 'json' ? 'json' : 'none';
}

export const HTTP_PUSH_KIND: PublisherKind = Object.freeze({
  id: 'http-push',
  label: 'HTTP push',
  enabled: (c: Config) => c.httpPush.enabled,
  templates: (c: Config) => {
    const out = [{ field: 'httpPush.bodyTemplate', source: c.httpPush.bodyTemplate, escape: bodyEscape(c.httpPush) }];
    for (const name of Object.keys(c.httpPush.headers)) out.push({ field: `httpPush.headers.${name}`, source: c.httpPush.headers[name], escape: 'none' });
    return out;
  },
  // nothing to connect: every change is taken over in place
  connection: () => null,
  settings: (c: Config) => c.httpPush,
  create: (c: Config, outbox: Outbox<Delivery>, env: PublisherEnv) => new HttpPushPublisher(c.httpPush, outbox, env),
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of the UTF-8 bytes of a string (RFC 7617 basic credentials are UTF-8). */
export function base64Utf8(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}

/** scheme://host[:port] of a URL, for status lines (never the path, which may hold a token). */
export function origin(url: string): string {
  const s = url.indexOf('://');
  if (s < 0) return url;
  const e = url.indexOf('/', s + 3);
  const hostPart = e < 0 ? url.slice(s + 3) : url.slice(s + 3, e);
  const at = hostPart.lastIndexOf('@');
  return url.slice(0, s + 3) + (at >= 0 ? hostPart.slice(at + 1) : hostPart);
}

/** A rendered header value must stay one line: line breaks would start another header. */
function oneLine(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c === 10 || c === 13 ? ' ' : s[i];
  }
  return out;
}

export class HttpPushPublisher implements Publisher {
  readonly name = 'http-push';
  private config!: HttpPushConfig;
  private body!: Template;
  private headers!: [string, Template][];
  private readonly health: Health;
  private sending: Promise<void> | null = null;
  /** kicked while a drain was running */
  private again = false;
  private lastAccepted = -Infinity;
  private backoff = BACKOFF_START_MS;
  private retry: TimerHandle | null = null;
  private stopped = false;
  /** readings left out by minIntervalMs */
  skipped = 0;

  constructor(
    config: HttpPushConfig,
    private readonly outbox: Outbox<Delivery>,
    private readonly env: PublisherEnv,
  ) {
    this.health = new Health(env.clock);
    this.setConfig(config);
  }

  private setConfig(c: HttpPushConfig): void {
    this.config = c;
    this.body = compileOrEmpty(c.bodyTemplate, bodyEscape(c));
    this.headers = Object.keys(c.headers).map((name) => [name, compileOrEmpty(c.headers[name], 'none')] as [string, Template]);
  }

  update(config: Config): void {
    this.setConfig(config.httpPush);
    // a corrected address or credential is tried now, not after the backoff
    if (this.retry) this.env.clock.clear(this.retry);
    this.retry = null;
    this.backoff = BACKOFF_START_MS;
    this.kick();
  }

  /** minIntervalMs: a reading that comes too soon after the last one taken is left out. */
  accepts(monotonicMs: number): boolean {
    if (this.config.minIntervalMs > 0 && monotonicMs - this.lastAccepted < this.config.minIntervalMs) {
      this.skipped++;
      return false;
    }
    this.lastAccepted = monotonicMs;
    return true;
  }

  kick(): void {
    if (this.stopped || this.retry) return;
    if (this.sending) {
      // a drain is ending or waiting: it looks again when it is done
      this.again = true;
      return;
    }
    this.again = false;
    this.sending = this.drain().finally(() => {
      this.sending = null;
      if (this.again) this.kick();
    });
  }

  private requestHeaders(d: Delivery, ctx: object): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [name, t] of this.headers) h[name] = oneLine(t.render(ctx));
    const c = this.config;
    if (c.auth === 'basic') h.Authorization = 'Basic ' + base64Utf8(`${c.username}:${c.password}`);
    else if (c.auth === 'bearer') h.Authorization = 'Bearer ' + oneLine(c.password);
    return h;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const head = this.outbox.peek();
      if (!head || this.stopped) return;
      const d = head.item;
      const ctx = buildContext(d.reading, d.derived, { received_ms: d.receivedMs, meter_id: d.meterId ?? undefined });
      const url = this.config.url;
      let failure: string | null = null;
      let refused = false;
      try {
        const res = await this.env.httpClient.request({
          method: this.config.method,
          url,
          headers: this.requestHeaders(d, ctx),
          body: this.body.render(ctx),
          timeoutMs: this.config.timeoutMs,
          ca: this.config.caCertificate || undefined,
          fingerprint: this.config.certificateFingerprint || undefined,
        });
        if (res.status < 200 || res.status > 299) {
          const said = res.body ? ': ' + oneLine(res.body.slice(0, 120)) : '';
          refused = res.status >= 400 && res.status <= 499 && res.status !== 408 && res.status !== 429;
          failure = refused
            ? `${origin(url)} refused the reading of ${d.reading.timestamp ?? 'unknown time'} with HTTP ${res.status}${said}; it was dropped (check the URL, the credentials and the body template)`
            : `${origin(url)} answered HTTP ${res.status}${said}`;
        }
      } catch (e) {
        failure = `${origin(url)}: ${(e as Error).message}`;
      }
      if (this.stopped) return; // the next publisher sends this reading again (at least once)
      if (failure !== null && refused) {
        this.health.failed(failure);
        this.env.logger.log('warn', `http push: ${failure}`);
        this.outbox.reject();
        continue;
      }
      if (failure !== null) {
        this.health.failed(failure);
        this.env.logger.log('warn', `http push: ${failure}; retrying in ${Math.round(this.backoff / 1000)} s (${this.outbox.size} waiting)`);
        this.retry = this.env.clock.setTimeout(() => {
          this.retry = null;
          this.kick();
        }, this.backoff);
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
        return;
      }
      this.outbox.shift();
      this.backoff = BACKOFF_START_MS;
      this.health.succeeded();
    }
  }

  status(): PublisherStatus {
    const state = this.health.failingSince !== null ? 'failing' : this.health.lastSuccessAt ? 'ok' : 'idle';
    return publisherStatus(HTTP_PUSH_KIND, state, origin(this.config.url), this.outbox, this.health, this.env.clock.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) this.env.clock.clear(this.retry);
    this.retry = null;
    await this.sending;
  }
}
