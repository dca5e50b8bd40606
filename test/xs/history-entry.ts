/**
 * The XS side of test/xs-history.test.ts: the consumption history (firmware/history: the RingLog
 * and History) on the real XS engine, over flash in RAM with NOR semantics, fed by the core's
 * simulator and decoder as on the device (software AES). Bundled into one script by
 * test/xs/bundle.mjs; commands are JSON, one per call, all synchronous.
 *
 *   open     a History over the flash as it is now (first boot, or the restart after a cut)
 *   feed     pushes from `from` to `to` every `step` ms (none inside `silent`), each decoded and fed
 *   query    History.query(resolution, from, to)
 *   cut      the next write stops after `bytes` bytes and throws: a power cut during a write
 *   image    FNV-1a of the whole flash, and the flash's counters
 *   close    drops the History (for the slot count without it); gc collects
 */
import { History, type Resolution } from '../../firmware/history/history.js';
import { MeterSimulator } from '../../firmware/simulator.js';
import { decode } from '../../firmware/decoder.js';
import { encryptionKey } from '../../firmware/keys.js';
import { softwareCrypto } from '../../firmware/crypto/gcm.js';
import type { BlockStore } from '../../hal/hal.js';
import { serveCommands } from './codec.js';

declare const gc: () => void;

export interface HistoryCommand {
  op: 'open' | 'feed' | 'query' | 'cut' | 'image' | 'close' | 'gc';
  from?: number;
  to?: number;
  step?: number;
  silent?: [number, number];
  resolution?: Resolution;
  bytes?: number;
}

const SECTOR = 4096;
const SECTORS = 32;

/** NOR flash in RAM: erase → 0xFF, a write may only clear bits (else it throws), a cut tears a write. */
class NorFlash implements BlockStore {
  readonly sectorSize = SECTOR;
  readonly sectorCount = SECTORS;
  readonly bytes = new Uint8Array(SECTOR * SECTORS).fill(0xff);
  writes = 0;
  erases = 0;
  bytesWritten = 0;
  /** bytes the next write gets before the power goes */
  cutAfter = -1;
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.bytes.length) throw new RangeError(`write of ${data.length} at ${offset} outside the flash`);
    for (let i = 0; i < data.length; i++) {
      if ((~this.bytes[offset + i] & data[i]) !== 0) throw new Error(`NOR flash: the write at ${offset + i} would set a bit`);
    }
    const n = this.cutAfter >= 0 ? Math.min(this.cutAfter, data.length) : data.length;
    for (let i = 0; i < n; i++) this.bytes[offset + i] &= data[i];
    this.writes++;
    this.bytesWritten += n;
    if (this.cutAfter >= 0) {
      this.cutAfter = -1;
      throw new Error('power cut');
    }
  }
  erase(sector: number): void {
    this.bytes.fill(0xff, sector * SECTOR, (sector + 1) * SECTOR);
    this.erases++;
  }
}

const flash = new NorFlash();
const key = new Uint8Array(16);
for (let i = 0; i < 16; i++) key[i] = i; // the simulator's demo key
const keys = { encryption: encryptionKey(key), authentication: null };
let simulator: MeterSimulator | null = null;
let history: History | null = null;

function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h >>> 0;
}

function feed(c: HistoryCommand): unknown {
  if (!history) throw new Error('open first');
  simulator ??= new MeterSimulator({ crypto: softwareCrypto, key, phases: 3 });
  let pushes = 0;
  let completed = 0;
  let failed: string | null = null;
  for (let t = c.from!; t < c.to!; t += c.step!) {
    if (c.silent && t >= c.silent[0] && t < c.silent[1]) continue;
    const r = decode(simulator.push(t), keys, softwareCrypto).readings[0];
    pushes++;
    try {
      if (history.feed(r, t)) completed++;
    } catch (e) {
      // a cut power ends the run, as it would end the device
      failed = String((e as Error).message);
      break;
    }
  }
  return { pushes, completed, failed };
}

function run(c: HistoryCommand): unknown {
  switch (c.op) {
    case 'open':
      history = new History(flash);
      return { skipped: history.skipped };
    case 'feed':
      return feed(c);
    case 'query':
      if (!history) throw new Error('open first');
      return history.query(c.resolution!, c.from!, c.to!);
    case 'cut':
      flash.cutAfter = c.bytes!;
      return {};
    case 'image':
      return { fnv: fnv(flash.bytes), writes: flash.writes, erases: flash.erases, bytesWritten: flash.bytesWritten };
    case 'close':
      history = null;
      return {};
    case 'gc':
      gc();
      return {};
    default:
      throw new Error(`unknown op ${String(c.op)}`);
  }
}

serveCommands<HistoryCommand>(run);
