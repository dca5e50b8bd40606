// hal/node/platform.ts: the host's storage, clock, logger and sources.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLogger, createSource, fileStorage, nodeClock } from '../hal/node/platform.js';
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
