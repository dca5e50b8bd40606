/**
 * What a homeowner and a hobbyist need to know when nothing arrives: the pipeline counters
 * (bytes -> frames -> APDUs -> security byte -> decrypted -> values), when each last happened,
 * the last errors with the bytes around them, the last raw pushes, and a verdict in plain words.
 * Pure bookkeeping: times come from the caller.
 */
import { toHex } from './bytes.js';
import type { DecoderStats } from './decoder.js';
import type { DecodeError, ErrorKind } from './errors.js';

export interface StageTimes {
  byte: number | null;
  frame: number | null;
  apdu: number | null;
  decrypted: number | null;
  reading: number | null;
  error: number | null;
}

export interface ErrorRecord extends DecodeError {
  /** wall-clock ms */
  at: number;
  /** hex of the bytes around the offset, when still in the history */
  context: string | null;
}

export interface RawPush {
  at: number;
  /** the frames of one push, as hex */
  frames: string[];
  /** 'reading' or the error kind it ended with */
  result: 'reading' | ErrorKind;
}

/** The last `size` bytes of the stream with their offsets, to show the bytes around an error. */
export class ByteHistory {
  private readonly buf: Uint8Array;
  private end = 0; // stream offset after the newest byte

  constructor(size = 1024) {
    this.buf = new Uint8Array(size);
  }

  push(bytes: Uint8Array): void {
    const n = this.buf.length;
    for (let i = 0; i < bytes.length; i++) this.buf[(this.end + i) % n] = bytes[i];
    this.end += bytes.length;
  }

  /** bytes pushed so far */
  get total(): number {
    return this.end;
  }

  /** Hex of up to `radius` bytes either side of a stream offset; the byte itself in [brackets]. */
  context(offset: number, radius = 16): string | null {
    const n = this.buf.length;
    const first = Math.max(offset - radius, this.end - n, 0);
    const last = Math.min(offset + radius + 1, this.end);
    if (first >= last || offset < this.end - n) return null;
    let s = '';
    for (let i = first; i < last; i++) {
      const h = toHex(this.buf, i % n, (i % n) + 1);
      s += (i > first ? ' ' : '') + (i === offset ? `[${h}]` : h);
    }
    return s;
  }
}

/** A small ring of the last raw pushes, for "Test key" and the diagnostic bundle. */
export class RawPushRing {
  private readonly ring: RawPush[] = [];
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(private readonly size = 8, private readonly maxBytes = 4096) {}

  frame(bytes: Uint8Array, start: number, end: number): void {
    if (this.pendingBytes + (end - start) > this.maxBytes) return;
    this.pending.push(toHex(bytes, start, end));
    this.pendingBytes += end - start;
  }

  /** The push ended (decoded or rejected): file its frames. */
  close(at: number, result: RawPush['result']): void {
    if (this.pending.length === 0) return;
    this.ring.push({ at, frames: this.pending, result });
    if (this.ring.length > this.size) this.ring.shift();
    this.pending = [];
    this.pendingBytes = 0;
  }

  list(): readonly RawPush[] {
    return this.ring;
  }

  last(): RawPush | null {
    return this.ring.length ? this.ring[this.ring.length - 1] : null;
  }
}

export interface Verdict {
  level: 'ok' | 'warning' | 'error';
  message: string;
}

/** The plain-language verdict, from the most basic stage that is not working. */
export function verdict(s: DecoderStats, times: StageTimes, now: number, startedAt: number, silenceMs = 60_000): Verdict {
  const since = (t: number | null) => (t === null ? Infinity : now - t);
  if (s.bytes === 0) {
    if (now - startedAt < silenceMs) return { level: 'ok', message: 'waiting for the first data from the meter' };
    return { level: 'error', message: `no bytes from the meter for ${Math.round((now - startedAt) / 1000)} s: check the wiring, and whether the customer interface is activated at your grid operator` };
  }
  if (since(times.byte) > silenceMs) return { level: 'error', message: `no data from the meter for ${Math.round(since(times.byte) / 1000)} s: check the cable` };
  if (s.frames === 0) {
    return { level: 'error', message: 'bytes arrive but no valid frame: check the serial settings (2400 baud, 8 data bits, even parity, 1 stop bit) and the wiring' };
  }
  const e = s.errorsByKind;
  if (s.readings === 0 || since(times.reading) > silenceMs) {
    if ((e['missing-key'] ?? 0) > 0) return { level: 'error', message: 'frames arrive encrypted and no key is set: enter the key from your grid operator' };
    if ((e['wrong-key-or-corrupt'] ?? 0) + (e['tag-mismatch'] ?? 0) > 0) return { level: 'error', message: 'frames arrive but cannot be decrypted: check the key (and the authentication key, if your grid operator gave you one)' };
    if ((e.checksum ?? 0) > 0) return { level: 'error', message: 'frames arrive damaged (checksum errors): check the cable, the parity setting and the M-Bus adapter' };
    if ((e.implausible ?? 0) > 0 && s.lastError?.kind === 'implausible') return { level: 'error', message: `pushes decode but are refused as implausible, so nothing is published: ${s.lastError.detail}` };
    if ((e.layout ?? 0) + (e.axdr ?? 0) + (e['unknown-apdu'] ?? 0) > 0) return { level: 'error', message: 'frames decrypt but their content is not understood: please report the diagnostic bundle' };
    return { level: 'warning', message: 'frames arrive but no complete push yet' };
  }
  if ((e.checksum ?? 0) > s.frames / 10) return { level: 'warning', message: `receiving readings, but ${e.checksum} frames were damaged: check the cable and the adapter` };
  return { level: 'ok', message: `receiving readings (${s.lastValueCount} values, the last ${Math.round(since(times.reading) / 1000)} s ago)` };
}
