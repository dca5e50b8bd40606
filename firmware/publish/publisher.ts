/**
 * What the gateway hands a publisher for every Reading, and what every publisher reports back.
 * A publisher owns an Outbox and delivers its entries in order, retrying while its target is
 * unreachable; it never throws into the gateway.
 */
import type { Reading } from '../reading.js';
import type { DerivedValues } from '../template/derived.js';
import type { Outbox } from '../outbox.js';

export interface Delivery {
  reading: Reading;
  derived: DerivedValues | null;
  /** wall-clock ms the reading arrived */
  receivedMs: number;
}

export interface PublisherStatus {
  name: string;
  enabled: boolean;
  /** 'connected', 'connecting', 'disconnected', 'ok', 'failing', 'idle' */
  state: string;
  queued: number;
  capacity: number;
  delivered: number;
  dropped: number;
  failures: number;
  lastError: string | null;
  lastSuccessAt: number | null;
}

/** The status every publisher reports, from its outbox and its own bookkeeping. */
export function publisherStatus(
  name: string,
  state: string,
  outbox: Outbox<Delivery>,
  own: { failures: number; lastError: string | null; lastSuccessAt: number | null },
): PublisherStatus {
  return {
    name,
    enabled: true,
    state,
    queued: outbox.size,
    capacity: outbox.limit,
    delivered: outbox.delivered,
    dropped: outbox.dropped,
    failures: own.failures,
    lastError: own.lastError,
    lastSuccessAt: own.lastSuccessAt,
  };
}

export interface Publisher {
  readonly name: string;
  enqueue(d: Delivery, monotonicMs: number): void;
  status(): PublisherStatus;
  stop(): Promise<void>;
}
