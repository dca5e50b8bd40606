// A-XDR (IEC 62056-6-2 Data ::= CHOICE) decoding into the flat node table of firmware/dlms/axdr.ts.
//
//   tag | [length (A-XDR: 1 byte < 0x80, or 0x81 n / 0x82 n n ...)] | content
//   leaves:     table.start = offset of the content, table.length = content bytes
//   containers: table.start = offset of the tag,     table.length = element count
//   every node: table.next  = index of the node after its subtree
import { describe, expect, it } from 'vitest';
import { AxdrTable, MAX_DEPTH, decodeData, isNumeric, numberAt, readLength, typeName } from '../firmware/dlms/axdr.js';
import { AxdrWriter } from '../firmware/dlms/axdr-writer.js';
import { parseDataNotification, newNotificationHeader } from '../firmware/dlms/apdu.js';
import type { DecodeError } from '../firmware/errors.js';
import { hex, rng, vector, vectors } from './helpers.js';

/** Decodes hex text from offset 0 and insists it succeeded. */
function ok(text: string, table = new AxdrTable()): { buf: Uint8Array; table: AxdrTable; end: number } {
  const buf = hex(text);
  const end = decodeData(buf, 0, buf.length, table);
  if (typeof end !== 'number') throw new Error(`expected a decode, got ${end.kind} at ${end.offset}: ${end.detail}`);
  return { buf, table, end };
}

function fail(text: string, table = new AxdrTable()): DecodeError {
  const buf = hex(text);
  const r = decodeData(buf, 0, buf.length, table);
  if (typeof r === 'number') throw new Error(`expected an error, the value decoded to offset ${r}`);
  return r;
}

/** tag, start, length, next of every node, for whole-table comparisons. */
function rows(t: AxdrTable): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let i = 0; i < t.count; i++) out.push([t.tag[i], t.start[i], t.length[i], t.next[i]]);
  return out;
}

/** The value of the single leaf at node 0. */
function leafValue(text: string): number {
  const { buf, table } = ok(text);
  expect(table.count).toBe(1);
  return numberAt(buf, table.tag[0], table.start[0]);
}

describe('simple types: size and value', () => {
  it('null (0x00) is a leaf of 0 bytes', () => {
    const { table, end } = ok('00');
    expect(end).toBe(1);
    expect(rows(table)).toEqual([[0x00, 1, 0, 1]]);
    expect(isNumeric(0x00)).toBe(false);
    expect(numberAt(hex('00'), 0x00, 1)).toBeNaN();
  });

  it('boolean (0x03): one byte, true and false', () => {
    expect(rows(ok('03 01').table)).toEqual([[0x03, 1, 1, 1]]);
    expect(leafValue('03 01')).toBe(1);
    expect(leafValue('03 00')).toBe(0);
    expect(isNumeric(0x03)).toBe(true);
  });

  it('bit-string (0x04): the length counts bits, the content is rounded up to whole bytes', () => {
    // 12 bits -> 2 bytes; 8 bits -> 1 byte; 1 bit -> 1 byte; 0 bits -> 0 bytes
    expect(rows(ok('04 0C AB C0').table)).toEqual([[0x04, 2, 2, 1]]);
    expect(ok('04 0C AB C0').end).toBe(4);
    expect(rows(ok('04 08 FF').table)).toEqual([[0x04, 2, 1, 1]]);
    expect(rows(ok('04 01 80').table)).toEqual([[0x04, 2, 1, 1]]);
    expect(rows(ok('04 00').table)).toEqual([[0x04, 2, 0, 1]]);
    // 9 bits need 2 bytes: one is a truncation, reported at the tag
    expect(fail('04 09 FF')).toEqual({ kind: 'truncated', offset: 0, detail: 'a bit-string of 2 bytes, 1 are left' });
  });

  it('int8 (0x0F): signed', () => {
    expect(leafValue('0F 7F')).toBe(127);
    expect(leafValue('0F 80')).toBe(-128);
    expect(leafValue('0F FF')).toBe(-1);
    expect(leafValue('0F FD')).toBe(-3); // a typical scaler: 10^-3
  });

  it('int16 (0x10): signed, big-endian', () => {
    expect(rows(ok('10 12 34').table)).toEqual([[0x10, 1, 2, 1]]);
    expect(leafValue('10 12 34')).toBe(0x1234);
    expect(leafValue('10 FF 88')).toBe(-120);
    expect(leafValue('10 80 00')).toBe(-32768);
    expect(leafValue('10 7F FF')).toBe(32767);
  });

  it('int32 (0x05): signed, big-endian', () => {
    expect(leafValue('05 7F FF FF FF')).toBe(2147483647);
    expect(leafValue('05 80 00 00 00')).toBe(-2147483648);
    expect(leafValue('05 FF FF FF FE')).toBe(-2);
    expect(leafValue('05 00 01 E2 40')).toBe(123456);
  });

  it('int64 (0x14): signed, big-endian, exact within 2^53', () => {
    expect(rows(ok('14 00 00 00 00 00 00 00 2A').table)).toEqual([[0x14, 1, 8, 1]]);
    expect(leafValue('14 FF FF FF FF FF FF FF FF')).toBe(-1);
    expect(leafValue('14 FF FF FF FF 00 00 00 00')).toBe(-4294967296);
    expect(leafValue('14 FF FF FF FE FF FF FF FF')).toBe(-4294967297);
    expect(leafValue('14 00 1F FF FF FF FF FF FF')).toBe(Number.MAX_SAFE_INTEGER);
    expect(leafValue('14 FF E0 00 00 00 00 00 01')).toBe(Number.MIN_SAFE_INTEGER);
    expect(leafValue('14 80 00 00 00 00 00 00 00')).toBe(-(2 ** 63));
  });

  it('uint8 (0x11)', () => {
    expect(leafValue('11 00')).toBe(0);
    expect(leafValue('11 FF')).toBe(255);
  });

  it('uint16 (0x12): big-endian, never negative', () => {
    expect(leafValue('12 09 21')).toBe(2337); // Netz NÖ voltage L1 before scaler -1
    expect(leafValue('12 FF FF')).toBe(65535);
    expect(leafValue('12 80 00')).toBe(32768);
  });

  it('uint32 (0x06): values at and above 2^31 stay positive', () => {
    expect(leafValue('06 00 00 32 89')).toBe(12937); // Netz NÖ +A, Wh
    expect(leafValue('06 80 00 00 00')).toBe(2147483648);
    expect(leafValue('06 DE AD BE EF')).toBe(3735928559);
    expect(leafValue('06 FF FF FF FF')).toBe(4294967295);
  });

  it('uint64 (0x15): above 2^32 and above 2^31 in the low word', () => {
    expect(leafValue('15 00 00 00 01 00 00 00 00')).toBe(4294967296);
    expect(leafValue('15 00 00 00 00 80 00 00 00')).toBe(2147483648);
    expect(leafValue('15 00 00 00 02 FF FF FF FF')).toBe(3 * 4294967296 - 1);
    expect(leafValue('15 00 1F FF FF FF FF FF FF')).toBe(Number.MAX_SAFE_INTEGER);
    expect(leafValue('15 80 00 00 00 00 00 00 00')).toBe(2 ** 63);
  });

  it('enum (0x16): one unsigned byte (a DLMS unit code)', () => {
    expect(rows(ok('16 1E').table)).toEqual([[0x16, 1, 1, 1]]);
    expect(leafValue('16 1E')).toBe(30); // Wh
    expect(leafValue('16 FF')).toBe(255);
  });

  it('bcd (0x0D): two decimal digits in one byte', () => {
    expect(leafValue('0D 42')).toBe(42);
    expect(leafValue('0D 99')).toBe(99);
    expect(leafValue('0D 07')).toBe(7);
  });

  it('float32 (0x17): IEEE 754 single, big-endian', () => {
    expect(leafValue('17 3F C0 00 00')).toBe(1.5);
    expect(leafValue('17 C0 20 00 00')).toBe(-2.5);
    expect(leafValue('17 42 F6 E6 66')).toBe(Math.fround(123.45));
    expect(leafValue('17 00 00 00 00')).toBe(0);
    expect(leafValue('17 7F 80 00 00')).toBe(Infinity);
  });

  it('float64 (0x18): IEEE 754 double, big-endian', () => {
    expect(rows(ok('18 3F F8 00 00 00 00 00 00').table)).toEqual([[0x18, 1, 8, 1]]);
    expect(leafValue('18 3F F8 00 00 00 00 00 00')).toBe(1.5);
    expect(leafValue('18 40 09 21 FB 54 44 2D 18')).toBe(Math.PI);
    expect(leafValue('18 C0 5E DD 2F 1A 9F BE 77')).toBe(-123.456);
  });

  it('floats are read at the right place inside a subarray with a byteOffset', () => {
    // the DataView must add buf.byteOffset: a view that starts 3 bytes into its ArrayBuffer
    const backing = hex('EE EE EE 17 3F C0 00 00 18 C0 04 00 00 00 00 00 00');
    const view = backing.subarray(3);
    const t = new AxdrTable();
    const s = new AxdrTable();
    expect(decodeData(view, 0, 5, t)).toBe(5);
    expect(numberAt(view, t.tag[0], t.start[0])).toBe(1.5);
    expect(decodeData(view, 5, view.length, s)).toBe(14);
    expect(numberAt(view, s.tag[0], s.start[0])).toBe(-2.5);
  });

  it('octet-string (0x09), visible-string (0x0A), utf8-string (0x0C): start and byte length', () => {
    expect(rows(ok('09 06 01 00 01 08 00 FF').table)).toEqual([[0x09, 2, 6, 1]]);
    expect(rows(ok('0A 03 41 42 43').table)).toEqual([[0x0a, 2, 3, 1]]);
    expect(rows(ok('0C 02 C3 A9').table)).toEqual([[0x0c, 2, 2, 1]]); // "é": 2 bytes, 1 character
    expect(rows(ok('09 00').table)).toEqual([[0x09, 2, 0, 1]]);
    for (const tag of [0x09, 0x0a, 0x0c]) expect(isNumeric(tag)).toBe(false);
  });

  it('date-time (0x19, 12 bytes), date (0x1A, 5 bytes), time (0x1B, 4 bytes)', () => {
    const dt = ok('19 07 E5 09 1B 01 09 2F 0F 00 FF 88 80');
    expect(rows(dt.table)).toEqual([[0x19, 1, 12, 1]]);
    expect(dt.end).toBe(13);
    expect(rows(ok('1A 07 E5 09 1B 01').table)).toEqual([[0x1a, 1, 5, 1]]);
    expect(rows(ok('1B 09 2F 0F 00').table)).toEqual([[0x1b, 1, 4, 1]]);
  });

  it('names every type for messages', () => {
    const names: [number, string][] = [
      [0x00, 'null'], [0x01, 'array'], [0x02, 'structure'], [0x03, 'boolean'], [0x04, 'bit-string'], [0x05, 'int32'],
      [0x06, 'uint32'], [0x09, 'octet-string'], [0x0a, 'visible-string'], [0x0c, 'utf8-string'], [0x0d, 'bcd'],
      [0x0f, 'int8'], [0x10, 'int16'], [0x11, 'uint8'], [0x12, 'uint16'], [0x14, 'int64'], [0x15, 'uint64'],
      [0x16, 'enum'], [0x17, 'float32'], [0x18, 'float64'], [0x19, 'date-time'], [0x1a, 'date'], [0x1b, 'time'],
      [0x42, 'type 0x42'], [0x13, 'type 0x13'],
    ];
    for (const [tag, name] of names) expect(typeName(tag), `0x${tag.toString(16)}`).toBe(name);
  });
});

describe('containers', () => {
  it('the node table of a small nested value, written out by hand', () => {
    // a Kaifa-style list of one triple: [ {1-0:32.7.0, uint16 2337, {scaler -1, unit 35 (V)}} ]
    //  offset  bytes                    node  meaning                  start        length     next
    //   0      01 01                     0    array of 1               0 (the tag)  1 element  7
    //   2      02 03                     1    structure of 3           2 (the tag)  3 elements 7
    //   4      09 06 01 00 20 07 00 FF   2    octet-string 1-0:32.7.0  6            6 bytes    3
    //  12      12 09 21                  3    uint16 2337              13           2 bytes    4
    //  15      02 02                     4    structure of 2           15 (the tag) 2 elements 7
    //  17      0F FF                     5    int8 -1 (scaler)         18           1 byte     6
    //  19      16 23                     6    enum 35 (unit V)         20           1 byte     7
    //  21      (end)
    const { buf, table, end } = ok('01 01 02 03 09 06 01 00 20 07 00 FF 12 09 21 02 02 0F FF 16 23');
    expect(end).toBe(21);
    expect(table.count).toBe(7);
    expect(rows(table)).toEqual([
      [0x01, 0, 1, 7],
      [0x02, 2, 3, 7],
      [0x09, 6, 6, 3],
      [0x12, 13, 2, 4],
      [0x02, 15, 2, 7],
      [0x0f, 18, 1, 6],
      [0x16, 20, 1, 7],
    ]);
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => table.isContainer(i))).toEqual([true, true, false, false, true, false, false]);
    expect(Array.from(buf.subarray(table.start[2], table.start[2] + table.length[2]))).toEqual([1, 0, 32, 7, 0, 255]);
    expect(numberAt(buf, table.tag[3], table.start[3])).toBe(2337);
    expect(numberAt(buf, table.tag[5], table.start[5])).toBe(-1);
    expect(numberAt(buf, table.tag[6], table.start[6])).toBe(35);
  });

  it('arrays and structures of leaves', () => {
    expect(rows(ok('01 03 11 01 11 02 11 03').table)).toEqual([
      [0x01, 0, 3, 4],
      [0x11, 3, 1, 2],
      [0x11, 5, 1, 3],
      [0x11, 7, 1, 4],
    ]);
    expect(rows(ok('02 02 03 01 0A 01 5A').table)).toEqual([
      [0x02, 0, 2, 3],
      [0x03, 3, 1, 2],
      [0x0a, 6, 1, 3],
    ]);
  });

  it('empty containers are nodes of count 0 whose next is the following node', () => {
    expect(rows(ok('01 00').table)).toEqual([[0x01, 0, 0, 1]]);
    expect(rows(ok('02 00').table)).toEqual([[0x02, 0, 0, 1]]);
    // structure { array[], structure{}, uint8 7 }
    expect(rows(ok('02 03 01 00 02 00 11 07').table)).toEqual([
      [0x02, 0, 3, 4],
      [0x01, 2, 0, 2],
      [0x02, 4, 0, 3],
      [0x11, 7, 1, 4],
    ]);
  });

  it('deep nesting closes every container at once', () => {
    // array[ structure[ array[ uint8 9 ] ] ], uint8 after it is not part of the value
    const buf = hex('01 01 02 01 01 01 11 09 11 0A');
    const t = new AxdrTable();
    expect(decodeData(buf, 0, buf.length, t)).toBe(8);
    expect(rows(t)).toEqual([
      [0x01, 0, 1, 4],
      [0x02, 2, 1, 4],
      [0x01, 4, 1, 4],
      [0x11, 7, 1, 4],
    ]);
  });

  it(`accepts exactly MAX_DEPTH (${MAX_DEPTH}) nested containers`, () => {
    const text = '01 01 '.repeat(MAX_DEPTH) + '11 2A';
    const { table, end } = ok(text);
    expect(end).toBe(MAX_DEPTH * 2 + 2);
    expect(table.count).toBe(MAX_DEPTH + 1);
    for (let i = 0; i < MAX_DEPTH; i++) expect(table.next[i]).toBe(MAX_DEPTH + 1);
  });

  it('long-form lengths 0x81 and 0x82', () => {
    // octet-string of 128 bytes: 09 81 80 <128>
    const s128 = ok('09 81 80 ' + 'AB '.repeat(128));
    expect(rows(s128.table)).toEqual([[0x09, 3, 128, 1]]);
    expect(s128.end).toBe(131);
    // octet-string of 256 bytes: 09 82 01 00 <256>
    const s256 = ok('09 82 01 00 ' + 'CD '.repeat(256));
    expect(rows(s256.table)).toEqual([[0x09, 4, 256, 1]]);
    expect(s256.end).toBe(260);
    // a long form may also carry a small length
    expect(rows(ok('0A 81 02 4F 4B').table)).toEqual([[0x0a, 3, 2, 1]]);
    // array of 130 nulls: 01 81 82, 130 x 00
    const a = ok('01 81 82 ' + '00 '.repeat(130));
    expect(a.table.count).toBe(131);
    expect(rows(a.table)[0]).toEqual([0x01, 0, 130, 131]);
    expect(rows(a.table)[130]).toEqual([0x00, 133, 0, 131]); // 3 header bytes + 129 nulls before it, content after its tag
    // structure of 0x0100 uint8: 02 82 01 00
    const st = ok('02 82 01 00 ' + '11 01 '.repeat(256));
    expect(st.table.count).toBe(257);
    expect(rows(st.table)[0]).toEqual([0x02, 0, 256, 257]);
    expect(st.end).toBe(4 + 512);
  });

  it('readLength: short, 0x81, 0x82, 0x84 forms and the failures', () => {
    const out = { value: -1, next: -1 };
    expect(readLength(hex('7F'), 0, 1, out)).toBe(true);
    expect(out).toEqual({ value: 127, next: 1 });
    expect(readLength(hex('81 F8'), 0, 2, out)).toBe(true);
    expect(out).toEqual({ value: 248, next: 2 }); // Netz NÖ ciphered content length
    expect(readLength(hex('82 01 09'), 0, 3, out)).toBe(true);
    expect(out).toEqual({ value: 265, next: 3 }); // TINETZ ciphered content length
    expect(readLength(hex('00 84 01 02 03 04'), 1, 6, out)).toBe(true);
    expect(out).toEqual({ value: 0x01020304, next: 6 });
    expect(readLength(hex('82 01'), 0, 2, out)).toBe(false); // cut off
    expect(readLength(hex('80'), 0, 1, out)).toBe(false); // no length bytes
    expect(readLength(hex('85 00 00 00 00 01'), 0, 6, out)).toBe(false); // more than 4 bytes
    expect(readLength(hex(''), 0, 0, out)).toBe(false);
  });
});

describe('offsets index the caller\'s buffer', () => {
  it('decoding from a start offset reports absolute starts and the absolute end', () => {
    const buf = hex('AA BB CC 02 02 12 00 05 09 02 31 32 DD');
    const t = new AxdrTable();
    expect(decodeData(buf, 3, 12, t)).toBe(12);
    expect(rows(t)).toEqual([
      [0x02, 3, 2, 3],
      [0x12, 6, 2, 2],
      [0x09, 10, 2, 3],
    ]);
  });

  it('a value shorter than the window returns where it ends; later bytes are not read', () => {
    const buf = hex('11 05 FF FF');
    const t = new AxdrTable();
    expect(decodeData(buf, 0, buf.length, t)).toBe(2);
    expect(t.count).toBe(1);
  });

  it('a table is reused: the count restarts at every decode', () => {
    const t = new AxdrTable();
    const a = hex('02 03 11 01 11 02 11 03');
    const b = hex('11 09');
    expect(decodeData(a, 0, a.length, t)).toBe(8);
    expect(t.count).toBe(4);
    expect(decodeData(b, 0, b.length, t)).toBe(2);
    expect(t.count).toBe(1);
    expect(rows(t)).toEqual([[0x11, 1, 1, 1]]);
  });
});

describe('errors: kind, exact offset, sentence', () => {
  it('nothing at all is truncated at the start offset', () => {
    const t = new AxdrTable();
    expect(decodeData(hex('11 05'), 2, 2, t)).toEqual({ kind: 'truncated', offset: 2, detail: 'the data ends before the value announced' });
  });

  it('a fixed-size value cut off: truncated at its tag', () => {
    expect(fail('06 00 00 32')).toEqual({ kind: 'truncated', offset: 0, detail: 'a uint32 needs 4 bytes, 3 are left' });
    expect(fail('02 02 11 01 12 09')).toEqual({ kind: 'truncated', offset: 4, detail: 'a uint16 needs 2 bytes, 1 are left' });
    expect(fail('19 07 E5 09 1B 01 09 2F 0F 00 FF 88')).toEqual({ kind: 'truncated', offset: 0, detail: 'a date-time needs 12 bytes, 11 are left' });
  });

  it('a string whose content is cut off: truncated at its tag', () => {
    expect(fail('09 06 01 00 01 08')).toEqual({ kind: 'truncated', offset: 0, detail: 'a octet-string of 6 bytes, 4 are left' });
    expect(fail('02 02 11 01 0A 81 80 41 42')).toEqual({ kind: 'truncated', offset: 4, detail: 'a visible-string of 128 bytes, 2 are left' });
  });

  it('a length field cut off: truncated at the length byte', () => {
    expect(fail('09')).toEqual({ kind: 'truncated', offset: 1, detail: 'the length of a octet-string is cut off or malformed' });
    expect(fail('02 01 09 82 01')).toEqual({ kind: 'truncated', offset: 3, detail: 'the length of a octet-string is cut off or malformed' });
    expect(fail('01 81')).toEqual({ kind: 'truncated', offset: 1, detail: 'the length of a array is cut off or malformed' });
  });

  it('a container with fewer elements than announced: truncated where the next one should start', () => {
    expect(fail('02 03 11 01 11 02')).toEqual({ kind: 'truncated', offset: 6, detail: 'the data ends before the value announced' });
    expect(fail('01 02 01 01 11 01')).toEqual({ kind: 'truncated', offset: 6, detail: 'the data ends before the value announced' });
  });

  it('unknown tag 0x42: axdr at the tag', () => {
    expect(fail('42 00')).toEqual({ kind: 'axdr', offset: 0, detail: 'unknown data type 0x42' });
    const t = new AxdrTable();
    expect(fail('02 02 11 01 42', t)).toEqual({ kind: 'axdr', offset: 4, detail: 'unknown data type 0x42' });
    expect(t.count).toBe(2); // the unknown node is not left in the table
  });

  it('compact-array 0x13: axdr at the tag, named as such', () => {
    expect(fail('13 00')).toEqual({ kind: 'axdr', offset: 0, detail: 'compact-array (0x13) is not supported' });
    expect(fail('01 01 13 00')).toEqual({ kind: 'axdr', offset: 2, detail: 'compact-array (0x13) is not supported' });
  });

  it(`nesting deeper than MAX_DEPTH (${MAX_DEPTH}): axdr at the tag of the container that is one too deep`, () => {
    // containers 0..12 at offsets 0, 2, ..., 24; the 13th (offset 24) exceeds the limit
    const e = fail('01 01 '.repeat(MAX_DEPTH + 1) + '11 2A');
    expect(e.kind).toBe('axdr');
    expect(e.detail).toBe(`containers nested deeper than ${MAX_DEPTH}`);
    expect(e.offset).toBe(MAX_DEPTH * 2);
  });

  it('more values than the table holds: axdr at the tag of the first value that does not fit', () => {
    const t = new AxdrTable(4);
    expect(t.capacity).toBe(4);
    // structure of 3 + 3 leaves = 4 nodes: fits exactly
    expect(decodeData(hex('02 03 11 01 11 02 11 03'), 0, 8, t)).toBe(8);
    // structure of 4 + 4 leaves = 5 nodes: the 4th leaf at offset 8 does not fit
    expect(fail('02 04 11 01 11 02 11 03 11 04', t)).toEqual({ kind: 'axdr', offset: 8, detail: 'more than 4 values in one notification' });
  });
});

describe('round trip with AxdrWriter', () => {
  it('what the writer encodes decodes to the same values, types and lengths', () => {
    const w = new AxdrWriter(new Uint8Array(400));
    w.structure(9)
      .obis(1, 0, 1, 8, 0)
      .uint32(3735928559)
      .scalerUnit(-3, 30)
      .int32(-123456)
      .int16(-120)
      .uint16(65535)
      .uint8(200)
      .text('1KFM0100000035')
      .text('x'.repeat(200), true)
      .array(2)
      .int8(-128)
      .enumValue(255);
    const buf = w.buf.subarray(0, w.pos);
    const t = new AxdrTable();
    expect(decodeData(buf, 0, buf.length, t)).toBe(w.pos - 6); // the array (01 02 0F 80 16 FF) is a second value
    const tags = Array.from(t.tag.subarray(0, t.count));
    expect(tags).toEqual([0x02, 0x09, 0x06, 0x02, 0x0f, 0x16, 0x05, 0x10, 0x12, 0x11, 0x09, 0x0a]);
    const n = (i: number): number => numberAt(buf, t.tag[i], t.start[i]);
    expect([n(2), n(4), n(5), n(6), n(7), n(8), n(9)]).toEqual([3735928559, -3, 30, -123456, -120, 65535, 200]);
    expect(t.length[10]).toBe(14);
    expect(t.length[11]).toBe(200); // written with the 0x81 long form
    expect(buf[t.start[11] - 2]).toBe(0x81);
    // the trailing array is a second value, after the structure
    const rest = decodeData(buf, w.pos - 6, w.pos, t);
    expect(rest).toBe(w.pos);
    expect(rows(t).map((r) => r[0])).toEqual([0x01, 0x0f, 0x16]);
  });
});

describe('a real body', () => {
  it('TINETZ (Kaifa) plaintext: the body after the data-notification header ends exactly at the end', () => {
    const pt = hex(vector('at-tinetz-kaifa-docexample').plaintext_hex!);
    const h = newNotificationHeader();
    expect(parseDataNotification(pt, 0, pt.length, h)).toBeNull();
    expect(h.bodyStart).toBe(18); // 0F | invoke id (4) | 0C | date-time (12)
    const t = new AxdrTable();
    expect(decodeData(pt, h.bodyStart, pt.length, t)).toBe(pt.length);
    // structure of 12 (02 0C): 0-0:1.0.0 and the clock flat, then {0-0:96.1.0, number},
    // {0-0:42.0.0, name}, and 8 triples {obis, value, {scaler, unit}}: 57 nodes
    expect(t.count).toBe(57);
    expect(rows(t).slice(0, 6)).toEqual([
      [0x02, 18, 12, 57],
      [0x09, 22, 6, 2], // 0-0:1.0.0
      [0x09, 30, 12, 3], // 07E5 07 13 01 0F 2E 23 00 FF88 80: 2021-07-19 15:46:35, deviation -120
      [0x02, 42, 2, 6],
      [0x09, 46, 6, 5], // 0-0:96.1.0
      [0x09, 54, 14, 6], // "1KFM0100000035"
    ]);
    // last element: structure { 1-0:4.8.0, uint32 9 (varh), {scaler 0, unit 32 varh} }
    const last = 51;
    expect(rows(t)[last]).toEqual([0x02, 239, 3, 57]);
    expect(t.tag[last]).toBe(0x02);
    expect(t.length[last]).toBe(3);
    expect(numberAt(pt, t.tag[last + 2], t.start[last + 2])).toBe(9);
    expect(numberAt(pt, t.tag[last + 5], t.start[last + 5])).toBe(32);
  });

  it('every real data-notification body decodes to exactly the end of its plaintext', () => {
    const bodies = vectors.filter((v) => v.plaintext_hex && v.plaintext_hex.startsWith('0F'));
    expect(bodies.length).toBe(12);
    for (const v of bodies) {
      const pt = hex(v.plaintext_hex!);
      const h = newNotificationHeader();
      expect(parseDataNotification(pt, 0, pt.length, h), v.id).toBeNull();
      expect(decodeData(pt, h.bodyStart, pt.length, new AxdrTable()), v.id).toBe(pt.length);
    }
  });
});

describe('cheap fuzzing', () => {
  it('random bytes never throw; results stay inside the window and the table', () => {
    const next = rng(0x5eed);
    const t = new AxdrTable(64);
    const buf = new Uint8Array(96);
    // bias towards valid tags so that containers and long lengths occur often
    const tags = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0a, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x12, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b];
    let decoded = 0;
    for (let round = 0; round < 5000; round++) {
      const n = 1 + Math.floor(next() * buf.length);
      for (let i = 0; i < n; i++) {
        const r = next();
        buf[i] = r < 0.5 ? tags[Math.floor(next() * tags.length)] : r < 0.8 ? Math.floor(next() * 8) : Math.floor(next() * 256);
      }
      const start = Math.floor(next() * 3) % n;
      const r = decodeData(buf, start, n, t);
      if (typeof r === 'number') {
        decoded++;
        expect(r).toBeGreaterThan(start);
        expect(r).toBeLessThanOrEqual(n);
        expect(t.count).toBeGreaterThan(0);
        for (let i = 0; i < t.count; i++) {
          expect(t.next[i]).toBeGreaterThan(i);
          expect(t.next[i]).toBeLessThanOrEqual(t.count);
          if (!t.isContainer(i)) expect(t.start[i] + t.length[i]).toBeLessThanOrEqual(r);
        }
      } else {
        expect(['truncated', 'axdr']).toContain(r.kind);
        expect(r.offset).toBeGreaterThanOrEqual(start);
        expect(r.offset).toBeLessThanOrEqual(n);
      }
      expect(t.count).toBeLessThanOrEqual(t.capacity);
    }
    expect(decoded).toBeGreaterThan(100); // the loop also exercised successful decodes
  });
});
