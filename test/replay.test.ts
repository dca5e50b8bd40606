// hal/node/replay.ts: only regular files of bounded size, only captures, and errors that never
// show a file's bytes; through the web API only files of the data directory's replay folder.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CAPTURE_BYTES, readCapture } from '../hal/node/replay.js';
import { startGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import { vector } from './helpers.js';
import { sleep } from './support/mosquitto.js';

const dir = mkdtempSync(join(tmpdir(), 'meterbridge-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PRIVATE = 'root:$6$Zq9private-hash-bytes$x:19000:0:99999:7:::\n';

describe('readCapture', () => {
  it('reads hex lines and raw frames', () => {
    const v = vector('at-tinetz-kaifa-docexample');
    const hexFile = join(dir, 'a.hex');
    writeFileSync(hexFile, `# comment\n${v.frames_hex.join(' ')}\n\n${v.frames_hex[0]}\n`);
    expect(readCapture(hexFile).map((p) => p.length)).toEqual([v.frames_hex.join('').length / 2, v.frames_hex[0].length / 2]);
    const bin = join(dir, 'a.bin');
    writeFileSync(bin, Buffer.from(v.frames_hex.join(''), 'hex'));
    expect(readCapture(bin)[0][0]).toBe(0x68);
  });

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => readCapture(fifo)).toThrow('is not a regular file');
    expect(() => readCapture('/dev/zero')).toThrow('is not a regular file');
  });

  it('refuses files larger than the limit without reading them', () => {
    const big = join(dir, 'big.hex');
    writeFileSync(big, '');
    truncateSync(big, MAX_CAPTURE_BYTES + 1); // sparse: no disk space, no memory
    expect(() => readCapture(big)).toThrow('is larger than 4 MB');
  });

  it('refuses files that are not captures, and never quotes them', () => {
    const secret = join(dir, 'shadow');
    writeFileSync(secret, PRIVATE);
    let message = '';
    try {
      readCapture(secret);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('is neither hex text nor a binary capture of M-Bus or HDLC frames');
    const text = join(dir, 'notes.txt');
    writeFileSync(text, '6801016853\nprivate words\n');
    expect(() => readCapture(text)).toThrow(/^line 2 is not hex \(at character 1\)$/);
  });
});

describe('replay through the web API', () => {
  it('plays files of the replay folder; other paths are refused; the status never shows file contents', async () => {
    const data = join(dir, 'data');
    mkdirSync(join(data, 'replay'), { recursive: true });
    const v = vector('at-tinetz-kaifa-docexample');
    writeFileSync(join(data, 'replay', 'tinetz.hex'), v.frames_hex.join(' ') + '\n');
    writeFileSync(join(data, 'replay', 'private.txt'), PRIVATE);
    const c = validateConfig({ meter: { key: v.key }, web: { password: 'web password' } });
    if (!c.ok) throw new Error('config');
    const g = await startGateway({ config: c.config, dataDir: data, httpPort: 0, log: () => {} });
    const auth = { authorization: 'Basic ' + Buffer.from('x:web password').toString('base64'), 'Content-Type': 'application/json' };
    const put = (source: unknown) => fetch(`http://127.0.0.1:${g.port}/api/config`, { method: 'PUT', headers: auth, body: JSON.stringify({ source }) });
    try {
      for (const file of ['/etc/passwd', '../config', join(dir, 'shadow')]) {
        const r = await put({ type: 'replay', replay: { file } });
        expect(r.status, file).toBe(400);
      }
      expect((await put({ type: 'replay', replay: { file: 'private.txt', intervalMs: 100 } })).status).toBe(200);
      const status = await (await fetch(`http://127.0.0.1:${g.port}/api/status`, { headers: auth })).text();
      expect(JSON.parse(status).sourceError).toContain('is neither hex text nor a binary capture');
      expect(status).not.toContain('private-hash');
      expect(status).not.toContain(Buffer.from('root').toString('hex').toUpperCase());
      expect((await put({ type: 'replay', replay: { file: 'tinetz.hex', intervalMs: 100 } })).status).toBe(200);
      for (let i = 0; i < 100 && !g.gateway.lastReading; i++) await sleep(20);
      expect(g.gateway.lastReading?.meter.number).toBe('1KFM0100000035');
    } finally {
      await g.stop();
    }
  });
});
