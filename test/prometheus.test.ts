// GET /metrics against Prometheus's own linter (`promtool check metrics`, Debian's prometheus
// package) on the live endpoint of a real gateway, and the freshness rules with a fake clock.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { labelValue } from '../firmware/publish/prometheus.js';
import { fakeGateway } from './support/fakes.js';
import { sleep } from './support/mosquitto.js';

const PROMTOOL = ['/usr/bin/promtool', 'promtool'].find((p) => spawnSync(p, ['--version']).status === 0);

/** promtool's verdict: '' when the text passes every lint, else what it says. */
function promtool(text: string): string {
  const r = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return r.status === 0 ? '' : (r.stdout + r.stderr).trim() || `exit ${r.status}`;
}

function config(input: Record<string, unknown>, base?: Config): Config {
  const v = validateConfig(input, base);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!PROMTOOL)('promtool check metrics on the live /metrics', () => {
  it('passes before the first reading (200, meter down) and with readings, publishers included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-prom-'));
    dirs.push(dir);
    const g = await startGateway({
      config: config({
        source: { type: 'simulator', simulator: { intervalMs: 100 } },
        // nothing listens there: the publishers' metrics show failures and a queue
        mqtt: { enabled: true, host: '127.0.0.1', port: 9, homeAssistant: { enabled: false } },
        httpPush: { enabled: true, url: 'http://127.0.0.1:9/x' },
        web: { password: 'web password' },
      }),
      dataDir: dir,
      httpPort: 0,
      host: '127.0.0.1',
      log: () => {},
    });
    try {
      const url = `http://127.0.0.1:${g.port}/metrics`;
      // Prometheus scrapes with basic_auth (any user name, the web password)
      const auth = { authorization: 'Basic ' + Buffer.from('prometheus:web password').toString('base64') };
      const first = await fetch(url, { headers: auth });
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const before = await first.text();
      if (!g.gateway.lastReading) {
        expect(before).toMatch(/^meterbridge_meter_up 0$/m);
        expect(before).not.toMatch(/^meterbridge_voltage_volts/m);
      }
      expect(promtool(before)).toBe('');
      for (let i = 0; i < 100 && g.gateway.status().pipeline.readings < 3; i++) await sleep(50);
      const res = await fetch(url, { headers: auth });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(promtool(text)).toBe('');
      expect(text).toMatch(/^meterbridge_meter_up 1$/m);
      expect(text).toMatch(/^# TYPE meterbridge_active_energy_import_joules_total counter$/m);
      expect(text).toMatch(/^meterbridge_voltage_volts\{meter="1KFM0200204035",phase="L1"\} \d+(\.\d+)?$/m);
      expect(text).toMatch(/^meterbridge_voltage_volts\{meter="1KFM0200204035",phase="L3"\} /m);
      expect(text).toMatch(/^meterbridge_publisher_queue_length\{publisher="http-push"\} \d+$/m);
      expect(text).toMatch(/^meterbridge_publisher_up\{publisher="mqtt"\} 0$/m);
      expect(text).toMatch(/^meterbridge_readings_total \d+$/m);
      // one HELP and TYPE per metric, whatever the number of phases
      expect(text.match(/^# TYPE meterbridge_voltage_volts /gm)).toHaveLength(1);
    } finally {
      await g.stop();
    }
  }, 20000);
});

describe('freshness and labels', () => {
  it('serves the meter metrics only while the last reading is fresh', async () => {
    const { g, w, push } = fakeGateway(config({}));
    expect(g.renderMetrics()).toMatch(/^meterbridge_meter_up 0$/m);
    push();
    const fresh = g.renderMetrics();
    expect(fresh).toMatch(/^meterbridge_meter_up 1$/m);
    expect(fresh).toMatch(/^meterbridge_active_power_import_watts\{meter="1KFM0200204035"\} /m);
    expect(fresh).toMatch(/^meterbridge_last_reading_timestamp_seconds \d{10}$/m);
    await w.clock.advance(59_000);
    expect(g.renderMetrics()).toMatch(/^meterbridge_meter_up 1$/m);
    await w.clock.advance(1_000);
    const stale = g.renderMetrics();
    expect(stale).toMatch(/^meterbridge_meter_up 0$/m);
    expect(stale).not.toMatch(/meter="/);
    if (PROMTOOL) expect(promtool(stale)).toBe('');
    await g.stop();
  });

  it('escapes label values', () => {
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});
