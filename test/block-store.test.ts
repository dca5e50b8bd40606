import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { HISTORY_SECTORS, HISTORY_SECTOR_SIZE, fileBlockStore } from '../hal/node/block-store.js';
import { History, isoLocal } from '../firmware/history/history.js';
import type { Reading } from '../firmware/reading.js';

const dir = mkdtempSync(join(tmpdir(), 'meterbridge-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const Q = 900_000;
const wh = (t: number) => Math.floor((t / 3_600_000) * 500);

function reading(t: number): Reading {
  return {
    meter: { systemTitle: null, number: 'X', logicalDeviceName: null },
    timestamp: isoLocal(t, 60),
    frameCounter: null,
    security: { control: null, encrypted: false, authenticated: false, tag: 'none' },
    format: 'dlms',
    values: { '1-0:1.8.0': { value: wh(t), unit: 'Wh' }, '1-0:2.8.0': { value: 0, unit: 'Wh' } },
  };
}

describe('fileBlockStore', () => {
  it('is a file as large as the ESP32 partition, with flash semantics, that keeps what was written', () => {
    const file = join(dir, 'semantics.bin');
    const s = fileBlockStore(file);
    expect(statSync(file).size).toBe(HISTORY_SECTORS * HISTORY_SECTOR_SIZE);
    expect(s.sectorCount).toBe(32);
    expect(s.read(100, 4)).toEqual(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    s.write(100, Uint8Array.of(0x0f, 0xf0, 0x00, 0xaa));
    // a write only clears bits, like NOR flash
    s.write(100, Uint8Array.of(0xff, 0x30, 0xff, 0x0f));
    expect(s.read(100, 4)).toEqual(Uint8Array.of(0x0f, 0x30, 0x00, 0x0a));
    s.close();
    const again = fileBlockStore(file);
    expect(again.read(100, 4)).toEqual(Uint8Array.of(0x0f, 0x30, 0x00, 0x0a));
    again.erase(0);
    expect(again.read(100, 4)).toEqual(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    expect(() => again.read(HISTORY_SECTORS * HISTORY_SECTOR_SIZE - 2, 4)).toThrow(/outside/);
    expect(() => again.erase(32)).toThrow(/no sector 32/);
    again.close();
  });

  it('a file cut anywhere in the last record loses that record only', () => {
    const file = join(dir, 'cut.bin');
    const s = fileBlockStore(file);
    const h = new History(s);
    const t0 = Date.parse('2024-01-10T00:00:00+01:00');
    for (let t = t0 + 5_000; t < t0 + 5 * Q + 10_000; t += 20_000) h.feed(reading(t), t);
    s.close();
    const whole = readFileSync(file);
    // the quarter-hour ring starts at sector 0: the header, then 48-byte records
    const last = 48 * 6; // the 6th record: the boundary at t0 + 5 Q
    expect(whole[last]).not.toBe(0xff);
    expect(whole[last + 48]).toBe(0xff);
    const expected = [0, 1, 2, 3, 4].map((i) => [t0 + i * Q, 125]);
    for (let cut = last; cut <= last + 48; cut++) {
      writeFileSync(file, whole);
      truncateSync(file, cut);
      const st = fileBlockStore(file);
      const a = new History(st).query('15min', t0, t0 + 10 * Q);
      st.close();
      expect(a.points.map((p) => [p[0], p[1]])).toEqual(cut === last + 48 ? expected : expected.slice(0, 4));
    }
  });

  it('survives being killed with SIGKILL while it writes: everything it reported is there, nothing is wrong', async () => {
    const bundle = join(dir, 'writer.mjs');
    await build({ entryPoints: [join(__dirname, 'support/history-writer.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' });
    const file = join(dir, 'killed.bin');
    const reported = new Map<number, number>();
    const t0 = Date.parse('2024-01-10T00:00:00+01:00');
    for (let run = 0; run < 4; run++) {
      // each run starts where the last one stopped writing, a day later
      const start = t0 + run * 40 * 86_400_000 + 5_000;
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [bundle, file, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          // killed after a number of quarter hours that differs per run, mid-stream
          if (out.split('\n').length > 150 + run * 211 && !child.killed) child.kill('SIGKILL');
        });
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          if (signal !== 'SIGKILL') return reject(new Error(`writer ended with ${code}: ${err}`));
          for (const line of out.split('\n')) {
            const m = line.split(' ');
            if (m.length === 2 && m[1] !== '') reported.set(Number(m[0]), Number(m[1]));
          }
          resolve();
        });
      });
    }
    const s = fileBlockStore(file);
    const h = new History(s);
    const got = new Map<number, number>();
    for (let from = 0; ; ) {
      const a = h.query('15min', from, Infinity);
      for (const p of a.points) got.set(p[0], p[1]!);
      if (a.next === null) break;
      from = a.next;
    }
    s.close();
    expect(reported.size).toBeGreaterThan(500);
    // every interval reported before the kill is stored, and stored right; nothing stored is wrong
    const kept = [...reported].filter(([start]) => start >= Math.min(...got.keys()));
    for (const [start, v] of kept) expect(got.get(start)).toBe(v);
    for (const [start, v] of got) expect(v).toBe(wh(start + Q + 5_000) - wh(start + 5_000));
    expect(kept.length).toBeGreaterThan(0);
  }, 60_000);
});
