/**
 * Fakes of the Hal's clock and network clients for publisher logic tests: a clock that moves only
 * when the test says, an MQTT client whose connection and acknowledgements the test controls, an
 * HTTP client that answers from a script. No test sleeps through real backoff with these.
 * (The real clients are tested against mosquitto and node:http in mqtt.test.ts and gateway.test.ts.)
 */
import type { BlockStore, Clock, Hal, HttpClient, HttpRequestOptions, HttpResponseData, MqttClient, MqttConnectOptions, MqttState, Storage, TimerHandle } from '../../hal/hal.js';
import type { Config } from '../../firmware/config/types.js';
import { Gateway } from '../../firmware/gateway.js';
import { MeterSimulator } from '../../firmware/simulator.js';
import { nodeCrypto } from '../../hal/node/crypto.js';
import { DEMO_KEY } from '../../firmware/config/defaults.js';
import { hex } from '../helpers.js';

export class FakeClock implements Clock {
  wall = Date.UTC(2024, 5, 1, 10, 0, 0);
  mono = 1000;
  private timers: { id: number; at: number; fn: () => void; every: number }[] = [];
  private next = 1;

  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.push({ id, at: this.mono + ms, fn, every: 0 });
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.push({ id, at: this.mono + ms, fn, every: ms });
    return { id };
  }
  clear(h: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== h.id);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in order, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.wall += due.at - this.mono;
      this.mono = due.at;
      if (due.every > 0) due.at += due.every;
      else this.timers = this.timers.filter((t) => t !== due);
      due.fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
    await settle();
  }
}

/** Lets every queued promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export interface Published {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
}

export class FakeMqttClient implements MqttClient {
  state: MqttState = 'disconnected';
  options: MqttConnectOptions | null = null;
  readonly published: Published[] = [];
  private listeners: ((s: MqttState, d?: string) => void)[] = [];
  /** publishes waiting for the test to acknowledge (holdAcks) */
  held: { m: Published; resolve: () => void; reject: (e: Error) => void }[] = [];
  holdAcks = false;
  closed = false;
  connects = 0;

  connect(o: MqttConnectOptions): void {
    this.options = o;
    this.connects++;
    this.set('connecting');
  }
  publish(topic: string, payload: string, o: { qos: 0 | 1; retain: boolean }): Promise<void> {
    if (this.state !== 'connected') return Promise.reject(new Error('not connected to the MQTT broker (disconnected)'));
    const m = { topic, payload, qos: o.qos, retain: o.retain };
    if (!this.holdAcks) {
      this.published.push(m);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.held.push({ m, resolve: () => (this.published.push(m), resolve()), reject }));
  }
  onStateChange(l: (s: MqttState, d?: string) => void): void {
    this.listeners.push(l);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.drop('the MQTT client was closed');
    this.set('disconnected');
  }
  /** test controls */
  up(): void {
    this.set('connected');
  }
  down(detail: string): void {
    this.drop(`connection to the MQTT broker lost: ${detail}`);
    this.set('disconnected', detail);
  }
  ackAll(): void {
    for (const h of this.held.splice(0)) h.resolve();
  }
  private drop(reason: string): void {
    for (const h of this.held.splice(0)) h.reject(new Error(reason));
  }
  private set(s: MqttState, detail?: string): void {
    this.state = s;
    for (const l of this.listeners) l(s, detail);
  }
  topics(prefix = ''): string[] {
    return this.published.filter((m) => m.topic.startsWith(prefix)).map((m) => m.topic);
  }
}

export type HttpAnswer = HttpResponseData | Error;

export class FakeHttp implements HttpClient {
  readonly requests: HttpRequestOptions[] = [];
  /** answers by URL; the default answer otherwise */
  script: ((o: HttpRequestOptions) => HttpAnswer) = () => ({ status: 204, body: '' });
  async request(o: HttpRequestOptions): Promise<HttpResponseData> {
    this.requests.push(o);
    const a = this.script(o);
    if (a instanceof Error) throw a;
    return a;
  }
}

export function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    read: (n) => data.get(n) ?? null,
    write: (n, t) => void data.set(n, t),
    remove: (n) => void data.delete(n),
  };
}

export interface FakeWorld {
  clock: FakeClock;
  mqtt: FakeMqttClient[];
  http: FakeHttp;
  storage: ReturnType<typeof memoryStorage>;
  hal: Hal;
  logs: string[];
}

export function fakeWorld(): FakeWorld {
  const clock = new FakeClock();
  const mqtt: FakeMqttClient[] = [];
  const http = new FakeHttp();
  const storage = memoryStorage();
  const logs: string[] = [];
  const hal: Hal = {
    clock,
    storage,
    historyStore: null,
    logger: { log: (level, message) => void logs.push(`${level} ${message}`) },
    crypto: nodeCrypto,
    createSource: () => ({ description: 'test', start() {}, stop() {} }),
    createMqttClient: () => {
      const c = new FakeMqttClient();
      mqtt.push(c);
      return c;
    },
    httpClient: http,
    memory: () => null,
    randomBytes: (n) => new Uint8Array(n),
    restart: () => {},
  };
  return { clock, mqtt, http, storage, hal, logs };
}

/** A gateway on fakes, fed by the meter simulator one push at a time. */
export function fakeGateway(config: Config, w: FakeWorld = fakeWorld()) {
  const g = new Gateway(w.hal, config, 'test');
  g.start();
  const sim = new MeterSimulator({ crypto: nodeCrypto, key: hex(DEMO_KEY), phases: 3 });
  const push = () => {
    g.bytes(sim.push(w.clock.now()));
  };
  return { g, w, push };
}

/**
 * Flash in RAM for long simulated histories (the file store syncs every write): NOR semantics
 * checked, so a log that writes a 1 over a 0 fails the test instead of passing by luck.
 */
export function memoryFlash(sectorCount = 32, sectorSize = 4096): BlockStore & { bytes: Uint8Array; erases: number[] } {
  const bytes = new Uint8Array(sectorCount * sectorSize).fill(0xff);
  const erases: number[] = new Array(sectorCount).fill(0);
  return {
    sectorSize,
    sectorCount,
    bytes,
    erases,
    read: (offset, length) => bytes.slice(offset, offset + length),
    write(offset, data) {
      if (offset < 0 || offset + data.length > bytes.length) throw new RangeError(`write of ${data.length} at ${offset} outside the flash`);
      for (let i = 0; i < data.length; i++) {
        if ((~bytes[offset + i] & data[i]) !== 0) throw new Error(`flash: a write at ${offset + i} would set a 0 bit to 1`);
        bytes[offset + i] &= data[i];
      }
    },
    erase(sector) {
      bytes.fill(0xff, sector * sectorSize, (sector + 1) * sectorSize);
      erases[sector]++;
    },
  };
}
