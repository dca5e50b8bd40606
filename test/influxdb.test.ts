// HTTP push with the InfluxDB line protocol preset into a real InfluxDB 1.x (Debian's influxdb
// package: influxd on loopback with its own temporary directories, no reporting, nothing but
// HTTP), fed by a meter that alternates lists; then InfluxDB's own /query must return every
// value with its field name and one meter tag.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { presetById } from '../firmware/template/presets.js';
import { freePort, sleep } from './support/mosquitto.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { requireTool } from './support/tools.js';
import { kfm001Push } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startInflux(): Promise<ServerProcess> {
  requireTool('influxd');
  const dir = mkdtempSync(join(tmpdir(), 'meterbridge-influx-'));
  dirs.push(dir);
  const port = await freePort();
  let rpc = await freePort();
  while (rpc === port) rpc = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  return startServerProcess({
    name: 'influxd',
    command: 'influxd',
    args: ['run', '-config', conf],
    env: { ...process.env, HOME: dir },
    port,
    readyPath: '/ping',
    readyStatus: 204,
    timeoutMs: 20_000,
    pollMs: 50,
  });
}

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

async function query(influx: ServerProcess, q: string): Promise<Series[]> {
  const res = await fetch(`${influx.url}/query?db=meter&epoch=ns&q=${encodeURIComponent(q)}`, { method: 'POST' });
  const body = (await res.json()) as { results: { series?: Series[]; error?: string }[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  if (body.results[0].error) throw new Error(body.results[0].error);
  return body.results[0].series ?? [];
}

function config(input: Record<string, unknown>): Config {
  const v = validateConfig(input, undefined, { trusted: true });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

describe('InfluxDB 1.x receives the line protocol preset', () => {
  let influx: ServerProcess;
  beforeAll(async () => {
    influx = await startInflux();
    await query(influx, 'CREATE DATABASE meter');
  }, 30_000);
  afterAll(async () => {
    await influx?.stop();
  });

  it('writes every push of a meter alternating lists under one meter tag, each value a field', async () => {
    // the 2-second list 1 without the meter number, the 10-second list 2 with it, the hourly list 3
    const lists = [1, 1, 2, 1, 1, 2, 1, 1, 3, 1] as const;
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-influx-gw-'));
    dirs.push(dir);
    const capture = join(dir, 'kfm001.hex');
    writeFileSync(capture, lists.map((l, i) => Buffer.from(kfm001Push(l, i)).toString('hex')).join('\n') + '\n');
    const preset = presetById('influxdb')!;
    const g = await startGateway({
      config: config({
        source: { type: 'replay', replay: { file: capture, intervalMs: 100, loop: false } },
        meter: { framing: 'hdlc' },
        httpPush: {
          enabled: true, url: `${influx.url}/write?db=meter&precision=ns`, preset: 'influxdb',
          bodyTemplate: preset.payloadTemplate, bodyFormat: 'text', headers: { 'Content-Type': preset.contentType },
        },
      }),
      dataDir: dir,
      httpPort: 0,
      host: '127.0.0.1',
      log: () => {},
    });
    try {
      for (let i = 0; i < 600 && g.gateway.status().pipeline.readings < lists.length; i++) await sleep(25);
      expect(g.gateway.status().pipeline.readings).toBe(lists.length);
      for (let i = 0; i < 600 && g.gateway.status().publishers.find((p) => p.name === 'http-push')!.delivered < lists.length; i++) await sleep(25);
      const push = g.gateway.status().publishers.find((p) => p.name === 'http-push')!;
      expect(push).toMatchObject({ delivered: lists.length, rejected: 0, failures: 0 });
    } finally {
      await g.stop();
    }
    // the meter tag never flips between the lists; only the two pushes before the gateway first
    // saw the meter number (a name it keeps from then on, across restarts too) have none
    const tags = await query(influx, 'SHOW TAG VALUES FROM electricity WITH KEY = "meter"');
    expect(tags[0].values).toEqual([['meter', '6970631403757615']]);
    const count = await query(influx, 'SELECT COUNT(power_import_w) FROM electricity GROUP BY *');
    expect(count.map((s) => [s.tags, s.values[0][1]])).toEqual([
      [{ meter: '' }, 2],
      [{ meter: '6970631403757615' }, lists.length - 2],
    ]);
    // the values, as fields of the right type and scale, where the list carries them
    const rows = await query(influx, 'SELECT power_import_w, voltage_l1_v, current_l1_a, energy_import_wh, reactive_import_varh FROM electricity ORDER BY time');
    const cols = rows[0].columns;
    const at = (i: number, c: string) => rows[0].values[i][cols.indexOf(c)];
    expect(rows[0].values).toHaveLength(lists.length);
    lists.forEach((l, i) => {
      expect(at(i, 'power_import_w'), `push ${i}`).toBe(l === 1 ? 3423 : 3426);
      expect(at(i, 'voltage_l1_v'), `push ${i}`).toBe(l === 1 ? null : 232.5);
      expect(at(i, 'current_l1_a'), `push ${i}`).toBe(l === 1 ? null : 10.522);
      expect(at(i, 'energy_import_wh'), `push ${i}`).toBe(l === 3 ? 82840532 : null);
      expect(at(i, 'reactive_import_varh'), `push ${i}`).toBe(l === 3 ? 35883243 : null);
    });
    const keys = await query(influx, 'SHOW FIELD KEYS FROM electricity');
    for (const [, type] of keys[0].values) expect(type).toBe('float');
  }, 30_000);
});
