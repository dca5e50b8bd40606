// M-Bus link layer (firmware/link/mbus.ts, with the FrameScanner of scanner.ts underneath) on real
// pushes: what comes out is exactly the joined user data, wherever the input is split, and every
// damaged push is one typed error at the byte to look at, after which the next push still decodes.
//
//   68 L L 68 | C A CI | STSAP DTSAP | user data ... | CS 16
//   0  1 2 3    4 5 6    7     8       9 .. 4+L-1     4+L 5+L
import { describe, expect, it } from 'vitest';
import { toHex } from '../firmware/bytes.js';
import { MbusLink, MBUS_SEGMENT_DATA, encodeLongFrames } from '../firmware/link/mbus.js';
import type { LinkSink } from '../firmware/link/scanner.js';
import { concat, hex, rng, vector, wire } from './helpers.js';
import { Recorder, expectSameAtEveryChunking, randomBytes, run, expectBoundedOverNoise } from './link-recorder.js';

const NOE = 'at-netznoe-kaifa-official'; // 68 FA FA 68 (CI 00) + 68 14 14 68 (CI 11)
const TINETZ = 'at-tinetz-kaifa-docexample'; // 68 FA FA 68 (CI 00) + 68 26 26 68 (CI 11)
const SALZBURG = 'at-salzburgnetz-elster-docexample-nokey'; // one frame 68 5D 5D 68, CI 10

const mbus = (r: LinkSink) => new MbusLink(r);
const framesOf = (id: string): Uint8Array[] => vector(id).frames_hex.map(hex);

/** The user data of one long frame, read from the bytes by the diagram above (not by the parser). */
function userData(f: Uint8Array): Uint8Array {
  const l = f[1];
  expect(f[0]).toBe(0x68);
  expect(f[2]).toBe(l);
  expect(f[3]).toBe(0x68);
  expect(f.length).toBe(l + 6);
  expect(f[l + 5]).toBe(0x16);
  expect([f[7], f[8]]).toEqual([0x01, 0x67]); // STSAP, DTSAP
  return f.subarray(9, 4 + l);
}

/** A long frame with a correct checksum; L above 255 is written modulo 256 (the EVN overflow). */
function mbusFrame(ci: number, data: Uint8Array, c = 0x53, a = 0xff): Uint8Array {
  const l = 5 + data.length;
  const f = new Uint8Array(l + 6);
  f.set([0x68, l & 0xff, l & 0xff, 0x68, c, a, ci, 0x01, 0x67]);
  f.set(data, 9);
  let sum = 0;
  for (let i = 4; i < 4 + l; i++) sum += f[i];
  f[4 + l] = sum & 0xff;
  f[5 + l] = 0x16;
  return f;
}

function hexOf(b: Uint8Array): string {
  return toHex(b);
}

describe('real pushes come out as exactly the joined user data', () => {
  const cases = [
    // id, frames, APDU length (sum of L - 5 over the frames)
    [NOE, 2, 0xfa - 5 + (0x14 - 5)], // 245 + 15 = 260
    [TINETZ, 2, 0xfa - 5 + (0x26 - 5)], // 245 + 33 = 278
    [SALZBURG, 1, 0x5d - 5], // 88
  ] as const;

  it.each(cases)('%s: %i frame(s), one APDU of %i bytes starting DB 08', (id, frameCount, apduLength) => {
    const frames = framesOf(id);
    const bytes = wire(vector(id));
    expect(frames).toHaveLength(frameCount);
    const expected = concat(...frames.map(userData));
    expect(expected.length).toBe(apduLength);

    const r = run(mbus, [bytes], bytes);
    expect(r.errors).toEqual([]);
    // each frame is delivered whole, at its own stream offset
    let at = 0;
    const frameEvents = frames.map((f) => {
      const e = { type: 'frame', offset: at, hex: hexOf(f) };
      at += f.length;
      return e;
    });
    expect(r.frames).toEqual(frameEvents);
    expect(r.apdus).toHaveLength(1);
    const a = r.apdus[0];
    expect(a.length).toBe(apduLength);
    expect(a.hex).toBe(hexOf(expected));
    expect(a.hex.slice(0, 4)).toBe('DB08'); // general-glo-ciphering, 8-byte system title
    // the APDU comes after the last frame that completes it
    expect(r.trace).toEqual([...frameEvents.map((e) => `frame@${e.offset}`), 'apdu']);
    // APDU byte 0 is the byte after 68 L L 68 C A CI STSAP DTSAP of the first frame
    expect(a.map[0]).toBe(9);
    expect(r.mapMismatches).toBe(0);
  });

  it('the user data of the Netz NÖ push ends in the bytes the meter sent before CS 16', () => {
    const r = run(mbus, [wire(vector(NOE))]);
    // second frame: 68 14 14 68 53 FF 11 01 67 | 41 9A 3C FD A4 4B E4 38 C9 6F 0E 38 BF 83 D9 | 83 16
    expect(r.apdus[0].hex.slice(-30)).toBe('419A3CFDA44BE438C96F0E38BF83D9');
    expect(r.apdus[0].hex.slice(0, 36)).toBe('DB084B464D675000000981F8200000002388'); // DB 08 "KFMgP..." 81 F8 20 00000023
  });

  it('two pushes back to back give two APDUs, the second mapped past the first', () => {
    const bytes = wire(vector(NOE));
    const r = run(mbus, [concat(bytes, bytes)], concat(bytes, bytes));
    expect(r.errors).toEqual([]);
    expect(r.apdus).toHaveLength(2);
    expect(r.apdus[1].hex).toBe(r.apdus[0].hex);
    expect(r.apdus[0].map[0]).toBe(9);
    expect(r.apdus[1].map[0]).toBe(bytes.length + 9);
    expect(r.mapMismatches).toBe(0);
  });
});

describe('stream offsets of the reassembled APDU', () => {
  it('a position in the second Netz NÖ segment maps to its byte in the second frame', () => {
    const bytes = wire(vector(NOE));
    const seen: Record<number, number> = {};
    const values: Record<number, number> = {};
    const link = new MbusLink({
      frame: () => {},
      error: (e) => expect.fail(`${e.kind} at ${e.offset}`),
      apdu: (a) => {
        for (const p of [0, 244, 245, 250, 259, 260]) {
          seen[p] = a.streamOffset(p);
          values[p] = a.buffer[p];
        }
      },
    });
    link.push(bytes);
    link.finish();
    // segment 1: frame at 0, user data at 9..253 (245 bytes); segment 2: frame at 256, data at 265..279
    expect(seen).toEqual({ 0: 9, 244: 253, 245: 265, 250: 270, 259: 279, 260: 280 });
    expect(bytes[265]).toBe(0x41); // first user data byte of 68 14 14 68 53 FF 11 01 67 | 41 ...
    expect(values[245]).toBe(0x41);
    expect(values[250]).toBe(bytes[270]);
    expect(values[259]).toBe(0xd9); // last user data byte, before CS 83 and 16
  });

  it('offsets count every byte fed, garbage and earlier pushes included', () => {
    const bytes = wire(vector(TINETZ));
    const input = concat(hex('00 11 22'), bytes, bytes);
    const r = run(mbus, [input], input, [245]);
    expect(r.apdus.map((a) => a.map[245])).toEqual([3 + 256 + 9, 3 + bytes.length + 256 + 9]);
    expect(r.mapMismatches).toBe(0);
  });
});

describe('chunk boundaries: the same bytes split anywhere give the same events', () => {
  it.each([NOE, TINETZ, SALZBURG])('%s at every split and byte by byte', (id) => {
    const r = expectSameAtEveryChunking(mbus, wire(vector(id)));
    expect(r.apdus).toHaveLength(1);
    expect(r.errors).toEqual([]);
  });

  it('a stream of damaged and good pushes at every split and byte by byte', () => {
    const [fa, last] = framesOf(NOE);
    const good = wire(vector(NOE));
    const badCs = good.slice();
    badCs[254] ^= 0x01;
    const salzburg = wire(vector(SALZBURG));
    const badStop = salzburg.slice();
    badStop[badStop.length - 1] = 0x17;
    const stream = concat(hex('01 02 03 04 05'), good, badCs, fa, fa, last, badStop, last, salzburg, good.subarray(0, 100));
    const r = expectSameAtEveryChunking(mbus, stream);
    // the good copies in the stream all decode: NÖ, NÖ (from the second FA), Salzburg
    expect(r.apdus.map((a) => a.length)).toEqual([260, 260, 88]);
    expect(r.errors.map((e) => e.kind)).toContain('truncated');
  });
});

describe('damaged pushes: one typed error at the right byte, then the next push decodes', () => {
  it('flipped checksum of a single-frame push: one checksum error at the CS byte', () => {
    const good = wire(vector(SALZBURG));
    const bad = good.slice();
    const cs = 4 + 0x5d; // 97
    bad[cs] ^= 0xff;
    const r = run(mbus, [concat(bad, good)], concat(bad, good));
    expect(r.errorList).toEqual([['checksum', cs]]);
    expect(r.errors[0].detail).toContain(`0x${toHex(bad, cs, cs + 1)}`);
    expect(r.frames.map((f) => f.offset)).toEqual([good.length]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].hex).toBe(hexOf(userData(good)));
    expect(r.apdus[0].map[0]).toBe(good.length + 9);
    expect(r.mapMismatches).toBe(0);
  });

  it('flipped checksum of the first Netz NÖ segment: checksum, then the orphaned segment 1, then the next push decodes', () => {
    const good = wire(vector(NOE));
    const bad = good.slice();
    bad[254] ^= 0xff; // CS of 68 FA FA 68 ... (4 + 0xFA)
    const r = run(mbus, [concat(bad, good)], concat(bad, good));
    expect(r.errorList).toEqual([
      ['checksum', 254],
      ['segment-order', 256 + 6], // CI 0x11 of the second frame, whose segment 0 was lost
    ]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].length).toBe(260);
    expect(r.apdus[0].map[0]).toBe(good.length + 9);
    expect(r.mapMismatches).toBe(0);
  });

  it('flipped checksum of the last Netz NÖ segment: the next push replaces the unfinished one', () => {
    const good = wire(vector(NOE));
    const bad = good.slice();
    const cs = 256 + 4 + 0x14; // 280
    bad[cs] ^= 0xff;
    const r = run(mbus, [concat(bad, good)], concat(bad, good));
    expect(r.errorList).toEqual([
      ['checksum', cs],
      ['segment-order', good.length + 6], // CI 0x00 of the next push while segment 1 was awaited
    ]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].map[0]).toBe(good.length + 9);
    expect(r.apdus[0].length).toBe(260);
  });

  it('wrong stop byte: a stop-byte error at that byte, then the next push decodes', () => {
    const good = wire(vector(SALZBURG));
    const bad = good.slice();
    bad[good.length - 1] = 0x17;
    const r = run(mbus, [concat(bad, good)], concat(bad, good));
    expect(r.errors.filter((e) => e.kind !== 'garbage').map((e) => [e.kind, e.offset])).toEqual([['stop-byte', 98]]);
    expect(r.errors[0].detail).toContain('0x17');
    expect(r.frames.map((f) => f.offset)).toEqual([99]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(userData(good))]);
    expect(r.mapMismatches).toBe(0);
  });

  it('wrong stop byte: the rejected frame is one error, not also reported as garbage', () => {
    // scanner.ts keeps the bytes of a rejected frame quiet (quiet()), as it does for a bad checksum
    const good = wire(vector(SALZBURG));
    const bad = good.slice();
    bad[good.length - 1] = 0x17;
    const r = run(mbus, [concat(bad, good)]);
    expect(r.errorList).toEqual([['stop-byte', 98]]);
  });

  it('L != L: a length error at the first L, then the next push decodes', () => {
    const good = wire(vector(SALZBURG));
    const bad = good.slice();
    bad[2] = 0x5e;
    const r = run(mbus, [concat(bad, good)], concat(bad, good));
    expect(r.errors.filter((e) => e.kind === 'length').map((e) => [e.kind, e.offset])).toEqual([['length', 1]]);
    expect(r.errors.find((e) => e.kind === 'length')!.detail).toContain('0x5D and 0x5E');
    // whatever else is said is about the rejected bytes [0, 99), never about the good push
    for (const e of r.errors.filter((x) => x.kind !== 'length')) {
      expect(e.kind).toBe('garbage');
      expect(e.offset).toBeLessThan(99);
    }
    expect(r.frames.map((f) => f.offset)).toEqual([99]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(userData(good))]);
  });

  it('leading garbage: one garbage error at offset 0 counting the bytes, then the frame decodes', () => {
    const garbage = randomBytes(rng(7), 5, 0x68);
    const good = wire(vector(SALZBURG));
    const input = concat(garbage, good);
    const r = run(mbus, [input], input);
    expect(r.errorList).toEqual([['garbage', 0]]);
    expect(r.errors[0].detail).toMatch(/^5 bytes /);
    expect(r.frames.map((f) => f.offset)).toEqual([5]);
    expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(userData(good))]);
    expect(r.apdus[0].map[0]).toBe(5 + 9);
    expect(r.mapMismatches).toBe(0);
  });

  it('leading garbage is reported before the frame that follows it (stream order)', () => {
    const input = concat(randomBytes(rng(7), 5, 0x68), wire(vector(SALZBURG)));
    expect(run(mbus, [input]).trace).toEqual(['garbage@0', 'frame@5', 'apdu']);
  });

  it('trailing garbage: reported at finish(), where it starts, with its count', () => {
    const good = wire(vector(SALZBURG));
    const r = run(mbus, [concat(good, hex('00 FF 16'))]);
    expect(r.errorList).toEqual([['garbage', 99]]);
    expect(r.errors[0].detail).toMatch(/^3 bytes /);
    expect(r.apdus).toHaveLength(1);
  });

  it('a lone 0x68 in garbage that is not a header is garbage too', () => {
    const good = wire(vector(SALZBURG));
    const input = concat(hex('68 01 02 03 04 05 06'), good);
    const r = run(mbus, [input]);
    expect(r.errorList).toEqual([['garbage', 0]]);
    expect(r.errors[0].detail).toMatch(/^7 bytes /);
    expect(r.apdus).toHaveLength(1);
  });

  it('duplicated first segment: a segment-order error at the second copy, which then completes the push', () => {
    const [fa, last] = framesOf(NOE);
    const input = concat(fa, fa, last);
    const r = run(mbus, [input], input, [245]);
    expect(r.errorList).toEqual([['segment-order', 256 + 6]]); // CI 0x00 of the second copy
    expect(r.errors[0].detail).toContain('previous push was dropped');
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].hex).toBe(hexOf(concat(userData(fa), userData(last))));
    expect(r.apdus[0].map[0]).toBe(256 + 9); // from the second copy
    expect(r.apdus[0].map[245]).toBe(512 + 9);
    expect(r.mapMismatches).toBe(0);
  });

  it('the second segment alone: segment-order at its CI byte, no APDU, and the next push decodes', () => {
    const [, last] = framesOf(NOE);
    const good = wire(vector(NOE));
    const r = run(mbus, [concat(last, good)]);
    expect(r.errorList).toEqual([['segment-order', 6]]);
    expect(r.errors[0].detail).toContain('segment 0 was lost');
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].map[0]).toBe(last.length + 9);
  });

  it('the second segment alone and then the end of input: only the segment-order error', () => {
    const [, last] = framesOf(TINETZ);
    const r = run(mbus, [last]);
    expect(r.errorList).toEqual([['segment-order', 6]]);
    expect(r.apdus).toEqual([]);
  });

  it('a skipped segment: segment-order where it was expected, the rest of the push is dropped', () => {
    // the real Netz NÖ APDU cut into four segments of 80 bytes (CI 00 01 02 13), segment 1 lost
    const apdu = concat(...framesOf(NOE).map(userData));
    const segs = [0, 1, 2, 3].map((k) => mbusFrame(k === 3 ? 0x13 : k, apdu.subarray(k * 80, k * 80 + 80)));
    const all = run(mbus, [concat(...segs)]);
    expect(all.errors).toEqual([]);
    expect(all.apdus.map((a) => a.hex)).toEqual([hexOf(apdu)]);

    const r = run(mbus, [concat(segs[0], segs[2], segs[3])]);
    const at2 = segs[0].length + 6;
    const at3 = segs[0].length + segs[2].length + 6;
    expect(r.errorList).toEqual([
      ['segment-order', at2],
      ['segment-order', at3],
    ]);
    expect(r.errors[0].detail).toContain('segment 2 arrived where segment 1 was expected');
    expect(r.apdus).toEqual([]);
  });

  it('input cut inside the first frame + finish(): truncated at the frame start', () => {
    const good = wire(vector(NOE));
    const r = run(mbus, [good.subarray(0, 100)]);
    expect(r.errorList).toEqual([['truncated', 0]]);
    expect(r.errors[0].detail).toContain('100 bytes');
    expect(r.frames).toEqual([]);
    expect(r.apdus).toEqual([]);
  });

  it('input cut between the segments + finish(): truncated where the input ended', () => {
    const good = wire(vector(NOE));
    const r = run(mbus, [good.subarray(0, 256)]);
    // the first frame (256 bytes) is complete; its push waits for segment 1 when the input ends
    expect(r.errorList).toEqual([['truncated', 256]]);
    expect(r.errors[0].detail).toContain('segment 1 missing');
    expect(r.frames.map((f) => f.offset)).toEqual([0]);
    expect(r.apdus).toEqual([]);
  });

  it('input cut inside the second frame + finish(): the frame and the push are truncated', () => {
    const good = wire(vector(NOE));
    const r = run(mbus, [good.subarray(0, 270)]);
    expect(r.errorList).toEqual([
      ['truncated', 256], // the second frame, cut short
      ['truncated', 270], // the push, at the end of the input
    ]);
    expect(r.apdus).toEqual([]);
  });

  it('finish() does not end the link: the next push decodes, offsets keep counting', () => {
    const good = wire(vector(NOE));
    const r = new Recorder();
    const link = new MbusLink(r);
    link.push(good.subarray(0, 100));
    link.finish();
    link.push(good);
    link.finish();
    expect(r.errorList).toEqual([['truncated', 0]]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].map[0]).toBe(100 + 9);
    expect(r.frames.map((f) => f.offset)).toEqual([100, 356]);
  });

  it('a CI that does not carry DLMS: unknown-apdu at the CI byte; the frame itself is good', () => {
    const f = mbusFrame(0x72, hex('01 02 03 04'));
    const r = run(mbus, [concat(f, wire(vector(SALZBURG)))]);
    expect(r.errorList).toEqual([['unknown-apdu', 6]]);
    expect(r.errors[0].detail).toContain('0x72');
    expect(r.frames.map((f) => f.offset)).toEqual([0, f.length]);
    expect(r.apdus).toHaveLength(1);
  });

  it('a frame too short for STSAP and DTSAP: truncated at the CI byte', () => {
    // 68 03 03 68 53 FF 10 | CS 16: L = 3 holds C, A, CI only
    const f = hex('68 03 03 68 53 FF 10 62 16');
    const r = run(mbus, [concat(f, wire(vector(SALZBURG)))]);
    expect(r.errorList).toEqual([['truncated', 6]]);
    expect(r.apdus).toHaveLength(1);
  });

  it('a push larger than the APDU buffer: overflow at the CI of the segment that does not fit', () => {
    const good = wire(vector(NOE));
    const r = run((s) => new MbusLink(s, 250), [concat(good, wire(vector(SALZBURG)))]);
    expect(r.errorList).toEqual([['overflow', 256 + 6]]); // 245 bytes fit, 245 + 15 do not
    expect(r.apdus.map((a) => a.length)).toEqual([88]);
  });
});

describe('the EVN Sagemcom length overflow (68 01 01 68 for L = 257)', () => {
  // 257 = C A CI STSAP DTSAP + 252 bytes of user data, taken from the real Netz NÖ APDU
  const data = concat(...framesOf(NOE).map(userData)).slice(0, 252);
  const frame = mbusFrame(0x10, data);

  it('the built frame is what the meter sends', () => {
    expect(frame.length).toBe(263);
    expect(toHex(frame, 0, 9)).toBe('6801016853FF100167');
    let sum = 0;
    for (let i = 4; i < 4 + 257; i++) sum += frame[i];
    expect(frame[261]).toBe(sum & 0xff); // over all 257 bytes
    expect(frame[262]).toBe(0x16);
  });

  it('is accepted as one 263-byte frame with all 252 bytes of user data', () => {
    const r = run(mbus, [frame], frame);
    expect(r.errors).toEqual([]);
    expect(r.frames).toEqual([{ type: 'frame', offset: 0, hex: hexOf(frame) }]);
    expect(r.apdus).toHaveLength(1);
    expect(r.apdus[0].length).toBe(252);
    expect(r.apdus[0].hex).toBe(hexOf(data));
    expect(r.apdus[0].hex.slice(0, 4)).toBe('DB08');
    expect(r.mapMismatches).toBe(0);
  });

  it('between two real pushes, at every split', () => {
    const good = wire(vector(SALZBURG));
    const r = expectSameAtEveryChunking(mbus, concat(good, frame, good));
    expect(r.errors).toEqual([]);
    expect(r.apdus.map((a) => a.length)).toEqual([88, 252, 88]);
  });

  it('its checksum over only L = 1 byte is not accepted', () => {
    const bad = frame.slice();
    bad[261] = 0x53; // the sum of the single byte C
    const r = run(mbus, [bad]);
    expect(r.errorList[0]).toEqual(['checksum', 261]);
    expect(r.apdus).toEqual([]);
  });
});

describe('encodeLongFrames (the simulator encoder) round-trips', () => {
  it.each([NOE, TINETZ, SALZBURG])('re-encoding the %s APDU gives the meter frames byte for byte', (id) => {
    const bytes = wire(vector(id));
    const apdu = hex(run(mbus, [bytes]).apdus[0].hex);
    const out = new Uint8Array(1024);
    const n = encodeLongFrames(apdu, out);
    expect(toHex(out, 0, n)).toBe(hexOf(bytes));
  });

  it.each([0, 1, MBUS_SEGMENT_DATA - 1, MBUS_SEGMENT_DATA, MBUS_SEGMENT_DATA + 1, 2 * MBUS_SEGMENT_DATA, 1000, 2048])(
    'an APDU of %i bytes decodes to itself',
    (n) => {
      const apdu = randomBytes(rng(n + 1), n);
      const out = new Uint8Array(4096);
      const len = encodeLongFrames(apdu, out);
      expect(len).toBe(n + 11 * Math.max(1, Math.ceil(n / MBUS_SEGMENT_DATA)));
      const r = run(mbus, [out.subarray(0, len)], out.subarray(0, len));
      expect(r.errors).toEqual([]);
      expect(r.apdus.map((a) => a.hex)).toEqual([hexOf(apdu)]);
      expect(r.mapMismatches).toBe(0);
    },
  );
});

describe('bounded memory: 1 MB of random bytes mixed with real pushes', () => {
  it('never throws, the good pushes come out, the buffers stay the same', () => {
    const random = rng(0x6d627573);
    const pushes = [NOE, TINETZ, SALZBURG].map((id) => wire(vector(id)));
    const expectedHex = [NOE, TINETZ, SALZBURG].map((id) => hexOf(concat(...framesOf(id).map(userData))));
    const parts: Uint8Array[] = [];
    const want: string[] = [];
    for (let k = 0; k < 64; k++) {
      parts.push(randomBytes(random, 16384));
      parts.push(pushes[k % 3]);
      want.push(expectedHex[k % 3]);
    }
    const stream = concat(...parts);
    expect(stream.length).toBeGreaterThan(1 << 20);

    const r = new Recorder(stream);
    const link = new MbusLink(r);
    expectBoundedOverNoise(link, r, stream, want, random, { frame: 272, apdu: 2048 });

    // and the chunking did not matter
    const whole = run(mbus, [stream]);
    expect(whole.events.length).toBe(r.events.length);
    expect(JSON.stringify(whole.events) === JSON.stringify(r.events)).toBe(true);
  }, 60_000);
});

describe('noise never holds back a good push: a header that waits for its bytes gives way to a complete frame after it', () => {
  const salzburg = wire(vector(SALZBURG)); // one frame, 99 bytes
  const noe = wire(vector(NOE)); // 256 + 26 bytes

  it('68 FF FF 68 before real pushes: each push is delivered the moment its last byte arrives', () => {
    const noise = hex('68 FF FF 68'); // announces 261 bytes
    const r = new Recorder();
    const link = mbus(r);
    link.push(noise);
    link.push(salzburg);
    expect(r.apdus).toHaveLength(1); // not after 261 bytes: now
    link.push(noe);
    expect(r.apdus).toHaveLength(2);
    expect(r.trace).toEqual(['length@1', 'frame@4', 'apdu', `frame@${4 + salzburg.length}`, `frame@${4 + salzburg.length + 256}`, 'apdu']);
    expect(r.errors[0].detail).toBe('M-Bus header announced L=255, but a complete frame starts 4 bytes after it: the header was noise');
  });

  it('the header announcing the EVN overflow length (68 00 00 68, 262 bytes) gives way too', () => {
    const r = new Recorder();
    const link = mbus(r);
    link.push(concat(hex('68 00 00 68 12 34'), salzburg));
    expect(r.apdus).toHaveLength(1);
    expect(r.errorList).toEqual([['length', 1]]);
  });

  it('a frame that ends after the claimed end does not count: the header is judged by its own bytes', () => {
    // 68 05 05 68 claims 11 bytes; the Salzburg frame starting after 3 bytes ends long after that
    const input = concat(hex('68 05 05 68 01 02 03'), salzburg);
    const r = run(mbus, [input]);
    expect(r.apdus).toHaveLength(1);
    expect(r.errorList).toEqual([['stop-byte', 10]]);
    expectSameAtEveryChunking(mbus, input);
  });

  it('noise headers between real pushes, at every chunk size: the same events, every push out', () => {
    const [fa, last] = framesOf(NOE);
    const stream = concat(hex('68 FF FF 68'), salzburg, hex('68 C8 C8 68 01'), noe, hex('68 FA FA 68 53 FF 00 01'), fa, hex('68 FF'), last, salzburg, hex('68 80 80 68'));
    const whole = expectSameAtEveryChunking(mbus, stream);
    expect(whole.apdus.map((a) => a.length)).toEqual([88, 260, 260, 88]);
    const second = 4 + salzburg.length; // 68 C8 C8 68 01: claims 206 bytes, the NÖ push after it ends later
    const third = second + 5 + noe.length; // 68 FA FA 68 53 FF 00 01: claims 256, the NÖ frame after it ends later
    expect(whole.errorList).toEqual([
      ['length', 1], // gave way to the Salzburg push inside the 261 bytes it claimed
      ['stop-byte', second + 205], // judged by its own bytes, while the NÖ push was still arriving
      ['stop-byte', third + 255],
      ['garbage', third + 8 + fa.length], // 68 FF
      ['truncated', stream.length - 4], // 68 80 80 68 at the end, then its last 68
      ['truncated', stream.length - 1],
    ]);
    expect(whole.frames.map((f) => f.offset)).toEqual([4, second + 5, second + 5 + 256, third + 8, third + 8 + fa.length + 2, third + 10 + fa.length + last.length]);
    // byte by byte, every frame comes out with its own last byte: none waited for a noise header
    const seen: number[] = [];
    const link = new MbusLink({ frame: (_b, start, end, offset) => seen.push(offset + end - start - 1), apdu() {}, error() {} });
    const arrivedAt: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      link.push(stream, i, i + 1);
      while (arrivedAt.length < seen.length) arrivedAt.push(i);
    }
    expect(arrivedAt).toEqual(seen);
    expect(seen).toHaveLength(6);
    // and in every chunk size from 1 to the stream's length, fed in runs of that size
    for (let size = 1; size <= stream.length; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      const r = run(mbus, chunks);
      if (JSON.stringify(r.events) !== JSON.stringify(whole.events)) expect(r.events, `chunks of ${size}`).toEqual(whole.events);
    }
  });
});
