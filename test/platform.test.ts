// hal/node/platform.ts: the host's storage, clock, logger and sources.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { consoleLogger, createSource, fileStorage, nodeClock, nodeHttpClient } from '../hal/node/platform.js';
import { makeCerts } from './support/certs.js';
import { defaultConfig } from '../firmware/config/defaults.js';

describe('host storage', () => {
  it('removes the temp files of saves a kill interrupted: on start and after every save (a factory reset too)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-store-'));
    try {
      // what older versions and a kill between write and rename leave: every secret inside
      for (const f of ['config.tmp-1234', 'config.tmp-99', 'config.tmp', 'derived.tmp']) writeFileSync(join(dir, f), '{"web":{"password":"x"}}');
      writeFileSync(join(dir, 'config'), '{}');
      writeFileSync(join(dir, 'notes.tmpl'), 'kept: not a temp file');
      const s = fileStorage(dir);
      expect(readdirSync(dir).sort()).toEqual(['config', 'notes.tmpl']);
      writeFileSync(join(dir, 'config.tmp-5'), 'left by another run');
      s.write('config', '{"reset":true}');
      expect(readdirSync(dir).sort()).toEqual(['config', 'notes.tmpl']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes atomically (no temp file left behind), readable only by the owner, and removes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-store-'));
    try {
      const s = fileStorage(join(dir, 'nested'));
      expect(s.read('config')).toBeNull();
      s.write('config', '{"a":1}');
      s.write('config', '{"a":2}');
      expect(s.read('config')).toBe('{"a":2}');
      expect(readdirSync(join(dir, 'nested'))).toEqual(['config']);
      expect(statSync(join(dir, 'nested', 'config')).mode & 0o077).toBe(0); // secrets inside
      s.write('../escape', 'x'); // a name cannot leave the folder
      expect(readdirSync(join(dir, 'nested')).sort()).toEqual(['.._escape', 'config']);
      s.remove('config');
      expect(s.read('config')).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('host logger and sources', () => {
  it('logs one line per event at or above its level', () => {
    const lines: string[] = [];
    const log = consoleLogger('warn', (l) => lines.push(l));
    log.log('info', 'not shown');
    log.log('error', 'shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z error shown$/);
  });

  it('builds the configured source', () => {
    const c = defaultConfig();
    expect(createSource(c.source, new Uint8Array(16), nodeClock).description).toMatch(/^built-in meter simulator/);
    expect(createSource({ ...c.source, type: 'serial', serial: { ...c.source.serial, path: '/dev/ttyUSB9' } }, null).description).toBe('serial port /dev/ttyUSB9 (2400 baud 8E1)');
    // a bare name is a file of the data directory's replay folder; a path is taken as it is
    expect(createSource({ ...c.source, type: 'replay', replay: { file: 'x.hex', intervalMs: 5000, loop: true } }, null, nodeClock, '/data').description).toBe(
      'replay of /data/replay/x.hex (a push every 5 s, looping)',
    );
    expect(createSource({ ...c.source, type: 'replay', replay: { file: '/home/me/x.hex', intervalMs: 5000, loop: false } }, null, nodeClock, '/data').description).toBe(
      'replay of /home/me/x.hex (a push every 5 s)',
    );
  });
});

describe('host HTTP client (HTTP push)', () => {
  const certs = makeCerts();

  it('answers with any status and says network errors in words', async () => {
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => res.writeHead(418, { 'Content-Type': 'text/plain' }).end(`${req.method} ${req.headers['x-a']} ${body}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await nodeHttpClient.request({ method: 'PUT', url: `http://127.0.0.1:${port}/p`, headers: { 'X-A': 'b' }, body: 'ä', timeoutMs: 2000 });
      expect(r).toEqual({ status: 418, body: 'PUT b ä' });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    // a port nobody listens on (never connected to, so no kept-alive socket is reused)
    const probe = createHttpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const closed = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(nodeHttpClient.request({ method: 'POST', url: `http://127.0.0.1:${closed}/gone`, headers: {}, body: '', timeoutMs: 2000 })).rejects.toThrow(
      `connection refused by http://127.0.0.1:${closed}: is the server running, and is this its port?`,
    );
  });

  it.skipIf(!certs)('HTTPS with a certificate of its own CA: refused in words, trusted with the CA or a pinned fingerprint', async () => {
    const c = certs!;
    const seen: string[] = [];
    const server = createHttpsServer({ cert: c.cert, key: c.key }, (req, res) => {
      seen.push(String(req.headers.authorization));
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
    const o = { method: 'POST', url, headers: { Authorization: 'Bearer secret' }, body: '{}', timeoutMs: 3000 };
    try {
      await expect(nodeHttpClient.request(o)).rejects.toThrow(
        `${new URL(url).origin} has a certificate that no trusted CA signed: enter the CA certificate, or its SHA-256 fingerprint (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
      );
      expect((await nodeHttpClient.request({ ...o, ca: c.ca })).status).toBe(204);
      const fp = new X509Certificate(c.cert).fingerprint256;
      expect((await nodeHttpClient.request({ ...o, fingerprint: fp })).status).toBe(204);
      const before = seen.length;
      await expect(nodeHttpClient.request({ ...o, fingerprint: 'AB:'.repeat(31) + 'AB' })).rejects.toThrow(`is not the pinned one: its SHA-256 fingerprint is ${fp}`);
      // the credentials never reached a server that is not the pinned one
      expect(seen.length).toBe(before);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
