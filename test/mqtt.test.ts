/**
 * hal/node/mqtt.ts against a real mosquitto (started by the tests on a free 127.0.0.1 port,
 * never the system service), watched by an independent raw subscriber (test/support/mosquitto.ts,
 * node:net + mqtt-packet, not the client under test).
 *
 * A connection that dies without DISCONNECT is made by reaching into the client instance and
 * destroying its socket (`conn.socket.destroy()`): to the broker that is a TCP close with no
 * DISCONNECT, exactly what a crash or a pulled cable ends in.
 * A hung broker or dead link is a mosquitto stopped with SIGSTOP: its sockets stay open, the
 * kernel still takes the bytes, nothing answers.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient, MqttConnectOptions, MqttState } from '../hal/hal.js';
import { createMqttClient, nextPacketId, retryDelayMs, type NodeMqttClientOptions, type NodeMqttConnectOptions } from '../hal/node/mqtt.js';
import { makeCerts } from './support/certs.js';
import { sleep, startBroker, subscribe, type Broker } from './support/mosquitto.js';

/** short backoff so reconnects happen within the test's time */
const FAST: NodeMqttClientOptions = { backoff: { initialMs: 50, maxMs: 200 }, connectTimeoutMs: 1000 };

const cleanups: (() => Promise<unknown>)[] = [];
/** closes clients, subscribers, brokers of the test even when it fails */
function later<T extends { close(): Promise<unknown> } | { stop(): Promise<unknown> }>(thing: T): T {
  cleanups.push(() => ('close' in thing ? thing.close() : thing.stop()));
  return thing;
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

interface StateEvent {
  state: MqttState;
  detail?: string;
}

/** A client with its state changes recorded, and a way to wait for one. */
function client(opts: NodeMqttClientOptions = FAST) {
  const c = later(createMqttClient(opts));
  const events: StateEvent[] = [];
  const waiters = new Set<() => void>();
  c.onStateChange((state, detail) => {
    events.push(detail === undefined ? { state } : { state, detail });
    for (const w of [...waiters]) w();
  });
  /** the first event at index >= from that matches */
  const until = (match: (e: StateEvent) => boolean, from = 0, timeoutMs = 4000): Promise<StateEvent> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = events.slice(from).find(match);
        if (!hit) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching state change within ${timeoutMs} ms; saw ${JSON.stringify(events.slice(from))}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  const count = (match: (e: StateEvent) => boolean) => events.filter(match).length;
  return { c, events, until, count };
}

let ids = 0;
function options(port: number, extra: Partial<NodeMqttConnectOptions> = {}): NodeMqttConnectOptions {
  return { host: '127.0.0.1', port, tls: false, clientId: `mb-test-${process.pid}-${++ids}`, keepaliveSeconds: 30, ...extra };
}

async function connected(opts: NodeMqttConnectOptions, clientOpts: NodeMqttClientOptions = FAST) {
  const k = client(clientOpts);
  k.c.connect(opts);
  await k.until((e) => e.state === 'connected');
  return k;
}

/** what the test reaches into to kill the TCP connection without DISCONNECT */
function socketOf(c: MqttClient): Socket {
  const conn = (c as unknown as { conn: { socket: Socket } | null }).conn;
  if (!conn) throw new Error('the client has no connection');
  return conn.socket;
}

let certs: ReturnType<typeof makeCerts> | undefined;
/** made once, on first use */
function makeCertsOnce() {
  if (certs === undefined) certs = makeCerts();
  return certs;
}

const isConnected = (e: StateEvent) => e.state === 'connected';
const isDisconnected = (e: StateEvent) => e.state === 'disconnected';

describe('MQTT client against mosquitto', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('delivers QoS 0 and QoS 1 messages with exact topic and payload, many QoS 1 in flight at once', async () => {
    const sub = later(await subscribe(broker.port, 't1/#'));
    const { c } = await connected(options(broker.port));
    await c.publish('t1/zero', 'hällo wörld ⚡ 0', { qos: 0, retain: false });
    await c.publish('t1/one', '{"power_w":1234.5}', { qos: 1, retain: false });
    expect(await sub.waitFor(2)).toEqual([
      { topic: 't1/zero', payload: 'hällo wörld ⚡ 0', retain: false, qos: 0 },
      { topic: 't1/one', payload: '{"power_w":1234.5}', retain: false, qos: 1 },
    ]);
    // 50 QoS 1 publishes before any PUBACK: each resolves on its own PUBACK
    const burst = Array.from({ length: 50 }, (_, i) => c.publish(`t1/burst/${i}`, `m${i}`, { qos: 1, retain: false }));
    await Promise.all(burst);
    const got = (await sub.waitFor(52)).slice(2);
    expect(got.map((m) => m.payload).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
    expect(got.every((m) => m.topic === `t1/burst/${m.payload.slice(1)}`)).toBe(true);
  });

  it('sets the retained flag: a subscriber that connects afterwards gets the message', async () => {
    const { c } = await connected(options(broker.port));
    await c.publish('t2/plain', 'not kept', { qos: 1, retain: false });
    await c.publish('t2/kept', 'kept 42', { qos: 1, retain: true });
    const sub = later(await subscribe(broker.port, 't2/#'));
    await c.publish('t2/marker', 'after subscribing', { qos: 1, retain: false });
    expect(await sub.waitFor(2)).toEqual([
      { topic: 't2/kept', payload: 'kept 42', retain: true, qos: 1 },
      { topic: 't2/marker', payload: 'after subscribing', retain: false, qos: 1 },
    ]);
  });

  it('has its last will published (retained) when the connection dies without DISCONNECT, rejects the in-flight publish, reconnects', async () => {
    const sub = later(await subscribe(broker.port, 't3/status'));
    const will = { topic: 't3/status', payload: 'offline', qos: 1 as const, retain: true };
    const k = await connected(options(broker.port, { will }));
    await k.c.publish('t3/status', 'online', { qos: 1, retain: true });
    await sub.waitFor(1);

    const from = k.events.length;
    // the bytes may reach the broker (at-least-once: the caller retries), the PUBACK cannot be read
    const inFlight = k.c.publish('t3/data', 'in flight', { qos: 1, retain: false });
    socketOf(k.c).destroy();
    await expect(inFlight).rejects.toThrow(/connection to the MQTT broker lost/);
    expect((await sub.waitFor(2, 3000))[1]).toEqual({ topic: 't3/status', payload: 'offline', retain: false, qos: 1 });
    expect(k.events[from]).toMatchObject({ state: 'disconnected', detail: expect.stringMatching(/closed the connection/) });

    // the will was retained: a new subscriber sees it
    const late = later(await subscribe(broker.port, 't3/status'));
    expect((await late.waitFor(1))[0]).toEqual({ topic: 't3/status', payload: 'offline', retain: true, qos: 1 });

    // and the client came back by itself
    await k.until(isConnected, from);
    await k.c.publish('t3/after', 'back', { qos: 1, retain: false });
  });

  it('close() sends DISCONNECT: no will, no more attempts, publish rejects', async () => {
    const sub = later(await subscribe(broker.port, 't4/#'));
    const opts = options(broker.port, { will: { topic: 't4/status', payload: 'offline', qos: 1, retain: true } });
    const k = await connected(opts);
    await k.c.close();
    expect(k.c.state).toBe('disconnected');
    expect(k.events.at(-1)).toEqual({ state: 'disconnected' }); // a wanted close carries no problem detail
    await broker.waitForLog(`Received DISCONNECT from ${opts.clientId}`);

    // close() resolved after the broker closed the socket, so a will would already be queued to
    // the subscriber ahead of this marker from another connection
    const other = await connected(options(broker.port));
    await other.c.publish('t4/marker', 'm', { qos: 1, retain: false });
    expect(await sub.waitFor(1)).toEqual([{ topic: 't4/marker', payload: 'm', retain: false, qos: 1 }]);

    const after = k.events.length;
    await sleep(300); // several backoff periods
    expect(k.events.length).toBe(after);
    await expect(k.c.publish('t4/x', 'y', { qos: 1, retain: false })).rejects.toThrow(/not connected.*closed/);
  });

  it('keepalive 1 s: stays connected over 3 s of idle by PINGREQ/PINGRESP', async () => {
    const opts = options(broker.port, { keepaliveSeconds: 1 });
    const k = await connected(opts);
    const from = k.events.length;
    await sleep(3200);
    expect(k.events.slice(from)).toEqual([]);
    expect(k.c.state).toBe('connected');
    await broker.waitForLog(`Received PINGREQ from ${opts.clientId}`, 3); // at about 1, 2 and 3 s
    const sub = later(await subscribe(broker.port, 't5/#'));
    await k.c.publish('t5/after-idle', 'still here', { qos: 1, retain: false });
    expect(await sub.waitFor(1)).toEqual([{ topic: 't5/after-idle', payload: 'still here', retain: false, qos: 1 }]);
  });

  it('TLS with the broker CA: connects and publishes; without it: a TLS detail and retries', async () => {
    const certs = makeCertsOnce();
    const tlsBroker = later(await startBroker({ tls: { cert: certs.cert, key: certs.key } }));
    const sub = later(await subscribe(tlsBroker.port, 't6/#'));
    const { c } = await connected(options(tlsBroker.tlsPort!, { tls: true, ca: certs.ca }));
    await c.publish('t6/secure', 'over TLS', { qos: 1, retain: false });
    expect(await sub.waitFor(1)).toEqual([{ topic: 't6/secure', payload: 'over TLS', retain: false, qos: 1 }]);

    const untrusted = client();
    untrusted.c.connect(options(tlsBroker.tlsPort!, { tls: true }));
    const e = await untrusted.until(isDisconnected);
    // in words, with what to do, and the code for a search
    expect(e.detail).toMatch(/^127\.0\.0\.1:\d+ has a certificate that no trusted CA signed: enter the CA certificate, or its SHA-256 fingerprint \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
    await untrusted.until((x) => x.state === 'connecting', untrusted.events.indexOf(e) + 1); // and tries again

    // a pinned fingerprint: that certificate is accepted without the CA, any other refused
    const fp = new X509Certificate(certs.cert).fingerprint256;
    const pinned = await connected(options(tlsBroker.tlsPort!, { tls: true, fingerprint: fp }));
    await pinned.c.publish('t6/pinned', 'pinned', { qos: 1, retain: false });
    expect((await sub.waitFor(2))[1]).toMatchObject({ topic: 't6/pinned', payload: 'pinned' });
    const wrong = client();
    wrong.c.connect(options(tlsBroker.tlsPort!, { tls: true, fingerprint: 'AB:'.repeat(31) + 'AB', username: 'u', password: 'never sent' }));
    const w = await wrong.until(isDisconnected);
    expect(w.detail).toBe(`the certificate of 127.0.0.1:${tlsBroker.tlsPort} is not the pinned one: its SHA-256 fingerprint is ${fp}; if the server got a new certificate, enter this fingerprint`);
  });
});

describe('MQTT client: user name and password', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker({ users: { meter: 's3cret pass', other: 'x' } });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('connects with the right user name and password', async () => {
    const { c } = await connected(options(broker.port, { username: 'meter', password: 's3cret pass' }));
    await c.publish('auth/ok', 'yes', { qos: 1, retain: false }); // PUBACK came back
  });

  it('a wrong password is "not authorised", and it keeps retrying without throwing', async () => {
    const k = client();
    k.c.connect(options(broker.port, { username: 'meter', password: 'wrong' }));
    const first = await k.until(isDisconnected);
    expect(first.detail).toBe('not authorised: check the MQTT user name and password');
    expect(k.events[0]).toEqual({ state: 'connecting' });
    // three refusals in a row: it retried twice by itself
    await k.until((e) => isDisconnected(e) && k.count(isDisconnected) >= 3);
    expect(k.count((e) => e.state === 'connecting')).toBeGreaterThanOrEqual(3);
    expect(k.count(isConnected)).toBe(0);
    await expect(k.c.publish('auth/no', 'x', { qos: 1, retain: false })).rejects.toThrow(/not connected to the MQTT broker/);
    await k.c.close();
    const after = k.events.length;
    await sleep(250);
    expect(k.events.length).toBe(after);
  });
});

describe('MQTT client: broker outages', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('broker stopped: publish rejects and state is disconnected; broker restarted: reconnects by itself and publishes', async () => {
    const k = await connected(options(broker.port));
    const from = k.events.length;
    await broker.stop();
    expect(await k.until(isDisconnected, from)).toMatchObject({ detail: expect.stringMatching(/closed the connection/) });
    await expect(k.c.publish('t7/down', 'x', { qos: 1, retain: false })).rejects.toThrow(/not connected to the MQTT broker/);
    await expect(k.c.publish('t7/down', 'x', { qos: 0, retain: false })).rejects.toThrow(/not connected to the MQTT broker/);
    // it keeps trying while the broker is away
    await k.until((e) => isDisconnected(e) && /connection refused by 127\.0\.0\.1:\d+/.test(e.detail ?? ''), from);

    const down = k.events.length;
    await broker.restart();
    await k.until(isConnected, down);
    const sub = later(await subscribe(broker.port, 't7/#'));
    await k.c.publish('t7/up', 'back again', { qos: 1, retain: false });
    expect(await sub.waitFor(1)).toEqual([{ topic: 't7/up', payload: 'back again', retain: false, qos: 1 }]);
  });

  it('a broker that stops answering (no PINGRESP) is detected within two keepalives, and the client recovers', async () => {
    const k = await connected(options(broker.port, { keepaliveSeconds: 1 }), { ...FAST, connectTimeoutMs: 400 });
    const from = k.events.length;
    const t0 = Date.now();
    broker.pause();
    try {
      const e = await k.until(isDisconnected, from, 3500);
      expect(e.detail).toMatch(/no PINGRESP from 127\.0\.0\.1:\d+ within 1 s/);
      expect(Date.now() - t0).toBeLessThan(2900); // two keepalives and some slack
      // while it hangs, attempts end at the connect timeout
      await k.until((x) => isDisconnected(x) && /within 400 ms/.test(x.detail ?? ''), from);
    } finally {
      broker.resume();
    }
    await k.until(isConnected, from);
  });
});

/** A stand-in broker for what mosquitto will not do on demand: refusal codes, silence. */
async function fakeBroker(onConnect: (socket: Socket) => void): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const p = mqttParser({ protocolVersion: 4 });
    p.on('packet', (packet: Packet) => packet.cmd === 'connect' && onConnect(socket));
    socket.on('data', (b: Buffer) => p.parse(b));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('MQTT client: refusals, timeouts, settings', () => {
  it('turns every CONNACK return code into words for a person', async () => {
    let code = 0;
    const fake = later(await fakeBroker((s) => s.write(generate({ cmd: 'connack', returnCode: code, sessionPresent: false }))));
    const expected: Record<number, RegExp> = {
      1: /^unacceptable protocol version/,
      2: /^identifier rejected: .*"the-id"/,
      3: /^server unavailable/,
      4: /^not authorised: bad user name or password/,
      5: /^not authorised: check the MQTT user name and password$/,
    };
    for (code = 1; code <= 5; code++) {
      const k = client();
      k.c.connect(options(fake.port, { clientId: 'the-id' }));
      expect((await k.until(isDisconnected)).detail).toMatch(expected[code]);
      await k.c.close();
    }
  });

  it('gives up an attempt at connectTimeoutMs when the server never sends CONNACK, and retries', async () => {
    const fake = later(await fakeBroker(() => {}));
    const k = client({ backoff: { initialMs: 20, maxMs: 40 }, connectTimeoutMs: 150 });
    k.c.connect(options(fake.port));
    const e = await k.until(isDisconnected);
    expect(e.detail).toBe(`no answer from 127.0.0.1:${fake.port} within 150 ms (the broker did not send CONNACK)`);
    await k.until((x) => x.state === 'connecting', k.events.indexOf(e) + 1);
  });

  it('reports settings it cannot use without throwing or retrying', async () => {
    const k = client();
    const bad = { ...options(1883), password: 'p' } as MqttConnectOptions;
    expect(() => k.c.connect(bad)).not.toThrow();
    expect(k.events).toEqual([{ state: 'disconnected', detail: 'MQTT settings: a password is set without a user name (MQTT 3.1.1 needs both)' }]);
    await sleep(120);
    expect(k.events).toHaveLength(1);
  });

  it('rejects a publish before connect() and to a topic with wildcards', async () => {
    const fake = later(await fakeBroker((s) => s.write(generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))));
    const k = client();
    await expect(k.c.publish('a/b', 'x', { qos: 0, retain: false })).rejects.toThrow(/not connected to the MQTT broker \(disconnected\)/);
    k.c.connect(options(fake.port));
    await k.until(isConnected);
    await expect(k.c.publish('a/+/b', 'x', { qos: 1, retain: false })).rejects.toThrow(/wildcard/);
    await expect(k.c.publish('', 'x', { qos: 1, retain: false })).rejects.toThrow(/topic is empty/);
  });

  it('backs off exponentially with jitter: initial doubling to the maximum', () => {
    const b = { initialMs: 1000, maxMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((n) => retryDelayMs(n, b, () => 1))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect([0, 1, 5].map((n) => retryDelayMs(n, b, () => 0))).toEqual([500, 1000, 15000]);
  });

  it('numbers packets 1..65535, wrapping and skipping identifiers still in flight', () => {
    expect(nextPacketId(0, new Set())).toBe(1);
    expect(nextPacketId(65534, new Set())).toBe(65535);
    expect(nextPacketId(65535, new Set())).toBe(1);
    expect(nextPacketId(65535, new Set([1, 2]))).toBe(3);
    const full = new Set(Array.from({ length: 65535 }, (_, i) => i + 1));
    expect(nextPacketId(7, full)).toBe(0);
  });
});
