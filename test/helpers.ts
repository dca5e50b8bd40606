import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isHexParseError, parseHex } from '../firmware/bytes.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import type { Assembler } from '../firmware/link/assembler.js';
import { encodeHdlcFrame, HdlcLink } from '../firmware/link/hdlc.js';
import { encodeLongFrames, MbusLink } from '../firmware/link/mbus.js';
import { AxdrWriter } from '../firmware/dlms/axdr-writer.js';

export interface Vector {
  id: string;
  meter: string;
  framing: string;
  security: string;
  key: string | null;
  auth_key: string | null;
  frames_hex: string[];
  timestamp: string | null;
  expected: Record<string, number | string>;
  plaintext_hex: string | null;
}

export const vectors: Vector[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/real-meters.json', import.meta.url)), 'utf8'),
);

/** Real frames from public sources beyond the shared collection (see fixtures/README.md). */
export const moreVectors: Vector[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/more-meters.json', import.meta.url)), 'utf8'),
);

/** Every real push of both collections. */
export const allVectors: Vector[] = [...vectors, ...moreVectors];

export function vector(id: string): Vector {
  const v = allVectors.find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}

export function hex(text: string): Uint8Array {
  const b = parseHex(text);
  if (isHexParseError(b)) throw new Error(b.detail);
  return b;
}

/** All frames of one push, back to back, as they arrive on the wire. */
export function wire(v: Vector): Uint8Array {
  return hex(v.frames_hex.join(''));
}

/** Plain hex, as the XS codec and the fixtures carry bytes. */
export function toHexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A deterministic PRNG (mulberry32) so fuzz failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The APDU of a framed push (M-Bus or HDLC), joined from its frames by the firmware's own links. */
export function apduOf(v: Vector): Uint8Array {
  const bytes = wire(v);
  if (bytes[0] !== 0x68 && bytes[0] !== 0x7e) return bytes; // a bare APDU
  let out: Uint8Array = new Uint8Array(0);
  const sink = {
    frame() {},
    apdu(a: Assembler) {
      const piece = a.buffer.slice(0, a.length);
      if (piece[0] !== 0xe0) {
        out = piece;
        return;
      }
      // general-block-transfer: E0 | control | block number (2) | acknowledged (2) | length | data
      let p = 6;
      let n = piece[p++];
      if (n === 0x81) n = piece[p++];
      else if (n === 0x82) {
        n = (piece[p] << 8) | piece[p + 1];
        p += 2;
      }
      out = concat(out, piece.subarray(p, p + n));
    },
    error() {},
  };
  const link = bytes[0] === 0x68 ? new MbusLink(sink) : new HdlcLink(sink);
  link.push(bytes);
  link.finish();
  if (!out.length) throw new Error(`${v.id}: no APDU`);
  return out;
}

export interface CipheredPush {
  /** the push as it travels (frames re-encoded like the meter's), checksums right */
  wire: Uint8Array;
  plaintext: Uint8Array;
  counter: number;
}

/**
 * Re-encrypts a real general-glo-ciphering push with the fixture's own key: optionally with
 * another frame counter and an edited plaintext, then frames it again with valid checksums (and
 * a valid tag when the fixture has the authentication key). What a meter would have sent, or
 * what noise that keeps every check valid makes of it.
 */
export function reencrypt(v: Vector, options: { counter?: number; edit?: (plain: Uint8Array) => void } = {}): CipheredPush {
  if (!v.key) throw new Error(`${v.id}: no key`);
  const apdu = apduOf(v);
  if (apdu[0] !== 0xdb) throw new Error(`${v.id}: not a general-glo-ciphering APDU`);
  const title = apdu.subarray(2, 10);
  let p = 10;
  let len = apdu[p++];
  if (len === 0x81) len = apdu[p++];
  else if (len === 0x82) {
    len = (apdu[p] << 8) | apdu[p + 1];
    p += 2;
  }
  const sc = apdu[p];
  const oldCounter = ((apdu[p + 1] << 24) >>> 0) + (apdu[p + 2] << 16) + (apdu[p + 3] << 8) + apdu[p + 4];
  const tagLength = sc & 0x10 ? 12 : 0;
  const plaintext = apdu.slice(p + 5, p + len - tagLength);
  const key = softwareCrypto.importKey(hex(v.key));
  const ivOf = (c: number) => concat(title, Uint8Array.of(c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff));
  softwareCrypto.gcmDecryptInPlace(key, ivOf(oldCounter), plaintext, 0, plaintext.length, null, null);
  const counter = options.counter ?? oldCounter;
  const plain = plaintext.slice();
  options.edit?.(plain);
  const data = plain.slice();
  const tag = tagLength ? new Uint8Array(12) : null;
  const aad = tagLength && v.auth_key ? concat(Uint8Array.of(sc), hex(v.auth_key)) : null;
  softwareCrypto.gcmEncryptInPlace(key, ivOf(counter), data, 0, data.length, aad, tag);
  const content = 5 + data.length + tagLength;
  const lengthBytes = content < 0x80 ? [content] : content < 0x100 ? [0x81, content] : [0x82, content >> 8, content & 0xff];
  const out = concat(Uint8Array.of(0xdb, 8), title, Uint8Array.from(lengthBytes), Uint8Array.of(sc, counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff), data, tag ?? new Uint8Array(0));
  const first = wire(v)[0];
  if (first !== 0x68 && first !== 0x7e) return { wire: out, plaintext: plain, counter }; // bare APDU
  // (a push spread over General-Block-Transfer blocks comes back as one HDLC frame)
  const buf = new Uint8Array(out.length + 64 + 6 * Math.ceil(out.length / 200));
  const n = first === 0x68 ? encodeLongFrames(out, buf) : encodeHdlcFrame(out, buf);
  return { wire: buf.slice(0, n), plaintext: plain, counter };
}

/** Offset of the 4-byte value of an OBIS code in a plaintext (`09 06 <code> 06 <uint32>`). */
export function valueAt(plain: Uint8Array, obis: number[]): number {
  for (let i = 0; i + 8 < plain.length; i++) {
    if (plain[i] === 0x09 && plain[i + 1] === 0x06 && obis.every((b, k) => plain[i + 2 + k] === b)) return i + 9;
  }
  throw new Error('no such OBIS code in the plaintext');
}

/**
 * The three lists of a Norwegian three-phase Kaifa meter (KFM_001), HDLC-framed and unencrypted as
 * these meters send them: list 1 (every 2 s) the import power alone, no meter number; list 2
 * (every 10 s) adds the meter number, powers, currents and voltages; list 3 (hourly) adds the
 * clock and the energy registers. Built from the KFM_001 layout with the values of a published
 * MA304H3E sample (cosem.test.ts decodes each); `second` sets the meter clock.
 */
export function kfm001Push(list: 1 | 2 | 3, second = 10): Uint8Array {
  const w = new AxdrWriter(new Uint8Array(512));
  const clock = (x: AxdrWriter) => x.byte(0x09).byte(12).dateTimeBytes(2022, 11, 16, 3, 21, 0, second, -32768, 0x80);
  clock(w.byte(0x0f).byte(0x40).byte(0).byte(0).byte(0));
  const head = (x: AxdrWriter) => x.text('KFM_001').text('6970631403757615').text('MA304H3E');
  const phases = (x: AxdrWriter) => x.uint32(3426).uint32(0).uint32(0).uint32(51).uint32(10522).uint32(12276).uint32(4621).uint32(2325).uint32(0).uint32(2344);
  if (list === 1) w.structure(1).uint32(3423);
  else if (list === 2) phases(head(w.structure(13)));
  else clock(phases(head(w.structure(18)))).uint32(82840532).uint32(0).uint32(35883243).uint32(2143101);
  const out = new Uint8Array(w.pos + 32);
  return out.slice(0, encodeHdlcFrame(w.buf.subarray(0, w.pos), out));
}
