/**
 * A child process for the kill test (block-store.test.ts): the real History on the real file
 * store, fed a 500 W meter as fast as it can go from a start time (argv), printing each quarter
 * hour once it is completed (durable: the store syncs before feed returns). The test kills it
 * with SIGKILL at some moment and checks the file.
 */
import { History, isoLocal } from '../../firmware/history/history.js';
import { fileBlockStore } from '../../hal/node/block-store.js';
import type { Reading } from '../../firmware/reading.js';

const [file, startText] = process.argv.slice(2);
const start = Number(startText);
const h = new History(fileBlockStore(file));
const wh = (t: number) => Math.floor((t / 3_600_000) * 500);
for (let t = start; ; t += 20_000) {
  const r: Reading = {
    meter: { systemTitle: null, number: 'X', logicalDeviceName: null },
    timestamp: isoLocal(t, 60),
    frameCounter: null,
    security: { control: null, encrypted: false, authenticated: false, tag: 'none' },
    format: 'dlms',
    values: { '1-0:1.8.0': { value: wh(t), unit: 'Wh' }, '1-0:2.8.0': { value: 0, unit: 'Wh' } },
  };
  const done = h.feed(r, t);
  if (done) process.stdout.write(`${done.start} ${done.importWh}\n`);
}
