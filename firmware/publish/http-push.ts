/**
 * HTTP push: every Reading POSTed (or PUT) to a URL with a templated body and headers. Failed
 * requests (network error, timeout, non-2xx) stay in the outbox and are retried with backoff, in
 * order. Header values are templates too (e.g. an Authorization header stays literal).
 */
import type { Clock, HttpClient, Logger, TimerHandle } from '../../hal/hal.js';
import type { HttpPushConfig } from '../config/types.js';
import { Outbox } from '../outbox.js';
import { buildContext } from '../template/context.js';
import type { Template } from '../template/template.js';
import { publisherStatus, type Delivery, type Publisher, type PublisherStatus } from './publisher.js';

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

export class HttpPushPublisher implements Publisher {
  readonly name = 'http-push';
  private readonly outbox: Outbox<Delivery>;
  private sending = false;
  failures = 0;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  private lastEnqueued = -Infinity;
  private backoff = BACKOFF_START_MS;
  private retry: TimerHandle | null = null;
  private stopped = false;
  skipped = 0;

  constructor(
    private readonly config: HttpPushConfig,
    private readonly body: Template,
    private readonly http: HttpClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    capacity: number,
  ) {
    this.outbox = new Outbox(capacity);
  }

  enqueue(d: Delivery, monotonicMs: number): void {
    if (this.config.minIntervalMs > 0 && monotonicMs - this.lastEnqueued < this.config.minIntervalMs) {
      this.skipped++;
      return;
    }
    this.lastEnqueued = monotonicMs;
    this.outbox.push(d, monotonicMs);
    if (!this.retry) this.drain();
  }

  private async drain(): Promise<void> {
    if (this.sending || this.stopped) return;
    this.sending = true;
    try {
      for (;;) {
        const head = this.outbox.peek();
        if (!head || this.stopped) break;
        const ctx = buildContext(head.item.reading, head.item.derived, { received_ms: head.item.receivedMs });
        let failure: string | null = null;
        try {
          const res = await this.http.request({
            method: this.config.method,
            url: this.config.url,
            headers: this.config.headers,
            body: this.body.render(ctx),
            timeoutMs: this.config.timeoutMs,
          });
          if (res.status < 200 || res.status > 299) failure = `${this.config.url} answered HTTP ${res.status}${res.body ? ': ' + res.body.slice(0, 120) : ''}`;
        } catch (e) {
          failure = `${this.config.url}: ${(e as Error).message}`;
        }
        if (failure !== null) {
          this.failures++;
          this.lastError = failure;
          this.logger.log('warn', `http push: ${failure}; retrying in ${Math.round(this.backoff / 1000)} s (${this.outbox.size} waiting)`);
          this.retry = this.clock.setTimeout(() => {
            this.retry = null;
            this.drain();
          }, this.backoff);
          this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
          return;
        }
        this.outbox.shift();
        this.backoff = BACKOFF_START_MS;
        this.lastSuccessAt = this.clock.now();
        this.lastError = null;
      }
    } finally {
      this.sending = false;
    }
  }

  status(): PublisherStatus {
    return publisherStatus(this.name, this.lastError ? 'failing' : this.lastSuccessAt ? 'ok' : 'idle', this.outbox, this);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) this.clock.clear(this.retry);
  }
}
