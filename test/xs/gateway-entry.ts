/**
 * The XS side of bench/xs-gateway.mjs and test/xs-gateway.test.ts: the real Gateway (and, on
 * request, the real HTTP API) built on XS with a minimal in-XS Hal, driven by hand so xsnap needs
 * no timers. Bundled with the core into one script by test/xs/bundle.mjs.
 *
 *   clock        manual: setTimeout/setInterval are stored and fire only when a `push` advances it
 *   storage      a Map of strings
 *   logger       drops every line (counts them by level)
 *   crypto       the core's softwareCrypto, as the device uses it
 *   source       a MeterSimulator the entry feeds by hand, one push per 5 s of manual clock
 *   mqtt client  'connected', every publish resolves at once (so the publisher and its outbox run)
 *   http client  every request resolves 204
 *   memory()     null; randomBytes from a counter
 *
 * The config is the core's defaults with MQTT on (host 'x', Home Assistant discovery on) and HTTP
 * push on, limited the way hal/moddable/main.ts limits it (clampForDevice: outbox capacity 30).
 *
 * Commands (JSON, see GatewayCommand): init, push, api, gc, status, walk, sim, access. `push` and `api`
 * are asynchronous: handleCommand returns an object whose `result` is set once they are done, and
 * xsnap drains the promise queue and setImmediate before it reads `result` (xsnap-worker.c).
 *
 * Only this transport layer uses TextEncoder/TextDecoder (globals in xsnap, modules on the
 * device); the core it imports must not.
 */
import { Gateway } from '../../firmware/gateway.js';
import { createApi } from '../../firmware/api.js';
import type { Config } from '../../firmware/config/types.js';
import { defaultConfig } from '../../firmware/config/defaults.js';
import { softwareCrypto } from '../../firmware/crypto/gcm.js';
import { MeterSimulator } from '../../firmware/simulator.js';
import { VERSION } from '../../firmware/version.js';
import { clampForDevice } from '../../hal/moddable/device-config.js';
import type {
  ByteSource, Clock, Hal, HttpClient, HttpHandler, HttpRequestOptions, HttpResponseData, HttpServerRequest, Logger,
  MqttClient, MqttState, Storage, TimerHandle,
} from '../../hal/hal.js';
import { decodeJson, encodeJson } from './codec.js';

/** xsnap's host functions: a full garbage collection; a macrotask after the promise jobs. */
declare const gc: () => void;
const setImmediate = (globalThis as unknown as { setImmediate: (fn: () => void) => void }).setImmediate;

export interface GatewayCommand {
  op: 'init' | 'push' | 'api' | 'gc' | 'status' | 'walk' | 'sim' | 'access';
  /** pushes (push, sim) */
  n?: number;
  /** init: also build createApi(...) */
  api?: boolean;
  /** init: outbox capacity instead of the device's limit */
  capacity?: number;
}

/** What `status` (and `push`) report. */
export interface GatewaySummary {
  readings: number;
  decodeErrors: number;
  frames: number;
  publishers: { name: string; state: string; delivered: number; queued: number; dropped: number; failures: number; lastError: string | null }[];
  mqttPublishes: number;
  mqttBytes: number;
  httpRequests: number;
  logged: Record<string, number>;
  timers: number;
  /** wall-clock ms of the manual clock */
  now: number;
}

const PUSH_MS = 5000;
/** 2025-03-10 00:00 UTC: a fixed start so every run is the same */
const WALL_START = 1_741_564_800_000;

/** A clock that only moves when told to; timers fire in due order as it passes them. */
class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  readonly timers: { id: number; due: number; every: number; fn: () => void }[] = [];

  now(): number {
    return WALL_START + this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clear(handle: TimerHandle): void {
    const i = this.timers.findIndex((x) => x.id === handle.id);
    if (i >= 0) this.timers.splice(i, 1);
  }

  private add(fn: () => void, ms: number, every: number): TimerHandle {
    const id = ++this.seq;
    this.timers.push({ id, due: this.t + Math.max(0, ms), every, fn });
    return { id };
  }

  /** Moves time on by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.timers.length; i++) {
        if (this.timers[i].due <= end && (next < 0 || this.timers[i].due < this.timers[next].due)) next = i;
      }
      if (next < 0) break;
      const timer = this.timers[next];
      this.t = Math.max(this.t, timer.due);
      if (timer.every > 0) timer.due += timer.every;
      else this.timers.splice(next, 1);
      timer.fn();
    }
    this.t = end;
  }
}

class MemoryStorage implements Storage {
  private readonly files = new Map<string, string>();
  read(name: string): string | null {
    return this.files.get(name) ?? null;
  }
  write(name: string, text: string): void {
    this.files.set(name, text);
  }
  remove(name: string): void {
    this.files.delete(name);
  }
}

class DroppingLogger implements Logger {
  readonly counts: Record<string, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  log(level: 'debug' | 'info' | 'warn' | 'error'): void {
    this.counts[level]++;
  }
}

/** A broker that is always there: every publish is handed over at once. */
class InstantMqttClient implements MqttClient {
  state: MqttState = 'connected';
  publishes = 0;
  bytes = 0;
  private readonly listeners: ((state: MqttState, detail?: string) => void)[] = [];

  connect(): void {
    // as a real client: the state change is reported later, not from inside connect()
    Promise.resolve().then(() => {
      for (const l of this.listeners) l('connected');
    });
  }

  publish(topic: string, payload: string): Promise<void> {
    if (this.state !== 'connected') return Promise.reject(new Error('not connected'));
    this.publishes++;
    this.bytes += topic.length + payload.length;
    return Promise.resolve();
  }

  onStateChange(listener: (state: MqttState, detail?: string) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    this.state = 'disconnected';
    return Promise.resolve();
  }
}

class NoContentHttpClient implements HttpClient {
  requests = 0;
  request(_options: HttpRequestOptions): Promise<HttpResponseData> {
    this.requests++;
    return Promise.resolve({ status: 204, body: '' });
  }
}

/** The source the gateway reads: the bytes come from the `push` command, not from a timer. */
class HandFedSource implements ByteSource {
  readonly description = 'meter simulator, fed by hand (XS bench)';
  onBytes: ((bytes: Uint8Array) => void) | null = null;
  constructor(readonly simulator: MeterSimulator) {}
  start(onBytes: (bytes: Uint8Array) => void): void {
    this.onBytes = onBytes;
  }
  stop(): void {
    this.onBytes = null;
  }
}

interface Rig {
  gateway: Gateway;
  clock: ManualClock;
  logger: DroppingLogger;
  mqtt: InstantMqttClient;
  http: NoContentHttpClient;
  source: HandFedSource | null;
  api: HttpHandler | null;
}

let rig: Rig | null = null;
/** a second simulator for `sim`: the apparatus's own cost per push, to subtract */
let spare: { simulator: MeterSimulator; t: number } | null = null;

const WEB_PASSWORD = 'bench password';
/** 'Basic ' + base64('x:bench password'): no Buffer or btoa on XS */
const BASIC = 'Basic eDpiZW5jaCBwYXNzd29yZA==';

function benchConfig(capacity: number | undefined): Config {
  const c = defaultConfig();
  c.mqtt.enabled = true;
  c.mqtt.host = 'x';
  c.mqtt.homeAssistant.enabled = true;
  c.httpPush.enabled = true;
  c.httpPush.url = 'http://x/push';
  // the API closes everything but the status before a web password is set
  c.web.password = WEB_PASSWORD;
  if (capacity !== undefined) {
    c.outbox.capacity = capacity;
    return c;
  }
  return clampForDevice(c, []);
}

function init(c: GatewayCommand): unknown {
  if (rig) throw new Error('init: already initialised');
  const clock = new ManualClock();
  const logger = new DroppingLogger();
  const mqtt = new InstantMqttClient();
  const http = new NoContentHttpClient();
  let counter = 0;
  const randomBytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (counter++ * 151 + 17) & 0xff;
    return out;
  };
  const r: Rig = { gateway: null as unknown as Gateway, clock, logger, mqtt, http, source: null, api: null };
  const hal: Hal = {
    clock,
    storage: new MemoryStorage(),
    historyStore: null,
    logger,
    crypto: softwareCrypto,
    createSource: (config, meterKey) => {
      const simulator = new MeterSimulator({ crypto: softwareCrypto, key: meterKey ?? new Uint8Array(16), phases: config.simulator.phases });
      r.source = new HandFedSource(simulator);
      return r.source;
    },
    createMqttClient: () => mqtt,
    httpClient: http,
    memory: () => null,
    randomBytes,
    restart: () => {},
  };
  const config = benchConfig(c.capacity);
  r.gateway = new Gateway(hal, config, VERSION);
  r.gateway.start();
  if (c.api) {
    const saved = hal.storage;
    r.api = createApi({ gateway: r.gateway, clock, randomBytes, save: (next) => saved.write('config', JSON.stringify(next)), restart: () => {}, ui: null }).handler;
  }
  rig = r;
  return { capacity: config.outbox.capacity, source: r.source ? r.source.description : null, api: r.api !== null };
}

function need(): Rig {
  if (!rig) throw new Error('init first');
  return rig;
}

const settle = (): Promise<void> => new Promise<void>((done) => setImmediate(done));

function summary(): GatewaySummary {
  const r = need();
  const s = r.gateway.status();
  return {
    readings: s.pipeline.readings,
    decodeErrors: s.pipeline.errors,
    frames: s.pipeline.frames,
    publishers: s.publishers.map((p) => ({ name: p.name, state: p.state, delivered: p.delivered, queued: p.queued, dropped: p.dropped, failures: p.failures, lastError: p.lastError })),
    mqttPublishes: r.mqtt.publishes,
    mqttBytes: r.mqtt.bytes,
    httpRequests: r.http.requests,
    logged: { ...r.logger.counts },
    timers: r.clock.timers.length,
    now: r.clock.now(),
  };
}

/** n pushes, 5 s of manual clock apart; after each, everything the push started settles. */
async function push(n: number): Promise<unknown> {
  const r = need();
  const source = r.source;
  if (!source) throw new Error('the gateway did not create a source');
  for (let i = 0; i < n; i++) {
    r.clock.advance(PUSH_MS);
    const bytes = source.simulator.push(r.clock.now());
    if (source.onBytes) source.onBytes(bytes);
    await settle();
  }
  return { pushes: n };
}

/** The same loop on a second simulator, without the gateway: the apparatus's cost per push. */
async function sim(n: number): Promise<unknown> {
  if (!spare) spare = { simulator: new MeterSimulator({ crypto: softwareCrypto, key: new Uint8Array(16), phases: 3 }), t: WALL_START };
  let length = 0;
  for (let i = 0; i < n; i++) {
    spare.t += PUSH_MS;
    length = spare.simulator.push(spare.t).length;
    await settle();
  }
  return { pushes: n, bytes: length };
}

/** One request each to /api/status, /api/reading and /metrics, through the real API handler. */
async function api(): Promise<unknown> {
  const r = need();
  if (!r.api) throw new Error('init with api: true first');
  const out: Record<string, { status: number; bytes: number }> = {};
  for (const url of ['/api/status', '/api/reading', '/metrics']) {
    const req: HttpServerRequest = { method: 'GET', url, headers: { host: 'meterbridge.local', authorization: BASIC }, body: new Uint8Array(0), remoteAddress: '192.168.1.20' };
    const res = await r.api(req);
    out[url] = { status: res.status, bytes: typeof res.body === 'string' ? res.body.length : res.body.byteLength };
  }
  return out;
}

/** The access rules of the shared handler on XS: the statuses of requests an attacker would send. */
async function access(): Promise<unknown> {
  const r = need();
  if (!r.api) throw new Error('init with api: true first');
  const send = async (method: string, url: string, headers: Record<string, string>, from = '192.168.1.20', body = '') => {
    const bytes = new TextEncoder().encode(body);
    const res = await r.api!({ method, url, headers: { host: '192.168.1.50', ...headers }, body: bytes, remoteAddress: from });
    return { status: res.status, body: typeof res.body === 'string' ? res.body : '' };
  };
  const json = { 'content-type': 'application/json' };
  const out: Record<string, unknown> = {
    rebinding: (await send('GET', '/api/status', { host: 'attacker.example', authorization: BASIC })).status,
    noPassword: (await send('GET', '/api/config', {})).status,
    originNull: (await send('PUT', '/api/config', { ...json, origin: 'null', authorization: BASIC }, undefined, '{}')).status,
    otherOrigin: (await send('PUT', '/api/config', { ...json, origin: 'http://192.168.1.66', authorization: BASIC }, undefined, '{}')).status,
    badEscape: (await send('GET', '/api/status?x=%zz', { authorization: BASIC })).status,
  };
  const config = await send('GET', '/api/config', { authorization: BASIC });
  out.config = config.status;
  out.configShowsPassword = config.body.indexOf(WEB_PASSWORD) >= 0;
  const guesses: number[] = [];
  for (let i = 0; i < 6; i++) guesses.push((await send('GET', '/api/status', { authorization: 'Basic eDp3cm9uZw==' }, '10.0.0.66')).status);
  out.guesses = guesses;
  return out;
}

/**
 * The chunk-heap side the slot meter cannot see, from the live object graph of the gateway (and
 * the API's Auth): every distinct ArrayBuffer behind a typed array, every Array's items (XS keeps
 * them in one chunk of slots: 16 B each on ESP32), and the strings (an upper bound: literals that
 * live in flash on the device are counted too). Closures are not walked (their captured variables
 * are out of reach), nor prototypes and functions (code: flash when preloaded). The simulator is
 * reported apart: a device reading its UART has none.
 */
function walk(): unknown {
  const r = need();
  const seen = new Set<object>();
  const buffers = new Map<ArrayBufferLike, string>();
  const arrays: { path: string; items: number }[] = [];
  let strings = 0;
  let stringBytes = 0;
  const exclude = new Set<object>();
  if (r.source) exclude.add(r.source.simulator);
  const queue: { v: object; path: string }[] = [{ v: r.gateway, path: 'gateway' }];
  const visit = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      strings++;
      stringBytes += v.length;
      return;
    }
    if (v === null || typeof v !== 'object' || seen.has(v) || exclude.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (!buffers.has(v.buffer)) buffers.set(v.buffer, `${path} (${v.constructor.name})`);
      return;
    }
    if (v instanceof ArrayBuffer) {
      if (!buffers.has(v)) buffers.set(v, path);
      return;
    }
    queue.push({ v, path });
  };
  seen.add(r.gateway);
  for (let q = 0; q < queue.length; q++) {
    const { v, path } = queue[q];
    if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        visit(k, `${path}<key ${i}>`);
        visit(x, `${path}<${typeof k === 'string' || typeof k === 'number' ? k : i}>`);
        i++;
      }
    } else if (v instanceof Set) {
      let i = 0;
      for (const x of v) visit(x, `${path}<${i++}>`);
    }
    const keys = Reflect.ownKeys(v);
    if (Array.isArray(v)) arrays.push({ path, items: keys.length - 1 }); // present indices (no holes) + 'length'
    for (const k of keys) {
      const d = Reflect.getOwnPropertyDescriptor(v, k);
      if (!d || !('value' in d)) continue;
      const name = typeof k === 'symbol' ? String(k) : k;
      visit(d.value, Array.isArray(v) ? `${path}[${name}]` : `${path}.${name}`);
    }
  }
  const list = [...buffers].map(([b, path]) => ({ path, bytes: b.byteLength })).sort((a, b) => b.bytes - a.bytes);
  const sim = r.source ? r.source.simulator as unknown as Record<string, unknown> : {};
  const simBuffers: { path: string; bytes: number }[] = [];
  for (const k of Object.keys(sim)) {
    const x = sim[k];
    if (ArrayBuffer.isView(x)) simBuffers.push({ path: `simulator.${k}`, bytes: x.buffer.byteLength });
    else if (x && typeof x === 'object') {
      for (const [k2, y] of Object.entries(x as Record<string, unknown>)) if (ArrayBuffer.isView(y)) simBuffers.push({ path: `simulator.${k}.${k2}`, bytes: y.buffer.byteLength });
    }
  }
  return {
    objects: seen.size,
    arrayBuffers: list,
    arrayBufferBytes: list.reduce((s, x) => s + x.bytes, 0),
    arrays: arrays.filter((a) => a.items > 0).sort((a, b) => b.items - a.items),
    arrayItems: arrays.reduce((s, a) => s + a.items, 0),
    strings,
    stringBytes,
    simulatorBuffers: simBuffers,
    simulatorBufferBytes: simBuffers.reduce((s, x) => s + x.bytes, 0),
  };
}

function run(c: GatewayCommand): unknown {
  switch (c.op) {
    case 'init':
      return init(c);
    case 'push':
      return push(c.n ?? 1).then(() => summary());
    case 'sim':
      return sim(c.n ?? 1);
    case 'api':
      return api();
    case 'access':
      return access();
    case 'gc':
      gc();
      return {};
    case 'status':
      return summary();
    case 'walk':
      return walk();
    default:
      throw new Error(`unknown op ${String(c.op)}`);
  }
}

function encode(out: unknown): ArrayBuffer {
  const bytes = new TextEncoder().encode(encodeJson(out));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const failure = (e: unknown) => ({ exception: String(e), stack: e instanceof Error ? String(e.stack) : null });

/** Returns the reply, or for asynchronous commands an object whose `result` is set later. */
function handleCommand(message: ArrayBuffer): ArrayBuffer | { result?: ArrayBuffer } {
  let out: unknown;
  try {
    out = run(decodeJson(new TextDecoder().decode(message)) as GatewayCommand);
  } catch (e) {
    return encode(failure(e));
  }
  if (!(out instanceof Promise)) return encode(out);
  const holder: { result?: ArrayBuffer } = {};
  out.then(
    (v) => (holder.result = encode(v)),
    (e) => (holder.result = encode(failure(e))),
  );
  return holder;
}

(globalThis as unknown as { handleCommand: typeof handleCommand }).handleCommand = handleCommand;
