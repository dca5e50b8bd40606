/**
 * The host's MQTT 3.1.1 client (HAL `MqttClient`): node:net, or node:tls when `tls` is set, with
 * mqtt-packet's parser and generator for the bytes.
 *
 * It knows connections, CONNECT/CONNACK, PUBLISH at QoS 0 and 1, PUBACK, PINGREQ/PINGRESP and
 * DISCONNECT. It does not know topics, templates or the outbox: it never queues a message beyond
 * the ones in flight on the current connection, and a message that fails is the caller's to
 * retry. It never subscribes (clean session), so the broker only sends CONNACK, PUBACK and
 * PINGRESP.
 *
 *                connect()                  CONNACK 0
 *   disconnected ---------> connecting ------------------> connected
 *        ^  ^                   |                              |
 *        |  +-- backoff timer --+ refused, error, timeout      | closed, error, no PINGRESP
 *        |  +--------------------------------------------------+
 *        +-- close(): DISCONNECT (the broker drops the will), no more retries
 *
 * Every failure becomes onStateChange('disconnected', detail-for-a-person) and a retry after an
 * exponential backoff with jitter; nothing throws out of the client.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { generate, parser as createParser, type Packet } from 'mqtt-packet';
import type { Logger, MqttClient, MqttConnectOptions, MqttState } from '../hal.js';
import { connackMessage } from '../../firmware/publish/mqtt-connack.js';
import { describeNetError, pinProblem, tlsOptions } from './tls.js';

/** Host-only extras for TLS; the HAL's options stay as they are. */
export interface NodeMqttConnectOptions extends MqttConnectOptions {
  /** default true; false accepts any certificate */
  rejectUnauthorized?: boolean;
}

export interface MqttBackoff {
  initialMs: number;
  maxMs: number;
}

export interface NodeMqttClientOptions {
  logger?: Logger;
  /** from the start of an attempt to the CONNACK, TCP and TLS included */
  connectTimeoutMs?: number;
  backoff?: MqttBackoff;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_BACKOFF: MqttBackoff = Object.freeze({ initialMs: 1000, maxMs: 30_000 });

/** MQTT 3.1.1 §3.1.2.2: protocol level 4 */
const PROTOCOL_LEVEL = 4;
/** §2.3.1: packet identifiers are 1..65535 */
const MAX_PACKET_ID = 0xffff;
/** §1.5.3: UTF-8 strings carry a 2-byte length */
const MAX_STRING_BYTES = 0xffff;
/** §3.1.2.10: the keepalive is a 16-bit number of seconds */
const MAX_KEEPALIVE_S = 0xffff;
/** bytes the socket may hold unsent before publish refuses more: no unbounded buffers */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** bytes the parser may hold for one incoming packet; the broker only sends tiny ones */
const MAX_INCOMING_BYTES = 64 * 1024;
/** how long close() waits for the broker to close the socket after DISCONNECT */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * The wait before retry number `failures` (0 = the first retry after a success):
 * initialMs doubling up to maxMs, then "equal jitter", a random point in the upper half, so
 * gateways restarted together do not reconnect in step.
 */
export function retryDelayMs(failures: number, backoff: MqttBackoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The next free packet identifier after `last`, 1..65535 wrapping, or 0 when all are in flight. */
export function nextPacketId(last: number, inFlight: { has(id: number): boolean; readonly size: number }): number {
  if (inFlight.size >= MAX_PACKET_ID) return 0;
  let id = last;
  for (;;) {
    id = id >= MAX_PACKET_ID ? 1 : id + 1;
    if (!inFlight.has(id)) return id;
  }
}

/** why a topic name cannot be published to (§4.7), or null */
function topicProblem(topic: string): string | null {
  if (topic.length === 0) return 'the topic is empty';
  if (/[+#\u0000]/.test(topic)) return `the topic "${topic}" contains a wildcard (+ or #) or a NUL character`;
  if (Buffer.byteLength(topic) > MAX_STRING_BYTES) return 'the topic is longer than 65535 bytes';
  return null;
}

function settingsProblem(o: MqttConnectOptions): string | null {
  if (typeof o.host !== 'string' || o.host.length === 0) return 'host is empty';
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) return `port ${o.port} is not a port number (1..65535)`;
  if (!Number.isInteger(o.keepaliveSeconds) || o.keepaliveSeconds < 0 || o.keepaliveSeconds > MAX_KEEPALIVE_S) {
    return `keepalive ${o.keepaliveSeconds} s is not 0..65535 s`;
  }
  if (Buffer.byteLength(o.clientId ?? '') > MAX_STRING_BYTES) return 'the client id is longer than 65535 bytes';
  if (o.password !== undefined && o.username === undefined) return 'a password is set without a user name (MQTT 3.1.1 needs both)';
  if (o.will) {
    const p = topicProblem(o.will.topic);
    if (p) return `last will: ${p}`;
  }
  return null;
}

function describeSocketError(err: NodeJS.ErrnoException, host: string, where: string): string {
  if (err.code === 'ECONNREFUSED') return `connection refused by ${where}: is the broker running, and is this its port?`;
  return describeNetError(err, host, where);
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** One connection attempt and, after CONNACK, one connection: its socket, parser and timers. */
interface Connection {
  socket: Socket;
  where: string;
  /** TCP (and TLS) up and CONNECT written */
  established: boolean;
  /** CONNACK 0 received */
  connected: boolean;
  dead: boolean;
  connectTimer: ReturnType<typeof setTimeout> | null;
  keepaliveTimer: ReturnType<typeof setInterval> | null;
  pingOutstanding: boolean;
  /** QoS 1 publishes awaiting PUBACK, by packet identifier */
  inFlight: Map<number, Pending>;
  /** QoS 0 publishes awaiting the socket's write callback */
  unsent: Set<Pending>;
}

const silent: Logger = { log() {} };

export class NodeMqttClient implements MqttClient {
  private currentState: MqttState = 'disconnected';
  private readonly listeners: ((state: MqttState, detail?: string) => void)[] = [];
  private options: NodeMqttConnectOptions | null = null;
  private conn: Connection | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** failed attempts since the last CONNACK 0: the backoff exponent */
  private failures = 0;
  private lastPacketId = 0;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly logger: Logger;
  private readonly connectTimeoutMs: number;
  private readonly backoff: MqttBackoff;

  constructor(opts: NodeMqttClientOptions = {}) {
    this.logger = opts.logger ?? silent;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    if (!(this.connectTimeoutMs > 0)) throw new Error(`connectTimeoutMs must be positive, not ${this.connectTimeoutMs}`);
    if (!(this.backoff.initialMs > 0 && this.backoff.maxMs >= this.backoff.initialMs)) {
      throw new Error(`backoff needs 0 < initialMs <= maxMs, not ${JSON.stringify(this.backoff)}`);
    }
  }

  get state(): MqttState {
    return this.currentState;
  }

  onStateChange(listener: (state: MqttState, detail?: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Starts connecting and keeps the connection up until close(). Calling it again replaces the
   * settings: the current connection is ended with DISCONNECT and a new one started at once.
   */
  connect(options: MqttConnectOptions): void {
    const problem = settingsProblem(options);
    this.closed = false;
    this.failures = 0;
    this.cancelRetry();
    const old = this.conn;
    if (old) {
      this.conn = null;
      this.finish(old, 'the MQTT settings changed');
      if (old.established) old.socket.end(generate({ cmd: 'disconnect' }));
      else old.socket.destroy();
    }
    this.options = { ...options };
    if (problem) {
      // a settings error: retrying cannot help, so say so and wait for new settings
      this.options = null;
      this.setState('disconnected', `MQTT settings: ${problem}`);
      return;
    }
    this.attempt();
  }

  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const conn = this.conn;
    if (!conn || !conn.connected) {
      return Promise.reject(new Error(`not connected to the MQTT broker (${this.closed ? 'the client is closed' : this.currentState})`));
    }
    const problem = topicProblem(topic);
    if (problem) return Promise.reject(new Error(`cannot publish: ${problem}`));
    if (conn.socket.writableLength > MAX_UNSENT_BYTES) {
      return Promise.reject(new Error(`the connection to the MQTT broker is backed up: ${conn.socket.writableLength} bytes not yet sent`));
    }
    const qos = options.qos === 1 ? 1 : 0;
    let messageId: number | undefined;
    if (qos === 1) {
      messageId = nextPacketId(this.lastPacketId, conn.inFlight);
      if (messageId === 0) return Promise.reject(new Error(`${MAX_PACKET_ID} messages already await a PUBACK`));
      this.lastPacketId = messageId;
    }
    let bytes: Buffer;
    try {
      bytes = generate({ cmd: 'publish', topic, payload: Buffer.from(payload, 'utf8'), qos, retain: options.retain, dup: false, messageId });
    } catch (e) {
      return Promise.reject(new Error(`cannot publish: ${(e as Error).message}`));
    }
    return new Promise<void>((resolve, reject) => {
      if (messageId !== undefined) {
        conn.inFlight.set(messageId, { resolve, reject });
        conn.socket.write(bytes); // a write error closes the socket, which rejects the in-flight ones
        return;
      }
      const pending: Pending = { resolve, reject };
      conn.unsent.add(pending);
      conn.socket.write(bytes, (err) => {
        if (!conn.unsent.delete(pending)) return; // already rejected by the drop
        if (err) reject(new Error(`MQTT message not sent: ${err.message}`));
        else resolve();
      });
    });
  }

  /** Sends DISCONNECT (so the broker discards the will), stops retrying, resolves once the socket is closed. */
  close(): Promise<void> {
    this.closed = true;
    this.cancelRetry();
    if (this.closing) return this.closing;
    const conn = this.conn;
    this.conn = null;
    if (!conn) {
      this.setState('disconnected');
      return Promise.resolve();
    }
    this.finish(conn, 'the MQTT client was closed');
    this.closing = new Promise<void>((resolve) => {
      const socket = conn.socket;
      const done = () => {
        clearTimeout(timer);
        this.closing = null;
        if (!this.conn) this.setState('disconnected'); // unless connect() was called meanwhile
        resolve();
      };
      const timer = setTimeout(() => socket.destroy(), CLOSE_TIMEOUT_MS);
      if (socket.closed) return done();
      socket.once('close', done);
      if (conn.established && !socket.destroyed) socket.end(generate({ cmd: 'disconnect' }));
      else socket.destroy();
    });
    return this.closing;
  }

  private attempt(): void {
    const o = this.options;
    if (!o || this.closed) return;
    const where = `${o.host}:${o.port}`;
    this.logger.log('debug', `mqtt: connecting to ${where}${o.tls ? ' (TLS)' : ''}`);
    this.setState('connecting');
    let socket: Socket;
    try {
      socket = o.tls
        ? tlsConnect({
            host: o.host,
            port: o.port,
            servername: isIP(o.host) ? undefined : o.host,
            ...tlsOptions(o),
            ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
          })
        : netConnect({ host: o.host, port: o.port });
    } catch (e) {
      // e.g. a malformed host; retrying is pointless but harmless, and keeps one code path
      this.failures++;
      this.setState('disconnected', `connection to ${where} failed: ${(e as Error).message}`);
      this.scheduleRetry();
      return;
    }
    const conn: Connection = {
      socket,
      where,
      established: false,
      connected: false,
      dead: false,
      connectTimer: null,
      keepaliveTimer: null,
      pingOutstanding: false,
      inFlight: new Map(),
      unsent: new Set(),
    };
    this.conn = conn;
    const parser = createParser({ protocolVersion: PROTOCOL_LEVEL });

    conn.connectTimer = setTimeout(
      () => this.lost(conn, `no answer from ${where} within ${this.connectTimeoutMs} ms${conn.established ? ' (the broker did not send CONNACK)' : ''}`),
      this.connectTimeoutMs,
    );
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => this.lost(conn, describeSocketError(err, o.host, where)));
    socket.on('close', () =>
      this.lost(conn, conn.connected ? `the broker at ${where} closed the connection` : `the broker at ${where} closed the connection before CONNACK`),
    );
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      if (conn.dead) return;
      const pin = o.tls ? pinProblem(socket as TLSSocket, o, where) : null;
      if (pin) return this.lost(conn, pin);
      try {
        socket.write(
          generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: PROTOCOL_LEVEL,
            clean: true,
            clientId: o.clientId ?? '',
            keepalive: o.keepaliveSeconds,
            username: o.username,
            password: o.password === undefined ? undefined : Buffer.from(o.password, 'utf8'),
            will: o.will ? { topic: o.will.topic, payload: Buffer.from(o.will.payload, 'utf8'), qos: o.will.qos, retain: o.will.retain } : undefined,
          }),
        );
      } catch (e) {
        this.lost(conn, `MQTT settings: ${(e as Error).message}`);
        return;
      }
      conn.established = true;
    });
    parser.on('packet', (packet: Packet) => this.receive(conn, packet));
    parser.on('error', (err: Error) => this.lost(conn, `the broker at ${where} sent a malformed packet: ${err.message}`));
    socket.on('data', (bytes: Buffer) => {
      if (conn.dead) return;
      const held = parser.parse(bytes);
      if (held > MAX_INCOMING_BYTES) this.lost(conn, `the broker at ${where} sent a packet larger than ${MAX_INCOMING_BYTES} bytes`);
    });
  }

  private receive(conn: Connection, packet: Packet): void {
    if (conn.dead) return;
    if (!conn.connected) {
      if (packet.cmd !== 'connack') return this.lost(conn, `the broker at ${conn.where} sent ${packet.cmd.toUpperCase()} before CONNACK`);
      const code = packet.returnCode ?? 0;
      if (code !== 0) return this.lost(conn, connackMessage(code, this.options?.clientId ?? ''));
      conn.connected = true;
      this.failures = 0;
      if (conn.connectTimer) clearTimeout(conn.connectTimer);
      conn.connectTimer = null;
      const keepaliveMs = (this.options?.keepaliveSeconds ?? 0) * 1000;
      if (keepaliveMs > 0) conn.keepaliveTimer = setInterval(() => this.keepalive(conn, keepaliveMs), keepaliveMs);
      this.logger.log('debug', `mqtt: connected to ${conn.where}`);
      this.setState('connected');
      return;
    }
    switch (packet.cmd) {
      case 'puback': {
        const id = packet.messageId ?? 0;
        const pending = conn.inFlight.get(id);
        if (!pending) return this.logger.log('debug', `mqtt: PUBACK for packet ${id}, which is not in flight`);
        conn.inFlight.delete(id);
        pending.resolve();
        return;
      }
      case 'pingresp':
        conn.pingOutstanding = false;
        return;
      case 'publish':
        // never subscribed, so not expected; acknowledge so the broker does not resend it forever
        if (packet.qos === 1) conn.socket.write(generate({ cmd: 'puback', messageId: packet.messageId }));
        return;
      default:
        this.logger.log('debug', `mqtt: ignored ${packet.cmd.toUpperCase()} from ${conn.where}`);
    }
  }

  /** §3.1.2.10: a PINGREQ every keepalive; no PINGRESP by the next tick means the link is dead. */
  private keepalive(conn: Connection, keepaliveMs: number): void {
    if (conn.dead) return;
    if (conn.pingOutstanding) {
      this.lost(conn, `no PINGRESP from ${conn.where} within ${keepaliveMs / 1000} s: the connection is presumed dead`);
      return;
    }
    conn.pingOutstanding = true;
    conn.socket.write(generate({ cmd: 'pingreq' }));
  }

  /** The connection is over, by error, close, refusal or timeout: report it once and retry. */
  private lost(conn: Connection, detail: string): void {
    if (conn.dead) return;
    this.finish(conn, `connection to the MQTT broker lost: ${detail}`);
    conn.socket.destroy();
    if (this.conn !== conn) return; // replaced by connect() or taken by close()
    this.conn = null;
    this.failures++;
    this.setState('disconnected', detail);
    this.scheduleRetry();
  }

  /** Marks the connection dead, stops its timers, rejects everything still pending on it. */
  private finish(conn: Connection, reason: string): void {
    conn.dead = true;
    if (conn.connectTimer) clearTimeout(conn.connectTimer);
    if (conn.keepaliveTimer) clearInterval(conn.keepaliveTimer);
    conn.connectTimer = null;
    conn.keepaliveTimer = null;
    const pending = [...conn.inFlight.values(), ...conn.unsent];
    conn.inFlight.clear();
    conn.unsent.clear();
    for (const p of pending) p.reject(new Error(reason));
  }

  private scheduleRetry(): void {
    if (this.closed || !this.options || this.retryTimer) return;
    const delay = retryDelayMs(this.failures - 1, this.backoff);
    this.logger.log('debug', `mqtt: next attempt in ${delay} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.attempt();
    }, delay);
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: MqttState, detail?: string): void {
    if (state === this.currentState && detail === undefined) return;
    this.currentState = state;
    for (const listener of this.listeners) {
      try {
        listener(state, detail);
      } catch (e) {
        this.logger.log('error', `mqtt: a state listener threw: ${(e as Error).message}`);
      }
    }
  }
}

export function createMqttClient(opts: NodeMqttClientOptions = {}): MqttClient {
  return new NodeMqttClient(opts);
}
