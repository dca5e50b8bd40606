/**
 * The history's BlockStore on the host: one file in the data folder (`history.bin`), as large as
 * the ESP32's partition, with flash semantics so the log behaves the same on both targets: a
 * write only clears bits (the new bytes are ANDed with the old), an erase fills a sector with
 * 0xFF. Every write and erase is synced before it returns, so a kill or a power cut loses at most
 * the write in progress, which the log finds torn and skips.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { BlockStore } from '../hal.js';

/** The ESP32 partition: 32 sectors of 4 KB. */
export const HISTORY_SECTOR_SIZE = 4096;
export const HISTORY_SECTORS = 32;
export const HISTORY_FILE = 'history.bin';

export interface FileBlockStore extends BlockStore {
  close(): void;
}

export function fileBlockStore(path: string, sectorSize = HISTORY_SECTOR_SIZE, sectorCount = HISTORY_SECTORS): FileBlockStore {
  let fd = -1;
  try {
    fd = openSync(path, 'r+');
  } catch {
    fd = openSync(path, 'w+', 0o600);
  }
  const size = sectorSize * sectorCount;
  const have = fstatSync(fd).size;
  if (have < size) {
    // a new file, or one cut short: the missing part reads as erased flash
    const ff = new Uint8Array(size - have).fill(0xff);
    writeSync(fd, ff, 0, ff.length, have);
    fsyncSync(fd);
  }
  const check = (offset: number, length: number) => {
    if (!(offset >= 0 && length >= 0 && offset + length <= size)) throw new RangeError(`history store: ${length} bytes at ${offset} are outside its ${size} bytes`);
  };
  const read = (offset: number, length: number): Uint8Array => {
    check(offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out;
  };
  return {
    sectorSize,
    sectorCount,
    read,
    write(offset, bytes) {
      check(offset, bytes.length);
      const old = read(offset, bytes.length);
      for (let i = 0; i < old.length; i++) old[i] &= bytes[i];
      writeSync(fd, old, 0, old.length, offset);
      fsyncSync(fd);
    },
    erase(sector) {
      if (!(sector >= 0 && sector < sectorCount && Math.floor(sector) === sector)) throw new RangeError(`history store: no sector ${sector}`);
      writeSync(fd, new Uint8Array(sectorSize).fill(0xff), 0, sectorSize, sector * sectorSize);
      fsyncSync(fd);
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}
