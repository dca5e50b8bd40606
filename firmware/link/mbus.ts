/**
 * M-Bus link layer (EN 13757-2) with the DLMS transport of IEC 62056-7-3, as smart meters push
 * on their wired customer interface:
 *
 *   68 L L 68 | C A CI | STSAP DTSAP | user data ... | CS 16
 *             '---------- L bytes ----------------'
 *   CS = sum of the L bytes mod 256. CI 0x00-0x1F: low nibble = segment number, 0x10 = last.
 *
 * Kaifa MA309M pushes 68 FA FA 68 (CI 0x00) + a short second frame (CI 0x11, L 0x14 at Netz NÖ,
 * 0x26/0x72 at TINETZ and KSM-West); Elster and others push one frame with CI 0x10. Some
 * Sagemcom T210-D at EVN announce 68 01 01 68 for a 257-byte frame: L overflowed and the checksum
 * is right for the real length, so an L below the minimum is read as L + 256.
 * Noise that looks like a header (68 FF FF 68) announces up to 262 bytes: while such a header waits
 * for them, a complete frame found in the bytes after it shows the header was noise, and that frame
 * is delivered at once (see `innerFrame`), so noise never holds back a good push.
 * This layer does not know what the user data means: it delivers joined segments to the sink.
 */
import {
  MBUS_CI_DLMS_MAX,
  MBUS_CI_LAST_SEGMENT,
  MBUS_CI_SEQUENCE_MASK,
  MBUS_MIN_L,
  MBUS_START,
  MBUS_STOP,
  MBUS_TPDU_HEADER,
} from '../constants.js';
import { hex2 } from '../bytes.js';
import { Assembler } from './assembler.js';
import { FrameScanner, NEED_MORE, RESYNC, SKIP, type LinkSink } from './scanner.js';

/** 258 data bytes (L up to 2 + 256) + 6 framing bytes, with room for the next header. */
const FRAME_BUFFER = 272;

export class MbusLink extends FrameScanner {
  readonly assembler: Assembler;
  private nextSegment = 0;

  constructor(sink: LinkSink, apduCapacity = 2048) {
    super(FRAME_BUFFER, MBUS_START, sink);
    this.assembler = new Assembler(apduCapacity);
  }

  protected override tryFrame(): number {
    const b = this.buf;
    if (this.len < 4) return NEED_MORE;
    if (b[3] !== MBUS_START) return SKIP; // 68 inside garbage, not a header
    if (b[1] !== b[2]) {
      this.report('length', this.base + 1, `M-Bus length bytes differ (0x${hex2(b[1])} and 0x${hex2(b[2])})`);
      return SKIP;
    }
    let l = b[1];
    if (l < MBUS_MIN_L) l += 256; // the EVN Sagemcom length overflow
    const total = l + 6;
    const inner = this.innerFrame(total);
    if (inner > 0) {
      this.report('length', this.base + 1, `M-Bus header announced L=${l}, but a complete frame starts ${inner} bytes after it: the header was noise`);
      this.resyncAt = inner;
      return RESYNC;
    }
    if (this.len < total) return NEED_MORE;
    if (b[total - 1] !== MBUS_STOP) {
      this.report('stop-byte', this.base + total - 1, `M-Bus frame of L=${l} should end in 0x16 but ends in 0x${hex2(b[total - 1])}`);
      this.quiet(this.base + total);
      return SKIP;
    }
    let sum = 0;
    for (let i = 4; i < 4 + l; i++) sum += b[i];
    if ((sum & 0xff) !== b[4 + l]) {
      this.report('checksum', this.base + 4 + l, `M-Bus checksum is 0x${hex2(b[4 + l])}, the frame sums to 0x${hex2(sum & 0xff)}`);
      this.quiet(this.base + total);
      return SKIP;
    }
    this.goodFrame(total);
    this.segment(6, 4 + l);
    return total;
  }

  /**
   * Where a complete, valid frame starts inside the bytes the header at buf[0] claims (0: none).
   * Only frames that end before the claimed end count (a frame ending later does not hold the
   * header's check back), and of those the one that ends first: exactly the frame that byte-by-byte
   * input would complete first, so the outcome does not depend on how the input was chunked.
   */
  private innerFrame(total: number): number {
    const b = this.buf;
    const limit = this.len < total ? this.len : total - 1;
    let best = 0;
    let bestEnd = limit + 1;
    for (let j = 1; j + MBUS_MIN_L + 6 <= limit; j++) {
      if (b[j] !== MBUS_START || b[j + 3] !== MBUS_START || b[j + 1] !== b[j + 2]) continue;
      let l = b[j + 1];
      if (l < MBUS_MIN_L) l += 256;
      const end = j + l + 6;
      if (end >= bestEnd || b[end - 1] !== MBUS_STOP) continue;
      let sum = 0;
      for (let i = j + 4; i < j + 4 + l; i++) sum += b[i];
      if ((sum & 0xff) !== b[j + 4 + l]) continue;
      best = j;
      bestEnd = end;
    }
    return best;
  }

  /** b[6] is CI; user data runs to dataEnd. */
  private segment(ciAt: number, dataEnd: number): void {
    const b = this.buf;
    const ci = b[ciAt];
    const at = this.base + ciAt;
    const a = this.assembler;
    if (ci > MBUS_CI_DLMS_MAX) {
      this.report('unknown-apdu', at, `M-Bus CI field 0x${hex2(ci)} does not carry DLMS (expected 0x00-0x1F)`);
      return;
    }
    const seq = ci & MBUS_CI_SEQUENCE_MASK;
    if (seq === 0) {
      if (!a.empty) this.report('segment-order', at, `a new push began before segment ${this.nextSegment} of the previous one arrived; the previous push was dropped`);
      a.reset();
    } else if (seq !== this.nextSegment || a.empty) {
      this.report(
        'segment-order',
        at,
        a.empty ? `segment ${seq} arrived without the segments before it (segment 0 was lost)` : `segment ${seq} arrived where segment ${this.nextSegment} was expected`,
      );
      a.reset();
      this.nextSegment = 0;
      return;
    }
    const dataStart = ciAt + 1 + MBUS_TPDU_HEADER;
    if (dataStart > dataEnd) {
      this.report('truncated', at, 'M-Bus frame too short for the STSAP and DTSAP bytes');
      a.reset();
      return;
    }
    if (!a.append(b, dataStart, dataEnd, this.base + dataStart)) {
      this.report('overflow', at, `reassembled push exceeds ${a.buffer.length} bytes`);
      a.reset();
      return;
    }
    this.nextSegment = seq + 1;
    if (ci & MBUS_CI_LAST_SEGMENT) {
      this.sink.apdu(a);
      a.reset();
      this.nextSegment = 0;
    }
  }

  protected override onFinish(): void {
    if (!this.assembler.empty) {
      this.report('truncated', this.base, `the input ended before the last segment of a push (segment ${this.nextSegment} missing)`);
      this.assembler.reset();
    }
  }
}

/** Largest APDU share of one long frame: L = 0xFA holds C, A, CI, STSAP, DTSAP and 245 bytes. */
export const MBUS_SEGMENT_DATA = 0xfa - 5;

/**
 * Writes apdu as M-Bus long frames the way a Kaifa meter pushes them (C 0x53, A 0xFF, STSAP 0x01,
 * DTSAP 0x67; CI = segment number, 0x10 on the last). For the simulator and tests.
 */
export function encodeLongFrames(apdu: Uint8Array, out: Uint8Array, segmentData = MBUS_SEGMENT_DATA): number {
  let pos = 0;
  let seq = 0;
  for (let at = 0; at < apdu.length || seq === 0; seq++) {
    const n = Math.min(segmentData, apdu.length - at);
    const last = at + n >= apdu.length;
    const l = n + 5;
    out[pos] = MBUS_START;
    out[pos + 1] = l & 0xff;
    out[pos + 2] = l & 0xff;
    out[pos + 3] = MBUS_START;
    out[pos + 4] = 0x53;
    out[pos + 5] = 0xff;
    out[pos + 6] = (seq & MBUS_CI_SEQUENCE_MASK) | (last ? MBUS_CI_LAST_SEGMENT : 0);
    out[pos + 7] = 0x01;
    out[pos + 8] = 0x67;
    out.set(apdu.subarray(at, at + n), pos + 9);
    let sum = 0;
    for (let i = pos + 4; i < pos + 4 + l; i++) sum += out[i];
    out[pos + 4 + l] = sum & 0xff;
    out[pos + 5 + l] = MBUS_STOP;
    pos += l + 6;
    at += n;
    if (last) break;
  }
  return pos;
}
