// HDLC link layer (firmware/link/hdlc.ts, with the FrameScanner of scanner.ts underneath) on real
// pushes: the info field after the LLC header comes out exactly, wherever the input is split; flags
// may be shared or repeated; every damaged frame is one typed error at the byte to look at.
//
//   7E | A0 LL | dst (1-4) | src (1-4) | ctrl | HCS (2) | E6 E7 00 | info ... | FCS (2) | 7E
//        '--- format: type 0xA, S bit 0x08, 11-bit length counting format .. FCS ---'
import { describe, expect, it } from 'vitest';
import { toHex } from '../firmware/bytes.js';
import { HdlcLink, crc16x25, encodeHdlcFrame } from '../firmware/link/hdlc.js';
import type { LinkSink } from '../firmware/link/scanner.js';
import { concat, hex, rng, vector, wire } from './helpers.js';
import { Recorder, expectSameAtEveryChunking, randomBytes, run, expectBoundedOverNoise } from './link-recorder.js';

const WIEN = 'at-wienernetze-siemens-sel0'; // A0 7B, dst CF, src 00 02 00 23, UI 13
const KAMSTRUP = 'dk-kamstrup-omnipower-authenc'; // A1 E9 (489), dst 41, src 03
const AIDON = 'no-aidon-1phase-plain'; // A0 D2, dst 41, src 08 83
const GBT = 'lgz-e450-gbt-1'; // 3 frames A0 8B, A0 8B, A0 30; dst CE FF, src 03

const hdlc = (r: LinkSink) => new HdlcLink(r);
const framesOf = (id: string): Uint8Array[] => vector(id).frames_hex.map(hex);
const hexOf = (b: Uint8Array): string => toHex(b);

/** Where the HCS sits in each real frame, read off the addresses by hand (bit 0 ends an address). */
const HCS_AT: Record<string, number> = {
  [WIEN]: 3 + 1 + 4 + 1, // CF | 00 02 00 23 | 13
  [KAMSTRUP]: 3 + 1 + 1 + 1, // 41 | 03 | 13
  [AIDON]: 3 + 1 + 2 + 1, // 41 | 08 83 | 13
  [GBT]: 3 + 2 + 1 + 1, // CE FF | 03 | 13
};

/**
 * The info field of one real frame, checked against the diagram (flags, length, HCS and FCS
 * computed here) and taken after the LLC header when the frame has one.
 */
function infoOf(f: Uint8Array, hcsAt: number, llc: boolean): Uint8Array {
  const length = ((f[1] << 8) | f[2]) & 0x7ff;
  expect(f[0]).toBe(0x7e);
  expect(f[1] >> 4).toBe(0xa);
  expect(f.length).toBe(length + 2);
  expect(f[length + 1]).toBe(0x7e);
  expect(f[hcsAt] | (f[hcsAt + 1] << 8)).toBe(crc16x25(f, 1, hcsAt));
  expect(f[length - 1] | (f[length] << 8)).toBe(crc16x25(f, 1, length - 1));
  const start = hcsAt + 2;
  if (llc) expect([f[start], f[start + 1], f[start + 2]]).toEqual([0xe6, 0xe7, 0x00]);
  else expect([f[start], f[start + 1]]).not.toEqual([0xe6, 0xe7]);
  return f.subarray(llc ? start + 3 : start, length - 1);
}

interface FrameSpec {
  address: Uint8Array; // dst and src, each ending in a byte with bit 0 set
  control?: number;
  info?: Uint8Array; // absent: no HCS, no information field
  llc?: boolean;
  segmented?: boolean;
}

/** An HDLC frame with HCS and FCS computed by the exported crc16x25. */
function hdlcFrame({ address, control = 0x13, info, llc = false, segmented = false }: FrameSpec): Uint8Array {
  const infoLength = info ? 2 + (llc ? 3 : 0) + info.length : 0;
  const length = 2 + address.length + 1 + infoLength + 2;
  const f = new Uint8Array(length + 2);
  let p = 0;
  f[p++] = 0x7e;
  f[p++] = 0xa0 | (segmented ? 0x08 : 0) | (length >> 8);
  f[p++] = length & 0xff;
  f.set(address, p);
  p += address.length;
  f[p++] = control;
  if (info) {
    const hcs = crc16x25(f, 1, p);
    f[p++] = hcs & 0xff;
    f[p++] = hcs >> 8;
    if (llc) {
      f.set([0xe6, 0xe7, 0x00], p);
      p += 3;
    }
    f.set(info, p);
    p += info.length;
  }
  const fcs = crc16x25(f, 1, p);
  f[p++] = fcs & 0xff;
  f[p++] = fcs >> 8;
  f[p++] = 0x7e;
  expect(p).toBe(f.length);
  return f;
}

/** Recomputes the FCS after a test changed bytes inside a frame. */
function fixFcs(f: Uint8Array): void {
  const length = ((f[1] << 8) | f[2]) & 0x7ff;
  const fcs = crc16x25(f, 1, length - 1);
  f[length - 1] = fcs & 0xff;
  f[length] = fcs >> 8;
}

describe('crc16x25', () => {
  it('is CRC-16/X.25: the check value of "123456789" is 0x906E', () => {
    expect(crc16x25(new TextEncoder().encode('123456789'), 0, 9)).toBe(0x906e);
  });

  it('covers exactly bytes[start, end)', () => {
    const b = new TextEncoder().encode('xx123456789yy');
    expect(crc16x25(b, 2, 11)).toBe(0x906e);
    expect(crc16x25(b, 2, 2)).toBe(0x0000); // init 0xFFFF xor 0xFFFF
    expect(crc16x25(b, 2, 10)).not.toBe(0x906e);
  });

  it('gives the HCS and FCS (little-endian) of every real frame', () => {
    for (const id of [WIEN, KAMSTRUP, AIDON, GBT]) {
      for (const f of framesOf(id)) {
        const length = ((f[1] << 8) | f[2]) & 0x7ff;
        const at = HCS_AT[id];
        expect(f[at] | (f[at + 1] << 8), `${id} HCS`).toBe(crc16x25(f, 1, at));
        expect(f[length - 1] | (f[length] << 8), `${id} FCS`).toBe(crc16x25(f, 1, length - 1));
      }
    }
  });
});

describe('the test frame builder', () => {
  it('rebuilds the real frames byte for byte', () => {
    const w = wire(vector(WIEN));
    expect(hexOf(hdlcFrame({ address: hex('CF 00 02 00 23'), info: infoOf(w, HCS_AT[WIEN], true), llc: true }))).toBe(hexOf(w));
    const a = wire(vector(AIDON));
    expect(hexOf(hdlcFrame({ address: hex('41 08 83'), info: infoOf(a, HCS_AT[AIDON], true), llc: true }))).toBe(hexOf(a));
    const k = wire(vector(KAMSTRUP));
    expect(hexOf(hdlcFrame({ address: hex('41 03'), info: infoOf(k, HCS_AT[KAMSTRUP], true), llc: true }))).toBe(hexOf(k));
    const g = framesOf(GBT)[1];
    expect(hexOf(hdlcFrame({ address: hex('CE FF 03'), info: infoOf(g, HCS_AT[GBT], false) }))).toBe(hexOf(g));
  });
});

describe('real pushes come out as exactly the info field after the LLC header', () => {
  const single = [
    // id, APDU length (frame length - HCS end - LLC - FCS - flag), first bytes
    [WIEN, 125 - 11 - 3 - 3, 'DB08'], // 108
    [KAMSTRUP, 491 - 8 - 3 - 3, 'DB08'], // 477
    [AIDON, 212 - 9 - 3 - 3, '0F'], // 197, an unencrypted data-notification
  ] as const;

  it.each(single)('%s: one APDU of %i bytes starting %s', (id, apduLength, first) => {
    const bytes = wire(vector(id));
    const info = infoOf(bytes, HCS_AT[id], true);
    expect(info.length).toBe(apduLength);
    const r = run(hdlc, [bytes], bytes);
    expect(r.errors).toEqual([]);
    expect(r.frames).toEqual([{ type: 'frame', offset: 0, hex: hexOf(bytes) }]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].length).toBe(apduLength);
    expect(r.apdus[0].hex).toBe(hexOf(info));
    expect(r.apdus[0].hex.startsWith(first)).toBe(true);
    expect(r.apdus[0].map[0]).toBe(HCS_AT[id] + 2 + 3);
    expect(r.apdus[0].map[apduLength]).toBe(bytes.length - 3); // just past the info: the FCS
    expect(r.mapMismatches).toBe(0);
    expect(r.trace).toEqual(['frame@0', 'apdu']);
  });

  it('Kamstrup: the 2-byte format A1 E9 announces 489 bytes, the whole 491-byte frame is read', () => {
    const bytes = wire(vector(KAMSTRUP));
    expect([bytes[1], bytes[2]]).toEqual([0xa1, 0xe9]);
    expect(bytes.length).toBe(0x1e9 + 2);
    const r = run(hdlc, [bytes]);
    expect(r.frames[0].hex.length).toBe(491 * 2);
    expect(r.apdus[0].length).toBe(477);
    expect(r.apdus[0].hex.slice(0, 20)).toBe('DB084B414D4501349083'); // DB 08 "KAME" 01 34 90 83
  });

  it('Landis+Gyr GBT push: three frames, three APDUs (E0 blocks); only the first has the LLC header', () => {
    const frames = framesOf(GBT);
    const bytes = wire(vector(GBT));
    const infos = frames.map((f, k) => infoOf(f, HCS_AT[GBT], k === 0));
    expect(infos.map((i) => i.length)).toEqual([141 - 9 - 3 - 3, 141 - 9 - 3, 50 - 9 - 3]); // 126, 129, 38
    const r = run(hdlc, [bytes], bytes);
    expect(r.errors).toEqual([]);
    expect(r.frames.map((f) => [f.offset, f.hex])).toEqual([
      [0, hexOf(frames[0])],
      [141, hexOf(frames[1])],
      [282, hexOf(frames[2])],
    ]);
    expect(r.apdus.map((a) => a.hex)).toEqual(infos.map(hexOf));
    expect(r.apdus.map((a) => a.length)).toEqual([126, 129, 38]);
    // E0 | block control (0x40 more, 0xC0 last) | block number 0001 0002 0003
    expect(r.apdus.map((a) => a.hex.slice(0, 10))).toEqual(['E040000100', 'E040000200', 'E0C0000300']);
    expect(r.apdus.map((a) => a.map[0])).toEqual([12, 141 + 9, 282 + 9]);
    expect(r.mapMismatches).toBe(0);
    expect(r.trace).toEqual(['frame@0', 'apdu', 'frame@141', 'apdu', 'frame@282', 'apdu']);
  });
});

describe('flags', () => {
  it('frames sharing a flag (the 2nd and 3rd without their opening 7E) decode the same', () => {
    const [f0, f1, f2] = framesOf(GBT);
    const shared = concat(f0, f1.subarray(1), f2.subarray(1));
    const separate = run(hdlc, [wire(vector(GBT))]);
    const r = run(hdlc, [shared], shared);
    expect(r.errors).toEqual([]);
    expect(r.frames.map((f) => f.offset)).toEqual([0, 140, 280]);
    expect(r.apdus.map((a) => a.hex)).toEqual(separate.apdus.map((a) => a.hex));
    expect(r.apdus.map((a) => a.map[0])).toEqual([12, 140 + 9, 280 + 9]);
    expect(r.mapMismatches).toBe(0);
  });

  it('idle flags before and between frames produce no error', () => {
    const [f0, f1, f2] = framesOf(GBT);
    const idle = hex('7E 7E 7E');
    const input = concat(idle, f0, idle, f1, idle, f2);
    const r = run(hdlc, [input], input);
    expect(r.errors).toEqual([]);
    expect(r.frames.map((f) => f.offset)).toEqual([3, 3 + 141 + 3, 3 + 141 + 3 + 141 + 3]);
    expect(r.apdus.map((a) => a.length)).toEqual([126, 129, 38]);
    expect(r.mapMismatches).toBe(0);
  });

  it('idle flags after the last frame produce no error at finish()', () => {
    const w = wire(vector(WIEN));
    for (const tail of ['7E', '7E 7E', '7E 7E 7E']) {
      const r = run(hdlc, [concat(w, hex(tail))]);
      expect(r.errors, `frame + ${tail}`).toEqual([]);
      expect(r.apdus).toHaveLength(1);
    }
  });

  it('a lone flag is not an error', () => {
    expect(run(hdlc, [hex('7E')]).events).toEqual([]);
  });

  it('a line of idle flags only is not an error', () => {
    expect(run(hdlc, [hex('7E 7E 7E 7E')]).events).toEqual([]);
  });
});

describe('segmentation (S bit 0x08 in the high format byte)', () => {
  const aidon = wire(vector(AIDON));
  const info = infoOf(aidon, HCS_AT[AIDON], true); // 197 bytes, starts 0F
  const address = hex('41 08 83');
  const first = hdlcFrame({ address, info: info.subarray(0, 100), llc: true, segmented: true });
  const second = hdlcFrame({ address, info: info.subarray(100) });

  it('the built frames carry the S bit only on the first', () => {
    expect(first[1]).toBe(0xa8);
    expect(second[1]).toBe(0xa0);
  });

  it('two frames, the first with the S bit set: one APDU, the joined info field', () => {
    const input = concat(first, second);
    const r = run(hdlc, [input], input, [99, 100]);
    expect(r.errors).toEqual([]);
    expect(r.frames.map((f) => f.offset)).toEqual([0, first.length]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].length).toBe(197);
    expect(r.apdus[0].hex).toBe(hexOf(info));
    expect(r.apdus[0].hex.slice(0, 2)).toBe('0F');
    expect(r.apdus[0].map[0]).toBe(12);
    expect(r.apdus[0].map[99]).toBe(12 + 99);
    expect(r.apdus[0].map[100]).toBe(first.length + 9); // first info byte of the second frame
    expect(r.mapMismatches).toBe(0);
    expect(r.trace).toEqual(['frame@0', `frame@${first.length}`, 'apdu']);
  });

  it('the same two frames sharing a flag, at every split', () => {
    const r = expectSameAtEveryChunking(hdlc, concat(first, second.subarray(1)));
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(info)]);
  });

  it('without the S bit the same frames are two APDUs', () => {
    const plain = hdlcFrame({ address, info: info.subarray(0, 100), llc: true });
    const r = run(hdlc, [concat(plain, second)]);
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(info.subarray(0, 100)), hexOf(info.subarray(100))]);
  });

  it('the 489-byte Kamstrup info over three frames (S, S, last): one APDU', () => {
    const k = wire(vector(KAMSTRUP));
    const kinfo = infoOf(k, HCS_AT[KAMSTRUP], true);
    const a = hex('41 03');
    const input = concat(
      hdlcFrame({ address: a, info: kinfo.subarray(0, 200), llc: true, segmented: true }),
      hdlcFrame({ address: a, info: kinfo.subarray(200, 400), segmented: true }),
      hdlcFrame({ address: a, info: kinfo.subarray(400) }),
    );
    const r = run(hdlc, [input], input);
    expect(r.errors).toEqual([]);
    expect(r.frames).toHaveLength(3);
    expect(r.apdus.map((x) => x.hex)).toEqual([hexOf(kinfo)]);
    expect(r.apdus[0].length).toBe(477);
    expect(r.mapMismatches).toBe(0);
  });

  it('a continuation that starts with E6 E7 00 keeps those bytes: only the first segment has an LLC header', () => {
    const part2 = concat(hex('E6 E7 00'), info.subarray(100));
    const input = concat(first, hdlcFrame({ address, info: part2 }));
    const r = run(hdlc, [input], input);
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(concat(info.subarray(0, 100), part2))]);
    expect(r.mapMismatches).toBe(0);
  });

  it('only E6 E7 00 (or E6 E6 00) is taken for an LLC header: an info field starting E6 01 is kept whole', () => {
    const odd = concat(hex('E6 01 00'), info.subarray(0, 20));
    const r = run(hdlc, [hdlcFrame({ address, info: odd })]);
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(odd)]);
    const request = run(hdlc, [hdlcFrame({ address, info: concat(hex('E6 E6 00'), info.subarray(0, 20)) })]);
    expect(request.apdus.map((a) => a.hex)).toEqual([hexOf(info.subarray(0, 20))]);
  });

  it('the input ends after a segment with the S bit: truncated where the input ended', () => {
    const r = run(hdlc, [first]);
    expect(r.errorList).toEqual([['truncated', first.length]]);
    expect(r.apdus).toEqual([]);
  });

  it('after that truncation the link starts afresh', () => {
    const r = new Recorder();
    const link = new HdlcLink(r);
    link.push(first);
    link.finish();
    link.push(aidon);
    link.finish();
    expect(r.errorList).toEqual([['truncated', first.length]]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(info)]);
    expect(r.apdus[0].map[0]).toBe(first.length + 12);
  });
});

describe('chunk boundaries: the same bytes split anywhere give the same events', () => {
  it.each([WIEN, KAMSTRUP, AIDON, GBT])('%s at every split and byte by byte', (id) => {
    const r = expectSameAtEveryChunking(hdlc, wire(vector(id)));
    expect(r.errors).toEqual([]);
    expect(r.apdus).toHaveLength(vector(id).frames_hex.length);
  });

  it('a stream of damaged, shared-flag and good frames at every split and byte by byte', () => {
    const w = wire(vector(WIEN));
    const badFcs = w.slice();
    badFcs[122] ^= 0x10;
    const badStop = w.slice();
    badStop[124] = 0x00;
    const [g0, g1, g2] = framesOf(GBT);
    const stream = concat(hex('01 02 03'), w, hex('7E 7E'), badFcs, g0, g1.subarray(1), g2.subarray(1), badStop, w, w.subarray(0, 40));
    const r = expectSameAtEveryChunking(hdlc, stream);
    expect(r.apdus.map((a) => a.length)).toEqual([108, 126, 129, 38, 108]);
    expect(r.errors.map((e) => e.kind)).toEqual(expect.arrayContaining(['garbage', 'checksum', 'stop-byte', 'truncated']));
  });
});

describe('damaged frames: one typed error at the right byte, then the next push decodes', () => {
  const w = wire(vector(WIEN));
  const length = 0x7b;

  it('FCS wrong: a checksum error at the FCS, no frame, and the next push decodes', () => {
    const bad = w.slice();
    bad[length - 1] ^= 0x01; // FCS low byte at 122
    const input = concat(bad, w);
    const r = run(hdlc, [input], input);
    expect(r.errorList).toEqual([['checksum', 122]]);
    expect(r.errors[0].detail).toContain('FCS');
    expect(r.frames.map((f) => f.offset)).toEqual([125]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].hex).toBe(hexOf(infoOf(w, HCS_AT[WIEN], true)));
    expect(r.apdus[0].map[0]).toBe(125 + 14);
    expect(r.mapMismatches).toBe(0);
  });

  it('FCS wrong in the middle frame of the GBT push: the other two frames still come out', () => {
    const frames = framesOf(GBT);
    const bad = frames[1].slice();
    bad[0x8b] ^= 0x80; // FCS high byte
    const r = run(hdlc, [concat(frames[0], bad, frames[2])]);
    expect(r.errorList).toEqual([['checksum', 141 + 0x8b - 1]]);
    expect(r.apdus.map((a) => a.length)).toEqual([126, 38]);
  });

  it('HCS wrong (FCS right): a checksum error at the HCS, no APDU, and the next push decodes', () => {
    const bad = w.slice();
    bad[HCS_AT[WIEN]] ^= 0x01;
    fixFcs(bad);
    const input = concat(bad, w);
    const r = run(hdlc, [input], input);
    expect(r.errorList).toEqual([['checksum', 9]]);
    expect(r.errors[0].detail).toContain('HCS');
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].map[0]).toBe(125 + 14);
    expect(r.mapMismatches).toBe(0);
  });

  it('a frame whose HCS is wrong is not delivered as a good frame', () => {
    // LinkSink.frame: "A frame passed every link-level check"; the HCS is one
    const bad = w.slice();
    bad[HCS_AT[WIEN]] ^= 0x01;
    fixFcs(bad);
    const r = run(hdlc, [concat(bad, w)]);
    expect(r.frames.map((f) => f.offset)).toEqual([125]);
  });

  it('wrong closing flag: a stop-byte error at that byte, then the next push decodes', () => {
    const bad = w.slice();
    bad[124] = 0x7f;
    const input = concat(bad, w);
    const r = run(hdlc, [input], input);
    expect(r.errors.filter((e) => e.kind !== 'garbage').map((e) => [e.kind, e.offset])).toEqual([['stop-byte', 124]]);
    expect(r.errors[0].detail).toContain('0x7F');
    expect(r.frames.map((f) => f.offset)).toEqual([125]);
    expect(r.apdus).toHaveLength(1);
    expect(r.mapMismatches).toBe(0);
  });

  it('wrong closing flag: the rejected frame is one error, not also reported as garbage', () => {
    const bad = w.slice();
    bad[124] = 0x7f;
    expect(run(hdlc, [concat(bad, w)]).errorList).toEqual([['stop-byte', 124]]);
  });

  it('leading garbage: one garbage error at offset 0 counting the bytes, then the frame decodes', () => {
    const input = concat(randomBytes(rng(11), 5, 0x7e), w);
    const r = run(hdlc, [input], input);
    expect(r.errorList).toEqual([['garbage', 0]]);
    expect(r.errors[0].detail).toMatch(/^5 bytes /);
    expect(r.frames.map((f) => f.offset)).toEqual([5]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].map[0]).toBe(5 + 14);
    expect(r.mapMismatches).toBe(0);
  });

  it('leading garbage is reported before the frame that follows it (stream order)', () => {
    const input = concat(randomBytes(rng(11), 5, 0x7e), w);
    expect(run(hdlc, [input]).trace).toEqual(['garbage@0', 'frame@5', 'apdu']);
  });

  it('garbage after a frame starts after its closing flag (the flag belongs to the frame)', () => {
    // 125 bytes of frame (flag at 124), 5 bytes of garbage, the frame again, 3 bytes of garbage
    const input = concat(w, hex('00 01 02 03 04'), w, hex('00 FF 16'));
    const r = run(hdlc, [input], input);
    expect(r.frames.map((f) => [f.offset, f.hex.length / 2])).toEqual([
      [0, 125],
      [130, 125],
    ]);
    expect(r.errorList).toEqual([
      ['garbage', 125],
      ['garbage', 255],
    ]);
    expect(r.errors.map((e) => e.detail.split(' ')[0])).toEqual(['5', '3']);
    expect(r.apdus).toHaveLength(2);
  });

  it('a flag followed by a format that is not type 3 is garbage, not a frame', () => {
    const bad = w.slice();
    bad[1] = 0xb0;
    const r = run(hdlc, [concat(bad, w)]);
    expect(r.errors.map((e) => e.kind)).toEqual(['garbage']);
    expect(r.errors[0].offset).toBe(0);
    expect(r.frames.map((f) => f.offset)).toEqual([125]);
    expect(r.apdus).toHaveLength(1);
  });

  it('a length below the minimum frame: a length error at the format field', () => {
    const short = hex('7E A0 05 CF 13 00 00 7E');
    const r = run(hdlc, [concat(short, w)]);
    expect(r.errors.filter((e) => e.kind === 'length').map((e) => e.offset)).toEqual([1]);
    for (const e of r.errors.filter((x) => x.kind !== 'length')) {
      expect(e.kind).toBe('garbage');
      expect(e.offset).toBeLessThan(short.length);
    }
    expect(r.frames.map((f) => f.offset)).toEqual([short.length]);
    expect(r.apdus).toHaveLength(1);
  });

  it('a destination address longer than 4 bytes: a length error at its first byte', () => {
    const f = hdlcFrame({ address: hex('02 04 06 08 0B 03'), info: hex('0F 00') });
    const r = run(hdlc, [concat(f, w)]);
    expect(r.errorList).toEqual([['length', 3]]);
    expect(r.errors[0].detail).toContain('destination');
    expect(r.frames.map((x) => x.offset)).toEqual([f.length]);
    expect(r.apdus).toHaveLength(1);
  });

  it('a source address longer than 4 bytes: a length error at its first byte', () => {
    const f = hdlcFrame({ address: hex('41 02 04 06 08 0B'), info: hex('0F 00') });
    const r = run(hdlc, [concat(f, w)]);
    expect(r.errorList).toEqual([['length', 4]]);
    expect(r.errors[0].detail).toContain('source');
    expect(r.apdus).toHaveLength(1);
  });

  it('4-byte addresses on both sides are accepted', () => {
    const info = infoOf(w, HCS_AT[WIEN], true);
    const f = hdlcFrame({ address: hex('00 02 00 23 00 02 00 23'), info, llc: true });
    const r = run(hdlc, [f], f);
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(info)]);
    expect(r.apdus[0].map[0]).toBe(3 + 8 + 1 + 2 + 3);
  });

  it('a frame without an information field is a good frame and no APDU', () => {
    const f = hdlcFrame({ address: hex('CF 23') }); // 7E A0 07 CF 23 13 FCS 7E
    expect(f.length).toBe(9);
    const r = run(hdlc, [concat(f, w)]);
    expect(r.errors).toEqual([]);
    expect(r.frames.map((x) => x.offset)).toEqual([0, 9]);
    expect(r.apdus).toHaveLength(1);
  });

  it('input cut inside a frame + finish(): truncated at its opening flag; the link can be fed again', () => {
    const a = wire(vector(AIDON));
    const r = new Recorder();
    const link = new HdlcLink(r);
    link.push(a.subarray(0, 100));
    link.finish();
    expect(r.errorList).toEqual([['truncated', 0]]);
    expect(r.errors[0].detail).toContain('100 bytes');
    link.push(a);
    link.finish();
    expect(r.errorList).toEqual([['truncated', 0]]);
    expect(r.frames.map((f) => f.offset)).toEqual([100]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].map[0]).toBe(100 + 12);
  });

  it('input cut right after the format byte + finish(): truncated', () => {
    expect(run(hdlc, [hex('7E A0')]).errorList).toEqual([['truncated', 0]]);
  });

  it('an info field larger than the APDU buffer: overflow at its first byte', () => {
    const r = run((s) => new HdlcLink(s, 100), [concat(w, wire(vector(GBT)).subarray(282))]);
    expect(r.errorList).toEqual([['overflow', 14]]); // 108 bytes do not fit in 100
    expect(r.apdus.map((a) => a.length)).toEqual([38]);
  });
});

describe('encodeHdlcFrame (the simulator encoder) round-trips', () => {
  it('re-encoding the Wiener Netze APDU gives the meter frame byte for byte', () => {
    const w = wire(vector(WIEN));
    const out = new Uint8Array(256);
    const n = encodeHdlcFrame(infoOf(w, HCS_AT[WIEN], true), out);
    expect(toHex(out, 0, n)).toBe(hexOf(w));
  });

  it.each([0, 1, 197, 1000, 2032])('an info field of %i bytes decodes to itself', (n) => {
    const info = randomBytes(rng(n + 3), n);
    const out = new Uint8Array(2100);
    const len = encodeHdlcFrame(info, out);
    expect(len).toBe(n + 17); // 7E, format (2), CF 00 02 00 23 13, HCS (2), E6 E7 00, FCS (2), 7E
    const r = run(hdlc, [out.subarray(0, len)], out.subarray(0, len));
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(info)]);
    expect(r.mapMismatches).toBe(0);
  });
});

describe('bounded memory: 1 MB of random bytes mixed with real pushes', () => {
  it('never throws, the good frames come out, the buffers stay the same', () => {
    const random = rng(0x68646c63);
    const ids = [WIEN, KAMSTRUP, AIDON, GBT];
    const pushes = ids.map((id) => wire(vector(id)));
    const apdusOf = ids.map((id) => framesOf(id).map((f, k) => hexOf(infoOf(f, HCS_AT[id], k === 0))));
    const parts: Uint8Array[] = [];
    const want: string[] = [];
    for (let k = 0; k < 64; k++) {
      parts.push(randomBytes(random, 16384));
      parts.push(pushes[k % 4]);
      want.push(...apdusOf[k % 4]);
    }
    const stream = concat(...parts);
    expect(stream.length).toBeGreaterThan(1 << 20);

    const r = new Recorder(stream);
    const link = new HdlcLink(r);
    expectBoundedOverNoise(link, r, stream, want, random, { frame: 2064, apdu: 2048 });

    const whole = run(hdlc, [stream]);
    expect(whole.events.length).toBe(r.events.length);
    expect(JSON.stringify(whole.events) === JSON.stringify(r.events)).toBe(true);
  }, 60_000);
});

describe('noise never holds back a good frame: the HCS is checked as soon as the header is complete', () => {
  it('7E A7 FF (2047 bytes announced) before real frames: each frame is delivered the moment its last byte arrives', () => {
    const f = wire(vector(WIEN));
    const noise = hex('7E A7 FF');
    const r = new Recorder();
    const link = hdlc(r);
    link.push(noise);
    // a real frame right after: its flag is found at once, without waiting for 2047 bytes
    link.push(f);
    expect(r.apdus).toHaveLength(1);
    link.push(f);
    expect(r.apdus).toHaveLength(2);
    expect(r.trace.filter((t) => t !== 'apdu')).toEqual([`checksum@${3 + 5}`, 'frame@3', `frame@${3 + f.length}`]);
  });

  it('a header with a bad HCS resynchronises at once on the next flag, whatever the chunking', () => {
    const f = wire(vector(WIEN));
    const bad = f.slice();
    bad[HCS_AT[WIEN]] ^= 0x01;
    const input = concat(bad.subarray(0, 40), f, f);
    const whole = run(hdlc, [input]);
    expect(whole.errorList).toEqual([['checksum', HCS_AT[WIEN]]]);
    expect(whole.apdus).toHaveLength(2);
    expectSameAtEveryChunking(hdlc, input);
  });
});
