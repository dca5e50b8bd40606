/**
 * The firmware on the real Moddable runtime: a Linux (-p lin) build whose `main` is the real
 * firmware main (dist/moddable/main.js, preloaded as on the ESP32, with the ESP32's XS heap
 * sizes), run in mcsim on a virtual display. Only what Linux cannot have is replaced
 * (test/device/hostrun/stubs: the UART, fed by this test at 2400 baud 8E1 over a loopback
 * socket; the native UART and rollback helpers; `ota`; the boot button; NVS behind `preference`;
 * the raw flash partitions behind `flash`, files with NOR semantics). Socket, HTTP, MQTT,
 * timers, Resource and XS itself are the SDK's own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeterSimulator } from '../../firmware/simulator.js';
import { decode } from '../../firmware/decoder.js';
import { encryptionKey } from '../../firmware/keys.js';
import { electricityNumber } from '../../firmware/quantities.js';
import { nodeCrypto } from '../../hal/node/crypto.js';
import { hex, vectors, type Vector } from '../helpers.js';
import { freePort, startBroker, subscribe, type Broker, type Subscriber } from '../support/mosquitto.js';
import { MODDABLE, REPO, runAsync, sdkEnv, TOOLS } from './kit.js';
import { recordDeviceFigures } from './report.js';

const PASSWORD = 'device-test-password';
const AUTH = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
const BYTES_PER_TICK = 11; // 2400 baud, 11 bits per 8E1 byte: 218 bytes/s in 50 ms ticks
const TICK_MS = 50;
/** the meter's clock at the soak's first push */
const SOAK_START = Date.UTC(2026, 5, 1, 10, 0, 0);

interface Mem { slots: number; chunks: number; keys: number; stack: number; gcs: number; timers: number; sockets: number; longestTurnMs: number }

const out = mkdtempSync(join(tmpdir(), 'meterbridge-hostrun-'));
let sim: ChildProcess | null = null;
let log = '';
let line: Socket | null = null;
let control: Socket | null = null;
let controlBuffer = '';
const controlWaiters: ((s: string) => void)[] = [];
const servers: (NetServer | HttpServer)[] = [];

/** The manifest of the Linux build, derived from the project's own manifest.json and esp32 board file. */
function hostManifest(serialPort: number, controlPort: number): object {
  const project = JSON.parse(readFileSync(join(REPO, 'manifest.json'), 'utf8'));
  const board = JSON.parse(readFileSync(join(REPO, 'hal/moddable/boards/esp32.json'), 'utf8'));
  const deviceOnly = ['$(MODDABLE)/modules/io/manifest.json', '$(MODDABLE)/build/devices/esp32/modules/ota/manifest.json', '$(MODDABLE)/modules/files/flash/manifest.json'];
  const stubs = join(REPO, 'test/device/hostrun/stubs');
  const include = (project.include as string[]).filter((i) => !deviceOnly.includes(i));
  // the file module for the preference stub below, which keeps values out of the heap as NVS does;
  // debug for the harness's collections
  for (const m of ['$(MODDABLE)/modules/files/file/manifest.json', '$(MODDABLE)/modules/base/debug/manifest.json']) {
    if (!include.includes(m)) include.push(m);
  }
  return {
    include,
    modules: {
      main: join(REPO, 'test/device/hostrun/harness'),
      'meterbridge/main': join(REPO, 'dist/moddable/main'),
      'meterbridge/uart': join(stubs, 'uart'),
      'meterbridge/rollback': join(stubs, 'rollback'),
      'embedded:io/serial': join(stubs, 'serial'),
      'embedded:io/digital': join(stubs, 'digital'),
      ota: join(stubs, 'ota'),
      preference: join(stubs, 'preference'),
      flash: join(stubs, 'flash'),
      'dns/server': project.modules['dns/server'],
    },
    // the project's preloads, its main under the name the harness imports
    preload: (project.preload as string[]).map((p) => (p === 'main' ? 'meterbridge/main' : p)),
    // the project's resources (the web UI and its German table), from the checkout
    resources: { '*': ([] as string[]).concat(project.resources['*']).map((r) => join(REPO, r)) },
    config: { ...project.config, ...board.config, serialPort, controlPort, file: { root: join(out, 'flash') + '/' }, partitions: dataPartitions() },
    creation: board.creation,
  };
}

/** the data partitions of hal/moddable/partitions.csv by name → bytes, for the flash stand-in */
function dataPartitions(): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const l of readFileSync(join(REPO, 'hal/moddable/partitions.csv'), 'utf8').split('\n')) {
    const [name, type, , , size] = l.split(',').map((c) => c.trim());
    if (!l.startsWith('#') && type === 'data') sizes[name] = Number(size);
  }
  return sizes;
}

function feed(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    let at = 0;
    const timer = setInterval(() => {
      if (!line) { clearInterval(timer); reject(new Error('the serial stub is not connected')); return; }
      line.write(bytes.subarray(at, at + BYTES_PER_TICK));
      at += BYTES_PER_TICK;
      if (at >= bytes.length) { clearInterval(timer); resolve(); }
    }, TICK_MS);
  });
}

function command(text: string): Promise<Mem> {
  return new Promise((resolve, reject) => {
    if (!control) { reject(new Error('no control connection from the harness')); return; }
    const timer = setTimeout(() => reject(new Error(`no answer to ${text}`)), 30_000);
    controlWaiters.push((s) => { clearTimeout(timer); resolve(JSON.parse(s) as Mem); });
    control.write(text + '\n');
  });
}

interface Answer { status: number; body: string; json: () => any }

function api(method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: AUTH }, timeoutMs = 20_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = httpRequest({
      host: '127.0.0.1', port: 80, path, method,
      headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
      timeout: timeoutMs,
    }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}\n--- runtime log (tail) ---\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let so = '';

/** Runs the built firmware in mcsim until it serves the API; the harness connects to the test. */
async function startRuntime(lib: string): Promise<void> {
  line = null;
  control = null;
  // stdbuf: line-buffered, so the log is current when a test reads it
  sim = spawn('stdbuf', ['-oL', '-eL', 'xvfb-run', '-a', '-s', '-screen 0 800x600x24', join(TOOLS, 'mcsim'), lib], {
    cwd: out, env: sdkEnv({ MODDABLE }), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  sim.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d; });
  sim.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d; });
  const from = log.length;
  await until('main() returned', async () => (log.indexOf('HOSTRUN main() returned', from) >= 0 ? true : undefined), 60_000);
  await until('the control connection', async () => (control ? true : undefined), 20_000);
  await until('the serial stub connected', async () => (line ? true : undefined), 20_000);
  // 200 before the first password, 401 without one after it: either way the API is up
  await until('GET /api/status', async () => ([200, 401].includes((await api('GET', '/api/status', undefined, {})).status) ? true : undefined), 30_000);
}

/** Ends the runtime as a power cut would: at once, with nothing saved on the way out. */
async function killRuntime(): Promise<void> {
  const p = sim;
  if (!p?.pid) return;
  const gone = new Promise<void>((r) => p.on('exit', () => r()));
  try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  await gone;
  sim = null;
  line?.destroy();
  control?.destroy();
}

function crashes(): string[] {
  return log.split('\n').filter((l) => /Segmentation|XS abort|Chunk allocation|memory full|stack overflow|# Break/i.test(l));
}

/**
 * The heap figures in the device's units. The host's XS slots are 32 bytes (16 on the ESP32), so
 * slots are counted, not bytes; chunks are bytes (a little larger here: 64-bit pointers).
 */
const HOST_SLOT_BYTES = 32;
const creation = JSON.parse(readFileSync(join(REPO, 'hal/moddable/boards/esp32.json'), 'utf8')).creation as { chunk: { initial: number }; heap: { initial: number }; stack: number };

interface HeapFigures { slots: number; slotsOf: number; chunkBytes: number; chunkBytesOf: number; stackSlotsPeak: number; stackSlotsOf: number }

function heapFigures(samples: Mem[]): HeapFigures {
  const max = (k: keyof Mem) => Math.max(...samples.map((m) => m[k]));
  return {
    slots: Math.ceil(max('slots') / HOST_SLOT_BYTES), slotsOf: creation.heap.initial,
    chunkBytes: max('chunks'), chunkBytesOf: creation.chunk.initial,
    stackSlotsPeak: Math.ceil(max('stack') / HOST_SLOT_BYTES), stackSlotsOf: creation.stack,
  };
}

/** at least 25 % of each XS heap the manifest creates stays free */
function expectHeadroom(f: HeapFigures): void {
  expect(f.slots, 'slot heap').toBeLessThanOrEqual(0.75 * f.slotsOf);
  expect(f.chunkBytes, 'chunk heap').toBeLessThanOrEqual(0.75 * f.chunkBytesOf);
  expect(f.stackSlotsPeak, 'stack').toBeLessThanOrEqual(0.75 * f.stackSlotsOf);
}

/** `meterbridge decode` on the same push: the Reading the host CLI prints */
function cliDecode(v: Vector): unknown {
  const args = ['bin/meterbridge.mjs', 'decode'];
  if (v.key) args.push('--key', v.key);
  if (v.auth_key) args.push('--auth-key', v.auth_key);
  args.push('-');
  const r = spawnSync(process.execPath, args, { cwd: REPO, input: v.frames_hex.join('\n'), encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

// every real push that comes in frames and that the fixtures can decode (a key when encrypted)
const framed = vectors.filter((v) => v.frames_hex.length > 0 && /^(M-Bus|HDLC)/.test(v.framing) && Object.keys(v.expected).length > 0);

describe('the firmware on the Moddable runtime for Linux', () => {
  beforeAll(async () => {
    const serialPort = await freePort();
    const controlPort = await freePort();
    const lineServer = createNetServer((s) => { line = s; s.on('error', () => {}); });
    const controlServer = createNetServer((s) => {
      control = s;
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        controlBuffer += d;
        let nl: number;
        while ((nl = controlBuffer.indexOf('\n')) >= 0) {
          const msg = controlBuffer.slice(0, nl);
          controlBuffer = controlBuffer.slice(nl + 1);
          controlWaiters.shift()?.(msg);
        }
      });
    });
    await new Promise<void>((r) => lineServer.listen(serialPort, '127.0.0.1', r));
    await new Promise<void>((r) => controlServer.listen(controlPort, '127.0.0.1', r));
    servers.push(lineServer, controlServer);

    mkdirSync(join(out, 'flash'), { recursive: true });
    mkdirSync(join(out, 'build'), { recursive: true });
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(hostManifest(serialPort, controlPort), null, 2));
    const started = Date.now();
    // -i: instrumented release build, optimised like the device's
    const build = await runAsync('mcconfig', ['-i', '-m', '-p', 'lin', '-o', join(out, 'build'), join(out, 'manifest.json')], { cwd: out });
    writeFileSync(join(out, 'build.log'), build.out);
    expect(build.code, build.out.slice(-4000)).toBe(0);
    so = spawnSync('find', [join(out, 'build'), '-name', 'mc.so'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    expect(so, 'mc.so').toMatch(/mc\.so$/);
    console.log(`Linux build of the firmware: ${Math.round((Date.now() - started) / 1000)} s (${so})`);

    await startRuntime(so);
    // the first password, as a homeowner sets it; everything after uses it
    const first = await api('PUT', '/api/config', { web: { password: PASSWORD } }, {});
    expect(first.status, first.body).toBe(200);
    expect((await api('GET', '/api/config')).status).toBe(200);
  }, 900_000);

  afterAll(async () => {
    if (sim?.pid) {
      try { process.kill(-sim.pid, 'SIGTERM'); } catch { /* gone */ }
    }
    for (const s of servers) s.close();
    line?.destroy();
    control?.destroy();
    writeFileSync(join(out, 'runtime.log'), log);
  });

  it('runs main() and serves the API without a crash', async () => {
    const s = (await api('GET', '/api/status')).json();
    expect(s.version).toBeTypeOf('string');
    expect(s.source).toContain('UART2');
    // the history partition of the table, through the flash stand-in, blank on first boot
    expect(log).toContain('history: flash partition "history" (32 sectors of 4096 bytes) is erased: a new history starts');
    expect(crashes()).toEqual([]);
  });

  it.each(framed.map((v) => [v.id, v] as const))('%s: GET /api/reading equals meterbridge decode of the same push', async (_id, v) => {
    const want = cliDecode(v);
    const put = await api('PUT', '/api/config', { meter: { key: v.key ?? '', authKey: v.auth_key ?? '', framing: 'auto' } });
    expect(put.status, put.body).toBe(200);
    await feed(hex(v.frames_hex.join('')));
    const got = await until(`the Reading of ${v.id}`, async () => {
      const r = await api('GET', '/api/reading');
      if (r.status !== 200) return undefined;
      const reading = r.json();
      return JSON.stringify(reading) === JSON.stringify(want) ? reading : undefined;
    }, 20_000).catch(async (e: Error) => {
      const status = (await api('GET', '/api/status')).json();
      const reading = await api('GET', '/api/reading');
      throw new Error(`${e.message.split('\n')[0]}\nwanted ${JSON.stringify(want)}\ngot ${reading.body}\nerrors ${JSON.stringify(status.lastErrors)}`);
    });
    expect(got).toEqual(want);
    expect(crashes()).toEqual([]);
  });

  describe('the consumption history in the flash partition', () => {
    const key = hex('000102030405060708090A0B0C0D0E0F');
    const Q = 900_000;
    // on the meter's clock before the soak's pushes (2026-06-01 10:00 to 10:10 UTC)
    const T0 = Date.UTC(2026, 4, 31, 21, 0, 0); // evening: the simulated household draws from the grid
    // one push 5 s after each of three quarter hours: the boundaries of two quarter hours
    const TIMES = [T0 + 5000, T0 + Q + 5000, T0 + 2 * Q + 5000];
    const query = `/api/history/energy?resolution=15min&from=${T0}&to=${T0 + 2 * Q}`;
    /** the import register (Wh) of each push, as the host decodes it */
    const imports = new Map<number, number>();
    let recorded: unknown;

    beforeAll(async () => {
      const put = await api('PUT', '/api/config', { meter: { key: '000102030405060708090A0B0C0D0E0F', authKey: '', framing: 'auto' } });
      expect(put.status, put.body).toBe(200);
    });

    it('records quarter hours from pushes on the line, with a power cut between each two, and answers as JSON and CSV', async () => {
      const meter = new MeterSimulator({ crypto: nodeCrypto, key, phases: 3 });
      for (const t of TIMES) {
        // the guard refuses a meter clock that runs ahead of the gateway's, as these pushes do
        // (15 minutes apart on the meter, seconds apart here); after a power cut it starts afresh
        await killRuntime();
        await startRuntime(so);
        const bytes = meter.push(t);
        imports.set(t, electricityNumber(decode(bytes, { encryption: encryptionKey(key), authentication: null }, nodeCrypto).readings[0].values, '1.8.0', 'Wh')!);
        await feed(bytes);
        await until(`the push at ${new Date(t).toISOString()} decoded and accepted`, async () => ((await api('GET', '/api/status')).json().pipeline.readings > 0 ? true : undefined), 20_000);
      }
      const a = await until('two quarter hours in the history', async () => {
        const r = await api('GET', query);
        return r.status === 200 && r.json().points.length >= 2 ? r.json() : undefined;
      }, 20_000);
      const wh = (i: number) => Math.round((imports.get(TIMES[i + 1])! - imports.get(TIMES[i])!) * 1000) / 1000;
      expect(a.points.map((p: number[]) => [p[0], p[1]])).toEqual([[T0, wh(0)], [T0 + Q, wh(1)]]);
      expect(wh(0)).toBeGreaterThan(0);
      recorded = a.points;
      const csv = await api('GET', `${query}&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.body.split('\r\n').filter((l) => l.startsWith(`${T0};`) || l.startsWith(`${T0 + Q};`))).toHaveLength(2);
      expect(crashes()).toEqual([]);
    });

    it('keeps them through a power cut: the runtime killed and started again', async () => {
      expect(recorded).toBeDefined();
      await killRuntime();
      await startRuntime(so);
      expect(log).toMatch(/history: flash partition "history" \(32 sectors of 4096 bytes\), \d+ of its sectors hold data/);
      const r = await api('GET', query);
      expect(r.status, r.body).toBe(200);
      expect(r.json().points).toEqual(recorded);
      // and it goes on: the next push is decoded and read. It is the one before the soak's first
      // (the soak's browser wants a reading from the start, and its guard a meter clock it follows)
      await feed(new MeterSimulator({ crypto: nodeCrypto, key, phases: 3 }).push(SOAK_START - 5000));
      await until('a reading after the restart', async () => ((await api('GET', '/api/reading')).status === 200 ? true : undefined), 20_000);
      expect(crashes()).toEqual([]);
    });

    it('never asked the flash to set a bit, which NOR flash cannot', () => {
      expect(log).toContain('HOSTRUN flash: erase'); // it did write: sectors were prepared
      expect(log).not.toContain('HOSTRUN flash: write sets bits');
    });
  });

  describe('publishing under load', () => {
    let broker: Broker;
    let subscriber: Subscriber;
    let push: HttpServer;
    const pushed: { method: string; body: string }[] = [];
    const pushedAt: number[] = [];

    beforeAll(async () => {
      broker = await startBroker();
      subscriber = await subscribe(broker.port, 'meterbridge/#');
      push = createHttpServer((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => {
          pushed.push({ method: req.method ?? '', body: Buffer.concat(parts).toString('utf8') });
          pushedAt.push(Date.now());
          res.writeHead(204).end();
        });
      });
      const pushPort = await freePort();
      await new Promise<void>((r) => push.listen(pushPort, '127.0.0.1', r));
      servers.push(push);
      const key = '000102030405060708090A0B0C0D0E0F';
      const put = await api('PUT', '/api/config', {
        meter: { key, authKey: '', framing: 'auto' },
        mqtt: { enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'meterbridge', mode: 'reading', qos: 0 },
        httpPush: { enabled: true, url: `http://127.0.0.1:${pushPort}/meter`, method: 'POST' },
      });
      expect(put.status, put.body).toBe(200);
    });

    afterAll(async () => {
      await subscriber?.close();
      await broker?.stop();
    });

    it('delivers every reading of a 120-push soak over MQTT and HTTP push with the web UI in use, with flat XS heaps and 25 % headroom', async () => {
      const key = hex('000102030405060708090A0B0C0D0E0F');
      const meter = new MeterSimulator({ crypto: nodeCrypto, key, phases: 3 });
      const fedCounter = new Map<number, number>(); // frame counter → when its last byte was sent
      const PUSHES = 120;
      const WARMUP = 20;
      const t0 = SOAK_START;
      const samples: Mem[] = [];
      const mqttBefore = subscriber.messages.length;
      const readingsBefore = (await api('GET', '/api/status')).json().pipeline.readings as number;
      // what the gateway decoded: on this shared PC the runtime can be kept off the CPU for longer
      // than the 128-byte UART FIFO lasts (0.5 s), and a push is then lost on the line, as on a
      // chip whose JavaScript is busy; every push it DID decode must be delivered
      const decoded = async () => ((await api('GET', '/api/status')).json().pipeline.readings as number) - readingsBefore;
      // the web UI's polling: status and reading every second, the page itself now and then
      let browsing = true;
      let browserError: unknown = null;
      let pages = 0;
      // a request the device never answers is counted, as a browser would give up and reload
      const unanswered: string[] = [];
      const browser = (async () => {
        for (let i = 0; browsing; i++) {
          for (const path of i % 5 === 0 ? ['/', '/ui/de', '/api/status', '/api/reading'] : ['/api/status', '/api/reading']) {
            const r = await api('GET', path, undefined, { Authorization: AUTH }, 10_000).catch((e: Error) => {
              if (!/no answer/.test(e.message)) throw e;
              unanswered.push(`${new Date().toISOString()} ${path}`);
              return null;
            });
            if (r) expect(r.status, `${path}: ${r.body.slice(0, 200)}`).toBe(200);
            pages++;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
      try {
        for (let i = 0; i < PUSHES; i++) {
          const bytes = meter.push(t0 + i * 5000);
          await feed(bytes);
          fedCounter.set(decode(bytes, { encryption: encryptionKey(key), authentication: null }, nodeCrypto).readings[0].frameCounter!, Date.now());
          await new Promise((r) => setTimeout(r, 100)); // the line is idle between pushes
          if (i >= WARMUP && i % 10 === 0) {
            // measured when nothing is in flight: a reading waiting in an outbox is not growth
            await until('the readings so far delivered', async () => {
              const n = await decoded();
              const mqtt = subscriber.messages.slice(mqttBefore).filter((m) => m.topic === 'meterbridge/reading').length;
              return pushed.length >= n && mqtt >= n ? true : undefined;
            }, 30_000);
            samples.push(await command('mem'));
          }
        }
        await until('every decoded reading over HTTP push', async () => (pushed.length >= (await decoded()) ? true : undefined), 60_000);
        await until('every decoded reading over MQTT', async () => (subscriber.messages.length - mqttBefore >= (await decoded()) ? true : undefined), 60_000);
      } finally {
        browsing = false;
        browserError = await browser.then(() => null, (e: unknown) => e);
      }
      if (browserError) throw browserError;
      samples.push(await command('mem'));

      const n = await decoded();
      const status = (await api('GET', '/api/status')).json();
      const lineErrors = status.pipeline.errors as number;
      // a lost push costs at most a few frame errors; anything else is a decoding fault
      expect(n, JSON.stringify(status.lastErrors)).toBeGreaterThanOrEqual(PUSHES - 3);
      if (n < PUSHES) console.log(`${PUSHES - n} of ${PUSHES} pushes lost on the line (${JSON.stringify(status.pipeline.errorsByKind)})`);
      const counters = pushed.map((p) => Number(/"frameCounter":\s*(\d+)/.exec(p.body)?.[1]));
      expect(counters).toHaveLength(n);
      expect(counters.every((c, i) => i === 0 || c > counters[i - 1])).toBe(true); // each once, in order
      const mqttReadings = subscriber.messages.slice(mqttBefore).filter((m) => m.topic === 'meterbridge/reading');
      expect(mqttReadings).toHaveLength(n);
      expect(crashes()).toEqual([]);
      // seen once in some 2 000 requests on a loaded PC: more than that is a fault of the server
      if (unanswered.length) console.log(`web requests without an answer in 10 s: ${unanswered.join(', ')}`);
      expect(unanswered.length, unanswered.join(', ')).toBeLessThanOrEqual(1);

      // flat: the live heap after a collection at the end is no larger than early on, within 2 %
      const max = (xs: Mem[], k: keyof Mem) => Math.max(...xs.map((m) => m[k]));
      const first = samples.slice(0, 3);
      const last = samples.slice(-3);
      // last byte on the line → HTTP push received, for the pushes delivered (frame counters map them)
      const latency = counters.map((c, i) => pushedAt[i] - fedCounter.get(c)!).sort((a, b) => a - b);
      const figures = {
        pushes: PUSHES,
        decoded: n,
        lineErrors,
        webRequests: pages,
        webRequestsUnanswered: unanswered.length,
        ...heapFigures(samples),
        firstSamples: { slots: max(first, 'slots'), chunks: max(first, 'chunks') },
        lastSamples: { slots: max(last, 'slots'), chunks: max(last, 'chunks') },
        longestTurnMs: max(samples, 'longestTurnMs'),
        lastByteToHttpPushMs: { median: latency[Math.floor(latency.length / 2)], p95: latency[Math.floor(latency.length * 0.95)] },
      };
      console.log(`steady state: ${JSON.stringify(figures)}`);
      recordDeviceFigures('steady state: MQTT + HTTP push + web UI', figures);
      expect(max(last, 'slots') - max(first, 'slots')).toBeLessThanOrEqual(0.02 * max(first, 'slots'));
      expect(max(last, 'chunks') - max(first, 'chunks')).toBeLessThanOrEqual(0.02 * max(first, 'chunks'));
      expectHeadroom(figures);
    });

    it('takes a firmware upload and restarts within the heap', async () => {
      expect((await command('watch')) as unknown).toEqual({ watching: true });
      const image = new Uint8Array(512 * 1024);
      image[0] = 0xe9; // an ESP32 app image starts with this byte
      const r = await api('POST', '/api/ota', Buffer.from(image), { Authorization: AUTH, 'Content-Type': 'application/octet-stream' }, 180_000);
      expect(r.status, r.body).toBe(200);
      await until('the restart', async () => (log.includes('HOSTRUN restart requested') ? true : undefined), 30_000);
      expect(log).toContain(`HOSTRUN ota: complete, ${image.length} bytes`);
      const peak = await command('peak');
      const figures = heapFigures([peak]);
      console.log(`OTA upload and restart, peak: ${JSON.stringify(figures)}`);
      recordDeviceFigures('peak during an OTA upload (512 KiB) and the restart', figures);
      expect(crashes()).toEqual([]);
      expectHeadroom(figures);
    });
  });
});
