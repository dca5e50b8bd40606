// The HTTP API over a real socket, with every bad input the issue names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import { sleep } from './support/mosquitto.js';

let g: RunningGateway;
let base: string;
let dir: string;
const KEY = '000102030405060708090A0B0C0D0E0F'; // the simulator's demo key (not a secret)
const SECRET = 'FEDCBA9876543210FEDCBA9876543210';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;
const body = async (r: Response | Promise<Response>): Promise<J> => (await r).json();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meterbridge-api-'));
  const v = validateConfig({ source: { type: 'simulator', simulator: { intervalMs: 100 } } });
  if (!v.ok) throw new Error('config');
  g = await startGateway({ config: v.config, dataDir: dir, httpPort: 0, host: '127.0.0.1', log: () => {} });
  base = `http://127.0.0.1:${g.port}`;
  for (let i = 0; i < 100 && !g.gateway.lastReading; i++) await sleep(20);
});
afterAll(async () => {
  await g.stop();
  rmSync(dir, { recursive: true, force: true });
});

const send = (path: string, method: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });

describe('reading and status', () => {
  it('GET /api/reading, /api/status, /api/history, /metrics, /status', async () => {
    expect((await body(fetch(base + '/api/reading'))).meter.number).toBe('1KFM0200204035');
    const s = await body(fetch(base + '/api/status'));
    expect(s.passwordSet).toBe(false);
    expect(s.verdict.level).toBe('ok');
    expect((await body(fetch(base + '/api/history'))).points.length).toBeGreaterThan(0);
    expect(await (await fetch(base + '/metrics')).text()).toContain('# TYPE');
    const page = await (await fetch(base + '/status')).text();
    expect(page).toContain('1KFM0200204035');
    expect(page).toContain('http-equiv="refresh"');
  });

  it('unknown paths 404, wrong methods 405 with Allow', async () => {
    expect((await fetch(base + '/api/nothing')).status).toBe(404);
    const r = await send('/api/reading', 'DELETE');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
  });
});

describe('configuration', () => {
  it('never sends secrets back, only whether they are set and a fingerprint', async () => {
    const r = await send('/api/config', 'PUT', { meter: { key: '0x' + SECRET.toLowerCase().replace(/(..)/g, '$1 ') }, mqtt: { password: 's3cret-pw' } });
    expect(r.status).toBe(200);
    const text = await (await fetch(base + '/api/config')).text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('s3cret-pw');
    const c = JSON.parse(text);
    expect(c.meter.key).toEqual({ set: true, fingerprint: expect.stringMatching(/^[0-9a-f]{4}$/i) });
    expect(c.mqtt.password.set).toBe(true);
    // stored, normalised, for the next start
    const stored = JSON.parse(readFileSync(join(dir, 'config'), 'utf8'));
    expect(stored.meter.key).toBe(SECRET);
  });

  it('400 with every bad field at once, nothing stored', async () => {
    const before = readFileSync(join(dir, 'config'), 'utf8');
    const r = await send('/api/config', 'PUT', { mqtt: { port: 70000, enabled: true, host: '' }, meter: { key: '12' }, outbox: { capacity: 0 } });
    expect(r.status).toBe(400);
    const b: J = await r.json();
    const fields = b.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['meter.key', 'mqtt.host', 'mqtt.port', 'outbox.capacity']));
    expect(readFileSync(join(dir, 'config'), 'utf8')).toBe(before);
  });

  it('a broken template is a field error with line and column', async () => {
    const r = await send('/api/config', 'PUT', { mqtt: { payloadTemplate: '{"a": {{values}' } });
    expect(r.status).toBe(400);
    const b: J = await r.json();
    expect(b.errors[0].field).toBe('mqtt.payloadTemplate');
    expect(b.errors[0].message).toMatch(/^line 1, column \d+: /);
  });

  it('malformed JSON 400, wrong content type 415, too large 413, cross-site 403', async () => {
    expect((await send('/api/config', 'PUT', '{"mqtt": ')).status).toBe(400);
    expect((await send('/api/config', 'PUT', '[1,2]')).status).toBe(400);
    expect((await send('/api/config', 'PUT', '{}', { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await send('/api/config', 'PUT', JSON.stringify({ x: 'a'.repeat(20_000) }))).status).toBe(413);
    expect((await send('/api/config', 'PUT', '{}', { Origin: 'http://evil.example' })).status).toBe(403);
    // and the gateway still answers
    expect((await fetch(base + '/api/status')).status).toBe(200);
  });

  it('previews templates from the last reading and explains broken ones', async () => {
    const ok = await body(send('/api/template/preview', 'POST', { template: '{{meter.number}} {{values.1-0:1.8.0.unit}}', escape: 'none' }));
    expect(ok).toEqual({ ok: true, output: '1KFM0200204035 Wh' });
    const bad = await body(send('/api/template/preview', 'POST', { template: 'x {{#a}} y', escape: 'none' }));
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatchObject({ line: 1 });
  });

  it('tests a key against the last captured push before anything is saved', async () => {
    // the simulator plays the user's meter: it now encrypts with the key saved above
    const good = await body(send('/api/test-key', 'POST', { key: SECRET }));
    expect(good).toMatchObject({ ok: true, meterNumber: '1KFM0200204035', sample: { obis: '1-0:1.8.0', unit: 'Wh' } });
    const bad = await body(send('/api/test-key', 'POST', { key: KEY }));
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain('wrong-key-or-corrupt');
    const malformed = await body(send('/api/test-key', 'POST', { key: '12 34' }));
    expect(malformed).toEqual({ ok: false, message: expect.stringContaining('32 hex digits') });
  });

  it('exports without secrets unless asked, and imports', async () => {
    const plain = await (await fetch(base + '/api/config/export')).text();
    expect(plain).not.toContain(SECRET);
    const withSecrets = await fetch(base + '/api/config/export?secrets=1');
    expect(withSecrets.headers.get('content-disposition')).toContain('attachment');
    const exported: J = await withSecrets.json();
    expect(exported.meter.key).toBe(SECRET);
    exported.mqtt.baseTopic = 'imported';
    const r = await send('/api/config/import', 'POST', exported);
    expect(r.status).toBe(200);
    expect((await body(fetch(base + '/api/config'))).mqtt.baseTopic).toBe('imported');
  });

  it('the diagnostic bundle has raw pushes and no secrets', async () => {
    const text = await (await fetch(base + '/api/diagnostics')).text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('s3cret-pw');
    const d = JSON.parse(text);
    expect(d.rawPushes.length).toBeGreaterThan(0);
    expect(d.rawPushes[0].frames[0]).toMatch(/^68FAFA68/);
  });
});

describe('password', () => {
  it('once set, every call needs it; login with delay after a wrong try; Basic works', async () => {
    const set = await send('/api/config', 'PUT', { web: { password: 'correct horse' } });
    expect(set.status).toBe(200);
    const cookie = set.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(base + '/api/status')).status).toBe(401);
    expect((await fetch(base + '/api/status', { headers: { cookie } })).status).toBe(200);
    expect((await body(fetch(base + '/api/session')))).toEqual({ passwordSet: true, authenticated: false });
    const wrong = await send('/api/login', 'POST', { password: 'nope' });
    expect(wrong.status).toBe(401);
    const t0 = Date.now();
    const right = await send('/api/login', 'POST', { password: 'correct horse' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // the wrong try made this one wait
    expect(right.status).toBe(200);
    const basic = 'Basic ' + Buffer.from('x:correct horse').toString('base64');
    expect((await fetch(base + '/api/reading', { headers: { authorization: basic } })).status).toBe(200);
    expect((await fetch(base + '/metrics')).status).toBe(401);
  });
});

describe('device', () => {
  const auth = { authorization: 'Basic ' + Buffer.from('x:correct horse').toString('base64') };

  it('imports a backup of the pre-release format (version 0), keeping the saved secrets', async () => {
    const r = await send('/api/config/import', 'POST', { version: 0, mqttHost: 'broker.lan', mqttPort: 1884, mqttUser: 'meter', topic: 'legacy/meter' }, auth);
    expect(r.status).toBe(200);
    const c = await body(fetch(base + '/api/config', { headers: auth }));
    expect(c.mqtt).toMatchObject({ enabled: true, host: 'broker.lan', port: 1884, username: 'meter', baseTopic: 'legacy/meter' });
    expect(c.mqtt.password.set).toBe(true); // the saved MQTT password stays
    expect(c.web.password.set).toBe(true); // not wiped by the old file
    expect(c.meter.key.set).toBe(true);
  });

  it('restarts the pipeline on request and keeps decoding', async () => {
    const before = g.gateway.status().pipeline.readings;
    const r = await send('/api/restart', 'POST', {}, auth);
    expect(r.status).toBe(202);
    await sleep(400);
    // a new decoder counts from zero after the restart, and readings arrive again
    for (let i = 0; i < 50 && g.gateway.status().pipeline.readings === 0; i++) await sleep(20);
    expect(g.gateway.status().pipeline.readings).toBeGreaterThan(0);
    expect(g.gateway.status().pipeline.readings).toBeLessThan(before + 10);
  });

  it('factory reset needs the typed confirmation, then returns every setting to its default', async () => {
    expect((await send('/api/factory-reset', 'POST', {}, auth)).status).toBe(400);
    const r = await send('/api/factory-reset', 'POST', { confirm: 'RESET' }, auth);
    expect(r.status).toBe(202);
    const session = await body(fetch(base + '/api/session'));
    expect(session).toEqual({ passwordSet: false, authenticated: true });
    const c = await body(fetch(base + '/api/config'));
    expect(c.meter.key.set).toBe(false);
    expect(c.mqtt.enabled).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'config'), 'utf8')).mqtt.baseTopic).toBe('meterbridge');
  });
});
