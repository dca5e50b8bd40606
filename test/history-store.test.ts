// hal/moddable/history-store.ts: the history's BlockStore on the ESP32's `history` partition,
// and the partition table that gives it that partition. The SDK's Flash does not exist on the
// host, so a stand-in with NOR semantics (flash.c's calls, erase → 0xFF, a write can only clear
// bits) takes its place; the device tests run the same store on the Moddable runtime.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../hal/hal.js';

vi.mock('flash', () => ({ default: class { constructor() { throw new Error("can't find partition"); } } }));

const { FlashBlockStore, HISTORY_PARTITION, openHistoryStore } = await import('../hal/moddable/history-store.js');
const { OTA_SLOT_BYTES } = await import('../hal/moddable/ota.js');

const SECTOR = 4096;

/** flash.c's Flash over bytes in RAM: erase_range of one sector, read, write that ANDs as NOR does */
class NorPartition {
  readonly bytes: Uint8Array;
  readonly blockSize = SECTOR;
  calls: string[] = [];
  constructor(sectors: number, fill = 0xff) {
    this.bytes = new Uint8Array(sectors * SECTOR).fill(fill);
  }
  get byteLength() { return this.bytes.length; }
  read(offset: number, byteLength: number): ArrayBuffer {
    if (offset + byteLength > this.bytes.length) throw new Error('read failed');
    return this.bytes.slice(offset, offset + byteLength).buffer;
  }
  write(offset: number, byteLength: number, buffer: Uint8Array): void {
    if (byteLength <= 0 || buffer.length < byteLength) throw new Error('invalid');
    if (offset + byteLength > this.bytes.length) throw new Error('write failed');
    this.calls.push(`write ${offset} ${byteLength}`);
    for (let i = 0; i < byteLength; i++) this.bytes[offset + i] &= buffer[i];
  }
  erase(sector: number): void {
    this.calls.push(`erase ${sector}`);
    this.bytes.fill(0xff, sector * SECTOR, (sector + 1) * SECTOR);
  }
}

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level} ${message}`) };
}

describe('the history BlockStore on a flash partition', () => {
  it('has the partition\'s geometry and passes reads, writes and erases through', () => {
    const p = new NorPartition(32);
    const s = new FlashBlockStore(p);
    expect([s.sectorSize, s.sectorCount]).toEqual([4096, 32]);
    expect(s.read(100, 4)).toEqual(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    // a view into a larger buffer: exactly its own bytes land, at the offset given
    const big = new Uint8Array([9, 9, 0x12, 0x34, 0x56, 9]);
    s.write(5000, big.subarray(2, 5));
    expect(s.read(4999, 5)).toEqual(new Uint8Array([0xff, 0x12, 0x34, 0x56, 0xff]));
    s.erase(1);
    expect(s.read(5000, 3)).toEqual(new Uint8Array([0xff, 0xff, 0xff]));
    expect(p.calls).toEqual(['write 5000 3', 'erase 1']);
  });

  it('returns a copy the caller may keep, and an empty read or write touches nothing', () => {
    const p = new NorPartition(4);
    const s = new FlashBlockStore(p);
    const r = s.read(0, 2);
    r[0] = 0;
    expect(s.read(0, 1)[0]).toBe(0xff);
    expect(s.read(0, 0)).toHaveLength(0);
    s.write(10, new Uint8Array(0));
    expect(p.calls).toEqual([]);
  });

  it('refuses offsets and sectors outside the partition before the flash sees them', () => {
    const p = new NorPartition(4);
    const s = new FlashBlockStore(p);
    expect(() => s.read(4 * SECTOR - 2, 4)).toThrow(/4 bytes at 16382 lie outside the partition \(16384 bytes\)/);
    expect(() => s.write(-1, new Uint8Array(1))).toThrow(RangeError);
    expect(() => s.erase(4)).toThrow(/no sector 4 \(0\.\.3\)/);
    expect(() => s.erase(1.5)).toThrow(RangeError);
    expect(p.calls).toEqual([]);
  });
});

describe('opening the history partition', () => {
  it('is off, with one warning that says what to do, when the partition table has none', () => {
    const log = logger();
    expect(openHistoryStore(log)).toBeNull(); // the mocked SDK Flash: "can't find partition"
    expect(log.lines).toEqual([expect.stringMatching(/^warn history: off, no flash partition "history" \(can't find partition\);.*flash the firmware over USB once/)]);
  });

  it('opens the named partition and says whether it is erased or holds data', () => {
    const log = logger();
    const p = new NorPartition(32);
    const names: string[] = [];
    const s = openHistoryStore(log, (name) => { names.push(name); return p; });
    expect(names).toEqual([HISTORY_PARTITION]);
    expect(s?.sectorCount).toBe(32);
    s!.write(3 * SECTOR + 8, new Uint8Array([1]));
    s!.write(7 * SECTOR, new Uint8Array([1]));
    openHistoryStore(log, () => p);
    // what a partition that was the end of an app slot under an older table looks like
    openHistoryStore(log, () => new NorPartition(32, 0x5a));
    expect(log.lines).toEqual([
      'info history: flash partition "history" (32 sectors of 4096 bytes) is erased: a new history starts',
      'info history: flash partition "history" (32 sectors of 4096 bytes), 2 of its sectors hold data',
      'info history: flash partition "history" (32 sectors of 4096 bytes), 32 of its sectors hold data',
    ]);
  });

  it('is off when the partition is too small or cannot be read', () => {
    const log = logger();
    expect(openHistoryStore(log, () => new NorPartition(2))).toBeNull();
    const broken = new NorPartition(8);
    broken.read = () => { throw new Error('read failed'); };
    expect(openHistoryStore(log, () => broken)).toBeNull();
    expect(log.lines).toEqual([
      'warn history: off, the flash partition "history" has 2 sectors of 4096 bytes; it needs at least 4',
      'error history: off, the flash partition "history" cannot be read: read failed',
    ]);
  });
});

describe('the partition table (hal/moddable/partitions.csv)', () => {
  const rows = readFileSync(new URL('../hal/moddable/partitions.csv', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [name, type, subtype, offset, size] = l.split(',').map((c) => c.trim());
      return { name, type, subtype, offset: Number(offset), size: Number(size) };
    });
  const row = (name: string) => rows.find((r) => r.name === name)!;

  it('fills 4 MB from 0x9000 without a gap or an overlap, app slots 64 KB aligned', () => {
    let at = 0x9000;
    for (const r of rows) {
      expect(r.offset, r.name).toBe(at);
      expect(r.offset % (r.type === 'app' ? 0x10000 : 0x1000), r.name).toBe(0);
      expect(r.size % 0x1000, r.name).toBe(0);
      at = r.offset + r.size;
    }
    expect(at).toBe(4 * 1024 * 1024);
  });

  it('gives the history 128 KB (32 sectors) of its own, and both app slots the size the OTA upload allows', () => {
    expect(row('history')).toMatchObject({ type: 'data', subtype: 'undefined', size: 128 * 1024 });
    expect(row('ota_0').size).toBe(OTA_SLOT_BYTES);
    expect(row('ota_1').size).toBe(OTA_SLOT_BYTES);
    expect(OTA_SLOT_BYTES).toBe(1920 * 1024);
  });
});
