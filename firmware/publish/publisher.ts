/**
 * The publisher seam. A kind of target (MQTT broker, HTTP endpoint) is one PublisherKind entry in
 * the registry (registry.ts): it names its config section, its templates with their escaping, and
 * which of its settings need a new connection. The gateway owns one Outbox per kind, so queued
 * readings outlive any change of settings; a running publisher drains that outbox in order and
 * never throws into the gateway.
 *
 *   save ─► kind.connection(prev) ≠ kind.connection(next)  ─► stop, create (same outbox)
 *        └► otherwise kind.settings differ                 ─► publisher.update(next), no reconnect
 *
 * Delivery is at least once: a reading whose delivery was cut off is sent again, whole, so every
 * message carries the meter's frame counter and timestamp for a receiver to drop duplicates.
 */
import type { Clock, HttpClient, Logger, MqttClient, Storage } from '../../hal/hal.js';
import type { Config } from '../config/types.js';
import type { Outbox } from '../outbox.js';
import type { Reading } from '../reading.js';
import type { DerivedValues } from '../template/derived.js';
import type { Escape } from '../template/template.js';
import type { CompletedInterval } from '../history/history.js';

export interface Delivery {
  reading: Reading;
  derived: DerivedValues | null;
  /** wall-clock ms the reading arrived */
  receivedMs: number;
  /** the meter's name that never flips (see MeterIdentity); null until one is known */
  meterId: string | null;
  /** set: this entry is a completed quarter hour (kinds with `intervals`), not the Reading's messages */
  interval?: CompletedInterval;
}

export interface PublisherStatus {
  name: string;
  /** for people: 'MQTT', 'HTTP push' */
  label: string;
  enabled: boolean;
  /** 'connected', 'connecting', 'disconnected', 'ok', 'failing', 'idle' */
  state: string;
  /** where it delivers: host:port or the URL's origin */
  target: string;
  queued: number;
  capacity: number;
  delivered: number;
  /** dropped because the outbox was full */
  dropped: number;
  /** refused for good by the target (HTTP 4xx): dropped and counted, never retried */
  rejected: number;
  /** failed attempts: connection errors, outages, failed or refused deliveries */
  failures: number;
  lastError: string | null;
  lastSuccessAt: number | null;
  /** wall ms since when the target is failing; null while it works */
  failingSince: number | null;
  /** one sentence for the verdict while failing, e.g. "MQTT: connection refused … for 3 min, 40 readings waiting" */
  problem: string | null;
}

/** What a publisher may use of the Hal. */
export interface PublisherEnv {
  clock: Clock;
  logger: Logger;
  storage: Storage;
  version: string;
  createMqttClient(): MqttClient;
  httpClient: HttpClient;
}

export interface Publisher {
  readonly name: string;
  /** Whether this reading goes into the outbox at all (e.g. a minimum interval); default yes. */
  accepts?(monotonicMs: number): boolean;
  /** New entries are in the outbox: deliver when possible. */
  kick(): void;
  /** Settings changed that need no new connection (templates, QoS, discovery…). */
  update(config: Config): void;
  status(): PublisherStatus;
  /** Stops touching the outbox; resolves once no delivery of this instance is in flight. */
  stop(): Promise<void>;
}

export interface TemplateField {
  field: string;
  source: string;
  escape: Escape;
}

export interface PublisherKind {
  id: string;
  label: string;
  enabled(config: Config): boolean;
  /** every template of the kind, for checkTemplates */
  templates(config: Config): TemplateField[];
  /** the settings that need a new connection when they change */
  connection(config: Config): unknown;
  /** all the settings it reads (a change calls update()) */
  settings(config: Config): unknown;
  create(config: Config, outbox: Outbox<Delivery>, env: PublisherEnv): Publisher;
  /** also delivers each completed quarter hour of the history (Delivery.interval) */
  intervals?: boolean;
}

/** "3 min", "45 s", "2 h" */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** Failure bookkeeping every publisher shares: counts attempts, remembers since when. */
export class Health {
  failures = 0;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  failingSince: number | null = null;

  constructor(private readonly clock: Clock) {}

  failed(message: string): void {
    this.failures++;
    this.lastError = message;
    if (this.failingSince === null) this.failingSince = this.clock.now();
  }

  succeeded(): void {
    this.lastSuccessAt = this.clock.now();
    this.failingSince = null;
  }
}

/** The status every publisher reports, from its outbox and its health. */
export function publisherStatus(
  kind: { id: string; label: string },
  state: string,
  target: string,
  outbox: Outbox<Delivery>,
  health: Health,
  now: number,
): PublisherStatus {
  let problem: string | null = null;
  if (health.failingSince !== null && health.lastError) {
    const waiting = outbox.size;
    problem = `${kind.label}: ${health.lastError} (for ${span(now - health.failingSince)}, ${waiting} reading${waiting === 1 ? '' : 's'} waiting)`;
  }
  return {
    name: kind.id,
    label: kind.label,
    enabled: true,
    state,
    target,
    queued: outbox.size,
    capacity: outbox.limit,
    delivered: outbox.delivered,
    dropped: outbox.dropped,
    rejected: outbox.rejected,
    failures: health.failures,
    lastError: health.lastError,
    lastSuccessAt: health.lastSuccessAt,
    failingSince: health.failingSince,
    problem,
  };
}

/** An id the platforms accept in topics and UIDs (Home Assistant node ids, openHAB UID
 *  segments): letters, digits, '_' and '-'; anything else becomes '_'. */
export function idSlug(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
    out += ok ? s[i] : '_';
  }
  return out;
}
