/**
 * Replays a capture at the meter's pace: a file of hex (one push per line; blank lines and
 * `#` comments ignored) or raw bytes, one push every intervalMs, looping if asked. Lets anyone
 * run the gateway on a real meter's frames without the meter.
 */
import { readFileSync } from 'node:fs';
import type { ByteSource, Clock, TimerHandle } from '../hal.js';
import { isHexParseError, parseHex } from '../../firmware/bytes.js';

export function readCapture(file: string): Uint8Array[] {
  const data = readFileSync(file);
  const text = data.toString('latin1');
  const isText = /^[\s0-9A-Fa-fxX:,#\-\w]*$/.test(text.slice(0, 4096)) && !text.slice(0, 4096).includes('\0');
  if (!isText) return [new Uint8Array(data)];
  const pushes: Uint8Array[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const clean = line.replace(/#.*/, '').trim();
    if (!clean) return;
    const bytes = parseHex(clean);
    if (isHexParseError(bytes)) throw new Error(`${file} line ${i + 1}: ${bytes.detail}`);
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
