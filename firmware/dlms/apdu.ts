/**
 * DLMS APDU headers (DLMS UA Green Book / IEC 62056-5-3) as meters push them:
 *
 *   general-glo-ciphering   DB | 08 system-title(8) | length (A-XDR) | SC | IC(4) | ciphertext | tag(12)?
 *   data-notification       0F | long-invoke-id-and-priority(4) | date-time (len 0 or 0C + 12) | body (Data)
 *   general-block-transfer  E0 | block-control | block-number(2) | ack(2) | length (A-XDR) | block data
 *
 * SC is the security control byte: suite in the low nibble (masked), 0x10 authentication,
 * 0x20 encryption, 0x80 compression. The GCM IV is system-title ‖ IC; the AAD for a tag is
 * SC ‖ authentication key (‖ plaintext when only authenticated). This layer parses headers; the
 * crypto is in ../crypto, the meaning of the body in cosem.ts.
 */
import {
  GBT_LAST_BLOCK,
  GCM_TAG_LENGTH,
  SC_AUTHENTICATION,
  SC_COMPRESSION,
  SC_ENCRYPTION,
  SYSTEM_TITLE_LENGTH,
  TAG_GBT,
} from '../constants.js';
import { decodeError, type DecodeError } from '../errors.js';
import { hex2 } from '../bytes.js';
import { readLength } from './axdr.js';
import type { Assembler } from '../link/assembler.js';

export interface GloHeader {
  systemTitleAt: number;
  securityControl: number;
  invocationCounter: number;
  /** the protected data: ciphertext, or plaintext when only authenticated */
  dataStart: number;
  dataEnd: number;
  /** -1 when no tag follows */
  tagStart: number;
}

export function newGloHeader(): GloHeader {
  return { systemTitleAt: 0, securityControl: 0, invocationCounter: 0, dataStart: 0, dataEnd: 0, tagStart: -1 };
}

const lengthScratchHolder = { value: 0, next: 0 };

/** Parses a general-glo-ciphering (or ded-) header at b[start] (the tag byte). */
export function parseGloCiphering(b: Uint8Array, start: number, end: number, out: GloHeader, len = lengthScratchHolder): DecodeError | null {
  let p = start + 1;
  if (p >= end) return decodeError('truncated', p, 'ciphered APDU ends after its tag');
  const titleLength = b[p];
  if (titleLength !== SYSTEM_TITLE_LENGTH) return decodeError('length', p, `system title length is ${titleLength}, DLMS requires 8`);
  out.systemTitleAt = p + 1;
  if (p + 1 + SYSTEM_TITLE_LENGTH > end) return decodeError('truncated', p + 1, `ciphered APDU ends inside its system title (${end - p - 1} of 8 bytes)`);
  p += 1 + SYSTEM_TITLE_LENGTH;
  if (!readLength(b, p, end, len)) return decodeError('truncated', p, 'ciphered APDU ends inside its length field');
  const contentLength = len.value;
  p = len.next;
  if (contentLength < 5) return decodeError('length', p, `ciphered content length ${contentLength} leaves no room for the security header`);
  if (p + contentLength > end) return decodeError('truncated', p, `ciphered content announces ${contentLength} bytes, ${end - p} arrived`);
  const contentEnd = p + contentLength;
  const sc = b[p];
  if (sc & SC_COMPRESSION) return decodeError('security', p, `security control 0x${hex2(sc)} asks for compression, which meters do not use and we do not support`);
  if ((sc & (SC_AUTHENTICATION | SC_ENCRYPTION)) === 0) return decodeError('security', p, `security control 0x${hex2(sc)} names neither encryption nor authentication`);
  out.securityControl = sc;
  out.invocationCounter = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
  out.dataStart = p + 5;
  if (sc & SC_AUTHENTICATION) {
    if (contentEnd - out.dataStart < GCM_TAG_LENGTH) return decodeError('truncated', out.dataStart, 'authenticated APDU too short for its 12-byte tag');
    out.dataEnd = contentEnd - GCM_TAG_LENGTH;
    out.tagStart = out.dataEnd;
  } else {
    out.dataEnd = contentEnd;
    out.tagStart = -1;
  }
  return null;
}

export interface NotificationHeader {
  invokeId: number;
  /** offset of the 12 date-time bytes, -1 when the meter sent none */
  dateTimeAt: number;
  bodyStart: number;
}

export function newNotificationHeader(): NotificationHeader {
  return { invokeId: 0, dateTimeAt: -1, bodyStart: 0 };
}

/** Parses a data-notification header at b[start] (the 0x0F tag). */
export function parseDataNotification(b: Uint8Array, start: number, end: number, out: NotificationHeader): DecodeError | null {
  let p = start + 1;
  if (p + 5 > end) return decodeError('truncated', p, 'data-notification ends inside its invoke id');
  out.invokeId = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  p += 4;
  // date-time is an OCTET STRING: 0x00 (absent) or 0x0C + 12 bytes; some meters add the 0x09 tag
  if (b[p] === 0x09 && p + 1 < end && b[p + 1] === 12) p++;
  const dtLength = b[p];
  if (dtLength === 0) {
    out.dateTimeAt = -1;
    p++;
  } else if (dtLength === 12) {
    if (p + 13 > end) return decodeError('truncated', p, 'data-notification ends inside its date-time');
    out.dateTimeAt = p + 1;
    p += 13;
  } else return decodeError('length', p, `data-notification date-time has length ${dtLength}, expected 0 or 12`);
  out.bodyStart = p;
  return null;
}

/**
 * Joins general-block-transfer blocks (Landis+Gyr pushes one ciphered APDU over several HDLC
 * frames this way) into one APDU. Blocks must come in order from 1.
 */
export class GbtJoiner {
  private expected = 1;
  private readonly len = { value: 0, next: 0 };

  constructor(readonly out: Assembler) {}

  reset(): void {
    this.out.reset();
    this.expected = 1;
  }

  /**
   * Takes the E0 block in src.buffer[start, end). Returns true when the last block completed an
   * APDU in `out`, false when more blocks are needed, or an error (the partial APDU is dropped).
   */
  push(src: Assembler, start: number, end: number): boolean | DecodeError {
    const b = src.buffer;
    if (b[start] !== TAG_GBT || start + 6 > end) return decodeError('truncated', src.streamOffset(start), 'general-block-transfer header is cut off');
    const control = b[start + 1];
    const number = (b[start + 2] << 8) | b[start + 3];
    if (!readLength(b, start + 6, end, this.len)) return decodeError('truncated', src.streamOffset(start + 6), 'general-block-transfer length is cut off');
    const dataStart = this.len.next;
    const dataEnd = dataStart + this.len.value;
    if (dataEnd > end) {
      this.reset();
      return decodeError('truncated', src.streamOffset(start + 6), `block ${number} announces ${this.len.value} bytes, ${end - dataStart} arrived`);
    }
    if (number === 1 && !this.out.empty) this.reset(); // a new APDU; the old one lost its tail
    if (number !== this.expected) {
      const was = this.expected;
      this.reset();
      return decodeError('segment-order', src.streamOffset(start + 2), `general-block-transfer block ${number} arrived where block ${was} was expected`);
    }
    if (!this.out.appendFrom(src, dataStart, dataEnd)) {
      this.reset();
      return decodeError('overflow', src.streamOffset(start), `general-block-transfer APDU exceeds ${this.out.buffer.length} bytes`);
    }
    this.expected++;
    if (control & GBT_LAST_BLOCK) {
      this.expected = 1;
      return true;
    }
    return false;
  }

  get pending(): boolean {
    return !this.out.empty;
  }
}
