/**
 * A-XDR decoding of DLMS `Data` (IEC 62056-6-2) into a flat, preallocated table of nodes in
 * document order: containers (array, structure) carry their element count, leaves the offset and
 * length of their content in the caller's buffer. Nothing is copied and nothing is allocated per
 * value; readers below turn a node into a number or string on demand.
 *
 *   09 06 01 00 01 08 00 FF      octet-string, length 6   -> node {tag 09, start, length 6}
 *   02 02 0F FF 16 23            structure of 2           -> node {tag 02, count 2}, then 2 leaves
 *
 * This layer knows types, not meanings (OBIS codes and layouts live in cosem.ts).
 */
import {
  DT_ARRAY,
  DT_BCD,
  DT_BIT_STRING,
  DT_BOOLEAN,
  DT_COMPACT_ARRAY,
  DT_DATE,
  DT_DATE_TIME,
  DT_ENUM,
  DT_FLOAT32,
  DT_FLOAT64,
  DT_INT16,
  DT_INT32,
  DT_INT64,
  DT_INT8,
  DT_NULL,
  DT_OCTET_STRING,
  DT_STRUCTURE,
  DT_TIME,
  DT_UINT16,
  DT_UINT32,
  DT_UINT64,
  DT_UINT8,
  DT_UTF8_STRING,
  DT_VISIBLE_STRING,
} from '../constants.js';
import { decodeError, type DecodeError } from '../errors.js';
import { hex2 } from '../bytes.js';

export const MAX_DEPTH = 12;

/** Fixed size in bytes of each simple type, -1 for length-prefixed or containers, -2 unknown. */
const FIXED_SIZE = /* @__PURE__ */ (() => {
  const t = new Int8Array(256).fill(-2);
  t[DT_NULL] = 0;
  t[DT_BOOLEAN] = 1;
  t[DT_INT32] = 4;
  t[DT_UINT32] = 4;
  t[DT_BCD] = 1;
  t[DT_INT8] = 1;
  t[DT_INT16] = 2;
  t[DT_UINT8] = 1;
  t[DT_UINT16] = 2;
  t[DT_INT64] = 8;
  t[DT_UINT64] = 8;
  t[DT_ENUM] = 1;
  t[DT_FLOAT32] = 4;
  t[DT_FLOAT64] = 8;
  t[DT_DATE_TIME] = 12;
  t[DT_DATE] = 5;
  t[DT_TIME] = 4;
  t[DT_ARRAY] = -1;
  t[DT_STRUCTURE] = -1;
  t[DT_OCTET_STRING] = -1;
  t[DT_VISIBLE_STRING] = -1;
  t[DT_UTF8_STRING] = -1;
  t[DT_BIT_STRING] = -1;
  return t;
})();

/** The decoded nodes of one Data value. Allocated once, reused for every APDU. */
export class AxdrTable {
  readonly tag: Uint8Array;
  /** leaves: offset of the content; containers: offset of the tag */
  readonly start: Int32Array;
  /** leaves: content length in bytes; containers: element count */
  readonly length: Int32Array;
  /** index of the node after this one's subtree (containers: past all descendants) */
  readonly next: Int32Array;
  count = 0;
  // decoder scratch, per table: module-level writable state would be aliased into RAM on XS
  readonly stackNode = new Int32Array(MAX_DEPTH);
  readonly stackLeft = new Int32Array(MAX_DEPTH);
  readonly len = { value: 0, next: 0 };

  constructor(readonly capacity = 512) {
    this.tag = new Uint8Array(capacity);
    this.start = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  isContainer(i: number): boolean {
    const t = this.tag[i];
    return t === DT_ARRAY || t === DT_STRUCTURE;
  }
}

/** Reads an A-XDR length (1 byte, or 0x81 / 0x82 / 0x83 / 0x84 followed by that many bytes). */
export function readLength(buf: Uint8Array, pos: number, end: number, out: { value: number; next: number }): boolean {
  if (pos >= end) return false;
  const first = buf[pos];
  if (first < 0x80) {
    out.value = first;
    out.next = pos + 1;
    return true;
  }
  const n = first & 0x7f;
  if (n === 0 || n > 4 || pos + 1 + n > end) return false;
  let v = 0;
  for (let i = 1; i <= n; i++) v = v * 256 + buf[pos + i];
  out.value = v;
  out.next = pos + 1 + n;
  return true;
}


/**
 * Decodes one Data value at buf[start] into table. Returns the offset after it, or an error
 * (kind 'axdr' or 'truncated') whose offset is an index into buf.
 */
export function decodeData(buf: Uint8Array, start: number, end: number, table: AxdrTable): number | DecodeError {
  table.count = 0;
  const stackNode = table.stackNode;
  const stackLeft = table.stackLeft;
  const lengthScratch = table.len;
  let pos = start;
  let depth = 0;
  for (;;) {
    if (pos >= end) return decodeError('truncated', pos, 'the data ends before the value announced');
    const tag = buf[pos];
    const size = FIXED_SIZE[tag];
    const node = table.count;
    if (node >= table.capacity) return decodeError('axdr', pos, `more than ${table.capacity} values in one notification`);
    table.tag[node] = tag;
    table.count = node + 1;
    if (size >= 0) {
      if (pos + 1 + size > end) return decodeError('truncated', pos, `a ${typeName(tag)} needs ${size} bytes, ${end - pos - 1} are left`);
      table.start[node] = pos + 1;
      table.length[node] = size;
      table.next[node] = node + 1;
      pos += 1 + size;
    } else if (size === -1) {
      if (!readLength(buf, pos + 1, end, lengthScratch)) return decodeError('truncated', pos + 1, `the length of a ${typeName(tag)} is cut off or malformed`);
      let n = lengthScratch.value;
      const content = lengthScratch.next;
      if (tag === DT_ARRAY || tag === DT_STRUCTURE) {
        table.start[node] = pos;
        table.length[node] = n;
        if (n > 0 && depth >= MAX_DEPTH) return decodeError('axdr', pos, `containers nested deeper than ${MAX_DEPTH}`);
        pos = content;
        if (n > 0) {
          stackNode[depth] = node;
          stackLeft[depth] = n;
          depth++;
          continue; // children follow; `next` is set when they are done
        }
        table.next[node] = node + 1;
      } else {
        if (tag === DT_BIT_STRING) n = (n + 7) >> 3;
        if (content + n > end) return decodeError('truncated', pos, `a ${typeName(tag)} of ${n} bytes, ${end - content} are left`);
        table.start[node] = content;
        table.length[node] = n;
        table.next[node] = node + 1;
        pos = content + n;
      }
    } else {
      table.count = node;
      if (tag === DT_COMPACT_ARRAY) return decodeError('axdr', pos, 'compact-array (0x13) is not supported');
      return decodeError('axdr', pos, `unknown data type 0x${hex2(tag)}`);
    }
    // a value is complete: close every container it completes
    while (depth > 0) {
      if (--stackLeft[depth - 1] > 0) break;
      depth--;
      table.next[stackNode[depth]] = table.count;
    }
    if (depth === 0) return pos;
  }
}

export function typeName(tag: number): string {
  switch (tag) {
    case DT_NULL: return 'null';
    case DT_ARRAY: return 'array';
    case DT_STRUCTURE: return 'structure';
    case DT_BOOLEAN: return 'boolean';
    case DT_BIT_STRING: return 'bit-string';
    case DT_INT32: return 'int32';
    case DT_UINT32: return 'uint32';
    case DT_OCTET_STRING: return 'octet-string';
    case DT_VISIBLE_STRING: return 'visible-string';
    case DT_UTF8_STRING: return 'utf8-string';
    case DT_BCD: return 'bcd';
    case DT_INT8: return 'int8';
    case DT_INT16: return 'int16';
    case DT_UINT8: return 'uint8';
    case DT_UINT16: return 'uint16';
    case DT_INT64: return 'int64';
    case DT_UINT64: return 'uint64';
    case DT_ENUM: return 'enum';
    case DT_FLOAT32: return 'float32';
    case DT_FLOAT64: return 'float64';
    case DT_DATE_TIME: return 'date-time';
    case DT_DATE: return 'date';
    case DT_TIME: return 'time';
    default: return `type 0x${hex2(tag)}`;
  }
}

/** True for the integer, enum, bool and float types: the node has a numeric value. */
export function isNumeric(tag: number): boolean {
  return (
    tag === DT_INT32 || tag === DT_UINT32 || tag === DT_INT8 || tag === DT_INT16 || tag === DT_UINT8 || tag === DT_UINT16 ||
    tag === DT_INT64 || tag === DT_UINT64 || tag === DT_ENUM || tag === DT_FLOAT32 || tag === DT_FLOAT64 || tag === DT_BOOLEAN || tag === DT_BCD
  );
}


/** The numeric value of a numeric leaf (64-bit integers lose precision above 2^53). */
export function numberAt(buf: Uint8Array, tag: number, p: number): number {
  switch (tag) {
    case DT_UINT8:
    case DT_ENUM:
    case DT_BOOLEAN:
      return buf[p];
    case DT_INT8:
      return (buf[p] << 24) >> 24;
    case DT_BCD:
      return (buf[p] >> 4) * 10 + (buf[p] & 15);
    case DT_UINT16:
      return (buf[p] << 8) | buf[p + 1];
    case DT_INT16:
      return (((buf[p] << 8) | buf[p + 1]) << 16) >> 16;
    case DT_UINT32:
      return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
    case DT_INT32:
      return (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
    case DT_UINT64:
      return numberAt(buf, DT_UINT32, p) * 4294967296 + numberAt(buf, DT_UINT32, p + 4);
    case DT_INT64:
      return numberAt(buf, DT_INT32, p) * 4294967296 + numberAt(buf, DT_UINT32, p + 4);
    case DT_FLOAT32: // rare on meters: a DataView per value is acceptable
      return new DataView(buf.buffer, buf.byteOffset + p, 4).getFloat32(0);
    case DT_FLOAT64:
      return new DataView(buf.buffer, buf.byteOffset + p, 8).getFloat64(0);
    default:
      return NaN;
  }
}
