// DLMS APDU headers (Green Book / IEC 62056-5-3), firmware/dlms/apdu.ts:
//
//   general-glo-ciphering   DB | 08 system-title(8) | length | SC | IC(4) | data | tag(12) if SC & 0x10
//   data-notification       0F | long-invoke-id-and-priority(4) | 00 or 0C + date-time(12) | body
//   general-block-transfer  E0 | control (0x80 last) | block number(2) | ack(2) | length | data
import { describe, expect, it } from 'vitest';
import { GbtJoiner, newGloHeader, newNotificationHeader, parseDataNotification, parseGloCiphering, type GloHeader } from '../firmware/dlms/apdu.js';
import { Assembler } from '../firmware/link/assembler.js';
import { toHex } from '../firmware/bytes.js';
import { concat, hex, rng, vector } from './helpers.js';

function glo(b: Uint8Array, start = 0, end = b.length): GloHeader {
  const h = newGloHeader();
  const e = parseGloCiphering(b, start, end, h);
  if (e) throw new Error(`${e.kind} at ${e.offset}: ${e.detail}`);
  return h;
}

/** The APDU of an M-Bus push: user data after C A CI STSAP DTSAP of each long frame, joined. */
function mbusApdu(frames: string[]): Uint8Array {
  return concat(...frames.map((f) => hex(f)).map((f) => f.subarray(9, f.length - 2)));
}

const TITLE = '4B464D1010000023'; // KFM 1010000023

describe('parseGloCiphering on real headers', () => {
  it('Netz NÖ (Kaifa, M-Bus FA + 14): length 81 F8, security 0x20, no tag', () => {
    const apdu = mbusApdu(vector('at-netznoe-kaifa-official').frames_hex);
    expect(apdu.length).toBe(260); // DB 08 <title 8> 81 F8 | 248 bytes
    expect(toHex(apdu, 0, 17)).toBe('DB084B464D675000000981F82000000023');
    expect(glo(apdu)).toEqual({ systemTitleAt: 2, securityControl: 0x20, invocationCounter: 0x23, dataStart: 17, dataEnd: 260, tagStart: -1 });
    expect(toHex(apdu, 2, 10)).toBe('4B464D6750000009');
  });

  it('TINETZ (Kaifa, M-Bus FA + 26): length 82 01 09, security 0x21 (suite 1), no tag', () => {
    const apdu = mbusApdu(vector('at-tinetz-kaifa-docexample').frames_hex);
    expect(apdu.length).toBe(278); // 13 header bytes + 0x0109
    expect(glo(apdu)).toEqual({ systemTitleAt: 2, securityControl: 0x21, invocationCounter: 0x00295b9a, dataStart: 18, dataEnd: 278, tagStart: -1 });
    expect(toHex(apdu, 2, 10)).toBe(TITLE);
  });

  it('Wiener Netze (Siemens, HDLC): short length 0x61, parsed in place inside the frame', () => {
    const frame = hex(vector('at-wienernetze-siemens-sel0').frames_hex[0]);
    expect(frame.length).toBe(125); // 7E A0 7B ... FCS(2) 7E
    // 7E A0 7B | CF | 00 02 00 23 | 13 | 62 B1 | E6 E7 00 | DB at 14 ... 122 | FCS | 7E
    expect(glo(frame, 14, 122)).toEqual({ systemTitleAt: 16, securityControl: 0x20, invocationCounter: 0x00124ef6, dataStart: 30, dataEnd: 122, tagStart: -1 });
  });

  it('Netz Burgenland (L+G E450): security 0x30, the tag is the last 12 bytes', () => {
    const frame = hex(vector('at-netzburgenland-lgz-e450-amsreader501').frames_hex[0]);
    expect(frame.length).toBe(120);
    // DB at 12, length 5E at 22, SC at 23, content ends at 23 + 94 = 117 (then FCS, 7E)
    expect(glo(frame, 12, 117)).toEqual({ systemTitleAt: 14, securityControl: 0x30, invocationCounter: 0x002180f6, dataStart: 28, dataEnd: 105, tagStart: 105 });
  });

  it('Kamstrup (HDLC 489 bytes): length 82 01 D0, security 0x30, tag at the end', () => {
    const frame = hex(vector('dk-kamstrup-omnipower-authenc').frames_hex[0]);
    expect(frame.length).toBe(491);
    expect(glo(frame, 11, 488)).toEqual({ systemTitleAt: 13, securityControl: 0x30, invocationCounter: 0x010f60a4, dataStart: 29, dataEnd: 476, tagStart: 476 });
  });

  it('Steiermark (Sagemcom, bare APDU): 82 01 F2, security 0x30, 12-byte tag closes the APDU', () => {
    const apdu = hex(vector('at-steiermark-sagemcom-t210dr-shrdzm').frames_hex[0]);
    expect(apdu.length).toBe(511);
    const h = glo(apdu);
    expect(h).toEqual({ systemTitleAt: 2, securityControl: 0x30, invocationCounter: 0x50a5, dataStart: 18, dataEnd: 499, tagStart: 499 });
    expect(apdu.length - h.tagStart).toBe(12);
  });

  it('the ded-ciphering tag (DC) has the same layout', () => {
    const apdu = mbusApdu(vector('at-netznoe-kaifa-official').frames_hex);
    apdu[0] = 0xdc;
    expect(glo(apdu).dataStart).toBe(17);
  });
});

describe('parseGloCiphering: security control and errors', () => {
  /** DB 08 <title> <length> <sc> <ic 00000001> <n data bytes> */
  const apdu = (sc: number, n: number): Uint8Array => {
    const content = 5 + n;
    return hex(`DB 08 ${TITLE} ${content.toString(16).padStart(2, '0')} ${sc.toString(16).padStart(2, '0')} 00000001 ${'AA'.repeat(n)}`);
  };
  const err = (b: Uint8Array, start = 0, end = b.length) => parseGloCiphering(b, start, end, newGloHeader());

  it('0x20: everything after IC is ciphertext', () => {
    expect(glo(apdu(0x20, 20))).toEqual({ systemTitleAt: 2, securityControl: 0x20, invocationCounter: 1, dataStart: 16, dataEnd: 36, tagStart: -1 });
  });

  it('0x21 and 0x31: the suite (low nibble) does not change the layout', () => {
    expect(glo(apdu(0x21, 20))).toMatchObject({ securityControl: 0x21, dataEnd: 36, tagStart: -1 });
    expect(glo(apdu(0x31, 20))).toMatchObject({ securityControl: 0x31, dataEnd: 24, tagStart: 24 });
  });

  it('0x30 and 0x10: the tag range is the last 12 bytes', () => {
    expect(glo(apdu(0x30, 20))).toEqual({ systemTitleAt: 2, securityControl: 0x30, invocationCounter: 1, dataStart: 16, dataEnd: 24, tagStart: 24 });
    expect(glo(apdu(0x10, 12))).toEqual({ systemTitleAt: 2, securityControl: 0x10, invocationCounter: 1, dataStart: 16, dataEnd: 16, tagStart: 16 });
  });

  it('the header fields are read at absolute offsets when the APDU starts later', () => {
    const b = concat(hex('00 11 22'), apdu(0x30, 20));
    expect(glo(b, 3)).toEqual({ systemTitleAt: 5, securityControl: 0x30, invocationCounter: 1, dataStart: 19, dataEnd: 27, tagStart: 27 });
  });

  it('a system title length other than 8: length at the title length byte', () => {
    const b = apdu(0x20, 4);
    b[1] = 0x07;
    expect(err(b)).toEqual({ kind: 'length', offset: 1, detail: 'system title length is 7, DLMS requires 8' });
    b[1] = 0x00;
    expect(err(b)).toEqual({ kind: 'length', offset: 1, detail: 'system title length is 0, DLMS requires 8' });
  });

  it('content longer than the data: truncated at the first content byte', () => {
    // Wiener Netze: 0x61 = 97 bytes announced, the APDU window is one byte short
    const frame = hex(vector('at-wienernetze-siemens-sel0').frames_hex[0]);
    expect(parseGloCiphering(frame, 14, 121, newGloHeader())).toEqual({ kind: 'truncated', offset: 25, detail: 'ciphered content announces 97 bytes, 96 arrived' });
    // Netz NÖ with only the first M-Bus frame: 248 announced, 233 arrived
    const first = hex(vector('at-netznoe-kaifa-official').frames_hex[0]).subarray(9, 254);
    expect(err(first)).toEqual({ kind: 'truncated', offset: 12, detail: 'ciphered content announces 248 bytes, 233 arrived' });
  });

  it('cut off after the tag, inside the title or inside the length: truncated', () => {
    expect(err(hex('DB'))).toEqual({ kind: 'truncated', offset: 1, detail: 'ciphered APDU ends after its tag' });
    expect(err(hex(`DB 08 ${TITLE}`))).toEqual({ kind: 'truncated', offset: 10, detail: 'ciphered APDU ends inside its length field' });
    expect(err(hex(`DB 08 ${TITLE} 82 01`))).toEqual({ kind: 'truncated', offset: 10, detail: 'ciphered APDU ends inside its length field' });
  });

  it('cut off inside the system title: truncated at the title, not past the end of the data', () => {
    // DB 08 4B 46 | end: the title announced at offset 2 has 2 of its 8 bytes
    const e = err(hex('DB 08 4B 46'));
    expect(e?.kind).toBe('truncated');
    expect(e?.offset).toBe(2);
  });

  it('content too short for SC and IC: length', () => {
    expect(err(hex(`DB 08 ${TITLE} 04 20 00 00 00`))).toEqual({ kind: 'length', offset: 11, detail: 'ciphered content length 4 leaves no room for the security header' });
  });

  it('compression (0x80): security at the SC byte', () => {
    expect(err(apdu(0xa0, 4))).toEqual({ kind: 'security', offset: 11, detail: 'security control 0xA0 asks for compression, which meters do not use and we do not support' });
    expect(err(apdu(0xb0, 20))).toMatchObject({ kind: 'security', offset: 11 });
  });

  it('neither authentication (0x10) nor encryption (0x20): security at the SC byte', () => {
    expect(err(apdu(0x00, 4))).toEqual({ kind: 'security', offset: 11, detail: 'security control 0x00 names neither encryption nor authentication' });
    expect(err(apdu(0x01, 4))).toEqual({ kind: 'security', offset: 11, detail: 'security control 0x01 names neither encryption nor authentication' });
    expect(err(apdu(0x40, 4))).toEqual({ kind: 'security', offset: 11, detail: 'security control 0x40 names neither encryption nor authentication' });
  });

  it('authenticated content too short for its 12-byte tag: truncated at the data start', () => {
    expect(err(apdu(0x30, 11))).toEqual({ kind: 'truncated', offset: 16, detail: 'authenticated APDU too short for its 12-byte tag' });
  });
});

describe('parseDataNotification', () => {
  it('with a 12-byte date-time (Netz NÖ plaintext)', () => {
    const pt = hex(vector('at-netznoe-kaifa-official').plaintext_hex!);
    const h = newNotificationHeader();
    expect(parseDataNotification(pt, 0, pt.length, h)).toBeNull();
    // 0F | 80 06 87 0E | 0C | 07E5 09 1B 01 09 2F 0F 00 FF88 80 | 02 23 ...
    expect(h).toEqual({ invokeId: 0x8006870e, dateTimeAt: 6, bodyStart: 18 });
    expect(toHex(pt, h.dateTimeAt, h.dateTimeAt + 12)).toBe('07E5091B01092F0F00FF8880');
    expect(pt[h.bodyStart]).toBe(0x02);
  });

  it('with 0x00: no date-time (Aidon)', () => {
    const pt = hex(vector('no-aidon-1phase-plain').plaintext_hex!);
    const h = newNotificationHeader();
    h.dateTimeAt = 99; // a reused header must be overwritten
    expect(parseDataNotification(pt, 0, pt.length, h)).toBeNull();
    expect(h).toEqual({ invokeId: 0x40000000, dateTimeAt: -1, bodyStart: 6 });
    expect(pt[h.bodyStart]).toBe(0x01); // array of 9
  });

  it('tolerates the octet-string tag before the date-time (09 0C)', () => {
    const b = hex('AA 0F 00 00 00 01 09 0C 07E8 0B 0F 05 0E 2D 2D 00 FFC4 02 02 00');
    const h = newNotificationHeader();
    expect(parseDataNotification(b, 1, b.length, h)).toBeNull();
    expect(h).toEqual({ invokeId: 1, dateTimeAt: 8, bodyStart: 20 });
  });

  it('a date-time length other than 0 and 12: length at that byte', () => {
    const b = hex('0F 00 00 00 01 05 07 E5 09 1B 01 02 00');
    expect(parseDataNotification(b, 0, b.length, newNotificationHeader())).toEqual({ kind: 'length', offset: 5, detail: 'data-notification date-time has length 5, expected 0 or 12' });
    // 09 followed by something other than 0C is not the tolerated prefix: 9 is the length
    const c = hex('0F 00 00 00 01 09 05 00 00 00 00 00 00 00 00');
    expect(parseDataNotification(c, 0, c.length, newNotificationHeader())).toEqual({ kind: 'length', offset: 5, detail: 'data-notification date-time has length 9, expected 0 or 12' });
  });

  it('cut off inside the invoke id or inside the date-time: truncated', () => {
    expect(parseDataNotification(hex('0F 00 00 00 01'), 0, 5, newNotificationHeader())).toEqual({ kind: 'truncated', offset: 1, detail: 'data-notification ends inside its invoke id' });
    const b = hex('0F 00 00 00 01 0C 07 E5 09 1B 01 09 2F 0F 00 FF 88');
    expect(parseDataNotification(b, 0, b.length, newNotificationHeader())).toEqual({ kind: 'truncated', offset: 5, detail: 'data-notification ends inside its date-time' });
  });

  it('a notification with nothing after the header still parses; the body is the next layer\'s problem', () => {
    const b = hex('0F 00 00 00 07 00');
    const h = newNotificationHeader();
    expect(parseDataNotification(b, 0, b.length, h)).toBeNull();
    expect(h).toEqual({ invokeId: 7, dateTimeAt: -1, bodyStart: 6 });
  });
});

describe('GbtJoiner', () => {
  /** An assembler holding one received frame that began at `at` in the input stream. */
  const piece = (text: string, at: number): Assembler => {
    const b = hex(text);
    const a = new Assembler(512);
    expect(a.append(b, 0, b.length, at)).toBe(true);
    return a;
  };
  const block = (control: number, n: number, data: string): string => {
    const d = hex(data);
    return `E0 ${control.toString(16).padStart(2, '0')} ${n.toString(16).padStart(4, '0')} 0000 ${d.length.toString(16).padStart(2, '0')} ${data}`;
  };
  const push = (j: GbtJoiner, a: Assembler) => j.push(a, 0, a.length);
  const joined = (j: GbtJoiner): string => toHex(j.out.buffer, 0, j.out.length);

  it('three blocks in order give the complete APDU', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(j.pending).toBe(false);
    expect(push(j, piece(block(0x00, 1, 'DB 08 01'), 100))).toBe(false);
    expect(j.pending).toBe(true);
    expect(push(j, piece(block(0x00, 2, '02 03 04'), 200))).toBe(false);
    expect(push(j, piece(block(0x80, 3, '05'), 300))).toBe(true);
    expect(joined(j)).toBe('DB080102030405');
    // every byte remembers where it arrived: block data starts 7 bytes into each frame
    expect(j.out.streamOffset(0)).toBe(107);
    expect(j.out.streamOffset(2)).toBe(109);
    expect(j.out.streamOffset(3)).toBe(207);
    expect(j.out.streamOffset(6)).toBe(307);
  });

  it('the next APDU starts again at block 1 and replaces the completed one', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(push(j, piece(block(0x80, 1, 'AA BB'), 0))).toBe(true);
    expect(joined(j)).toBe('AABB');
    expect(push(j, piece(block(0x80, 1, 'CC'), 10))).toBe(true);
    expect(joined(j)).toBe('CC');
  });

  it('a block out of order: segment-order at the block number, the partial APDU is dropped', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(push(j, piece(block(0x00, 1, '01 02'), 0))).toBe(false);
    expect(push(j, piece(block(0x00, 3, '03'), 50))).toEqual({ kind: 'segment-order', offset: 52, detail: 'general-block-transfer block 3 arrived where block 2 was expected' });
    expect(j.pending).toBe(false);
    // the block that should have come is now out of order too: the joiner waits for block 1
    expect(push(j, piece(block(0x80, 2, '04'), 80))).toEqual({ kind: 'segment-order', offset: 82, detail: 'general-block-transfer block 2 arrived where block 1 was expected' });
    expect(push(j, piece(block(0x80, 1, '05'), 90))).toBe(true);
    expect(joined(j)).toBe('05');
  });

  it('a first block other than 1 is out of order', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(push(j, piece(block(0x80, 2, '01'), 7))).toEqual({ kind: 'segment-order', offset: 9, detail: 'general-block-transfer block 2 arrived where block 1 was expected' });
  });

  it('block 1 while an APDU is pending restarts it: the old one lost its tail', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(push(j, piece(block(0x00, 1, 'AA AA'), 0))).toBe(false);
    expect(push(j, piece(block(0x00, 2, 'BB BB'), 10))).toBe(false);
    expect(push(j, piece(block(0x00, 1, '11 22'), 20))).toBe(false);
    expect(joined(j)).toBe('1122');
    expect(push(j, piece(block(0x00, 2, '33'), 30))).toBe(false);
    expect(push(j, piece(block(0x80, 3, '44'), 40))).toBe(true);
    expect(joined(j)).toBe('11223344');
    expect(j.out.streamOffset(0)).toBe(27);
  });

  it('a block length beyond its data: truncated at the length byte, the partial APDU is dropped', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(push(j, piece(block(0x00, 1, '01 02'), 0))).toBe(false);
    // announces 5 bytes, carries 2
    expect(push(j, piece('E0 00 0002 0000 05 03 04', 1000))).toEqual({ kind: 'truncated', offset: 1006, detail: 'block 2 announces 5 bytes, 2 arrived' });
    expect(j.pending).toBe(false);
  });

  it('a header that is cut off or not E0: truncated at the block start', () => {
    const j = new GbtJoiner(new Assembler(64));
    expect(push(j, piece('E0 00 00 01 00', 40))).toEqual({ kind: 'truncated', offset: 40, detail: 'general-block-transfer header is cut off' });
    expect(push(j, piece('E1 00 0001 0000 01 AA', 50))).toEqual({ kind: 'truncated', offset: 50, detail: 'general-block-transfer header is cut off' });
    expect(push(j, piece('E0 00 0001 0000 82 01', 60))).toEqual({ kind: 'truncated', offset: 66, detail: 'general-block-transfer length is cut off' });
  });

  it('an APDU larger than the output buffer: overflow at the block start', () => {
    const j = new GbtJoiner(new Assembler(4));
    expect(push(j, piece(block(0x00, 1, '01 02 03'), 0))).toBe(false);
    expect(push(j, piece(block(0x80, 2, '04 05'), 20))).toEqual({ kind: 'overflow', offset: 20, detail: 'general-block-transfer APDU exceeds 4 bytes' });
    expect(j.pending).toBe(false);
  });

  it('the real Landis+Gyr E450 push: three HDLC frames join into one ciphered APDU', () => {
    const frames = vector('lgz-e450-gbt-1').frames_hex.map((f) => hex(f));
    expect(frames.map((f) => f.length)).toEqual([141, 141, 50]);
    const j = new GbtJoiner(new Assembler(1024));
    const results: (boolean | object)[] = [];
    let at = 0;
    frames.forEach((f, k) => {
      const a = new Assembler(256);
      a.append(f, 0, f.length, at);
      at += f.length;
      // the first frame carries the LLC header E6 E7 00 before E0; the block ends before FCS + 7E
      results.push(j.push(a, k === 0 ? 12 : 9, f.length - 3));
    });
    expect(results).toEqual([false, false, true]);
    expect(j.out.length).toBe(119 + 122 + 31);
    expect(j.out.streamOffset(0)).toBe(19); // E0 at 12, data after 7 header bytes
    expect(j.out.streamOffset(119)).toBe(141 + 16);
    expect(j.out.streamOffset(241)).toBe(282 + 16);
    const h = glo(j.out.buffer, 0, j.out.length);
    expect(h).toEqual({ systemTitleAt: 2, securityControl: 0x30, invocationCounter: 0x00177bca, dataStart: 18, dataEnd: 260, tagStart: 260 });
    expect(toHex(j.out.buffer, 2, 10)).toBe('4C475A677370B177');
  });
});

describe('cheap fuzzing of the header parsers', () => {
  it('random bytes never throw and every offset stays in the window', () => {
    const next = rng(1234);
    const b = new Uint8Array(64);
    const g = newGloHeader();
    const n = newNotificationHeader();
    let parsed = 0;
    for (let round = 0; round < 20000; round++) {
      const len = 1 + Math.floor(next() * (b.length - 1));
      for (let i = 0; i < len; i++) b[i] = Math.floor(next() * 256);
      b[0] = next() < 0.5 ? 0xdb : 0x0f;
      if (len > 1 && b[0] === 0xdb && next() < 0.7) b[1] = 8;
      if (len > 10 && b[0] === 0xdb && next() < 0.7) b[10] = Math.floor(next() * (len - 10));
      if (len > 11 && b[0] === 0xdb && next() < 0.5) b[11] = [0x20, 0x30, 0x21, 0x10][Math.floor(next() * 4)];
      const e = b[0] === 0xdb ? parseGloCiphering(b, 0, len, g) : parseDataNotification(b, 0, len, n);
      if (e === null) {
        parsed++;
        if (b[0] === 0xdb) {
          expect(g.dataStart).toBeLessThanOrEqual(g.dataEnd);
          expect(g.dataEnd).toBeLessThanOrEqual(len);
          if (g.tagStart >= 0) expect(g.tagStart + 12).toBeLessThanOrEqual(len);
        } else {
          expect(n.bodyStart).toBeLessThanOrEqual(len);
          if (n.dateTimeAt >= 0) expect(n.dateTimeAt + 12).toBeLessThanOrEqual(len);
        }
      } else {
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(len);
      }
    }
    expect(parsed).toBeGreaterThan(1000);
  });
});
