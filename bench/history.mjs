// node bench/history.mjs: what the consumption history costs the flash and the RAM.
//
// Flash (on Node, the same code as on the device): the real History over 32 sectors of 4 KB in
// RAM that counts what reaches it, fed a meter that pushes every 10 s for 60 days. Reported: bytes
// and write calls per day, sector erases per day and per sector, and how long the busiest sector
// takes to reach 100 000 erase cycles (the data sheet figure of ESP32 SPI NOR flash).
//
// RAM (on the real XS engine, xsnap-worker of @agoric/xsnap, as bench/xs-gateway.mjs measures
// the gateway): xsnap's live slots after a full gc (16 B each on the ESP32) and the live chunk
// bytes of a heap snapshot, before and after the History is opened and fed 3 days, and what one
// API query of a day of quarter hours allocates. The flash itself lives in RAM only here (it is
// measured first and left out: on the device it is the partition).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { buildXsScript } from '../test/xs/bundle.mjs';
import { XsWorker } from '../test/xs/driver.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const DAYS = 60;
const ENDURANCE = 100_000;
const ESP32_SLOT = 16;
const tmp = mkdtempSync(join(tmpdir(), 'meterbridge-history-bench-'));
const int = (n) => Math.round(n).toLocaleString('en-US');

try {
  // ---- flash wear, on Node ----
  const bundle = join(tmp, 'history-run.mjs');
  await build({ entryPoints: [join(root, 'bench/history-run.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' });
  const { History, START, countingFlash, feed } = await import(pathToFileURL(bundle).href);
  const flash = countingFlash();
  const h = new History(flash);
  feed(h, START + 5_000, DAYS * 86_400_000, 10_000);
  const erases = [...flash.erases];
  const total = erases.reduce((a, b) => a + b, 0);
  const quarterSectors = erases.slice(0, 23);
  const busiest = Math.max(...erases);
  const oldest = h.query('15min', 0, Infinity).points[0][0];
  const end = START + DAYS * 86_400_000;
  console.log(`history flash (32 sectors of 4 KB, a push every 10 s for ${DAYS} days, Node):`);
  console.table({
    'bytes written / day': int(flash.written / DAYS),
    'write calls / day': (flash.writes / DAYS).toFixed(1),
    'sector erases / day': (total / DAYS).toFixed(2),
    'erases per quarter-hour sector (min-max)': `${Math.min(...quarterSectors)}-${Math.max(...quarterSectors)} in ${DAYS} days`,
    'erases of the day and month sectors': erases.slice(23).join(' '),
    [`years until the busiest sector has ${int(ENDURANCE)} erases`]: int((ENDURANCE / (busiest / DAYS)) / 365),
    'quarter hours kept (days)': ((end - oldest) / 86_400_000).toFixed(1),
  });

  // ---- RAM, on XS ----
  const bin = execFileSync(process.execPath, [`${root}scripts/build-xsnap.mjs`], { encoding: 'utf8' }).trim().split('\n').pop();
  const script = await buildXsScript(join(root, 'bench/history-entry.ts'));
  const worker = XsWorker.start(bin, { meteringLimit: 0, name: 'meterbridge-xs-history' });
  try {
    await worker.evaluate(script);
    const cmd = async (c) => {
      const { text, meters } = await worker.command(JSON.stringify(c));
      const reply = JSON.parse(text);
      if (reply.exception) throw new Error(`XS: ${reply.exception}`);
      return { reply, meters };
    };
    let snaps = 0;
    /** live slots after gc, and the live chunk bytes XS writes into a snapshot (BLOC atom) */
    const measure = async () => {
      const slots = (await cmd({ op: 'gc' })).meters.currentHeapCount;
      const file = join(tmp, `s${snaps++}.xss`);
      await worker.request('w', Buffer.from(file, 'utf8'));
      const b = readFileSync(file);
      let chunk = null;
      for (let p = 8; p + 8 <= b.length; ) {
        const size = b.readUInt32BE(p);
        if (b.toString('latin1', p + 4, p + 8) === 'BLOC') chunk = size - 8;
        p += size;
      }
      return { slots, chunk };
    };
    await cmd({ op: 'flash' });
    const base = await measure();
    await cmd({ op: 'open' });
    const opened = await measure();
    await cmd({ op: 'feed', days: 3 });
    const fed = await measure();
    const before = (await cmd({ op: 'gc' })).meters.currentHeapCount;
    const q = await cmd({ op: 'query' });
    const querySlots = q.meters.currentHeapCount - before;
    await cmd({ op: 'drop' });
    await cmd({ op: 'open' }); // a restart: the state read back from the flash
    const reopened = await measure();
    const row = (m) => ({
      'live slots (Δ)': int(m.slots - base.slots),
      'ESP32 B (×16)': int((m.slots - base.slots) * ESP32_SLOT),
      'chunk B (Δ, host)': int(m.chunk - base.chunk),
    });
    console.log(`history RAM on XS (${execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim()}), over the flash buffer:`);
    console.table({
      'History opened (empty flash)': row(opened),
      'after 3 days of pushes': row(fed),
      'reopened on the filled flash': row(reopened),
    });
    console.log(
      `one query of a day of quarter hours (${q.reply.points} points, JSON ${int(q.reply.bytes)} B): ` +
      `${int(querySlots)} slots allocated (${int(querySlots * ESP32_SLOT)} B on the ESP32) plus ${q.reply.sectorReads} sector read(s) of 4 KB, one at a time`,
    );
  } finally {
    await worker.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
