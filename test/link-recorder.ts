// A LinkSink that records what a link layer delivers, in order, as plain data that can be compared
// with toEqual / JSON: frames (hex copies and stream offsets), APDUs (hex copies of
// assembler.buffer[0, length) and the stream offset of a few positions) and errors.
import { expect } from 'vitest';
import { toHex } from '../firmware/bytes.js';
import type { ErrorKind } from '../firmware/errors.js';
import type { Assembler } from '../firmware/link/assembler.js';
import type { LinkSink } from '../firmware/link/scanner.js';

export interface FrameEvent {
  type: 'frame';
  offset: number;
  hex: string;
}
export interface ApduEvent {
  type: 'apdu';
  length: number;
  hex: string;
  /** assembler.streamOffset(p) for p = 0, 1, length >> 1, length - 1, length and the probes asked for */
  map: Record<number, number>;
}
export interface ErrorEvent {
  type: 'error';
  kind: ErrorKind;
  offset: number;
  detail: string;
}
export type LinkEvent = FrameEvent | ApduEvent | ErrorEvent;

export class Recorder implements LinkSink {
  readonly events: LinkEvent[] = [];
  /**
   * With the whole input stream given, every APDU byte p is compared with input[streamOffset(p)]:
   * the mapping must name the very byte the APDU byte was copied from.
   */
  mapMismatches = 0;

  constructor(
    private readonly input?: Uint8Array,
    private readonly probes: readonly number[] = [],
  ) {}

  frame(bytes: Uint8Array, start: number, end: number, streamOffset: number): void {
    this.events.push({ type: 'frame', offset: streamOffset, hex: toHex(bytes, start, end) });
  }

  apdu(a: Assembler): void {
    const n = a.length;
    const map: Record<number, number> = {};
    for (const p of [0, 1, n >> 1, n - 1, n, ...this.probes]) if (p >= 0 && p <= n) map[p] = a.streamOffset(p);
    if (this.input) {
      for (let p = 0; p < n; p++) if (this.input[a.streamOffset(p)] !== a.buffer[p]) this.mapMismatches++;
    }
    this.events.push({ type: 'apdu', length: n, hex: toHex(a.buffer, 0, n), map });
  }

  error(e: { kind: ErrorKind; offset: number; detail: string }): void {
    this.events.push({ type: 'error', kind: e.kind, offset: e.offset, detail: e.detail });
  }

  get frames(): FrameEvent[] {
    return this.events.filter((e): e is FrameEvent => e.type === 'frame');
  }
  get apdus(): ApduEvent[] {
    return this.events.filter((e): e is ApduEvent => e.type === 'apdu');
  }
  get errors(): ErrorEvent[] {
    return this.events.filter((e): e is ErrorEvent => e.type === 'error');
  }
  /** [kind, offset] of every error, in order */
  get errorList(): [ErrorKind, number][] {
    return this.errors.map((e) => [e.kind, e.offset]);
  }
  /** A compact trace in delivery order: `frame@0`, `apdu`, `checksum@254`. */
  get trace(): string[] {
    return this.events.map((e) => (e.type === 'frame' ? `frame@${e.offset}` : e.type === 'apdu' ? 'apdu' : `${e.kind}@${e.offset}`));
  }
}

export interface Link {
  push(bytes: Uint8Array, start?: number, end?: number): void;
  finish(): void;
}

/** Feeds chunks into a fresh link, then finish(); returns what it delivered. */
export function run(make: (sink: Recorder) => Link, chunks: Uint8Array[], input?: Uint8Array, probes?: readonly number[]): Recorder {
  const r = new Recorder(input, probes);
  const link = make(r);
  for (const c of chunks) link.push(c);
  link.finish();
  return r;
}

/**
 * Replays bytes whole, split in two at every k (via push's start/end as well as subarrays), and byte
 * by byte, and expects identical events each time. Returns the events of the whole feed.
 */
export function expectSameAtEveryChunking(make: (sink: Recorder) => Link, bytes: Uint8Array): Recorder {
  const whole = run(make, [bytes], bytes);
  expect(whole.mapMismatches).toBe(0);
  const expected = JSON.stringify(whole.events);
  for (let k = 1; k < bytes.length; k++) {
    const split = run(make, [bytes.subarray(0, k), bytes.subarray(k)]);
    if (JSON.stringify(split.events) !== expected) expect(split.events, `split at ${k}`).toEqual(whole.events);
  }
  // the same split through push(bytes, start, end) on one buffer
  for (let k = 1; k < bytes.length; k += 7) {
    const r = new Recorder();
    const link = make(r);
    link.push(bytes, 0, k);
    link.push(bytes, k, bytes.length);
    link.finish();
    if (JSON.stringify(r.events) !== expected) expect(r.events, `push(bytes, 0, ${k}) + push(bytes, ${k})`).toEqual(whole.events);
  }
  const single = run(make, Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  expect(single.events, 'byte by byte').toEqual(whole.events);
  return whole;
}

/** n random bytes from a seeded rng, none of them equal to avoid */
export function randomBytes(random: () => number, n: number, avoid?: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let b: number;
    do b = Math.floor(random() * 256);
    while (b === avoid);
    out[i] = b;
  }
  return out;
}

/**
 * Feeds a long noisy stream in random chunks and checks that no exception escapes, the expected
 * APDUs come out in order, the noise is reported, and the link's fixed buffers are the same
 * objects of the same sizes afterwards (memory bounded whatever the input).
 */
export function expectBoundedOverNoise(
  link: Link & { assembler: Assembler },
  r: Recorder,
  stream: Uint8Array,
  want: string[],
  random: () => number,
  sizes: { frame: number; apdu: number },
): void {
  const inner = link as unknown as { buf: Uint8Array };
  const buf = inner.buf;
  const apduBuf = link.assembler.buffer;
  expect(buf.length).toBe(sizes.frame);
  expect(apduBuf.length).toBe(sizes.apdu);
  let at = 0;
  expect(() => {
    while (at < stream.length) {
      const n = 1 + Math.floor(random() * 4096);
      link.push(stream, at, Math.min(stream.length, at + n));
      at += n;
    }
    link.finish();
  }).not.toThrow();
  expect(r.apdus.map((a) => a.hex)).toEqual(want);
  expect(r.mapMismatches).toBe(0);
  expect(r.errors.length).toBeGreaterThan(0); // the noise was noticed
  expect(inner.buf).toBe(buf);
  expect(inner.buf.length).toBe(sizes.frame);
  expect(link.assembler.buffer).toBe(apduBuf);
  expect(link.assembler.buffer.length).toBe(sizes.apdu);
}
