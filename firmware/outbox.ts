/**
 * A bounded FIFO of readings waiting for one publisher (MQTT broker, HTTP endpoint) that may be
 * unreachable for a while. When it is full the OLDEST entry is dropped and counted, never
 * silently. Entries keep the Reading (with the meter's own timestamp) and the derived values of
 * the moment it arrived, so a late delivery says what was measured then. Its memory follows what
 * is queued, not the capacity: an empty outbox of 1 000 costs nothing on the device.
 */

export interface OutboxEntry<T> {
  item: T;
  /** host time the reading arrived (monotonic ms) */
  receivedAt: number;
}

export class Outbox<T> {
  private items: OutboxEntry<T>[] = [];
  /** index of the oldest entry in items; the part before it is compacted away now and then */
  private head = 0;
  /** entries dropped because the outbox was full */
  dropped = 0;
  delivered = 0;
  /** entries the target refused for good (an HTTP 4xx): removed, counted, never retried */
  rejected = 0;

  constructor(private capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  get limit(): number {
    return this.capacity;
  }

  push(item: T, receivedAt: number): void {
    if (this.size === this.capacity) {
      this.drop();
      this.dropped++;
    }
    this.items.push({ item, receivedAt });
  }

  peek(): OutboxEntry<T> | undefined {
    return this.size > 0 ? this.items[this.head] : undefined;
  }

  /** Removes the head after it was delivered. */
  shift(): void {
    if (this.size === 0) return;
    this.drop();
    this.delivered++;
  }

  /** Removes the head because the target refused it for good. */
  reject(): void {
    if (this.size === 0) return;
    this.drop();
    this.rejected++;
  }

  private drop(): void {
    this.items[this.head] = undefined as unknown as OutboxEntry<T>;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 32 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Changes the capacity, keeping the newest entries (the older ones count as dropped). */
  resize(capacity: number): void {
    this.capacity = capacity;
    while (this.size > capacity) {
      this.drop();
      this.dropped++;
    }
  }
}
