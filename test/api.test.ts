// The HTTP API over a real socket, with every bad input the issue names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { generate, parser as mqttParser } from 'mqtt-packet';
import { nodeClock } from '../hal/node/platform.js';
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

const PASSWORD = 'correct horse';
const AUTH = { authorization: 'Basic ' + Buffer.from('x:' + PASSWORD).toString('base64') };
/** with the password once it is set (the first-run tests pass their own headers) */
let auth: Record<string, string> = {};
const send = (path: string, method: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...auth, ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers: { ...auth, ...headers } });

/** A request with headers fetch() would not send as given (Host), from a chosen loopback address. */
function raw(path: string, o: { method?: string; headers?: Record<string, string>; body?: string; from?: string; port?: number } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port: o.port ?? g.port, path, method: o.method ?? 'GET', headers: o.headers, localAddress: o.from, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', fail);
    req.end(o.body);
  });
}

describe('first run: nothing open before a password', () => {
  it('serves the UI, the session, status, reading and /status; everything else is 403', async () => {
    expect((await fetch(base + '/')).status).toBe(200);
    expect(await body(fetch(base + '/api/session'))).toEqual({ passwordSet: false, authenticated: false, minPasswordLength: 8 });
    expect((await body(fetch(base + '/api/status'))).passwordSet).toBe(false);
    expect((await body(fetch(base + '/api/reading'))).meter.number).toBe('1KFM0200204035');
    expect((await fetch(base + '/status')).status).toBe(200);
    const refused: [string, string, unknown?][] = [
      ['/api/config', 'GET'],
      ['/api/config/export?secrets=1', 'GET'],
      ['/api/config/export', 'GET'],
      ['/api/diagnostics', 'GET'],
      ['/api/history', 'GET'],
      ['/metrics', 'GET'],
      ['/api/presets', 'GET'],
      ['/api/login', 'POST', { password: 'anything' }],
      ['/api/config/import', 'POST', { mqtt: { host: 'evil.example' } }],
      ['/api/test-key', 'POST', { key: KEY }],
      ['/api/template/preview', 'POST', { template: 'x' }],
      ['/api/restart', 'POST', {}],
      ['/api/factory-reset', 'POST', { confirm: 'RESET' }],
      // the first PUT may set the web password and nothing else
      ['/api/config', 'PUT', { mqtt: { host: 'evil.example' } }],
      ['/api/config', 'PUT', { web: { password: 'attacker-pw' }, mqtt: { host: 'evil.example' } }],
      ['/api/config', 'PUT', { web: { password: 'attacker-pw', allowedHosts: ['evil.example'] } }],
    ];
    for (const [path, method, b] of refused) {
      const r = await send(path, method, b);
      expect([path, method, r.status]).toEqual([path, method, 403]);
      expect(((await r.json()) as J).error).toBe('set a web password first');
    }
    expect(g.gateway.currentConfig.mqtt.host).toBe('');
  });

  it('a page on another name (DNS rebinding) can neither read nor set the first password', async () => {
    const attacker = `attacker.example:${g.port}`;
    const put = await raw('/api/config', {
      method: 'PUT',
      headers: { Host: attacker, Origin: `http://${attacker}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ web: { password: 'attacker-pw' } }),
    });
    expect(put.status).toBe(421);
    expect(JSON.parse(put.text).error).toBe('unknown host name');
    for (const path of ['/', '/api/status', '/api/reading', '/status']) expect((await raw(path, { headers: { Host: attacker } })).status).toBe(421);
    // a page of another address on the LAN (its own origin) cannot either
    const other = await raw('/api/config', {
      method: 'PUT',
      headers: { Host: `127.0.0.1:${g.port}`, Origin: 'http://192.168.1.66', 'Content-Type': 'application/json' },
      body: JSON.stringify({ web: { password: 'attacker-pw' } }),
    });
    expect(other.status).toBe(403);
    expect(g.gateway.currentConfig.web.password).toBe('');
  });

  it('the first password has at least 8 characters; whoever sets it is logged in; the next one needs it', async () => {
    const short = await send('/api/config', 'PUT', { web: { password: 'abc' } });
    expect(short.status).toBe(400);
    expect(((await short.json()) as J).errors).toEqual([{ field: 'web.password', message: 'is too short: at least 8 characters; this one has 3' }]);
    const set = await send('/api/config', 'PUT', { web: { password: PASSWORD } }, { Origin: `http://127.0.0.1:${g.port}` });
    expect(set.status).toBe(200);
    const cookie = set.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^mb_session=[0-9A-F]{32}; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Strict$/);
    expect((await fetch(base + '/api/status', { headers: { cookie: cookie.split(';')[0] } })).status).toBe(200);
    const again = await send('/api/config', 'PUT', { web: { password: 'attacker-pw' } });
    expect(again.status).toBe(401);
    expect((await fetch(base + '/api/status')).status).toBe(401);
    auth = AUTH;
  });
});

describe('reading and status', () => {
  it('GET /api/reading, /api/status, /api/history, /metrics, /status', async () => {
    expect((await body(get('/api/reading'))).meter.number).toBe('1KFM0200204035');
    const s = await body(get('/api/status'));
    expect(s.passwordSet).toBe(true);
    expect(s.verdict.level).toBe('ok');
    expect((await body(get('/api/history'))).points.length).toBeGreaterThan(0);
    expect(await (await get('/metrics')).text()).toContain('# TYPE');
    const page = await (await get('/status')).text();
    expect(page).toContain('1KFM0200204035');
    expect(page).toContain('http-equiv="refresh"');
    // quantities by name, not by OBIS code, and nothing breaks inside a value on a phone
    expect(page).toMatch(/<td>Voltage L1<\/td><td class="v">2\d\d(\.\d)? V<\/td>/);
    expect(page).not.toContain('1-0:32.7.0');
    expect(page).toContain('white-space:nowrap');
  });

  it('unknown paths 404, wrong methods 405 with Allow', async () => {
    expect((await get('/api/nothing')).status).toBe(404);
    const r = await send('/api/reading', 'DELETE');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
  });
});

describe('configuration', () => {
  it('the demo meter says so, keeps its key and its counters when a key is saved', async () => {
    const status = await body(get('/api/status'));
    expect(status.demo).toEqual({ key: KEY });
    const energy = () => g.gateway.lastReading!.values['1-0:1.8.0'].value as number;
    const frame = () => g.gateway.lastReading!.frameCounter!;
    const before = { energy: energy(), frame: frame() };
    expect((await send('/api/config', 'PUT', { meter: { key: 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF' } })).status).toBe(200);
    const readings = g.gateway.status().pipeline.readings;
    for (let i = 0; i < 100 && g.gateway.status().pipeline.readings < readings + 3; i++) await sleep(20);
    // still decoded (with the demo key, not the saved one), and the registers went on from where they were
    expect(g.gateway.status().pipeline.readings).toBeGreaterThanOrEqual(readings + 3);
    expect(g.gateway.status().verdict.level).toBe('ok');
    expect(energy()).toBeGreaterThanOrEqual(before.energy);
    expect(frame()).toBeGreaterThan(before.frame);
    expect((await body(get('/api/status'))).demo).toEqual({ key: KEY });
  });

  it('never sends secrets back, only whether they are set, and a fingerprint for keys', async () => {
    const r = await send('/api/config', 'PUT', { meter: { key: '0x' + SECRET.toLowerCase().replace(/(..)/g, '$1 ') }, mqtt: { password: 's3cret-pw' } });
    expect(r.status).toBe(200);
    const text = await (await get('/api/config')).text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('s3cret-pw');
    const c = JSON.parse(text);
    expect(c.meter.key).toEqual({ set: true, fingerprint: expect.stringMatching(/^[0-9a-f]{4}$/i) });
    expect(c.mqtt.password).toEqual({ set: true, fingerprint: null });
    expect(c.web.password).toEqual({ set: true, fingerprint: null });
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
    expect((await send('/api/config', 'PUT', '{}', { Origin: 'null' })).status).toBe(403);
    expect((await send('/api/config', 'PUT', '{}', { Origin: `http://127.0.0.1:${g.port}` })).status).toBe(200);
    // a bad % escape is the client's mistake
    expect((await get('/api/config/export?secrets=%zz')).status).toBe(400);
    expect((await get('/api/status?x=%E0%A4')).status).toBe(400);
    // and the gateway still answers
    expect((await get('/api/status')).status).toBe(200);
  });

  it('previews templates from the last reading and explains broken ones', async () => {
    const ok = await body(send('/api/template/preview', 'POST', { template: '{{meter.number}} {{values.1-0:1.8.0.unit}}', escape: 'none' }));
    expect(ok).toEqual({ ok: true, output: '1KFM0200204035 Wh' });
    const bad = await body(send('/api/template/preview', 'POST', { template: 'x {{#a}} y', escape: 'none' }));
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatchObject({ line: 1 });
  });

  it('previews every message of the per-value and per-quantity modes, one per line', async () => {
    const reading = (await body(get('/api/reading'))) as { values: Record<string, unknown> };
    const values = await body(send('/api/template/preview', 'POST', { template: 'mb/{{obis}}', escape: 'none', mode: 'values' }));
    expect((values.output as string).split('\n')).toEqual(Object.keys(reading.values).map((k) => 'mb/' + k));
    const fields = await body(send('/api/template/preview', 'POST', { template: '{{key}}={{value}}', escape: 'none', mode: 'fields' }));
    const lines = (fields.output as string).split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines[0]).toMatch(/^energy_import_wh=\d+$/);
  });

  it('tests a key against the last captured push before anything is saved', async () => {
    // the demo meter keeps its published demo key whatever key was saved above
    const good = await body(send('/api/test-key', 'POST', { key: KEY }));
    expect(good).toMatchObject({ ok: true, meterNumber: '1KFM0200204035', sample: { obis: '1-0:1.8.0', unit: 'Wh' } });
    const bad = await body(send('/api/test-key', 'POST', { key: SECRET }));
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain('wrong-key-or-corrupt');
    const malformed = await body(send('/api/test-key', 'POST', { key: '12 34' }));
    expect(malformed).toEqual({ ok: false, message: expect.stringContaining('32 hex digits') });
  });

  it('exports without secrets unless asked, and imports', async () => {
    const plain = await (await get('/api/config/export')).text();
    expect(plain).not.toContain(SECRET);
    const withSecrets = await get('/api/config/export?secrets=1');
    expect(withSecrets.headers.get('content-disposition')).toContain('attachment');
    const exported: J = await withSecrets.json();
    expect(exported.meter.key).toBe(SECRET);
    exported.mqtt.baseTopic = 'imported';
    const r = await send('/api/config/import', 'POST', exported);
    expect(r.status).toBe(200);
    expect((await body(get('/api/config'))).mqtt.baseTopic).toBe('imported');
  });

  it('the diagnostic bundle has raw pushes and no secrets', async () => {
    const text = await (await get('/api/diagnostics')).text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('s3cret-pw');
    const d = JSON.parse(text);
    expect(d.rawPushes.length).toBeGreaterThan(0);
    expect(d.rawPushes[0].frames[0]).toMatch(/^68FAFA68/);
  });
});

describe('password', () => {
  it('every call needs it; a wrong login is answered at once; Basic works; it cannot be removed', async () => {
    const noAuth = { authorization: '' };
    expect((await get('/api/status', noAuth)).status).toBe(401);
    expect(await body(get('/api/session', noAuth))).toEqual({ passwordSet: true, authenticated: false, minPasswordLength: 8 });
    const wrong = await send('/api/login', 'POST', { password: 'nope' }, noAuth);
    expect(wrong.status).toBe(401);
    const right = await send('/api/login', 'POST', { password: PASSWORD }, noAuth);
    expect(right.status).toBe(200);
    const cookie = right.headers.get('set-cookie')!.split(';')[0];
    expect(await body(get('/api/session', { ...noAuth, cookie }))).toMatchObject({ authenticated: true });
    expect((await get('/api/reading')).status).toBe(200);
    const m = await get('/metrics', noAuth);
    expect(m.status).toBe(401);
    expect(m.headers.get('www-authenticate')).toContain('Basic');
    const removed = await send('/api/config', 'PUT', { web: { password: '' } });
    expect(removed.status).toBe(400);
    expect(g.gateway.currentConfig.web.password).toBe(PASSWORD);
  });

  it('at most 16 sessions: when all are in use a login is refused, and no session in use is ended', async () => {
    const noAuth = { authorization: '' };
    const cookies: string[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 20 && !refused; i++) {
      const r = await send('/api/login', 'POST', { password: PASSWORD }, noAuth);
      if (r.status === 200) cookies.push(r.headers.get('set-cookie')!.split(';')[0]);
      else refused = r;
    }
    expect(cookies.length).toBeGreaterThan(10); // the earlier tests hold the other places
    expect(cookies.length).toBeLessThanOrEqual(16);
    expect(refused?.status).toBe(503);
    expect(((await refused!.json()) as J).error).toBe('too many sessions');
    for (const cookie of cookies) expect(await body(get('/api/session', { ...noAuth, cookie }))).toMatchObject({ authenticated: true });
    for (const cookie of cookies) await send('/api/logout', 'POST', {}, { ...noAuth, cookie });
    expect((await send('/api/login', 'POST', { password: PASSWORD }, noAuth)).status).toBe(200);
  });
});

describe('host names', () => {
  it('answers to IP addresses, localhost, its own names and the added ones; 421 for others', async () => {
    const host = (h: string) => raw('/api/status', { headers: { Host: h, ...AUTH } });
    expect((await host(`127.0.0.1:${g.port}`)).status).toBe(200);
    expect((await host(`localhost:${g.port}`)).status).toBe(200);
    expect((await host(`meterbridge.local:${g.port}`)).status).toBe(200);
    expect((await host(`meter.example.net:${g.port}`)).status).toBe(421);
    expect((await send('/api/config', 'PUT', { web: { allowedHosts: ['meter.example.net'] } })).status).toBe(200);
    expect((await host(`meter.example.net:${g.port}`)).status).toBe(200);
    expect((await host('evil.example')).status).toBe(421);
    // the password does not open another name either
    expect((await raw('/api/config/export?secrets=1', { headers: { Host: 'evil.example', ...AUTH } })).status).toBe(421);
  });
});

describe('device', () => {
  it('imports a backup of the pre-release format (version 0), keeping the saved secrets', async () => {
    const r = await send('/api/config/import', 'POST', { version: 0, mqttHost: 'broker.lan', mqttPort: 1884, mqttUser: 'meter', topic: 'legacy/meter' });
    expect(r.status).toBe(200);
    const c = await body(get('/api/config'));
    expect(c.mqtt).toMatchObject({ enabled: true, host: 'broker.lan', port: 1884, username: 'meter', baseTopic: 'legacy/meter' });
    expect(c.mqtt.password.set).toBe(true); // the saved MQTT password stays
    expect(c.web.password.set).toBe(true); // not wiped by the old file
    expect(c.meter.key.set).toBe(true);
  });

  it('restarts the pipeline on request and keeps decoding', async () => {
    const before = g.gateway.status().pipeline.readings;
    const r = await send('/api/restart', 'POST', {});
    expect(r.status).toBe(202);
    await sleep(400);
    // a new decoder counts from zero after the restart, and readings arrive again
    for (let i = 0; i < 50 && g.gateway.status().pipeline.readings === 0; i++) await sleep(20);
    expect(g.gateway.status().pipeline.readings).toBeGreaterThan(0);
    expect(g.gateway.status().pipeline.readings).toBeLessThan(before + 10);
  });

  it('factory reset needs the typed confirmation, then returns every setting to its default', async () => {
    expect((await send('/api/factory-reset', 'POST', {})).status).toBe(400);
    const r = await send('/api/factory-reset', 'POST', { confirm: 'RESET' });
    expect(r.status).toBe(202);
    const session = await body(fetch(base + '/api/session'));
    expect(session).toEqual({ passwordSet: false, authenticated: false, minPasswordLength: 8 });
    // back to the first run: the settings are closed until a new password is set
    expect((await get('/api/config')).status).toBe(403);
    const c = g.gateway.currentConfig;
    expect(c.meter.key).toBe('');
    expect(c.mqtt.enabled).toBe(false);
    const stored = JSON.parse(readFileSync(join(dir, 'config'), 'utf8'));
    expect([stored.mqtt.baseTopic, stored.web.password]).toEqual(['meterbridge', '']);
  });
});

describe('guessing over real HTTP: 32 parallel connections from 32 addresses', () => {
  it('at most 60 wrong guesses are checked per minute; refusals come at once; the owner gets in 30 s after the attack', async () => {
    const d = mkdtempSync(join(tmpdir(), 'meterbridge-guess-'));
    // the limiter's clock moves one second per round and only then: minutes of attack in a bounded loop
    let shift = 0;
    const t0 = performance.now();
    const clock = { ...nodeClock, monotonic: () => t0 + shift };
    const v = validateConfig({ web: { password: PASSWORD } });
    if (!v.ok) throw new Error('config');
    const gw = await startGateway({ config: v.config, dataDir: d, httpPort: 0, log: () => {}, clock });
    try {
      const guess = (c: number, n: number) => {
        const from = `127.0.0.${10 + c}`;
        // both ways of giving a password count against the same limits
        return n % 2 === 0
          ? raw('/api/status', { port: gw.port, from, headers: { authorization: 'Basic ' + Buffer.from(`x:guess-${c}-${n}`).toString('base64') } })
          : raw('/api/login', { port: gw.port, from, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: `guess-${c}-${n}` }) });
      };
      const checkedAt: number[] = [];
      let refused = 0;
      const ROUNDS = 150; // 2.5 minutes on the limiter's clock, 4 800 requests
      for (let round = 0; round < ROUNDS; round++) {
        const answers = await Promise.all(Array.from({ length: 32 }, (_, c) => guess(c, round)));
        for (const a of answers) {
          if (a.status === 401) checkedAt.push(round);
          else {
            expect(a.status).toBe(429);
            expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
            refused++;
          }
        }
        shift += 1000;
      }
      let worst = 0;
      for (let i = 0, j = 0; i < checkedAt.length; i++) {
        while (checkedAt[i] - checkedAt[j] >= 60) j++;
        worst = Math.max(worst, i - j + 1);
      }
      console.log(`guessing: ${checkedAt.length} of ${ROUNDS * 32} guesses checked in ${ROUNDS} s of limiter time, at most ${worst} in any 60 s; ${refused} refused with 429`);
      expect(worst).toBeLessThanOrEqual(60);
      expect(checkedAt.length).toBeLessThanOrEqual(20 + ROUNDS / 1.5);
      // the owner, 30 s after the attack, from one of the attacking addresses
      shift += 30_000;
      const owner = await raw('/api/login', { port: gw.port, from: '127.0.0.10', method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
      expect(owner.status).toBe(200);
    } finally {
      await gw.stop();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('secrets stay with their destination', () => {
  /** A capturing broker: a loopback TCP server that reads each MQTT CONNECT with mqtt-packet. */
  async function capturingBroker(host: string) {
    const connects: { username?: string; password?: string }[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      const p = mqttParser({ protocolVersion: 4 });
      p.on('packet', (packet) => {
        // as a broker does: the connection ends with the client's DISCONNECT
        if (packet.cmd === 'disconnect') s.end();
        if (packet.cmd === 'publish' && packet.qos === 1) s.write(generate({ cmd: 'puback', messageId: packet.messageId }));
        if (packet.cmd !== 'connect') return;
        connects.push({ username: packet.username, password: packet.password?.toString() });
        s.write(generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
      });
      s.on('data', (b) => p.parse(b));
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((done) => server.listen(0, host, done));
    const port = (server.address() as AddressInfo).port;
    return {
      host,
      port,
      connects,
      close: () =>
        new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
    };
  }

  it('a new MQTT broker never receives the old password; a new push server never the old Authorization', async () => {
    const old = await capturingBroker('127.0.0.1');
    const evil = await capturingBroker('127.0.0.2');
    const pushes: { url: string; authorization?: string }[] = [];
    const pushServer = createHttpServer((req, res) => {
      pushes.push({ url: req.url ?? '', authorization: req.headers.authorization });
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((done) => pushServer.listen(0, '127.0.0.3', done));
    const pushPort = (pushServer.address() as AddressInfo).port;
    const d = mkdtempSync(join(tmpdir(), 'meterbridge-bind-'));
    const v = validateConfig({
      source: { type: 'simulator', simulator: { intervalMs: 100 } },
      web: { password: PASSWORD },
      mqtt: { enabled: true, host: old.host, port: old.port, username: 'meter', password: 'old-mqtt-secret' },
    });
    if (!v.ok) throw new Error('config');
    const gw = await startGateway({ config: v.config, dataDir: d, httpPort: 0, log: () => {} });
    const put = (b: unknown) =>
      fetch(`http://127.0.0.1:${gw.port}/api/config`, { method: 'PUT', headers: { 'Content-Type': 'application/json', ...AUTH }, body: JSON.stringify(b) });
    try {
      for (let i = 0; i < 250 && old.connects.length === 0; i++) await sleep(20);
      expect(old.connects[0]).toEqual({ username: 'meter', password: 'old-mqtt-secret' });
      // the form as the UI sends it: the password untouched (null keeps the saved value)
      const r = await put({ mqtt: { host: evil.host, port: evil.port, password: null } });
      expect(r.status).toBe(200);
      const answer: J = await r.json();
      for (let i = 0; i < 250 && evil.connects.length === 0; i++) await sleep(20);
      expect(JSON.stringify(evil.connects)).not.toContain('old-mqtt-secret');
      expect(evil.connects[0]).toEqual({ username: 'meter', password: undefined });
      expect(answer.warnings.join(' ')).toContain('mqtt.password was cleared because the broker (host, port or TLS) changed');
      expect(answer.config.mqtt.password).toEqual({ set: false, fingerprint: null });
      expect(readFileSync(join(d, 'config'), 'utf8')).not.toContain('old-mqtt-secret');

      // HTTP push: the Authorization header saved for one server is not sent to another
      const first = await put({ mqtt: { enabled: false }, httpPush: { enabled: true, url: `http://127.0.0.3:${pushPort}/saved`, headers: { Authorization: 'Bearer push-secret' } } });
      expect(first.status).toBe(200);
      for (let i = 0; i < 250 && pushes.length === 0; i++) await sleep(20);
      expect(pushes[0]).toEqual({ url: '/saved', authorization: 'Bearer push-secret' });
      const moved = await put({ httpPush: { url: `http://localhost:${pushPort}/moved`, headers: { Authorization: null } } });
      expect(moved.status).toBe(200);
      expect(((await moved.json()) as J).warnings.join(' ')).toContain('httpPush.headers.Authorization was removed');
      // localhost is another server than 127.0.0.3 (nothing listens there); coming back later
      // does not bring the removed header back
      const again = await put({ httpPush: { url: `http://127.0.0.3:${pushPort}/moved-back` } });
      expect(again.status).toBe(200);
      const n = pushes.length;
      for (let i = 0; i < 250 && !pushes.slice(n).some((p) => p.url === '/moved-back'); i++) await sleep(20);
      const after = pushes.slice(n).find((p) => p.url === '/moved-back');
      expect(after).toEqual({ url: '/moved-back', authorization: undefined });
    } finally {
      await gw.stop();
      await Promise.all([old.close(), evil.close(), new Promise((done) => pushServer.close(done))]);
      rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);
});
