/**
 * HDLC link layer of IEC 62056-46 as meters push it on HAN/P1 ports (Norway, Sweden, Denmark,
 * Luxembourg; Wiener Netze, Kärnten, Burgenland, Wels in Austria):
 *
 *   7E | A0 LL (format: type 3, S bit, 11-bit length) | dst (1-4 B) | src (1-4 B) | ctrl |
 *      HCS (2) | E6 E7 00 (LLC, first segment only) info ... | FCS (2) | 7E
 *
 * Addresses end at the first byte with bit 0 set. HCS and FCS are CRC-16/X.25 over everything
 * from the format field, little-endian. A frame with the S bit set continues in the next frame;
 * the info fields are joined. Consecutive frames may share one flag.
 * This layer does not know what the info field means: it delivers joined info fields to the sink
 * (General-Block-Transfer blocks inside them are joined by dlms/apdu.ts).
 */
import { HDLC_FLAG, HDLC_FORMAT_TYPE3, HDLC_LENGTH_MASK, HDLC_SEGMENTED, LLC_DEST, LLC_SRC_RESPONSE } from '../constants.js';
import { hex2 } from '../bytes.js';
import { Assembler } from './assembler.js';
import { FILL, FrameScanner, NEED_MORE, SKIP, type LinkSink } from './scanner.js';

const CRC_TABLE = /* @__PURE__ */ (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/X.25 (reflected 0x1021, init and xorout 0xFFFF) of bytes[start, end). */
export function crc16x25(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]) & 0xff];
  return (crc ^ 0xffff) & 0xffff;
}

/** 11-bit length + 2 flags, and room to start the next frame. */
const FRAME_BUFFER = 2064;
const MIN_LENGTH = 7; // format 2, dst 1, src 1, ctrl 1, FCS 2
const MAX_ADDRESS = 4;

export class HdlcLink extends FrameScanner {
  readonly assembler: Assembler;
  private continuing = false;

  constructor(sink: LinkSink, apduCapacity = 2048) {
    super(FRAME_BUFFER, HDLC_FLAG, sink);
    this.assembler = new Assembler(apduCapacity);
  }

  protected override tryFrame(atEnd: boolean): number {
    const b = this.buf;
    if (this.len >= 2 && b[1] === HDLC_FLAG) return FILL; // idle flags, or the closing flag of the previous frame
    if (this.len === 1 && atEnd) return FILL; // the closing flag of the last frame
    if (this.len < 3) return NEED_MORE;
    if (b[1] >> 4 !== HDLC_FORMAT_TYPE3) return SKIP;
    const length = ((b[1] << 8) | b[2]) & HDLC_LENGTH_MASK;
    if (length < MIN_LENGTH) {
      this.report('length', this.base + 1, `HDLC length ${length} is shorter than any frame`);
      return SKIP;
    }
    const total = length + 2;
    const consumed = length + 1; // the closing flag may open the next frame: leave it
    // addresses: bytes until one with bit 0 set; checked as soon as they are here
    let i = 3;
    for (let side = 0; side < 2; side++) {
      const first = i;
      while (i < this.len && i < length - 1 && (b[i] & 1) === 0 && i - first < MAX_ADDRESS) i++;
      if (i >= this.len) return NEED_MORE;
      i++;
      if (i - first > MAX_ADDRESS || i >= length - 1) {
        this.report('length', this.base + first, `HDLC ${side === 0 ? 'destination' : 'source'} address is longer than 4 bytes or runs into the FCS`);
        this.quiet(this.base + consumed);
        return SKIP;
      }
    }
    i++; // control
    // A frame with an information field has a header checksum (HCS) over format..control: check it
    // as soon as the header is complete, not after the length it announces, so noise such as
    // 7E A7 FF (2047 bytes announced) never holds back the frames that follow it.
    const hasInfo = i < length - 1;
    if (hasInfo) {
      if (this.len < i + 2) return NEED_MORE;
      const hcs = b[i] | (b[i + 1] << 8);
      const hcrc = crc16x25(b, 1, i);
      if (i + 2 > length - 1 || hcs !== hcrc) {
        this.report('checksum', this.base + i, `HDLC HCS is 0x${hcs.toString(16).toUpperCase()}, the header gives 0x${hcrc.toString(16).toUpperCase()}`);
        // what the header announced is not reported again as garbage, but a flag inside it may
        // open the next good frame at once
        this.quiet(this.base + total);
        this.dropPartial();
        return SKIP;
      }
    }
    if (this.len < total) return NEED_MORE;
    if (b[total - 1] !== HDLC_FLAG) {
      this.report('stop-byte', this.base + total - 1, `HDLC frame of length ${length} should end in 0x7E but ends in 0x${hex2(b[total - 1])}`);
      this.quiet(this.base + total);
      this.dropPartial();
      return SKIP;
    }
    const fcs = b[length - 1] | (b[length] << 8);
    const crc = crc16x25(b, 1, length - 1);
    if (fcs !== crc) {
      this.report('checksum', this.base + length - 1, `HDLC FCS is 0x${fcs.toString(16).toUpperCase()}, the frame gives 0x${crc.toString(16).toUpperCase()}`);
      this.quiet(this.base + consumed);
      this.dropPartial();
      return SKIP;
    }
    // the kept closing flag belongs to this frame: it is not garbage if garbage follows
    if (!hasInfo) {
      this.goodFrame(total); // no information field (e.g. an RR or UI without data)
      this.quiet(this.base + total);
      return consumed;
    }
    this.goodFrame(total);
    this.quiet(this.base + total);
    this.info(i + 2, length - 1, (b[1] & HDLC_SEGMENTED) !== 0);
    return consumed;
  }

  private info(start: number, end: number, more: boolean): void {
    const b = this.buf;
    const a = this.assembler;
    if (!this.continuing) {
      a.reset();
      if (end - start >= 3 && b[start] === LLC_DEST && (b[start + 1] === LLC_SRC_RESPONSE || b[start + 1] === LLC_DEST)) start += 3;
    }
    if (!a.append(b, start, end, this.base + start)) {
      this.report('overflow', this.base + start, `joined HDLC segments exceed ${a.buffer.length} bytes`);
      a.reset();
      this.continuing = false;
      return;
    }
    this.continuing = more;
    if (!more) {
      this.sink.apdu(a);
      a.reset();
    }
  }

  /** A damaged segment breaks a segmented push: joining the rest would splice a wrong APDU. */
  private dropPartial(): void {
    if (!this.continuing) return;
    this.continuing = false;
    this.assembler.reset();
  }

  protected override onFinish(): void {
    if (this.continuing) {
      this.report('truncated', this.base, 'the input ended inside a segmented HDLC push (its last segment is missing)');
      this.assembler.reset();
      this.continuing = false;
    }
  }
}

/**
 * Writes info as one HDLC UI frame (dst 0xCF... as the Siemens IM350 sends: dst 1 byte, src 4 bytes)
 * with the LLC header. For the simulator and tests.
 */
export function encodeHdlcFrame(info: Uint8Array, out: Uint8Array): number {
  const header = [0xcf, 0x00, 0x02, 0x00, 0x23, 0x13]; // dst, src (4), control UI
  const length = 2 + header.length + 2 + 3 + info.length + 2;
  let p = 0;
  out[p++] = HDLC_FLAG;
  out[p++] = (HDLC_FORMAT_TYPE3 << 4) | ((length >> 8) & 0x07);
  out[p++] = length & 0xff;
  for (const b of header) out[p++] = b;
  const hcs = crc16x25(out, 1, p);
  out[p++] = hcs & 0xff;
  out[p++] = hcs >> 8;
  out[p++] = LLC_DEST;
  out[p++] = LLC_SRC_RESPONSE;
  out[p++] = 0x00;
  out.set(info, p);
  p += info.length;
  const fcs = crc16x25(out, 1, p);
  out[p++] = fcs & 0xff;
  out[p++] = fcs >> 8;
  out[p++] = HDLC_FLAG;
  return p;
}
