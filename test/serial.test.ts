// The serial source on a real pseudo-terminal pair made by socat: the serialport package opens
// one end at 2400 baud 8E1 as it would a USB M-Bus adapter; the test writes real meter frames
// into the other end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialSource } from '../hal/node/serial.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { concat, vector, wire } from './helpers.js';
import { requireTool } from './support/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'meterbridge-serial-'));
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function ptyPair(name: string): Promise<{ device: string; meter: string; stop(): void }> {
  const device = join(dir, `${name}-device`);
  const meter = join(dir, `${name}-meter`);
  const p = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${meter}`], { stdio: 'ignore' });
  procs.push(p);
  for (let i = 0; i < 100 && !(existsSync(device) && existsSync(meter)); i++) await new Promise((r) => setTimeout(r, 20));
  return { device, meter, stop: () => p.kill('SIGTERM') };
}

describe('serial port source', () => {
  beforeAll(() => requireTool('socat'));
  it('reads a real push through a serial port opened at 2400 baud 8E1', async () => {
    const pty = await ptyPair('a');
    const source = new SerialSource({ path: pty.device, baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 });
    expect(source.description).toBe(`serial port ${pty.device} (2400 baud 8E1)`);
    const chunks: Uint8Array[] = [];
    const problems: string[] = [];
    source.start((b) => chunks.push(b.slice()), (m) => problems.push(m));
    await new Promise((r) => setTimeout(r, 300));
    const v = vector('at-tinetz-kaifa-docexample');
    const fd = openSync(pty.meter, 'w');
    writeSync(fd, wire(v));
    closeSync(fd);
    for (let i = 0; i < 100 && chunks.reduce((n, c) => n + c.length, 0) < wire(v).length; i++) await new Promise((r) => setTimeout(r, 20));
    source.stop();
    pty.stop();
    expect(problems).toEqual([]);
    const bytes = concat(...chunks);
    expect(bytes.length).toBe(wire(v).length);
    const { readings } = decode(bytes, { encryption: encryptionKey(v.key!) }, nodeCrypto);
    expect(readings[0].meter.number).toBe('1KFM0100000035');
  });

  it('a missing port is reported in words and retried, never thrown', async () => {
    const source = new SerialSource({ path: join(dir, 'no-such-port'), baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 });
    const problems: string[] = [];
    source.start(() => {}, (m) => problems.push(m));
    for (let i = 0; i < 100 && problems.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    source.stop();
    expect(problems[0]).toMatch(/^cannot open .*no-such-port: .*; trying again in 5 s$/);
  });
});
