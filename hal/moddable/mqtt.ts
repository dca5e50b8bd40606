/**
 * The HAL MqttClient over the SDK's legacy `mqtt` client (modules/network/mqtt/mqtt.js).
 *
 * What that client can do decides what this one promises:
 * - QoS 0 only. It writes the QoS bits of PUBLISH but never waits for or resends on PUBACK, so a
 *   QoS 1 request here is sent as QoS 0: publish resolves once the message is written to the TCP
 *   socket (a synchronous copy into lwIP) and rejects when the write throws (send buffer full:
 *   8192 bytes on ESP32, 5744 on ESP32-C3/S3, CONFIG_LWIP_TCP_SND_BUF_DEFAULT) or when not
 *   connected. A message larger than the send buffer can never be sent.
 * - The will is fully supported: topic, message, retain and its QoS (the broker publishes it, so
 *   the will's QoS 1 holds). The retained `<base>/status` "online"/"offline" of the publisher
 *   therefore works; "online" itself goes out at QoS 0, retained.
 * - No reconnect: the SDK client calls onClose once (socket error, keepalive timeout, CONNACK
 *   refusal, broker disconnect) and is dead. This class creates a new SDK client after an
 *   exponential backoff with jitter (1 s doubling to 60 s), until close().
 * - No TLS in this build (no `securesocket` in manifest.json: flash, ~16 KB of RAM during the
 *   handshake, and a handshake blocks JS for seconds, which overflows the meter UART's FIFO).
 *   `tls: true` is reported as a settings problem.
 * - Clean session always; this gateway never subscribes.
 *
 *             connect()                 onReady (CONNACK 0)
 *   disconnected ──────► connecting ───────────────────────► connected
 *        ▲  ▲                │ fail / 15 s without CONNACK       │ onClose (fail)
 *        │  └── backoff ─────┴───────────────────────────────────┘
 *        └── close(): DISCONNECT (the broker discards the will), no more attempts
 */
import Client from 'mqtt';
import Timer from 'timer';
import type { Logger, MqttClient, MqttConnectOptions, MqttState } from '../hal.js';
import { connackMessage } from '../../firmware/publish/mqtt-connack.js';

const CONNECT_TIMEOUT_MS = 15_000;
const BACKOFF_INITIAL_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

/** The SDK client, with the reason of its failure kept (fail() is the one path to onClose). */
class SdkClient extends Client {
  failure: string | null = null;

  override fail(message?: string): void {
    if (this.failure === null) this.failure = message ?? '';
    super.fail(message);
  }
}

/** The wait before attempt number `failures` (1 = the first retry): capped doubling, equal jitter. */
export function backoffMs(failures: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(Math.max(failures - 1, 0), 16));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.random());
}

/** The SDK's failure texts in words; it reports a CONNACK refusal as "server rejected mqtt request with code N". */
function describeFailure(raw: string, where: string, clientId: string, wasConnected: boolean): string {
  const m = /code (\d+)/.exec(raw);
  if (raw.startsWith('server rejected') && m) {
    return connackMessage(Number(m[1]), clientId);
  }
  if (raw.startsWith('socket error')) {
    return wasConnected
      ? `the connection to ${where} was closed or lost (${raw})`
      : `cannot reach ${where}: no broker at that address and port, or the host name does not resolve (${raw})`;
  }
  if (raw === 'read time out') return `no answer from ${where} within 1.5 keepalive intervals: the connection is presumed dead`;
  if (raw === '') return `the broker at ${where} closed the connection`;
  return `connection to ${where} failed: ${raw}`;
}

function settingsProblem(o: MqttConnectOptions): string | null {
  if (o.tls) return 'TLS is not available in the device build: use a broker port without TLS in the home network (e.g. 1883)';
  if (!o.host) return 'host is empty';
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) return `port ${o.port} is not a port number (1..65535)`;
  if (!Number.isInteger(o.keepaliveSeconds) || o.keepaliveSeconds < 0 || o.keepaliveSeconds > 65535) return `keepalive ${o.keepaliveSeconds} s is not 0..65535 s`;
  if (o.password !== undefined && o.username === undefined) return 'a password is set without a user name (MQTT 3.1.1 needs both)';
  return null;
}

export class ModdableMqttClient implements MqttClient {
  private currentState: MqttState = 'disconnected';
  private readonly listeners: ((state: MqttState, detail?: string) => void)[] = [];
  private options: MqttConnectOptions | null = null;
  private client: SdkClient | null = null;
  private connected = false;
  private connectTimer: Timer | undefined;
  private retryTimer: Timer | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly logger: Logger) {}

  get state(): MqttState {
    return this.currentState;
  }

  onStateChange(listener: (state: MqttState, detail?: string) => void): void {
    this.listeners.push(listener);
  }

  connect(options: MqttConnectOptions): void {
    this.closed = false;
    this.failures = 0;
    this.cancelRetry();
    this.drop(false);
    const problem = settingsProblem(options);
    if (problem) {
      this.options = null;
      this.setState('disconnected', `MQTT settings: ${problem}`);
      return;
    }
    this.options = { ...options };
    this.attempt();
  }

  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const c = this.client;
    if (!c || !this.connected) return Promise.reject(new Error(`not connected to the MQTT broker (${this.closed ? 'the client is closed' : this.currentState})`));
    if (topic === '' || /[+#\u0000]/.test(topic)) return Promise.reject(new Error(`cannot publish to "${topic}": empty, or a wildcard (+ #) or NUL in the topic`));
    try {
      // QoS 1 is sent as QoS 0: the SDK client has no PUBACK handling (see the header)
      c.publish(topic, payload, { retain: options.retain });
    } catch (e) {
      return Promise.reject(new Error(`MQTT message not sent: ${(e as Error).message}`));
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    this.cancelRetry();
    this.drop(true);
    this.setState('disconnected');
    return Promise.resolve();
  }

  private attempt(): void {
    const o = this.options;
    if (!o || this.closed) return;
    const where = `${o.host}:${o.port}`;
    this.setState('connecting');
    let c: SdkClient;
    try {
      c = new SdkClient({
        host: o.host,
        port: o.port,
        id: o.clientId,
        user: o.username,
        password: o.password,
        timeout: o.keepaliveSeconds * 1000,
        will: o.will ? { topic: o.will.topic, message: o.will.payload, retain: o.will.retain, quality: o.will.qos } : undefined,
      });
    } catch (e) {
      this.lost(null, `connection to ${where} failed: ${(e as Error).message}`);
      return;
    }
    this.client = c;
    this.connected = false;
    c.onReady = () => {
      if (this.client !== c) return;
      if (this.connectTimer) Timer.clear(this.connectTimer);
      this.connectTimer = undefined;
      this.connected = true;
      this.failures = 0;
      this.logger.log('debug', `mqtt: connected to ${where}`);
      this.setState('connected');
    };
    c.onClose = () => {
      if (this.client !== c) return;
      this.lost(c, describeFailure(c.failure ?? '', where, o.clientId, this.connected));
    };
    this.connectTimer = Timer.set(() => {
      this.connectTimer = undefined;
      if (this.client === c && !this.connected) this.lost(c, `no CONNACK from ${where} within ${CONNECT_TIMEOUT_MS / 1000} s`);
    }, CONNECT_TIMEOUT_MS);
  }

  /** The connection is over: report it once and try again after the backoff. */
  private lost(c: SdkClient | null, detail: string): void {
    if (c && this.client !== c) return;
    this.drop(false);
    this.failures++;
    this.setState('disconnected', detail);
    if (this.closed || !this.options || this.retryTimer) return;
    const delay = backoffMs(this.failures);
    this.logger.log('debug', `mqtt: next attempt in ${delay} ms`);
    this.retryTimer = Timer.set(() => {
      this.retryTimer = undefined;
      this.attempt();
    }, delay);
  }

  /** Forgets the current SDK client; with `graceful` it sends DISCONNECT first. */
  private drop(graceful: boolean): void {
    if (this.connectTimer) Timer.clear(this.connectTimer);
    this.connectTimer = undefined;
    const c = this.client;
    this.client = null;
    this.connected = false;
    if (!c) return;
    c.onReady = undefined;
    c.onClose = undefined;
    try {
      c.close(!graceful);
    } catch {
      // the socket was already gone
    }
  }

  private cancelRetry(): void {
    if (this.retryTimer) Timer.clear(this.retryTimer);
    this.retryTimer = undefined;
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
