/**
 * The HAL Storage on `preference` (ESP-IDF NVS, modules/files/preference/esp32/modPreference.c).
 *
 * NVS limits (documentation/files/files.md): domain and key names of at most 15 characters,
 * values of at most 4000 bytes. A config with templates can be several times that, so a value is
 * stored as UTF-8 bytes cut into blobs of PART_BYTES.
 *
 * Crash safety. Preference.set erases the key before writing it (an ESP-IDF workaround in
 * modPreference.c), so no single key is ever replaced atomically. Each name therefore has two
 * slots, a and b, each with its own parts and one header key:
 *
 *   <p>.ha = "1:<seq>:<parts>:<bytes>:<fnv1a>"   <p>.a0 … <p>.aN   (blobs)
 *   <p>.hb = …                                   <p>.b0 … <p>.bN
 *
 * A write goes to the slot that does NOT hold the newest value: it erases that slot's header
 * first, writes the new parts, and writes the header last, with a sequence number one higher.
 * A reader takes the slot with the highest sequence whose parts are all there and match the
 * length and checksum, and falls back to the other slot. A crash at any moment therefore leaves
 * the previous value readable; the old slot is kept as the fallback until the next write. Two
 * copies cost NVS space: the partition table (hal/moddable/partitions.csv) gives NVS 80 KB
 * instead of the default 24 KB.
 *
 * Every set writes flash: only user actions call write (never per frame).
 */
import Preference from 'preference';
import type { Storage } from '../hal.js';

/** NVS namespace (at most 15 characters). */
const DOMAIN = 'meterbridge';
/** Blob size per key: under NVS's 4000-byte value limit, a multiple of NVS's 32-byte entries. */
const PART_BYTES = 3968;
/** At most this many parts per value (keys stay at most 15 characters). */
const MAX_PARTS = 99;
const SLOTS = Object.freeze(['a', 'b'] as const);
type Slot = (typeof SLOTS)[number];

interface Header {
  slot: Slot;
  seq: number;
  parts: number;
  bytes: number;
  sum: number;
}

/** FNV-1a, 32 bits: a cheap end-to-end check over the joined parts. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h >>> 0;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * The key prefix of a name: at most 9 characters of [A-Za-z0-9_], so `<prefix>.<slot><index>`
 * stays within 15. Longer or unusual names get 4 characters plus a 4-digit hash.
 */
export function keyPrefix(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (clean.length <= 9 && clean === name && clean.length > 0) return clean;
  const h = fnv1a(new Uint8Array(ArrayBuffer.fromString(name)));
  return clean.slice(0, 4) + hex8(h).slice(0, 4);
}

export class PreferenceStorage implements Storage {
  constructor(private readonly domain: string = DOMAIN) {}

  read(name: string): string | null {
    const p = keyPrefix(name);
    const headers = this.headers(p).sort((x, y) => y.seq - x.seq);
    for (const h of headers) {
      const bytes = this.load(p, h);
      if (bytes === null) continue;
      try {
        return String.fromArrayBuffer(bytes.buffer);
      } catch {
        // malformed UTF-8: try the older slot
      }
    }
    return null;
  }

  write(name: string, text: string): void {
    const p = keyPrefix(name);
    const bytes = new Uint8Array(ArrayBuffer.fromString(text));
    const parts = Math.ceil(bytes.length / PART_BYTES); // 0 for an empty text: the header alone
    if (parts > MAX_PARTS) throw new Error(`'${name}' is too large to store (${bytes.length} bytes; at most ${MAX_PARTS * PART_BYTES})`);
    const headers = this.headers(p);
    const newest = headers.reduce<Header | null>((best, h) => (best === null || h.seq > best.seq ? h : best), null);
    const slot: Slot = newest?.slot === 'a' ? 'b' : 'a';
    const seq = (newest?.seq ?? 0) + 1;
    const old = headers.find((h) => h.slot === slot);
    try {
      // 1. the target slot stops being readable, 2. its parts, 3. its header
      this.remove1(`${p}.h${slot}`);
      for (let i = 0; i < parts; i++) {
        const start = i * PART_BYTES;
        Preference.set(this.domain, `${p}.${slot}${i}`, bytes.slice(start, Math.min(bytes.length, start + PART_BYTES)).buffer);
      }
      Preference.set(this.domain, `${p}.h${slot}`, `1:${seq}:${parts}:${bytes.length}:${hex8(fnv1a(bytes))}`);
    } catch (e) {
      throw new Error(`could not save '${name}' in the device's settings storage (NVS): ${(e as Error).message}`);
    }
    // parts of an older, longer value in this slot are garbage now
    if (old) for (let i = parts; i < old.parts; i++) this.remove1(`${p}.${slot}${i}`);
  }

  remove(name: string): void {
    const p = keyPrefix(name);
    const headers = this.headers(p);
    // headers first: from then on nothing is readable, whatever happens to the parts
    for (const s of SLOTS) this.remove1(`${p}.h${s}`);
    for (const h of headers) for (let i = 0; i < h.parts; i++) this.remove1(`${p}.${h.slot}${i}`);
  }

  private remove1(key: string): void {
    try {
      Preference.delete(this.domain, key);
    } catch {
      // best effort: a key that cannot be erased is overwritten or ignored later
    }
  }

  private headers(p: string): Header[] {
    const out: Header[] = [];
    for (const slot of SLOTS) {
      let raw: unknown;
      try {
        raw = Preference.get(this.domain, `${p}.h${slot}`);
      } catch {
        continue;
      }
      if (typeof raw !== 'string') continue;
      const f = raw.split(':');
      if (f.length !== 5 || f[0] !== '1') continue;
      const seq = Number(f[1]);
      const parts = Number(f[2]);
      const bytes = Number(f[3]);
      const sum = parseInt(f[4], 16);
      if (!Number.isInteger(seq) || !Number.isInteger(parts) || parts < 0 || parts > MAX_PARTS || !Number.isInteger(bytes) || bytes < 0 || !Number.isFinite(sum)) continue;
      out.push({ slot, seq, parts, bytes, sum });
    }
    return out;
  }

  /** The joined, checked bytes of one slot, or null when a part is missing or does not match. */
  private load(p: string, h: Header): Uint8Array<ArrayBuffer> | null {
    const out = new Uint8Array(h.bytes);
    let at = 0;
    for (let i = 0; i < h.parts; i++) {
      let part: unknown;
      try {
        part = Preference.get(this.domain, `${p}.${h.slot}${i}`);
      } catch {
        return null;
      }
      if (!(part instanceof ArrayBuffer) || at + part.byteLength > h.bytes) return null;
      out.set(new Uint8Array(part), at);
      at += part.byteLength;
    }
    if (at !== h.bytes || fnv1a(out) !== h.sum) return null;
    return out;
  }
}
