/**
 * A fixed buffer that joins the pieces of one APDU (M-Bus segments, HDLC segments, GBT blocks)
 * and remembers where each piece came from in the input stream, so an error deep inside a
 * reassembled (even decrypted) APDU can still name the byte a person has to look at.
 * It knows nothing about framing; callers decide what a piece is.
 */

const MAX_PIECES = 32;

export class Assembler {
  readonly buffer: Uint8Array;
  length = 0;
  /** piece k starts at apduStart[k] in buffer and came from streamStart[k] in the input */
  private readonly apduStart = new Int32Array(MAX_PIECES);
  private readonly streamStart = new Float64Array(MAX_PIECES);
  private pieces = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  reset(): void {
    this.length = 0;
    this.pieces = 0;
  }

  get empty(): boolean {
    return this.length === 0 && this.pieces === 0;
  }

  /** Appends src[start, end) that began at streamOffset. False when it does not fit. */
  append(src: Uint8Array, start: number, end: number, streamOffset: number): boolean {
    const n = end - start;
    if (this.length + n > this.buffer.length || this.pieces >= MAX_PIECES) return false;
    this.apduStart[this.pieces] = this.length;
    this.streamStart[this.pieces] = streamOffset;
    this.pieces++;
    // a plain loop: subarray() would allocate a view per piece
    const dst = this.buffer;
    let o = this.length;
    for (let i = start; i < end; i++) dst[o++] = src[i];
    this.length = o;
    return true;
  }

  /** Appends from another assembler's buffer, keeping the original stream positions. */
  appendFrom(other: Assembler, start: number, end: number): boolean {
    if (this.length + (end - start) > this.buffer.length) return false;
    let pos = start;
    while (pos < end) {
      const k = other.pieceAt(pos);
      const pieceEnd = k + 1 < other.pieces ? other.apduStart[k + 1] : other.length;
      const stop = pieceEnd < end ? pieceEnd : end;
      if (!this.append(other.buffer, pos, stop, other.streamStart[k] + (pos - other.apduStart[k]))) return false;
      pos = stop;
    }
    return true;
  }

  private pieceAt(offset: number): number {
    let k = this.pieces - 1;
    while (k > 0 && this.apduStart[k] > offset) k--;
    return k;
  }

  /** The input-stream offset of buffer[offset]. */
  streamOffset(offset: number): number {
    if (this.pieces === 0) return offset;
    const k = this.pieceAt(offset);
    return this.streamStart[k] + (offset - this.apduStart[k]);
  }
}
