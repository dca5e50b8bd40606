/**
 * Replays a capture at the meter's pace: a file of hex (one push per line; blank lines and
 * `#` comments ignored) or raw bytes, one push every intervalMs, looping if asked. Lets anyone
 * run the gateway on a real meter's frames without the meter.
 *
 * Only regular files of at most MAX_CAPTURE_BYTES (a FIFO or a device would block the gateway, a
 * huge file would stay in memory), and only captures: a binary file must start like an M-Bus or
 * HDLC frame. Error messages name lines and positions, never the file's bytes, so a status page
 * cannot show the contents of a file that is not a capture.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource, Clock, TimerHandle } from '../hal.js';
import { isHexParseError, parseHex } from '../../firmware/bytes.js';

export const MAX_CAPTURE_BYTES = 4 * 1024 * 1024;

function readRegularFile(file: string): Buffer {
  // O_NONBLOCK: opening a FIFO without a writer must not block
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('is not a regular file');
    if (st.size > MAX_CAPTURE_BYTES) throw new Error(`is larger than ${MAX_CAPTURE_BYTES / 1024 / 1024} MB`);
    const data = Buffer.alloc(st.size);
    let n = 0;
    while (n < data.length) {
      const r = readSync(fd, data, n, data.length - n, n);
      if (r === 0) break;
      n += r;
    }
    return data.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function readCapture(file: string): Uint8Array[] {
  const data = readRegularFile(file);
  const text = data.toString('latin1');
  const isText = /^[\s0-9A-Fa-fxX:,#\-\w]*$/.test(text.slice(0, 4096)) && !text.slice(0, 4096).includes('\0');
  if (!isText) {
    if (data.length > 0 && data[0] !== 0x68 && data[0] !== 0x7e) throw new Error('is neither hex text nor a binary capture of M-Bus or HDLC frames');
    return [new Uint8Array(data)];
  }
  const pushes: Uint8Array[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const clean = line.replace(/#.*/, '').trim();
    if (!clean) return;
    const bytes = parseHex(clean);
    if (isHexParseError(bytes)) throw new Error(`line ${i + 1} is not hex (at character ${bytes.position + 1})`);
    pushes.push(bytes);
  });
  return pushes;
}

export class ReplaySource implements ByteSource {
  readonly description: string;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
    private readonly loop: boolean,
    private readonly clock: Clock,
  ) {
    this.description = `replay of ${file} (a push every ${Math.round(intervalMs / 1000)} s${loop ? ', looping' : ''})`;
  }

  start(onBytes: (bytes: Uint8Array) => void, onError: (message: string) => void): void {
    let pushes: Uint8Array[];
    try {
      pushes = readCapture(this.file);
    } catch (e) {
      onError(`cannot replay ${this.file}: ${(e as Error).message}`);
      return;
    }
    if (pushes.length === 0) {
      onError(`${this.file} holds no frames`);
      return;
    }
    let i = 0;
    const tick = () => {
      if (i >= pushes.length) {
        if (!this.loop) return this.stop();
        i = 0;
      }
      onBytes(pushes[i++]);
    };
    tick();
    this.timer = this.clock.setInterval(tick, this.intervalMs);
  }

  stop(): void {
    if (this.timer) this.clock.clear(this.timer);
    this.timer = null;
  }
}
