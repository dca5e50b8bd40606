import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isHexParseError, parseHex } from '../firmware/bytes.js';

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
