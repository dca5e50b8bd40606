/**
 * Byte helpers that run on any engine: no Buffer, no TextDecoder (a module, not a global, on the
 * device), no Uint8Array.fromHex (absent in XS 13).
 */

/** '00'..'FF' built once, so hex output concatenates table entries instead of making them */
const HEX_BYTE: readonly string[] = /* @__PURE__ */ (() => {
  const digits = '0123456789ABCDEF';
  const t: string[] = [];
  for (let i = 0; i < 256; i++) t.push(digits[i >> 4] + digits[i & 15]);
  return Object.freeze(t);
})();

/** Uppercase hex of bytes[start, end). */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX_BYTE[bytes[i]];
  return s;
}

export interface HexParseError {
  position: number;
  detail: string;
}

/**
 * Parses hex text as people paste it: any white space, `0x` prefixes, `:`/`,`/`-` separators,
 * upper or lower case. Returns the bytes or where the text stops being hex.
 */
export function parseHex(text: string): Uint8Array | HexParseError {
  const out = new Uint8Array(text.length >> 1);
  let n = 0;
  let high = -1;
  let highAt = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x30 && (text.charCodeAt(i + 1) | 0x20) === 0x78 && high < 0) {
      i++; // 0x prefix
      continue;
    }
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
    else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x3a || c === 0x2c || c === 0x2d) {
      if (high >= 0) return { position: i, detail: `a hex digit stands alone at character ${highAt}` };
      continue;
    } else return { position: i, detail: `character ${JSON.stringify(text[i])} at position ${i} is not hex` };
    if (high < 0) {
      high = v;
      highAt = i;
    } else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  if (high >= 0) return { position: highAt, detail: `odd number of hex digits: the digit at character ${highAt} has no partner` };
  return out.subarray(0, n);
}

export function isHexParseError(v: Uint8Array | HexParseError): v is HexParseError {
  return !(v instanceof Uint8Array);
}

/** Latin-1/ASCII text of bytes[start, end); meters send ASCII in octet and visible strings. */
export function asciiString(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** True when every byte is printable ASCII, so the octet string is text for a person. */
export function isPrintable(bytes: Uint8Array, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** Decodes UTF-8 without TextDecoder; invalid sequences become U+FFFD. */
export function utf8String(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  let i = start;
  while (i < end) {
    const b = bytes[i++];
    if (b < 0x80) {
      s += String.fromCharCode(b);
      continue;
    }
    let need = 0;
    let cp = 0;
    if (b >= 0xc2 && b <= 0xdf) (need = 1), (cp = b & 0x1f);
    else if (b >= 0xe0 && b <= 0xef) (need = 2), (cp = b & 0x0f);
    else if (b >= 0xf0 && b <= 0xf4) (need = 3), (cp = b & 0x07);
    else {
      s += '\uFFFD';
      continue;
    }
    if (i + need > end) {
      s += '\uFFFD';
      break;
    }
    let ok = true;
    for (let k = 0; k < need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3f);
    }
    // overlong forms, surrogates and code points past U+10FFFF are invalid, not characters
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      s += '\uFFFD';
      continue;
    }
    i += need;
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** Two uppercase hex digits, for messages. */
export function hex2(n: number): string {
  return HEX_BYTE[n & 0xff];
}
