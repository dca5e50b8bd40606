/**
 * The consumption history's BlockStore on the ESP32: the raw `history` data partition
 * (hal/moddable/partitions.csv, 128 KB = 32 sectors of 4 KB) through the SDK's `Flash` module
 * (modules/files/flash/esp32/flash.c: esp_partition_read/write/erase_range, which return when
 * the SPI flash has finished, so every call is durable on return).
 *
 * NOR flash semantics are the log's business: a write only clears bits, an erase sets a sector
 * to 0xFF. esp_partition_write ANDs silently where a write would set bits; the device tests' stand-in
 * (test/device/hostrun/stubs/flash.js) throws instead, so the log is proven never to rely on it.
 *
 * A device first flashed with an older partition table has no `history` partition (an update over
 * the web never rewrites the table): then the history is off, one log line says why, and the
 * gateway runs as before.
 */
import Flash from 'flash';
import type { BlockStore, Logger } from '../hal.js';

export const HISTORY_PARTITION = 'history';
/** fewer sectors than this leave the log no room to move on (one being erased, one written) */
const MIN_SECTORS = 4;

/** What this store uses of the SDK's Flash (its typings allow more). */
export interface FlashPartition {
  readonly byteLength: number;
  readonly blockSize: number;
  read(offset: number, byteLength: number): ArrayBuffer;
  write(offset: number, byteLength: number, buffer: Uint8Array): void;
  erase(sector: number): void;
}

export class FlashBlockStore implements BlockStore {
  readonly sectorSize: number;
  readonly sectorCount: number;

  constructor(private readonly flash: FlashPartition) {
    this.sectorSize = flash.blockSize;
    this.sectorCount = Math.floor(flash.byteLength / flash.blockSize);
  }

  private check(offset: number, length: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.sectorSize * this.sectorCount)) {
      throw new RangeError(`history flash: ${length} bytes at ${offset} lie outside the partition (${this.sectorSize * this.sectorCount} bytes)`);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return length === 0 ? new Uint8Array(0) : new Uint8Array(this.flash.read(offset, length));
  }

  write(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.length);
    // flash.c refuses a zero length; the view goes down as it is (any Uint8Array, no copy)
    if (bytes.length > 0) this.flash.write(offset, bytes.length, bytes);
  }

  erase(sector: number): void {
    if (!(Number.isInteger(sector) && sector >= 0 && sector < this.sectorCount)) {
      throw new RangeError(`history flash: no sector ${sector} (0..${this.sectorCount - 1})`);
    }
    this.flash.erase(sector);
  }
}

/** how many sectors hold anything: all 0xFF in the first bytes means erased (first use) */
function sectorsInUse(store: BlockStore): number {
  let used = 0;
  for (let s = 0; s < store.sectorCount; s++) {
    const head = store.read(s * store.sectorSize, 16);
    for (let i = 0; i < head.length; i++) {
      if (head[i] !== 0xff) { used++; break; }
    }
  }
  return used;
}

/**
 * Opens the history partition; null (history off, logged) when the partition is missing, too
 * small or cannot be read. Never throws: the gateway runs without history.
 */
export function openHistoryStore(logger: Logger, open: (name: string) => FlashPartition = (name) => new Flash(name) as unknown as FlashPartition): BlockStore | null {
  let store: FlashBlockStore;
  try {
    store = new FlashBlockStore(open(HISTORY_PARTITION));
  } catch (e) {
    logger.log('warn', `history: off, no flash partition "${HISTORY_PARTITION}" (${(e as Error).message}); the partition table on this device predates it: flash the firmware over USB once to write the current table`);
    return null;
  }
  if (store.sectorCount < MIN_SECTORS) {
    logger.log('warn', `history: off, the flash partition "${HISTORY_PARTITION}" has ${store.sectorCount} sectors of ${store.sectorSize} bytes; it needs at least ${MIN_SECTORS}`);
    return null;
  }
  let used: number;
  try {
    used = sectorsInUse(store);
  } catch (e) {
    logger.log('error', `history: off, the flash partition "${HISTORY_PARTITION}" cannot be read: ${(e as Error).message}`);
    return null;
  }
  logger.log('info', used === 0
    ? `history: flash partition "${HISTORY_PARTITION}" (${store.sectorCount} sectors of ${store.sectorSize} bytes) is erased: a new history starts`
    : `history: flash partition "${HISTORY_PARTITION}" (${store.sectorCount} sectors of ${store.sectorSize} bytes), ${used} of its sectors hold data`);
  return store;
}
