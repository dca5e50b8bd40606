/**
 * The streaming half shared by both link layers: a fixed buffer that bytes are copied into as they
 * arrive in chunks of any size, a scan for the start byte, resynchronisation after garbage, and
 * the running stream offset. Subclasses only say whether a frame starts at buffer[0] (see
 * `tryFrame`). Memory is bounded by the capacity given at construction, whatever the input.
 */
import type { Assembler } from './assembler.js';
import { decodeError, type DecodeError } from '../errors.js';

export interface LinkSink {
  /** A frame passed every link-level check: it is bytes[start, end), from streamOffset. */
  frame(bytes: Uint8Array, start: number, end: number, streamOffset: number): void;
  /** A complete APDU is in assembler.buffer[0, assembler.length). */
  apdu(assembler: Assembler): void;
  error(e: DecodeError): void;
}

/** Results of tryFrame besides a positive number of bytes consumed by a good frame. */
export const NEED_MORE = 0;
export const SKIP = -1; // not a frame here (error reported, or none to report): drop one byte
export const FILL = -2; // a byte that legitimately stands between frames (HDLC flags): drop it silently
export const RESYNC = -3; // drop `resyncAt` bytes silently: a header already reported as noise, up to the next frame

export abstract class FrameScanner {
  protected readonly buf: Uint8Array;
  protected len = 0;
  /** stream offset of buf[0] */
  protected base = 0;
  private garbageStart = -1;
  private garbageCount = 0;
  /** after a rejected frame its remaining bytes are not reported again as garbage */
  private quietUntil = 0;
  /** with RESYNC: where in buf the next frame starts */
  protected resyncAt = 0;

  constructor(
    capacity: number,
    protected readonly startByte: number,
    protected sink: LinkSink,
  ) {
    this.buf = new Uint8Array(capacity);
  }

  setSink(sink: LinkSink): void {
    this.sink = sink;
  }

  /** Feeds bytes[start, end); any chunking of the same stream gives the same events. */
  push(bytes: Uint8Array, start = 0, end = bytes.length): void {
    while (start < end) {
      const room = this.buf.length - this.len;
      const n = end - start < room ? end - start : room;
      const buf = this.buf;
      let o = this.len;
      for (let i = start; i < start + n; i++) buf[o++] = bytes[i];
      this.len = o;
      start += n;
      this.scan(false);
    }
  }

  /** The input ended: a frame cut short is reported as truncated; the scanner can be fed again. */
  finish(): void {
    this.scan(true);
    this.flushGarbage();
    this.onFinish();
  }

  protected onFinish(): void {}

  protected report(kind: DecodeError['kind'], offset: number, detail: string): void {
    this.flushGarbage();
    this.sink.error(decodeError(kind, offset, detail));
  }

  /** A good frame of `length` bytes at buf[0]: garbage before it is reported first, in stream order. */
  protected goodFrame(length: number): void {
    this.flushGarbage();
    this.sink.frame(this.buf, 0, length, this.base);
  }

  /** Remember that bytes up to this stream offset belong to a frame already reported. */
  protected quiet(untilStreamOffset: number): void {
    if (untilStreamOffset > this.quietUntil) this.quietUntil = untilStreamOffset;
  }

  /**
   * Looks at buf[0, len): returns the number of bytes of a good frame (already delivered to the
   * sink), NEED_MORE, SKIP, FILL or RESYNC. Called only when buf[0] is the start byte.
   */
  protected abstract tryFrame(atEnd: boolean): number;

  private scan(atEnd: boolean): void {
    for (;;) {
      if (this.len === 0) return;
      if (this.buf[0] !== this.startByte) {
        let i = 1;
        while (i < this.len && this.buf[i] !== this.startByte) i++;
        this.noteGarbage(i);
        this.drop(i);
        continue;
      }
      const r = this.tryFrame(atEnd);
      if (r === NEED_MORE) {
        if (atEnd) {
          // a frame cut short; complete frames may still follow inside the bytes it claimed
          this.report('truncated', this.base, `the input ended ${this.len} bytes into a frame that announced more`);
          this.quiet(this.base + this.len);
          this.drop(1);
          continue;
        }
        if (this.len < this.buf.length) return;
        // A header announced more than the buffer holds: the subclass rejects such lengths, so
        // this only guards against a subclass bug turning into a stalled stream.
        this.report('overflow', this.base, `a frame larger than the ${this.buf.length}-byte buffer`);
        this.drop(1);
        continue;
      }
      if (r === FILL) {
        this.drop(1);
        continue;
      }
      if (r === RESYNC) {
        this.drop(this.resyncAt);
        continue;
      }
      if (r === SKIP) {
        this.noteGarbage(1);
        this.drop(1);
        continue;
      }
      this.flushGarbage();
      this.drop(r);
    }
  }

  private noteGarbage(n: number): void {
    let from = this.base;
    if (from < this.quietUntil) {
      const quietN = this.quietUntil - from < n ? this.quietUntil - from : n;
      from += quietN;
      n -= quietN;
      if (n === 0) return;
    }
    if (this.garbageCount === 0) this.garbageStart = from;
    this.garbageCount += n;
  }

  private flushGarbage(): void {
    if (this.garbageCount === 0) return;
    const n = this.garbageCount;
    this.garbageCount = 0;
    this.sink.error(
      decodeError('garbage', this.garbageStart, `${n} byte${n === 1 ? '' : 's'} outside any frame (line noise, a wrong baud rate or parity, or a frame cut short)`),
    );
  }

  private drop(n: number): void {
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    this.base += n;
  }
}
