/**
 * Test support: a private mosquitto broker per test file, and a raw MQTT 3.1.1 subscriber.
 *
 * The broker runs from a fresh temp dir on a free 127.0.0.1 port, never the system service.
 * The subscriber is built directly on node:net + mqtt-packet, not on hal/node/mqtt.ts, so the
 * client's tests do not test the client with itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { requireTool } from './tools.js';

const MOSQUITTO = findBinary('mosquitto', ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']);
const MOSQUITTO_PASSWD = findBinary('mosquitto_passwd', ['/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd']);
const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 2000;
/** the broker's stderr kept for failure messages: the last this many characters */
const LOG_LIMIT = 64 * 1024;

function findBinary(name: string, candidates: string[]): string {
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = which.stdout.trim();
  if (which.status === 0 && found) return found;
  for (const c of candidates) {
    if (spawnSync('test', ['-x', c]).status === 0) return c;
  }
  return name; // spawn will report ENOENT with the name
}

/** brokers still running, killed if the test process exits without stopping them */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface BrokerTls {
  /** PEM server certificate (signed by a CA the client is given) and its key */
  cert: string;
  key: string;
}

export interface Broker {
  port: number;
  url: string;
  /** the broker's stderr so far (last 64 KiB): log_type all, so every packet is listed */
  log(): string;
  /** resolves once `text` occurs `count` times in the log (its pipe may lag the sockets a little) */
  waitForLog(text: string, count?: number, timeoutMs?: number): Promise<void>;
  /** the TLS listener's port when started with `tls` (the plain one stays on `port`) */
  tlsPort: number | null;
  /** SIGSTOP / SIGCONT: the broker keeps its sockets but answers nothing (a hung broker or a dead link) */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

export async function startBroker(opts: { users?: Record<string, string>; tls?: BrokerTls; persistent?: boolean } = {}): Promise<Broker> {
  requireTool('mosquitto');
  let port = await freePort();
  // persistent: sessions and queued QoS 1 messages survive stop()/restart() (saved on SIGTERM)
  const dbDir = opts.persistent ? mkdtempSync(join(tmpdir(), 'meterbridge-mosquitto-db-')) : null;
  /** a second free port, never the first one again */
  const otherPort = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (p !== port) return p;
    }
  };
  let tlsPort = opts.tls ? await otherPort() : null;
  let dir: string | null = null;
  let child: ChildProcess | null = null;
  let log = '';

  const writeConfig = (): string => {
    dir = mkdtempSync(join(tmpdir(), 'meterbridge-mosquitto-'));
    const lines = [`listener ${port} 127.0.0.1`, 'log_dest stderr', 'log_type all', 'log_timestamp false'];
    lines.push(...(dbDir ? ['persistence true', `persistence_location ${dbDir}/`] : ['persistence false']));
    const users = Object.entries(opts.users ?? {});
    if (users.length > 0) {
      const passwordFile = join(dir, 'passwd');
      users.forEach(([user, password], i) => {
        const args = i === 0 ? ['-b', '-c', passwordFile, user, password] : ['-b', passwordFile, user, password];
        const r = spawnSync(MOSQUITTO_PASSWD, args, { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.error?.message ?? r.stderr}`);
      });
      lines.push('allow_anonymous false', `password_file ${passwordFile}`);
    } else {
      lines.push('allow_anonymous true');
    }
    if (opts.tls && tlsPort) {
      writeFileSync(join(dir, 'server.crt'), opts.tls.cert);
      writeFileSync(join(dir, 'server.key'), opts.tls.key);
      // certfile/keyfile belong to the listener above them
      lines.push(`listener ${tlsPort} 127.0.0.1`, `certfile ${join(dir, 'server.crt')}`, `keyfile ${join(dir, 'server.key')}`);
    }
    // started as root, mosquitto drops to its own user unless told otherwise; it must read our files
    if (process.getuid?.() === 0) lines.push('user root');
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, lines.join('\n') + '\n');
    return conf;
  };

  const removeDir = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  };

  const start = async (): Promise<void> => {
    const conf = writeConfig();
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    live.add(proc);
    let exited: string | null = null;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (text: string) => {
      log += text;
      if (log.length > LOG_LIMIT) log = log.slice(log.length - LOG_LIMIT);
    });
    proc.once('error', (e) => (exited = `could not start ${MOSQUITTO}: ${e.message}`));
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      exited = `mosquitto exited (${signal ?? `code ${code}`})`;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        removeDir();
        throw new Error(`${exited}:\n${log}`);
      }
      if ((await accepts(port)) && (tlsPort === null || (await accepts(tlsPort)))) return;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${log}`);
      }
      await sleep(25);
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGCONT'); // in case a test paused it
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await gone;
      clearTimeout(timer);
    }
    removeDir();
  };

  // a free port can be taken by a parallel test file between the probe and mosquitto's bind
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (e) {
      if (attempt >= 5 || !/Address already in use/.test((e as Error).message)) throw e;
      port = await freePort();
      if (tlsPort !== null) tlsPort = await otherPort();
    }
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => log,
    async waitForLog(text, count = 1, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = log.split(text).length - 1;
        if (seen >= count) return;
        if (Date.now() > deadline) throw new Error(`"${text}" ${seen} of ${count} times in the mosquitto log within ${timeoutMs} ms:\n${log.slice(-4000)}`);
        await sleep(20);
      }
    },
    tlsPort,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    stop: async () => {
      await stop();
      if (dbDir) rmSync(dbDir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await start();
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ReceivedMessage {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

export interface Subscriber {
  messages: ReceivedMessage[];
  /** resolves with the messages once at least n arrived; rejects after timeoutMs listing what did */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

/**
 * An independent MQTT 3.1.1 subscriber: CONNECT (clean session, no keepalive), SUBSCRIBE at
 * QoS 1, PUBACK for each QoS 1 PUBLISH. Resolves once the SUBACK arrived, so everything published
 * after that is seen.
 */
export function subscribe(
  port: number,
  topic: string,
  options: { username?: string; password?: string; clientId?: string; clean?: boolean } = {},
): Promise<Subscriber> {
  return new Promise((resolveSubscribed, rejectSubscribed) => {
    const messages: ReceivedMessage[] = [];
    const waiters = new Set<() => void>();
    const socket: Socket = netConnect({ host: '127.0.0.1', port });
    const parser = mqttParser({ protocolVersion: 4 });
    let subscribed = false;
    let closed = false;
    const closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));

    const fail = (message: string) => {
      if (!subscribed) rejectSubscribed(new Error(`subscriber on ${topic}: ${message}`));
      socket.destroy();
    };
    socket.once('close', () => {
      closed = true;
      fail('connection closed');
    });
    socket.on('error', (e) => fail(e.message));
    parser.on('error', (e: Error) => fail(`bad packet from the broker: ${e.message}`));
    socket.on('data', (bytes: Buffer) => parser.parse(bytes));
    socket.once('connect', () => {
      socket.write(
        generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: options.clean ?? true,
          clientId: options.clientId ?? `test-sub-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
          keepalive: 0,
          username: options.username,
          password: options.password === undefined ? undefined : Buffer.from(options.password),
        }),
      );
    });
    parser.on('packet', (packet: Packet) => {
      switch (packet.cmd) {
        case 'connack':
          if (packet.returnCode !== 0) return fail(`CONNACK return code ${packet.returnCode}`);
          socket.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] }));
          return;
        case 'suback':
          if ((packet.granted as number[])[0] === 0x80) return fail('SUBSCRIBE refused');
          subscribed = true;
          resolveSubscribed(subscriber);
          return;
        case 'publish':
          messages.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain, qos: packet.qos });
          if (packet.qos === 1) socket.write(generate({ cmd: 'puback', messageId: packet.messageId }));
          for (const w of [...waiters]) w();
          return;
        default:
          return;
      }
    });

    const subscriber: Subscriber = {
      messages,
      waitFor(n, timeoutMs = 3000) {
        return new Promise((resolve, reject) => {
          if (messages.length >= n) return resolve(messages);
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`subscriber on ${topic}: ${messages.length} of ${n} messages within ${timeoutMs} ms: ${JSON.stringify(messages)}`));
          }, timeoutMs);
          const check = () => {
            if (messages.length < n) return;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(messages);
          };
          waiters.add(check);
        });
      },
      async close() {
        if (!closed) {
          socket.end(generate({ cmd: 'disconnect' }));
          const timer = setTimeout(() => socket.destroy(), 1000);
          await closedPromise;
          clearTimeout(timer);
        }
      },
    };
  });
}
