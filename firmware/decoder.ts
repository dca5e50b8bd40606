/**
 * The pipeline the firmware runs, sans I/O: bytes in, Readings and DecodeErrors out.
 *
 *   bytes -> link (M-Bus | HDLC | raw APDU) -> APDU -> GBT join -> glo-ciphering: decrypt in place
 *         -> data-notification -> A-XDR nodes -> COSEM mapping -> Reading
 *                             \-> DSMR P1 text ----------------/
 *
 * Every buffer is allocated once, here; per push the only allocation is the Reading itself (and
 * the strings in it). Nothing throws on bad input: each problem is one DecodeError, counted in
 * `stats`, and the next good push decodes.
 */
import { DSMR_START, SC_AUTHENTICATION, SC_ENCRYPTION, SYSTEM_TITLE_LENGTH, TAG_DATA_NOTIFICATION, TAG_DED_CIPHER, TAG_GBT, TAG_GLO_CIPHER, GCM_TAG_LENGTH, HDLC_FLAG, MBUS_START } from './constants.js';
import type { CipherKey, Crypto } from './crypto/crypto.js';
import { AxdrTable, decodeData } from './dlms/axdr.js';
import { GbtJoiner, newGloHeader, newNotificationHeader, parseDataNotification, parseGloCiphering } from './dlms/apdu.js';
import { mapNotification, newMapScratch, reconcileClock, setTimestamp } from './dlms/cosem.js';
import { parseDsmr } from './dlms/dsmr.js';
import { decodeError, type DecodeError, type ErrorKind } from './errors.js';
import { hex2, toHex } from './bytes.js';
import type { AuthenticationKey, EncryptionKey } from './keys.js';
import { Assembler } from './link/assembler.js';
import { HdlcLink } from './link/hdlc.js';
import { MbusLink } from './link/mbus.js';
import type { LinkSink } from './link/scanner.js';
import { emptyReading, ValueList, type Reading } from './reading.js';
import { GUARD_REJECT, GUARD_RESYNC, PlausibilityGuard } from './guard.js';

export type Framing = 'auto' | 'mbus' | 'hdlc' | 'apdu';

export interface DecoderKeys {
  encryption?: EncryptionKey | null;
  authentication?: AuthenticationKey | null;
}

export interface DecoderStats {
  /** bytes fed in */
  bytes: number;
  /** frames that passed the link checks */
  frames: number;
  /** complete APDUs (segments and blocks joined) */
  apdus: number;
  /** the security control byte of the last ciphered push, -1 before any */
  lastSecurityControl: number;
  /** ciphered pushes that decrypted to a valid APDU */
  decrypted: number;
  readings: number;
  /** values in the last Reading */
  lastValueCount: number;
  errors: number;
  errorsByKind: Partial<Record<ErrorKind, number>>;
  lastError: DecodeError | null;
  /** which link layer the stream turned out to use (auto framing) */
  framing: Framing;
}

export interface DecoderOptions {
  crypto: Crypto;
  keys?: DecoderKeys;
  framing?: Framing;
  onReading: (r: Reading) => void;
  onError?: (e: DecodeError) => void;
  /** called for every frame that passes the link checks (for a diagnostics ring of raw pushes) */
  onFrame?: (bytes: Uint8Array, start: number, end: number) => void;
  /** judges every Reading before it is published; a rejected one becomes an `implausible` error */
  guard?: PlausibilityGuard | null;
  /** when a push arrived (monotonic ms), for the guard's rate rules when the meter sends no clock */
  now?: () => number;
  /** things worth a log line that are not errors (the guard starting again after a meter restart) */
  onNotice?: (message: string) => void;
}

const RAW_CAPACITY = 8192;
/** auto framing: errors each link finds before the stream shows its framing, kept to report
 *  those of the link that wins (a stream that never shows one reports them after UNLOCKED_AFTER) */
const PRELOCK_ERRORS = 16;
const UNLOCKED_AFTER = 4096;

export class MeterDecoder {
  readonly stats: DecoderStats = {
    bytes: 0, frames: 0, apdus: 0, lastSecurityControl: -1, decrypted: 0, readings: 0, lastValueCount: 0,
    errors: 0, errorsByKind: {}, lastError: null, framing: 'auto',
  };
  private readonly crypto: Crypto;
  private encKey: CipherKey | null = null;
  private authKey: Uint8Array | null = null;
  private mbus: MbusLink | null;
  private hdlc: HdlcLink | null;
  private readonly raw: Assembler | null;
  private locked: 'mbus' | 'hdlc' | null = null;
  /** auto framing gave up waiting for a frame: both links report their errors directly */
  private unlocked = false;
  private readonly prelock: { mbus: DecodeError[]; hdlc: DecodeError[] } = { mbus: [], hdlc: [] };
  private readonly gbt = new GbtJoiner(new Assembler(2048));
  /** 256 nodes: the longest real list (Kamstrup, 36 values) needs about 140 */
  private readonly table = new AxdrTable(256);
  private readonly glo = newGloHeader();
  private readonly notification = newNotificationHeader();
  /** the values of the push being decoded, in order: what the guard reads */
  private readonly values = new ValueList();
  private readonly mapScratch = newMapScratch(this.values);
  private readonly iv = new Uint8Array(12);
  private readonly aad = new Uint8Array(17);
  private readonly tag = new Uint8Array(GCM_TAG_LENGTH);
  private readonly len = { value: 0, next: 0 };
  private readonly lastTitle = new Uint8Array(SYSTEM_TITLE_LENGTH);
  private lastTitleText = '';
  private readonly onReading: (r: Reading) => void;
  private readonly onError: ((e: DecodeError) => void) | undefined;
  private readonly onFrame: DecoderOptions['onFrame'];
  private readonly guard: PlausibilityGuard | null;
  private readonly now: (() => number) | undefined;
  private readonly onNotice: ((message: string) => void) | undefined;
  /** stream offset of the APDU being decoded, for errors about the whole push */
  private pushOffset = 0;

  constructor(options: DecoderOptions) {
    this.crypto = options.crypto;
    this.onReading = options.onReading;
    this.onError = options.onError;
    this.onFrame = options.onFrame;
    this.guard = options.guard ?? null;
    this.now = options.now;
    this.onNotice = options.onNotice;
    const framing = options.framing ?? 'auto';
    this.stats.framing = framing;
    this.mbus = framing === 'auto' || framing === 'mbus' ? new MbusLink(this.linkSink('mbus')) : null;
    this.hdlc = framing === 'auto' || framing === 'hdlc' ? new HdlcLink(this.linkSink('hdlc')) : null;
    this.raw = framing === 'apdu' ? new Assembler(RAW_CAPACITY) : null;
    if (framing === 'mbus' || framing === 'hdlc') this.locked = framing;
    this.setKeys(options.keys ?? {});
  }

  /** Replaces the keys; takes effect with the next push. */
  setKeys(keys: DecoderKeys): void {
    this.encKey = keys.encryption ? this.crypto.importKey(keys.encryption.bytes) : null;
    this.authKey = keys.authentication ? keys.authentication.bytes.slice() : null;
  }

  push(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.stats.bytes += end - start;
    if (this.raw) {
      if (!this.raw.append(bytes, start, end, this.stats.bytes - (end - start))) {
        this.error(decodeError('overflow', this.stats.bytes, `an APDU longer than ${RAW_CAPACITY} bytes`));
      }
      return;
    }
    // Until one link has delivered a frame, both see the stream byte by byte, so the one that
    // wins, and the errors reported, are the same however the stream was chunked.
    while (this.locked === null && !this.unlocked && start < end) {
      this.mbus!.push(bytes, start, start + 1);
      if (this.locked === null) this.hdlc!.push(bytes, start, start + 1);
      start++;
      if (this.locked === null && this.stats.bytes - (end - start) >= UNLOCKED_AFTER) this.unlock();
    }
    if (start >= end) return;
    if (this.locked !== 'hdlc' && this.mbus) this.mbus.push(bytes, start, end);
    if (this.locked !== 'mbus' && this.hdlc) this.hdlc.push(bytes, start, end);
  }

  /** No frame after UNLOCKED_AFTER bytes: what both links found is news (wrong baud rate, noise). */
  private unlock(): void {
    this.unlocked = true;
    this.flushPrelock();
  }

  private flushPrelock(): void {
    const a = this.prelock.mbus;
    const b = this.prelock.hdlc;
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i].offset <= b[j].offset)) this.error(a[i++]);
      else this.error(b[j++]);
    }
    a.length = 0;
    b.length = 0;
  }

  /** The input ended: a partial frame or push is reported; a raw APDU is decoded now. */
  finish(): void {
    if (this.raw) {
      if (this.raw.length > 0) this.apdu(this.raw, 0, this.raw.length);
      this.raw.reset();
      return;
    }
    if (this.locked !== 'hdlc' && this.mbus) this.mbus.finish();
    if (this.locked !== 'mbus' && this.hdlc) this.hdlc.finish();
    if (this.locked === null) this.flushPrelock();
    if (this.gbt.pending) {
      this.error(decodeError('truncated', this.stats.bytes, 'the input ended before the last general-block-transfer block'));
      this.gbt.reset();
    }
  }

  private linkSink(which: 'mbus' | 'hdlc'): LinkSink {
    return {
      frame: (bytes, start, end) => {
        if (this.locked === null) {
          this.locked = which;
          this.stats.framing = which;
          // the other parser's buffers are not needed any more (KBs on the device)
          if (which === 'mbus') this.hdlc = null;
          else this.mbus = null;
          // what this link found before its first frame counts; the other link's view was noise
          const mine = this.prelock[which];
          this.prelock[which === 'mbus' ? 'hdlc' : 'mbus'].length = 0;
          for (let i = 0; i < mine.length; i++) this.error(mine[i]);
          mine.length = 0;
        }
        this.stats.frames++;
        if (this.onFrame) this.onFrame(bytes, start, end);
      },
      apdu: (a) => this.apdu(a, 0, a.length),
      error: (e) => {
        if (this.locked === which) this.error(e);
        else if (this.locked === null && e.kind !== 'garbage') {
          // before the stream shows its framing (a port opened mid-push: the partial frame before
          // the first one is expected), keep the error until it is known whose view counts
          if (this.unlocked) this.error(e);
          else if (this.prelock[which].length < PRELOCK_ERRORS) this.prelock[which].push(e);
        }
      },
    };
  }

  private error(e: DecodeError): void {
    const s = this.stats;
    s.errors++;
    s.errorsByKind[e.kind] = (s.errorsByKind[e.kind] ?? 0) + 1;
    s.lastError = e;
    if (this.onError) this.onError(e);
  }

  private apdu(src: Assembler, start: number, end: number): void {
    const b = src.buffer;
    const tag = b[start];
    if (tag === TAG_GBT) {
      // a block is not an APDU yet: the joined APDU is counted when it is processed
      const r = this.gbt.push(src, start, end);
      if (r === true) {
        const out = this.gbt.out;
        this.apdu(out, 0, out.length);
        out.reset();
      } else if (r !== false) this.error(r);
      return;
    }
    this.stats.apdus++;
    this.pushOffset = src.streamOffset(start);
    if (tag === TAG_GLO_CIPHER || tag === TAG_DED_CIPHER) return this.ciphered(src, start, end, emptyReading());
    if (tag === TAG_DATA_NOTIFICATION || tag === DSMR_START) return this.plain(src, start, end, emptyReading(), false);
    this.error(decodeError('unknown-apdu', src.streamOffset(start), `APDU tag 0x${hex2(tag)} is not a data-notification (0x0F), general-glo-ciphering (0xDB) or general-block-transfer (0xE0)`));
  }

  private ciphered(src: Assembler, start: number, end: number, reading: Reading): void {
    const b = src.buffer;
    const h = this.glo;
    const e = parseGloCiphering(b, start, end, h, this.len);
    if (e) {
      e.offset = src.streamOffset(e.offset);
      this.error(e);
      return;
    }
    const sc = h.securityControl;
    this.stats.lastSecurityControl = sc;
    reading.meter.systemTitle = this.systemTitle(b, h.systemTitleAt);
    reading.frameCounter = h.invocationCounter;
    reading.security.control = sc;
    const encrypted = (sc & SC_ENCRYPTION) !== 0;
    const hasTag = (sc & SC_AUTHENTICATION) !== 0;
    reading.security.encrypted = encrypted;
    if (encrypted && this.encKey === null) {
      this.error(decodeError('missing-key', src.streamOffset(start), `encrypted push from ${this.describe(b)}: no encryption key is configured`));
      return;
    }
    const iv = this.iv;
    for (let i = 0; i < 8; i++) iv[i] = b[h.systemTitleAt + i];
    iv[8] = h.invocationCounter >>> 24;
    iv[9] = (h.invocationCounter >>> 16) & 0xff;
    iv[10] = (h.invocationCounter >>> 8) & 0xff;
    iv[11] = h.invocationCounter & 0xff;
    let verified = false;
    if (hasTag && this.authKey !== null) {
      for (let i = 0; i < GCM_TAG_LENGTH; i++) this.tag[i] = b[h.tagStart + i];
      let ok: boolean;
      if (encrypted) {
        this.aad[0] = sc;
        this.aad.set(this.authKey, 1);
        ok = this.crypto.gcmDecryptInPlace(this.encKey!, iv, b, h.dataStart, h.dataEnd, this.aad, this.tag);
      } else {
        // authentication only: the plaintext is part of the AAD (rare, so a fresh buffer is fine)
        const aad = new Uint8Array(17 + h.dataEnd - h.dataStart);
        aad[0] = sc;
        aad.set(this.authKey, 1);
        aad.set(b.subarray(h.dataStart, h.dataEnd), 17);
        ok = this.encKey !== null && this.crypto.gcmDecryptInPlace(this.encKey, iv, b, h.dataStart, h.dataStart, aad, this.tag);
        if (this.encKey === null) {
          this.error(decodeError('missing-key', src.streamOffset(start), `authenticated push from ${this.describe(b)}: the tag is keyed with the encryption key too, and none is configured`));
          return;
        }
      }
      if (!ok) {
        this.error(decodeError('tag-mismatch', src.streamOffset(h.tagStart), `the GCM tag of the push from ${this.describe(b)} does not verify: wrong encryption or authentication key, or corrupt data`));
        return;
      }
      verified = true;
    } else if (encrypted) {
      this.crypto.gcmDecryptInPlace(this.encKey!, iv, b, h.dataStart, h.dataEnd, null, null);
    }
    reading.security.tag = hasTag ? (verified ? 'verified' : 'unchecked') : 'none';
    reading.security.authenticated = verified;
    const first = b[h.dataStart];
    if (first !== TAG_DATA_NOTIFICATION && first !== DSMR_START) {
      if (encrypted && !verified) {
        this.error(decodeError('wrong-key-or-corrupt', src.streamOffset(h.dataStart), `decrypting the push from ${this.describe(b)} gave no valid APDU (first byte 0x${hex2(first)}): wrong key or corrupt data`));
      } else this.error(decodeError('unknown-apdu', src.streamOffset(h.dataStart), `the ciphered APDU holds tag 0x${hex2(first)}, not a data-notification`));
      return;
    }
    if (encrypted) this.stats.decrypted++;
    this.plain(src, h.dataStart, h.dataEnd, reading, encrypted && !verified);
  }

  /** The system title as hex; a meter sends the same one every time, so the string is reused. */
  private systemTitle(b: Uint8Array, at: number): string {
    const last = this.lastTitle;
    let same = this.lastTitleText !== '';
    for (let i = 0; i < SYSTEM_TITLE_LENGTH && same; i++) same = last[i] === b[at + i];
    if (!same) {
      for (let i = 0; i < SYSTEM_TITLE_LENGTH; i++) last[i] = b[at + i];
      this.lastTitleText = toHex(b, at, at + SYSTEM_TITLE_LENGTH);
    }
    return this.lastTitleText;
  }

  /** The ciphering header in messages: who sent it, which push, which security. */
  private describe(b: Uint8Array): string {
    const h = this.glo;
    return `system title ${toHex(b, h.systemTitleAt, h.systemTitleAt + SYSTEM_TITLE_LENGTH)} (${printableTitle(b, h.systemTitleAt)}), frame counter ${h.invocationCounter}, security 0x${hex2(h.securityControl)}`;
  }

  /** After an unverified decryption, malformed content most likely means a wrong key. */
  private failPlain(e: DecodeError, src: Assembler, unverifiedDecrypt: boolean): void {
    if (unverifiedDecrypt) {
      e.detail = `decrypted content is not valid (${e.kind}: ${e.detail}): wrong key or corrupt data`;
      e.kind = 'wrong-key-or-corrupt';
    }
    e.offset = src.streamOffset(e.offset);
    this.error(e);
  }

  /** A data-notification or DSMR telegram in src.buffer[start, end). */
  private plain(src: Assembler, start: number, end: number, reading: Reading, unverifiedDecrypt: boolean): void {
    const b = src.buffer;
    this.values.begin();
    if (b[start] === DSMR_START) {
      const e = parseDsmr(b, start, end, reading, this.values);
      if (e) return this.failPlain(e, src, unverifiedDecrypt);
      return this.emit(reading);
    }
    const n = this.notification;
    let e = parseDataNotification(b, start, end, n);
    if (e) return this.failPlain(e, src, unverifiedDecrypt);
    const bodyEnd = decodeData(b, n.bodyStart, end, this.table);
    if (typeof bodyEnd !== 'number') return this.failPlain(bodyEnd, src, unverifiedDecrypt);
    if (bodyEnd !== end) return this.failPlain(decodeError('axdr', bodyEnd, `${end - bodyEnd} bytes follow the notification body`), src, unverifiedDecrypt);
    if (n.dateTimeAt >= 0) setTimestamp(reading, this.values, b, n.dateTimeAt);
    e = mapNotification(this.table, b, reading, this.mapScratch, n.bodyStart);
    if (e) return this.failPlain(e, src, unverifiedDecrypt);
    reconcileClock(reading, this.values);
    this.emit(reading);
  }

  private emit(reading: Reading): void {
    this.values.settle(reading);
    const guard = this.guard;
    if (guard !== null) {
      const verdict = guard.check(reading, this.now ? this.now() : NaN, this.values);
      if (verdict === GUARD_REJECT) {
        const e = decodeError('implausible', this.pushOffset, guard.detail);
        e.rule = guard.rule;
        if (guard.obis) e.obis = guard.obis;
        e.value = guard.value;
        e.previous = guard.previous;
        return this.error(e);
      }
      if (verdict === GUARD_RESYNC && this.onNotice) this.onNotice(guard.detail);
    }
    this.stats.readings++;
    this.stats.lastValueCount = this.values.count;
    this.onReading(reading);
  }
}

/** The manufacturer letters of a system title (KFM, LGZ, SMS...) for messages. */
function printableTitle(b: Uint8Array, p: number): string {
  let s = '';
  for (let i = 0; i < 3; i++) {
    const c = b[p + i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s;
}

export interface DecodeResult {
  readings: Reading[];
  errors: DecodeError[];
}

export interface DecodeOptions {
  /** default: from the first byte (see decode) */
  framing?: Framing;
  /** the plausibility guard across the pushes of the capture: on by default; null turns it off,
   *  a guard given here carries on from earlier captures */
  guard?: PlausibilityGuard | null;
  onNotice?: (message: string) => void;
}

/** The framing a capture's first byte shows: a frame start, an APDU tag, or neither (scan for frames). */
export function framingOf(bytes: Uint8Array): Framing {
  if (bytes.length === 0) return 'auto';
  const first = bytes[0];
  if (first === MBUS_START) return 'mbus';
  if (first === HDLC_FLAG) return 'hdlc';
  // the APDUs a meter pushes, the other xDLMS tags (0xC0-0xCF: an unknown APDU is said as such)
  // and the '/' of a DSMR telegram
  if (first === TAG_GLO_CIPHER || first === TAG_DED_CIPHER || first === TAG_DATA_NOTIFICATION || first === TAG_GBT || first === DSMR_START || (first & 0xf0) === 0xc0) return 'apdu';
  return 'auto'; // a capture taken mid-stream: the first frame is found by scanning
}

/**
 * Decodes a whole capture at once: M-Bus frames (first byte 0x68), HDLC frames (0x7E), one bare
 * APDU (0xDB, 0x0F, 0xE0...), or, starting anywhere else (`cat /dev/ttyUSB0 > capture.bin`), the
 * frames found by scanning. The library face of `meterbridge decode`.
 */
export function decode(bytes: Uint8Array, keys: DecoderKeys, crypto: Crypto, options: DecodeOptions = {}): DecodeResult {
  const result: DecodeResult = { readings: [], errors: [] };
  const framing = options.framing ?? framingOf(bytes);
  const decoder = new MeterDecoder({
    crypto,
    keys,
    framing,
    guard: options.guard === undefined ? new PlausibilityGuard() : options.guard,
    onNotice: options.onNotice,
    onReading: (r) => result.readings.push(r),
    onError: (e) => result.errors.push(e),
  });
  decoder.push(bytes);
  decoder.finish();
  return result;
}
