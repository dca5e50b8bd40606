/**
 * What the gateway hands a publisher for every Reading, and what every publisher reports back.
 * A publisher owns an Outbox and delivers its entries in order, retrying while its target is
 * unreachable; it never throws into the gateway.
 */
import type { Reading } from '../reading.js';
import type { DerivedValues } from '../template/derived.js';

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

export interface Publisher {
  readonly name: string;
  enqueue(d: Delivery, monotonicMs: number): void;
  status(): PublisherStatus;
  stop(): Promise<void>;
}
