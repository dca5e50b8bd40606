// Assembler (firmware/link/assembler.ts): joins the pieces of one APDU in a fixed buffer and maps
// every APDU position back to the input byte it came from. Fed here with the pieces of real pushes
// at their real stream offsets, as the link layers and the GBT joiner feed it.
import { describe, expect, it } from 'vitest';
import { toHex } from '../firmware/bytes.js';
import { Assembler } from '../firmware/link/assembler.js';
import { HdlcLink } from '../firmware/link/hdlc.js';
import { MbusLink } from '../firmware/link/mbus.js';
import { concat, hex, vector, wire } from './helpers.js';

const NOE = 'at-netznoe-kaifa-official';
const GBT = 'lgz-e450-gbt-1';

/** Every position p of a: input[a.streamOffset(p)] must be a.buffer[p]. Returns the mismatches. */
function mismatches(a: Assembler, input: Uint8Array): number[] {
  const bad: number[] = [];
  for (let p = 0; p < a.length; p++) if (input[a.streamOffset(p)] !== a.buffer[p]) bad.push(p);
  return bad;
}

describe('a new or reset assembler', () => {
  it('is empty and maps positions to themselves', () => {
    const a = new Assembler(16);
    expect(a.empty).toBe(true);
    expect(a.length).toBe(0);
    expect(a.buffer.length).toBe(16);
    expect([0, 5, 100].map((p) => a.streamOffset(p))).toEqual([0, 5, 100]);
  });

  it('reset() forgets pieces and length; the next piece maps from its own offset', () => {
    const a = new Assembler(16);
    a.append(hex('01 02 03'), 0, 3, 500);
    expect(a.empty).toBe(false);
    a.reset();
    expect(a.empty).toBe(true);
    expect(a.length).toBe(0);
    expect(a.streamOffset(2)).toBe(2);
    expect(a.append(hex('0A 0B'), 0, 2, 40)).toBe(true);
    expect(toHex(a.buffer, 0, a.length)).toBe('0A0B');
    expect([a.streamOffset(0), a.streamOffset(1)]).toEqual([40, 41]);
  });
});

describe('append: the two Netz NÖ segments at their stream offsets', () => {
  const bytes = wire(vector(NOE));
  // 68 FA FA 68 53 FF 00 01 67 | data 9..253 | CS 16 || 68 14 14 68 53 FF 11 01 67 | data 265..279 | CS 16
  const build = (): Assembler => {
    const a = new Assembler(2048);
    expect(a.append(bytes, 9, 254, 9)).toBe(true);
    expect(a.append(bytes, 265, 280, 265)).toBe(true);
    return a;
  };

  it('joins the user data', () => {
    const a = build();
    expect(a.length).toBe(245 + 15);
    expect(toHex(a.buffer, 0, a.length)).toBe(toHex(concat(bytes.subarray(9, 254), bytes.subarray(265, 280))));
    expect(toHex(a.buffer, 0, 2)).toBe('DB08');
  });

  it('maps positions in the second segment to the second frame', () => {
    const a = build();
    expect(a.streamOffset(244)).toBe(253); // last byte of segment 0
    expect(a.streamOffset(245)).toBe(265); // first byte of segment 1: 0x41
    expect(bytes[a.streamOffset(245)]).toBe(0x41);
    expect(a.streamOffset(259)).toBe(279);
    expect(a.streamOffset(260)).toBe(280); // just past the end: the CS byte of the last frame
    expect(mismatches(a, bytes)).toEqual([]);
  });

  it('gives the same mapping as the M-Bus link does on the same bytes', () => {
    const direct = build();
    let seen: number[] = [];
    const link = new MbusLink({
      frame: () => {},
      error: (e) => expect.fail(`${e.kind} at ${e.offset}`),
      apdu: (a) => {
        seen = Array.from({ length: a.length + 1 }, (_, p) => a.streamOffset(p));
      },
    });
    link.push(bytes);
    link.finish();
    expect(seen).toEqual(Array.from({ length: direct.length + 1 }, (_, p) => direct.streamOffset(p)));
  });

  it('copies: changing the source afterwards does not change the APDU', () => {
    const src = bytes.slice();
    const a = new Assembler(2048);
    a.append(src, 9, 254, 9);
    src.fill(0, 9, 254);
    expect(toHex(a.buffer, 0, a.length)).toBe(toHex(bytes, 9, 254));
  });
});

describe('append limits', () => {
  it('a piece that exactly fills the buffer fits; one byte more is refused and changes nothing', () => {
    const a = new Assembler(8);
    expect(a.append(hex('01 02 03 04 05'), 0, 5, 100)).toBe(true);
    expect(a.append(hex('06 07 08 09'), 0, 4, 200)).toBe(false); // 9 > 8
    expect(a.length).toBe(5);
    expect(toHex(a.buffer, 0, 8)).toBe('0102030405000000');
    expect(a.streamOffset(5)).toBe(105); // no piece was added
    expect(a.append(hex('06 07 08'), 0, 3, 200)).toBe(true);
    expect(a.length).toBe(8);
    expect([a.streamOffset(4), a.streamOffset(5), a.streamOffset(7)]).toEqual([104, 200, 202]);
  });

  it('takes at most 32 pieces, even with room left', () => {
    const a = new Assembler(1024);
    const one = hex('AA');
    for (let k = 0; k < 32; k++) expect(a.append(one, 0, 1, 1000 + 10 * k), `piece ${k}`).toBe(true);
    expect(a.append(one, 0, 1, 2000)).toBe(false);
    expect(a.length).toBe(32);
    expect(a.streamOffset(31)).toBe(1000 + 310);
    a.reset();
    expect(a.append(one, 0, 1, 7)).toBe(true); // reset frees the pieces
  });

  it('an empty piece makes the assembler non-empty and does not disturb the mapping', () => {
    const a = new Assembler(16);
    expect(a.append(hex('01 02'), 1, 1, 50)).toBe(true);
    expect(a.empty).toBe(false);
    expect(a.length).toBe(0);
    a.append(hex('01 02'), 0, 2, 70);
    expect([a.streamOffset(0), a.streamOffset(1), a.streamOffset(2)]).toEqual([70, 71, 72]);
  });

  it('keeps stream offsets past 2^32 exact (a serial port that has run for months)', () => {
    const a = new Assembler(16);
    const far = 2 ** 40 + 3;
    a.append(hex('01 02 03'), 0, 3, far);
    a.append(hex('04'), 0, 1, far + 100);
    expect([a.streamOffset(0), a.streamOffset(2), a.streamOffset(3)]).toEqual([far, far + 2, far + 100]);
  });
});

describe('appendFrom: joining the three GBT blocks of the Landis+Gyr push', () => {
  // each HDLC APDU is E0 | control | block number (2) | acknowledged (2) | length (1, < 0x80) | data
  const bytes = wire(vector(GBT));

  const joinBlocks = (): { joined: Assembler; blocks: number[] } => {
    const joined = new Assembler(4096);
    const blocks: number[] = [];
    const link = new HdlcLink({
      frame: () => {},
      error: (e) => expect.fail(`${e.kind} at ${e.offset}`),
      apdu: (a) => {
        expect(a.buffer[0]).toBe(0xe0);
        const n = a.buffer[6];
        expect(a.length).toBe(7 + n);
        blocks.push(n);
        expect(joined.appendFrom(a, 7, a.length)).toBe(true);
      },
    });
    link.push(bytes);
    link.finish();
    return { joined, blocks };
  };

  it('joins the block data into the ciphered APDU', () => {
    const { joined, blocks } = joinBlocks();
    expect(blocks).toEqual([0x77, 0x7a, 0x1f]); // 119, 122, 31
    expect(joined.length).toBe(119 + 122 + 31);
    expect(toHex(joined.buffer, 0, 10)).toBe('DB084C475A677370B177'); // DB 08 "LGZgs" 70 B1 77
  });

  it('keeps every byte mapped to the input byte it came from, across the frame boundaries', () => {
    const { joined } = joinBlocks();
    expect(mismatches(joined, bytes)).toEqual([]);
    // block data starts after 7E A0 8B CE FF 03 13 HCS (9), LLC (3 in the first frame), the GBT header (7)
    expect(joined.streamOffset(0)).toBe(9 + 3 + 7);
    expect(joined.streamOffset(118)).toBe(9 + 3 + 7 + 118);
    expect(joined.streamOffset(119)).toBe(141 + 9 + 7);
    expect(joined.streamOffset(119 + 122)).toBe(282 + 9 + 7);
    expect(joined.streamOffset(271)).toBe(282 + 9 + 7 + 30);
  });

  it('a range that starts and ends inside pieces keeps their offsets', () => {
    const other = new Assembler(64);
    other.append(hex('00 01 02 03 04 05 06 07 08 09'), 0, 10, 1000);
    other.append(hex('10 11 12 13 14 15 16 17 18 19'), 0, 10, 5000);
    other.append(hex('20 21 22'), 0, 3, 9000);
    const a = new Assembler(64);
    a.append(hex('FF'), 0, 1, 7);
    expect(a.appendFrom(other, 8, 21)).toBe(true);
    expect(toHex(a.buffer, 0, a.length)).toBe('FF08091011121314151617181920');
    const map = Array.from({ length: a.length }, (_, p) => a.streamOffset(p));
    expect(map).toEqual([7, 1008, 1009, 5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009, 9000]);
  });

  it('refuses a range that does not fit and changes nothing', () => {
    const other = new Assembler(64);
    other.append(hex('00 01 02 03 04 05 06 07 08 09'), 0, 10, 1000);
    const a = new Assembler(8);
    a.append(hex('AA BB'), 0, 2, 3);
    expect(a.appendFrom(other, 0, 7)).toBe(false);
    expect(a.length).toBe(2);
    expect(a.streamOffset(2)).toBe(5);
  });

  it('refuses a range over several pieces as a whole, even when its first pieces would fit', () => {
    const other = new Assembler(64);
    other.append(hex('00 01 02 03 04'), 0, 5, 1000);
    other.append(hex('05 06 07 08 09'), 0, 5, 2000);
    const a = new Assembler(8);
    a.append(hex('AA BB'), 0, 2, 3);
    expect(a.appendFrom(other, 0, 10)).toBe(false); // 2 + 10 > 8, though 2 + 5 would fit
    expect(a.length).toBe(2);
    expect(toHex(a.buffer, 0, 8)).toBe('AABB000000000000');
    expect(a.streamOffset(2)).toBe(5);
  });
});
