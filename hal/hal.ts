/**
 * The hardware abstraction the gateway is given. Both targets implement it: `hal/node/` on the
 * host, `hal/moddable/` on the ESP32. The gateway and the core never touch I/O any other way.
 * Shapes follow ECMA-419 where one exists (callbacks, no streams), and everything here must be
 * implementable on XS without Node APIs.
 */
import type { Crypto } from '../firmware/crypto/crypto.js';
import type { SourceConfig } from '../firmware/config/types.js';

/** Where meter bytes come from: a serial port, a replayed capture, the built-in simulator. */
export interface ByteSource {
  readonly description: string;
  /** Starts delivering bytes; chunks may be of any size. `onError` reports a source problem
   *  (port vanished, file unreadable) in words for a person; the source may recover by itself. */
  start(onBytes: (bytes: Uint8Array) => void, onError: (message: string) => void): void;
  stop(): void;
}

export interface SerialOptions {
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

export interface TimerHandle {
  readonly id: unknown;
}

export interface Clock {
  /** wall clock, ms since the epoch (may jump: NTP, manual setting) */
  now(): number;
  /** monotonic ms, for intervals and timeouts */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

/** Small named text blobs (config, outbox snapshot). Writes are atomic: all or nothing. */
export interface Storage {
  read(name: string): string | null;
  write(name: string, text: string): void;
  remove(name: string): void;
}

/**
 * A small region with flash semantics, for the consumption history: a raw flash partition on the
 * ESP32 (the SDK's `Flash`), a file of the same size on the host. `write` may only turn 1 bits
 * into 0 bits of bytes erased before (as NOR flash does); `erase` sets one whole sector to 0xFF.
 * Every call is durable when it returns (the host syncs the file), so a power cut loses at most
 * the write in progress; the log on top of it checks each record and skips a torn one.
 */
export interface BlockStore {
  /** bytes per erase sector (4096 on the ESP32) */
  readonly sectorSize: number;
  readonly sectorCount: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, bytes: Uint8Array): void;
  erase(sector: number): void;
}

export interface MqttWill {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
}

export interface MqttConnectOptions {
  host: string;
  port: number;
  tls: boolean;
  clientId: string;
  username?: string;
  password?: string;
  keepaliveSeconds: number;
  will?: MqttWill;
  /** TLS: PEM CA certificate(s) to trust instead of the system's (host only; the ESP32 build ignores it) */
  ca?: string;
  /** TLS: SHA-256 fingerprint (hex pairs with colons) the server certificate must have; any
   *  certificate with it is accepted, self-signed included (host only) */
  fingerprint?: string;
}

export type MqttState = 'connecting' | 'connected' | 'disconnected';

/**
 * An MQTT 3.1.1 client that reconnects by itself with backoff until closed. `publish` resolves
 * when the message is handed to the socket (QoS 0) or acknowledged (QoS 1), and rejects when the
 * connection is down or drops before that: the caller keeps the message and retries.
 */
export interface MqttClient {
  readonly state: MqttState;
  connect(options: MqttConnectOptions): void;
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  onStateChange(listener: (state: MqttState, detail?: string) => void): void;
  close(): Promise<void>;
}

export interface HttpRequestOptions {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** HTTPS: as MqttConnectOptions.ca and .fingerprint (host only) */
  ca?: string;
  fingerprint?: string;
}

export interface HttpResponseData {
  status: number;
  body: string;
}

export interface HttpClient {
  /** Resolves with any HTTP status; rejects on network errors and timeouts, with a message in
   *  words (what failed and what to check), never a bare error code. */
  request(options: HttpRequestOptions): Promise<HttpResponseData>;
}

export interface HttpServerRequest {
  method: string;
  /** path and query, e.g. `/api/reading?x=1` */
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** set when the body exceeded the server's limit and was not read */
  bodyTooLarge?: boolean;
  /** the client's IP address, for the per-address limit of password guesses */
  remoteAddress?: string;
}

export interface HttpServerResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export type HttpHandler = (request: HttpServerRequest) => Promise<HttpServerResponse>;

export interface HttpServer {
  listen(port: number, handler: HttpHandler): Promise<number>;
  close(): Promise<void>;
}

export interface Logger {
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

export interface Hal {
  clock: Clock;
  storage: Storage;
  /** the consumption history's region; null where the platform has none */
  historyStore: BlockStore | null;
  logger: Logger;
  /** AES-GCM: node:crypto on the host, the TypeScript or a native cipher on the device */
  crypto: Crypto;
  /** A byte source for the configured source type (serial port, replay file, simulator). */
  createSource(config: SourceConfig, meterKey: Uint8Array | null): ByteSource;
  createMqttClient(): MqttClient;
  httpClient: HttpClient;
  /** heap figures where the platform knows them */
  memory(): { used: number; total: number } | null;
  /** n cryptographically random bytes (session tokens) */
  randomBytes(n: number): Uint8Array;
  /** restart the device (the host restarts the gateway's pipeline) */
  restart(): void;
}
