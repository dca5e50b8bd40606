/**
 * The history driven for bench/history.mjs: a 500 W meter pushing every `pushMs` into the real
 * History over flash in RAM that counts what reaches it. Plain ECMAScript with the core: the same
 * file runs on Node (flash wear) and inside XS (heap), see bench/history-entry.ts.
 */
import type { BlockStore } from '../hal/hal.js';
import type { Reading } from '../firmware/reading.js';
import { History, isoLocal } from '../firmware/history/history.js';

export const SECTOR = 4096;
export const SECTORS = 32;
/** 2025-01-06 00:00 +01:00, a Monday in winter: no DST change in the first 60 days */
export const START = 1_736_118_000_000;

export interface CountingFlash extends BlockStore {
  bytes: Uint8Array;
  written: number;
  writes: number;
  erases: Uint32Array;
  reads: number;
}

export function countingFlash(): CountingFlash {
  const bytes = new Uint8Array(SECTOR * SECTORS).fill(0xff);
  const f: CountingFlash = {
    sectorSize: SECTOR,
    sectorCount: SECTORS,
    bytes,
    written: 0,
    writes: 0,
    erases: new Uint32Array(SECTORS),
    reads: 0,
    read(offset, length) {
      f.reads++;
      return bytes.slice(offset, offset + length);
    },
    write(offset, data) {
      for (let i = 0; i < data.length; i++) bytes[offset + i] &= data[i];
      f.written += data.length;
      f.writes++;
    },
    erase(sector) {
      bytes.fill(0xff, sector * SECTOR, (sector + 1) * SECTOR);
      f.erases[sector]++;
    },
  };
  return f;
}

/** A Reading as the decoder makes it: meter clock with offset, import and export registers. */
export function reading(t: number): Reading {
  return {
    meter: { systemTitle: '4B464D1020019F8B', number: '1KFM0200204035', logicalDeviceName: null },
    timestamp: isoLocal(t, 60),
    frameCounter: 1,
    security: { control: 0x20, encrypted: true, authenticated: false, tag: 'none' },
    format: 'dlms',
    values: {
      '1-0:1.8.0': { value: 1_000_000 + Math.floor(((t - START) / 3_600_000) * 500), unit: 'Wh' },
      '1-0:2.8.0': { value: 50_000 + Math.floor(((t - START) / 3_600_000) * 100), unit: 'Wh' },
    },
  };
}

/** Feeds pushes every pushMs from `from` for `ms`; returns the time after the last. */
export function feed(h: History, from: number, ms: number, pushMs: number): number {
  let t = from;
  for (; t < from + ms; t += pushMs) h.feed(reading(t), t);
  return t;
}
export { History };
