/**
 * A log of fixed-size records in rings of flash sectors, over a BlockStore (flash semantics:
 * a write only clears bits, an erase sets a whole sector to 0xFF). Each ring is a fixed range of
 * sectors used in turn; when its newest sector is full the oldest one is erased and carries on,
 * so wear spreads evenly over the ring and the ring always holds at least (sectors − 1) full
 * sectors of history.
 *
 *   sector  ┌ slot 0: header  magic "MBHL" u32 │ ring u8 │ record size u8 │ 0 u16 │ seq u32 │ crc32 u32
 *           ├ slot 1: record  payload (recordSize − 4) │ crc32 of the payload u32
 *           ├ …
 *           └ slot n: 0xFF…   free (every byte 0xFF)
 *
 * All numbers little-endian. `seq` counts up per ring, so the newest sector is the one with the
 * highest seq. The first four payload bytes are the record's key (u32), which never decreases
 * within a ring: it lets a search skip whole sectors.
 *
 * Crash safety: a record is written with one write after every record before it. A power cut
 * during that write leaves a slot that is neither free nor valid; it is skipped on load and the
 * next record goes to the slot after it, so nothing written before is lost. A cut during an erase
 * or before the new header is written leaves a sector without a valid header, which counts as
 * unused and is erased again when its turn comes.
 *
 * Does not know: what the records mean (history.ts), files or flash APIs (the BlockStore).
 */
import type { BlockStore } from '../../hal/hal.js';

const MAGIC = 0x4c48424d; // "MBHL" little-endian
const HEADER_BYTES = 16;
export const KEY_NONE = 0xffffffff;

const CRC_TABLE = /* @__PURE__ */ (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]) & 0xff];
  return (crc ^ 0xffffffff) >>> 0;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function free(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0xff) return false;
  return true;
}

/** What the log did to the flash since it was opened (the bench and the status read it). */
export interface RingLogStats {
  writes: number;
  bytesWritten: number;
  erases: number;
  /** erases per sector since opened */
  readonly erasesBySector: Uint32Array;
  /** records skipped on reading: torn by a power cut or damaged */
  corrupt: number;
}

export class RingLog {
  readonly recordSize: number;
  /** payload bytes per record (the record without its CRC) */
  readonly payloadSize: number;
  readonly slotsPerSector: number;
  readonly stats: RingLogStats;
  /** first sector and sector count of each ring */
  private readonly first: number[] = [];
  private readonly count: number[] = [];
  /** per sector: seq of a valid header (0: none), key of the first record (KEY_NONE: empty) */
  private readonly seq: Uint32Array;
  private readonly firstKey: Uint32Array;
  /** per ring: the sector written last (-1: none yet) and its next free slot */
  private readonly head: number[] = [];
  private readonly nextSlot: number[] = [];
  private readonly slot: Uint8Array;

  /** `rings`: the number of sectors of each ring, laid out in order from sector 0. */
  constructor(private readonly store: BlockStore, recordSize: number, rings: readonly number[]) {
    const total = rings.reduce((a, b) => a + b, 0);
    if (recordSize < HEADER_BYTES || recordSize > 255) throw new Error(`record size ${recordSize} is not within 16..255 bytes`);
    if (total > store.sectorCount) throw new Error(`the rings need ${total} sectors, the store has ${store.sectorCount}`);
    if (Math.floor(store.sectorSize / recordSize) < 3) throw new Error(`sectors of ${store.sectorSize} bytes are too small for records of ${recordSize}`);
    this.recordSize = recordSize;
    this.payloadSize = recordSize - 4;
    this.slotsPerSector = Math.floor(store.sectorSize / recordSize);
    this.seq = new Uint32Array(store.sectorCount);
    this.firstKey = new Uint32Array(store.sectorCount);
    this.slot = new Uint8Array(recordSize);
    this.stats = { writes: 0, bytesWritten: 0, erases: 0, erasesBySector: new Uint32Array(store.sectorCount), corrupt: 0 };
    let at = 0;
    for (let r = 0; r < rings.length; r++) {
      if (rings[r] < 2) throw new Error(`ring ${r} needs at least 2 sectors`);
      this.first.push(at);
      this.count.push(rings[r]);
      this.head.push(-1);
      this.nextSlot.push(0);
      at += rings[r];
      this.load(r);
    }
  }

  /** Records a ring holds at least once it has gone round: all its sectors but the one being erased. */
  capacity(ring: number): number {
    return (this.count[ring] - 1) * (this.slotsPerSector - 1);
  }

  private load(ring: number): void {
    const size = this.store.sectorSize;
    let best = -1;
    for (let s = this.first[ring]; s < this.first[ring] + this.count[ring]; s++) {
      this.seq[s] = 0;
      this.firstKey[s] = KEY_NONE;
      const b = this.store.read(s * size, size);
      if (u32(b, 0) !== MAGIC || b[4] !== ring || b[5] !== this.recordSize || crc32(b, 0, 12) !== u32(b, 12)) continue;
      const q = u32(b, 8);
      if (q === 0) continue;
      this.seq[s] = q;
      // the first valid record's key; the free slot after the last used one
      let used = 0;
      for (let i = 1; i < this.slotsPerSector; i++) {
        const o = i * this.recordSize;
        if (free(b, o, o + this.recordSize)) continue;
        used = i;
        if (this.firstKey[s] === KEY_NONE && this.valid(b, o)) this.firstKey[s] = u32(b, o);
      }
      if (best < 0 || q > this.seq[best]) {
        best = s;
        this.nextSlot[ring] = used + 1;
      }
    }
    this.head[ring] = best;
  }

  private valid(b: Uint8Array, o: number): boolean {
    return crc32(b, o, o + this.payloadSize) === u32(b, o + this.payloadSize);
  }

  /** Appends one record (payload: payloadSize bytes, the first four its key) to a ring. */
  append(ring: number, payload: Uint8Array): void {
    let h = this.head[ring];
    if (h < 0 || this.nextSlot[ring] >= this.slotsPerSector) h = this.startSector(ring, h);
    const rec = this.slot;
    rec.set(payload.subarray(0, this.payloadSize), 0);
    putU32(rec, this.payloadSize, crc32(rec, 0, this.payloadSize));
    const slot = this.nextSlot[ring];
    this.write(h * this.store.sectorSize + slot * this.recordSize, rec);
    this.nextSlot[ring] = slot + 1;
    if (this.firstKey[h] === KEY_NONE) this.firstKey[h] = u32(rec, 0);
  }

  /** Erases the sector after `h` in the ring and makes it the newest, with a header. */
  private startSector(ring: number, h: number): number {
    const first = this.first[ring];
    const n = this.count[ring];
    const next = h < 0 ? first : first + ((h - first + 1) % n);
    const seq = h < 0 ? 1 : this.seq[h] + 1;
    this.seq[next] = 0;
    this.firstKey[next] = KEY_NONE;
    this.store.erase(next);
    this.stats.erases++;
    this.stats.erasesBySector[next]++;
    const hdr = this.slot;
    hdr.fill(0xff);
    putU32(hdr, 0, MAGIC);
    hdr[4] = ring;
    hdr[5] = this.recordSize;
    hdr[6] = 0;
    hdr[7] = 0;
    putU32(hdr, 8, seq);
    putU32(hdr, 12, crc32(hdr, 0, 12));
    this.write(next * this.store.sectorSize, hdr.subarray(0, HEADER_BYTES));
    this.seq[next] = seq;
    this.head[ring] = next;
    this.nextSlot[ring] = 1;
    return next;
  }

  private write(offset: number, bytes: Uint8Array): void {
    this.store.write(offset, bytes);
    this.stats.writes++;
    this.stats.bytesWritten += bytes.length;
  }

  /**
   * Calls `fn` with every valid record of a ring whose key is above `afterKey`, oldest first,
   * until it returns false. The bytes passed are valid only during the call. Reads one sector at
   * a time, and skips sectors that end before `afterKey`.
   */
  forEach(ring: number, afterKey: number, fn: (record: Uint8Array, key: number) => boolean | void): void {
    const h = this.head[ring];
    if (h < 0) return;
    const first = this.first[ring];
    const n = this.count[ring];
    const newest = this.seq[h];
    const size = this.store.sectorSize;
    for (let k = 1; k <= n; k++) {
      const s = first + ((h - first + k) % n);
      const q = this.seq[s];
      // a sector of an older round, or without a valid header, holds nothing of this round
      if (q === 0 || q > newest || newest - q >= n) continue;
      if (s !== h) {
        // the next sector's first key bounds this one's keys from above
        const after = first + ((s - first + 1) % n);
        if (this.seq[after] === q + 1 && this.firstKey[after] !== KEY_NONE && this.firstKey[after] <= afterKey) continue;
      }
      const b = this.store.read(s * size, size);
      const end = s === h ? this.nextSlot[ring] : this.slotsPerSector;
      for (let i = 1; i < end; i++) {
        const o = i * this.recordSize;
        if (free(b, o, o + this.recordSize)) continue;
        if (!this.valid(b, o)) {
          this.stats.corrupt++;
          continue;
        }
        const key = u32(b, o);
        if (key <= afterKey) continue;
        if (fn(b.subarray(o, o + this.payloadSize), key) === false) return;
      }
    }
  }

  /** The newest valid record of a ring copied into `into` (payloadSize bytes); false when none. */
  newest(ring: number, into: Uint8Array): boolean {
    const h = this.head[ring];
    if (h < 0) return false;
    const first = this.first[ring];
    const n = this.count[ring];
    const size = this.store.sectorSize;
    // the newest sector may hold only a torn record: then the one before
    for (let k = 0; k < n; k++) {
      const s = first + ((h - first - k + n * 2) % n);
      const q = this.seq[s];
      if (q === 0 || q > this.seq[h] || this.seq[h] - q >= n) continue;
      const b = this.store.read(s * size, size);
      const end = s === h ? this.nextSlot[ring] : this.slotsPerSector;
      for (let i = end - 1; i >= 1; i--) {
        const o = i * this.recordSize;
        if (free(b, o, o + this.recordSize) || !this.valid(b, o)) continue;
        into.set(b.subarray(o, o + this.payloadSize), 0);
        return true;
      }
    }
    return false;
  }
}
