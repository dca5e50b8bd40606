import { describe, expect, it } from 'vitest';
import { RingLog, crc32 } from '../firmware/history/ringlog.js';
import { memoryFlash } from './support/fakes.js';

const SIZE = 48;
const PAYLOAD = SIZE - 4;

function rec(key: number, fill = key & 0xff): Uint8Array {
  const p = new Uint8Array(PAYLOAD).fill(fill);
  new DataView(p.buffer).setUint32(0, key, true);
  return p;
}

function keys(log: RingLog, ring: number, after = 0): number[] {
  const out: number[] = [];
  log.forEach(ring, after, (r, key) => {
    // the payload is the one written
    expect(r[5]).toBe(key & 0xff);
    out.push(key);
  });
  return out;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('crc32', () => {
  it('is the IEEE CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'), 0, 9)).toBe(0xcbf43926);
  });
});

describe('RingLog', () => {
  it('keeps records in order per ring and finds them again after a reopen', () => {
    const flash = memoryFlash(8, 1024);
    const log = new RingLog(flash, SIZE, [3, 3]);
    for (let k = 1; k <= 30; k++) log.append(0, rec(k));
    for (let k = 100; k < 105; k++) log.append(1, rec(k));
    expect(keys(log, 0)).toEqual(range(1, 31));
    expect(keys(log, 1)).toEqual(range(100, 105));
    const again = new RingLog(flash, SIZE, [3, 3]);
    expect(keys(again, 0)).toEqual(range(1, 31));
    again.append(0, rec(31));
    expect(keys(new RingLog(flash, SIZE, [3, 3]), 0)).toEqual(range(1, 32));
    const last = new Uint8Array(PAYLOAD);
    expect(again.newest(1, last)).toBe(true);
    expect(new DataView(last.buffer).getUint32(0, true)).toBe(104);
  });

  it('erases the oldest sector when full, keeps at least (sectors - 1) full sectors, and spreads the erases', () => {
    const flash = memoryFlash(4, 1024); // 21 slots: 20 records a sector
    const log = new RingLog(flash, SIZE, [4]);
    expect(log.capacity(0)).toBe(60);
    const n = 20 * 4 * 10 + 7;
    for (let k = 1; k <= n; k++) log.append(0, rec(k));
    const kept = keys(log, 0);
    expect(kept.length).toBeGreaterThanOrEqual(log.capacity(0));
    expect(kept).toEqual(range(n - kept.length + 1, n + 1));
    // 41 sectors started: 11 erases for the first one, 10 for the others
    expect(flash.erases).toEqual([11, 10, 10, 10]);
    expect(log.stats.erases).toBe(41);
    expect(keys(new RingLog(flash, SIZE, [4]), 0)).toEqual(kept);
  });

  it('skips whole sectors before the key asked for', () => {
    const flash = memoryFlash(4, 1024);
    const log = new RingLog(flash, SIZE, [4]);
    for (let k = 1; k <= 70; k++) log.append(0, rec(k * 10));
    let reads = 0;
    const read = flash.read;
    flash.read = (o, l) => (reads++, read(o, l));
    expect(keys(log, 0, 555)).toEqual(range(56, 71).map((k) => k * 10));
    expect(reads).toBe(2); // the sectors holding 560… and 610…, not the two before
  });

  it('a record torn at any byte by a power cut is skipped; nothing before it is lost, the next goes after it', () => {
    const base = memoryFlash(4, 1024);
    const log = new RingLog(base, SIZE, [4]);
    for (let k = 1; k <= 25; k++) log.append(0, rec(k));
    const before = base.bytes.slice();
    log.append(0, rec(26));
    const whole = base.bytes.slice();
    // the bytes the 26th record changed
    let at = -1;
    for (let i = 0; i < whole.length; i++) if (whole[i] !== before[i]) { at = at < 0 ? i : at; }
    const sector = Math.floor(at / 1024) * 1024;
    const slot = sector + Math.floor((at - sector) / SIZE) * SIZE;
    for (let cut = 0; cut <= SIZE; cut++) {
      const flash = memoryFlash(4, 1024);
      flash.bytes.set(before);
      flash.bytes.set(whole.subarray(slot, slot + cut), slot); // the first `cut` bytes reached the flash
      const l = new RingLog(flash, SIZE, [4]);
      const expected = cut === SIZE ? range(1, 27) : range(1, 26);
      expect(keys(l, 0)).toEqual(expected);
      l.append(0, rec(27));
      l.append(0, rec(28));
      expect(keys(new RingLog(flash, SIZE, [4]), 0)).toEqual([...expected, 27, 28]);
    }
  });

  it('a sector whose erase or header was cut off counts as unused and is erased again', () => {
    const flash = memoryFlash(4, 1024);
    const log = new RingLog(flash, SIZE, [3]);
    for (let k = 1; k <= 40; k++) log.append(0, rec(k)); // two sectors full
    // the power went during the start of the third: erased, header half written
    flash.erase(2);
    flash.bytes.set([0x4d, 0x42], 2 * 1024);
    const l = new RingLog(flash, SIZE, [3]);
    expect(keys(l, 0)).toEqual(range(1, 41));
    l.append(0, rec(41));
    expect(keys(new RingLog(flash, SIZE, [3]), 0)).toEqual(range(1, 42));
    // garbage left by a cut erase: random bytes
    flash.bytes.fill(0x5a, 2 * 1024 + 10, 3 * 1024);
    const g = new RingLog(flash, SIZE, [3]);
    expect(keys(g, 0)).toEqual(range(1, 41));
    g.append(0, rec(42));
    expect(keys(g, 0)).toEqual([...range(1, 41), 42]);
  });

  it('skips and counts a damaged record, keeps the rest', () => {
    const flash = memoryFlash(4, 1024);
    const log = new RingLog(flash, SIZE, [3]);
    for (let k = 1; k <= 10; k++) log.append(0, rec(k));
    flash.bytes[SIZE * 4 + 7] ^= 0x10; // one bit of the 4th record
    const l = new RingLog(flash, SIZE, [3]);
    expect(keys(l, 0)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    expect(l.stats.corrupt).toBe(1);
  });

  it('refuses layouts the store cannot hold', () => {
    expect(() => new RingLog(memoryFlash(4, 1024), SIZE, [3, 2])).toThrow(/need 5 sectors, the store has 4/);
    expect(() => new RingLog(memoryFlash(4, 1024), SIZE, [1])).toThrow(/at least 2 sectors/);
    expect(() => new RingLog(memoryFlash(4, 64), SIZE, [2])).toThrow(/too small/);
  });

  it('counts what it writes and erases', () => {
    const flash = memoryFlash(4, 1024);
    const log = new RingLog(flash, SIZE, [2]);
    for (let k = 1; k <= 21; k++) log.append(0, rec(k));
    expect(log.stats.erases).toBe(2);
    expect(log.stats.writes).toBe(21 + 2);
    expect(log.stats.bytesWritten).toBe(21 * SIZE + 2 * 16);
  });
});
