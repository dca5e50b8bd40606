/**
 * A-XDR encoding into a caller's buffer: the mirror of axdr.ts, for the meter simulator and for
 * round-trip tests. Writes big-endian, returns the next offset; the caller sizes the buffer.
 */
import {
  DT_ARRAY,
  DT_ENUM,
  DT_INT16,
  DT_INT32,
  DT_INT8,
  DT_OCTET_STRING,
  DT_STRUCTURE,
  DT_UINT16,
  DT_UINT32,
  DT_UINT8,
  DT_VISIBLE_STRING,
} from '../constants.js';

export class AxdrWriter {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(v: number): this {
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  length(n: number): this {
    if (n < 0x80) return this.byte(n);
    if (n < 0x100) return this.byte(0x81).byte(n);
    return this.byte(0x82).byte(n >> 8).byte(n);
  }

  structure(count: number): this {
    return this.byte(DT_STRUCTURE).length(count);
  }

  array(count: number): this {
    return this.byte(DT_ARRAY).length(count);
  }

  octets(bytes: ArrayLike<number>): this {
    this.byte(DT_OCTET_STRING).length(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.buf[this.pos++] = bytes[i];
    return this;
  }

  /** ASCII text as an octet-string (as Kaifa sends meter numbers) or a visible-string. */
  text(s: string, visible = false): this {
    this.byte(visible ? DT_VISIBLE_STRING : DT_OCTET_STRING).length(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i) & 0x7f;
    return this;
  }

  obis(a: number, b: number, c: number, d: number, e: number, f = 255): this {
    return this.octets([a, b, c, d, e, f]);
  }

  uint8(v: number): this {
    return this.byte(DT_UINT8).byte(v);
  }

  int8(v: number): this {
    return this.byte(DT_INT8).byte(v);
  }

  enumValue(v: number): this {
    return this.byte(DT_ENUM).byte(v);
  }

  uint16(v: number): this {
    return this.byte(DT_UINT16).byte(v >> 8).byte(v);
  }

  int16(v: number): this {
    return this.byte(DT_INT16).byte(v >> 8).byte(v);
  }

  uint32(v: number): this {
    return this.byte(DT_UINT32).byte(v >>> 24).byte(v >>> 16).byte(v >>> 8).byte(v);
  }

  int32(v: number): this {
    return this.byte(DT_INT32).byte(v >> 24).byte(v >> 16).byte(v >> 8).byte(v);
  }

  /** structure { int8 scaler, enum unit } */
  scalerUnit(scaler: number, unit: number): this {
    return this.structure(2).int8(scaler).enumValue(unit);
  }

  /** The 12 date-time bytes (without a tag): local time fields and the deviation in minutes. */
  dateTimeBytes(year: number, month: number, day: number, dow: number, hour: number, minute: number, second: number, deviation: number, status: number): this {
    this.byte(year >> 8).byte(year).byte(month).byte(day).byte(dow).byte(hour).byte(minute).byte(second).byte(0xff);
    return this.byte(deviation >> 8).byte(deviation).byte(status);
  }
}
