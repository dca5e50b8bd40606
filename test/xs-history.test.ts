// The consumption history on the real XS engine (xsnap-worker, XS 13.3), over flash in RAM with
// NOR semantics (a write that would set a bit throws): test/xs/history-entry.ts, fed by the core's
// simulator and decoder with software AES as on the device. The same commands run on V8 through
// the same entry; both engines must give the same answers and leave the same bytes in the flash,
// through the day the clocks go forward, a silent stretch, a power cut in the middle of a write
// and the restart after it. Its own file: vitest isolates files, and the worker is separate.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildXsScript } from './xs/bundle.mjs';
import { xsnapBinary } from './support/tools.js';
import { XsWorker } from './xs/driver.mjs';
import { decodeJson, encodeJson } from './xs/codec.js';
import type { HistoryCommand } from './xs/history-entry.js';

// the simulated meter's clock is local time: Vienna's, on both engines (xsnap inherits TZ)
process.env.TZ = 'Europe/Vienna';

const Q = 900_000;
const at = (iso: string) => Date.parse(iso);
const DST_DAY = { from: at('2026-03-29T00:00:00+01:00'), to: at('2026-03-30T00:00:00+02:00') };
const NEXT_DAY = { from: DST_DAY.to, to: at('2026-03-31T00:00:00+02:00') };
const SILENT: [number, number] = [at('2026-03-30T10:07:00+02:00'), at('2026-03-30T13:20:00+02:00')];

let worker: XsWorker;
type Answer = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let v8: (c: HistoryCommand) => Answer;

async function xs(c: HistoryCommand): Promise<Answer> {
  const { text } = await worker.command(encodeJson(c));
  return decodeJson(text) as Answer;
}

/** the command on both engines: the same answer, which is returned */
async function both(c: HistoryCommand): Promise<Answer> {
  const a = await xs(c);
  if (a.exception) throw new Error(`XS: ${a.exception}\n${a.stack ?? ''}`);
  expect(v8(c), `${c.op} on V8 and on XS`).toEqual(a);
  return a;
}

beforeAll(async () => {
  const entry = fileURLToPath(new URL('./xs/history-entry.ts', import.meta.url));
  worker = XsWorker.start(xsnapBinary(), { meteringLimit: 0 });
  await worker.evaluate(await buildXsScript(entry));
  await import('./xs/history-entry.js');
  const handle = (globalThis as unknown as { handleCommand: (m: ArrayBuffer) => ArrayBuffer }).handleCommand;
  v8 = (c) => decodeJson(new TextDecoder().decode(handle(new TextEncoder().encode(encodeJson(c)).buffer as ArrayBuffer))) as Answer;
}, 180_000);

afterAll(async () => {
  await worker?.close();
});

describe('the consumption history on XS over NOR flash', { timeout: 120_000 }, () => {
  let dstDay: Answer;

  it('records four days of pushes every quarter hour: 92 quarter hours on the day the clocks go forward, the silent stretch as one gap', async () => {
    expect(await both({ op: 'open' })).toEqual({ skipped: 0 });
    const f = await both({ op: 'feed', from: at('2026-03-28T00:00:05+01:00'), to: at('2026-04-01T00:10:00+02:00'), step: Q, silent: SILENT });
    expect(f.failed).toBeNull(); // no write ever tried to set a bit
    expect(f.pushes).toBe(4 * 96 - 4 - 13 + 1);
    dstDay = await both({ op: 'query', resolution: '15min', ...DST_DAY });
    expect(dstDay.points).toHaveLength(92);
    expect(dstDay.gaps).toEqual([]);
    expect(dstDay.points.every((p: number[]) => p[1] !== null && p[1] >= 0)).toBe(true);
    const next = await both({ op: 'query', resolution: '15min', ...NEXT_DAY });
    expect(next.points).toHaveLength(96 - 14);
    expect(next.gaps.map((g: number[]) => [g[0], g[1]])).toEqual([[at('2026-03-30T10:00:00+02:00'), at('2026-03-30T13:30:00+02:00')]]);
    const days = await both({ op: 'query', resolution: 'day', from: at('2026-03-28T00:00:00+01:00'), to: at('2026-04-01T00:00:00+02:00') });
    expect(days.points).toHaveLength(4);
    // a day is the sum of its quarter hours, the gap's energy included
    const sum = (a: Answer) => a.points.reduce((s: number, p: number[]) => s + p[1], 0) + a.gaps.reduce((s: number, g: number[]) => s + g[2], 0);
    expect(days.points[1][1]).toBeCloseTo(sum(dstDay), 3);
    expect(days.points[2][1]).toBeCloseTo(sum(next), 3);
    const image = await both({ op: 'image' });
    console.log(`XS: 4 days of quarter hours on NOR flash: ${image.writes} writes (${image.bytesWritten} bytes), ${image.erases} erases; the same image on V8 (FNV ${image.fnv.toString(16)})`);
  });

  it('a power cut in the middle of a write loses only that record; after the restart every earlier answer is the same and recording goes on', async () => {
    await both({ op: 'cut', bytes: 20 });
    const cut = await both({ op: 'feed', from: at('2026-04-01T00:15:05+02:00'), to: at('2026-04-01T01:00:00+02:00'), step: Q });
    expect(cut.failed).toBe('power cut');
    await both({ op: 'open' }); // the restart
    expect(await both({ op: 'query', resolution: '15min', ...DST_DAY })).toEqual(dstDay);
    const after = await both({ op: 'feed', from: at('2026-04-01T00:30:05+02:00'), to: at('2026-04-01T02:00:00+02:00'), step: Q });
    expect(after.failed).toBeNull();
    expect(after.completed).toBeGreaterThan(0);
    const night = await both({ op: 'query', resolution: '15min', from: at('2026-04-01T00:00:00+02:00'), to: at('2026-04-01T02:00:00+02:00') });
    // the torn record was the 00:15 boundary: 00:00 to 00:30 becomes one gap that keeps its
    // energy, and every quarter hour after the restart is there
    expect(night.gaps.map((g: number[]) => [g[0], g[1]])).toEqual([[at('2026-04-01T00:00:00+02:00'), at('2026-04-01T00:30:00+02:00')]]);
    expect(night.gaps[0][2]).toBeGreaterThanOrEqual(0);
    expect(night.points.map((p: number[]) => p[0])).toEqual([0, 1, 2, 3, 4].map((i) => at('2026-04-01T00:30:00+02:00') + i * Q));
    await both({ op: 'image' });
  });

  it('RAM: the live slots the open history keeps on XS', async () => {
    await xs({ op: 'gc' });
    const open = (await worker.command(encodeJson({ op: 'gc' }))).meters!.currentHeapCount;
    await xs({ op: 'close' });
    await xs({ op: 'gc' });
    const closed = (await worker.command(encodeJson({ op: 'gc' }))).meters!.currentHeapCount;
    const slots = open - closed;
    console.log(`XS: the open History keeps ${slots} slots alive (${slots * 16} B of slots on the ESP32), besides its ArrayBuffers`);
    expect(slots).toBeGreaterThan(0);
    expect(slots * 16).toBeLessThan(8 * 1024);
  });
});
