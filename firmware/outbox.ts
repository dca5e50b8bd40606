/**
 * A bounded FIFO of readings waiting for one publisher (MQTT broker, HTTP endpoint) that may be
 * unreachable for a while. A fixed-size ring: when it is full the OLDEST entry is dropped and
 * counted, never silently. Entries keep the Reading (with the meter's own timestamp) and the
 * derived values of the moment it arrived, so a late delivery says what was measured then.
 */

export interface OutboxEntry<T> {
  item: T;
  /** host time the reading arrived (monotonic ms), for latency figures */
  receivedAt: number;
}

export class Outbox<T> {
  private ring: (OutboxEntry<T> | undefined)[];
  private head = 0;
  private count = 0;
  /** entries dropped because the outbox was full */
  dropped = 0;
  delivered = 0;

  constructor(private capacity: number) {
    this.ring = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get limit(): number {
    return this.capacity;
  }

  push(item: T, receivedAt: number): void {
    if (this.count === this.capacity) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.dropped++;
    }
    this.ring[(this.head + this.count) % this.capacity] = { item, receivedAt };
    this.count++;
  }

  peek(): OutboxEntry<T> | undefined {
    return this.count > 0 ? this.ring[this.head] : undefined;
  }

  /** Removes the head after it was delivered. */
  shift(): void {
    if (this.count === 0) return;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.delivered++;
  }

  /** Changes the capacity, keeping the newest entries (the older ones count as dropped). */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const keep: OutboxEntry<T>[] = [];
    for (let i = 0; i < this.count; i++) keep.push(this.ring[(this.head + i) % this.capacity]!);
    const start = keep.length > capacity ? keep.length - capacity : 0;
    this.dropped += start;
    this.capacity = capacity;
    this.ring = new Array(capacity);
    this.head = 0;
    this.count = 0;
    for (let i = start; i < keep.length; i++) this.ring[this.count++] = keep[i];
  }
}
