/**
 * The XS side of bench/history.mjs: the real History over flash in RAM, built and fed on command
 * so the bench can read xsnap's heap meters between the steps. Commands (JSON): flash, open,
 * feed { days }, query, gc.
 */
import { History } from '../firmware/history/history.js';
import { localMs } from '../firmware/template/clock.js';
import { START, countingFlash, feed, type CountingFlash } from './history-run.js';

declare const gc: () => void;

let flash: CountingFlash | null = null;
let h: History | null = null;
let t = START + 5_000;
let answer = '';

function run(c: { op: string; days?: number }): unknown {
  switch (c.op) {
    case 'flash':
      flash = countingFlash();
      // the meter-clock RegExp, made on first use: the gateway has it anyway (derived values)
      localMs('2025-01-01T00:00:00');
      return { ok: true };
    case 'open':
      h = new History(flash!);
      return { ok: true };
    case 'feed':
      t = feed(h!, t, (c.days ?? 1) * 86_400_000, 10_000);
      return { ok: true, writes: flash!.writes };
    case 'query': {
      // a day of quarter hours as the API answers it (the JSON string kept until the next command)
      const before = flash!.reads;
      const a = h!.query('15min', t - 86_400_000 - 900_000, t);
      answer = JSON.stringify(a);
      return { ok: true, points: a.points.length, bytes: answer.length, sectorReads: flash!.reads - before };
    }
    case 'drop':
      answer = '';
      return { ok: true };
    case 'gc':
      gc();
      return { ok: true };
  }
  throw new Error(`unknown command ${c.op}`);
}

function handleCommand(message: ArrayBuffer): ArrayBuffer {
  let out: unknown;
  try {
    out = run(JSON.parse(new TextDecoder().decode(message)));
  } catch (e) {
    out = { exception: String(e) };
  }
  return new TextEncoder().encode(JSON.stringify(out)).buffer as ArrayBuffer;
}

(globalThis as unknown as { handleCommand: typeof handleCommand }).handleCommand = handleCommand;
