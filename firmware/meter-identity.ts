/**
 * The gateway's name for its meter, one that never flips. Some meters alternate lists, and only
 * some carry the meter number (Kaifa KFM_001 in Norway: list 1 is the power alone); naming the
 * meter per push would make two devices, two Prometheus series, two Influx tags.
 *
 *   encrypted pushes      the name chosen for a system title stays while the title stays: the
 *                         meter number when the first push seen has one, else the system title
 *   unencrypted pushes    the meter number, kept for the pushes without one; before any number
 *                         is seen there is no name (null), and publishers wait with what needs it
 *
 * A new system title or a new number (the meter was exchanged) gives a new name. The choice is
 * saved, so a restart that begins with a list without the number keeps it too.
 */
import type { Storage } from '../hal/hal.js';
import type { Reading } from './reading.js';

const STORE = 'meter-identity';

export class MeterIdentity {
  private title: string | null = null;
  private id: string | null = null;

  constructor(private readonly storage: Storage) {
    try {
      const s = JSON.parse(storage.read(STORE) ?? 'null') as { title?: unknown; id?: unknown } | null;
      if (s && typeof s.id === 'string' && (s.title === null || typeof s.title === 'string')) {
        this.title = s.title as string | null;
        this.id = s.id;
      }
    } catch {
      // damaged: the next push names the meter again
    }
  }

  /** The name for this push's meter, or null while none is known. */
  of(r: Reading): string | null {
    const title = r.meter.systemTitle;
    if (title) {
      if (this.title !== title || this.id === null) this.set(title, r.meter.number ?? title);
      return this.id;
    }
    const number = r.meter.number;
    if (number) {
      if (this.title !== null || this.id !== number) this.set(null, number);
      return this.id;
    }
    return this.title === null ? this.id : null;
  }

  private set(title: string | null, id: string): void {
    this.title = title;
    this.id = id;
    try {
      this.storage.write(STORE, JSON.stringify({ title, id }));
    } catch {
      // not saved: only a restart could rename the meter
    }
  }
}
