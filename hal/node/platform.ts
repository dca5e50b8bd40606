/**
 * The host HAL: clock, atomic file storage, logger, sources (serial port, replay file,
 * simulator), MQTT, HTTP client and server, all on Node's own modules.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { BlockStore, ByteSource, Clock, Hal, HttpClient, Logger, Storage, TimerHandle } from '../hal.js';
import type { SourceConfig } from '../../firmware/config/types.js';
import { MeterSimulator, SimulatorSource } from '../../firmware/simulator.js';
import { nodeCrypto } from './crypto.js';
import { createMqttClient } from './mqtt.js';
import { ReplaySource } from './replay.js';
import { SerialSource } from './serial.js';
import { describeNetError, pinProblem, tlsOptions } from './tls.js';
import { HISTORY_FILE, fileBlockStore } from './block-store.js';

export const nodeClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => ({ id: setTimeout(fn, ms) }),
  setInterval: (fn, ms) => ({ id: setInterval(fn, ms) }),
  clear: (h: TimerHandle) => {
    clearTimeout(h.id as ReturnType<typeof setTimeout>);
    clearInterval(h.id as ReturnType<typeof setInterval>);
  },
};

/**
 * Writes a file so that a crash leaves the old or the new content: temp file (owner-only), fsync,
 * rename, and an fsync of the directory, without which the rename itself is not durable.
 */
export function writeFileAtomic(file: string, text: string, tmp = `${file}.tmp`): void {
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const d = openSync(dirname(file), 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

/** A temp file of an interrupted save: `<name>.tmp`, or `<name>.tmp-<pid>` of older versions. */
function isTemporary(file: string): boolean {
  const i = file.lastIndexOf('.tmp');
  return i > 0 && (i + 4 === file.length || file[i + 4] === '-');
}

/**
 * Files in a directory; writes go to a temp file, fsync, rename, fsync of the directory, so a
 * crash leaves the old or the new file. Temp files that a kill during a save left behind (they
 * hold every secret) are removed on start and after every save (a factory reset is a save).
 */
export function fileStorage(dir: string): Storage {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = (name: string) => join(dir, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
  const removeTemporary = () => {
    for (const f of readdirSync(dir)) if (isTemporary(f)) rmSync(join(dir, f), { force: true });
  };
  removeTemporary();
  return {
    read(name) {
      try {
        return readFileSync(path(name), 'utf8');
      } catch {
        return null;
      }
    },
    write(name, text) {
      writeFileAtomic(path(name), text);
      removeTemporary();
    },
    remove(name) {
      rmSync(path(name), { force: true });
    },
  };
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** One line per event: time, level, message. Secrets never reach here (callers redact). */
export function consoleLogger(level: keyof typeof LEVELS = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger & { level: keyof typeof LEVELS } {
  const logger = {
    level,
    log(l: keyof typeof LEVELS, message: string) {
      if (LEVELS[l] >= LEVELS[logger.level]) write(`${new Date().toISOString()} ${l.padEnd(5)} ${message}`);
    },
  };
  return logger;
}

/**
 * HTTP push on node:http/https (not fetch: a CA certificate and a pinned fingerprint need the
 * TLS options). Errors come back in words, naming the URL's origin, never the path.
 */
export const nodeHttpClient: HttpClient = {
  request(o) {
    return new Promise((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(o.url);
      } catch {
        reject(new Error(`"${o.url}" is not a URL`));
        return;
      }
      const where = url.origin;
      const https = url.protocol === 'https:';
      const trust = { ca: o.ca, fingerprint: o.fingerprint };
      const body = Buffer.from(o.body, 'utf8');
      const pinned = https && !!o.fingerprint;
      const req = (https ? httpsRequest : httpRequest)(
        url,
        // pinned: a fresh connection each time, so every request sees the handshake it is checked on
        { method: o.method, headers: { ...o.headers, 'Content-Length': String(body.length) }, ...(https ? tlsOptions(trust) : {}), ...(pinned ? { agent: false } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            // only the start of an answer is shown; the rest is read and dropped
            if (size < 4096) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', (e: NodeJS.ErrnoException) => fail(describeNetError(e, url.hostname, where)));
        },
      );
      const fail = (message: string) => {
        clearTimeout(timer);
        req.destroy();
        reject(new Error(message));
      };
      const timer = setTimeout(() => fail(`no answer from ${where} within ${o.timeoutMs} ms`), o.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => fail(describeNetError(e, url.hostname, where)));
      if (!pinned) {
        req.end(body);
        return;
      }
      // nothing (headers with credentials included) is written before the certificate is checked
      req.on('socket', (socket) => {
        socket.once('secureConnect', () => {
          const problem = pinProblem(socket as TLSSocket, trust, where);
          if (problem) fail(problem);
          else req.end(body);
        });
      });
    });
  },
};

/** The folder of the data directory whose files the web UI may choose for replay. */
export const REPLAY_FOLDER = 'replay';

export function createSource(config: SourceConfig, meterKey: Uint8Array | null, clock: Clock = nodeClock, dataDir = '.'): ByteSource {
  switch (config.type) {
    case 'serial':
      return new SerialSource(config.serial);
    case 'replay': {
      // a bare name is a file of the replay folder; a path came from the command line or a config file
      const f = config.replay.file;
      const file = f.indexOf('/') < 0 && f.indexOf('\\') < 0 ? join(dataDir, REPLAY_FOLDER, f) : f;
      return new ReplaySource(file, config.replay.intervalMs, config.replay.loop, clock);
    }
    default: {
      const sim = new MeterSimulator({ crypto: nodeCrypto, key: meterKey ?? new Uint8Array(16), phases: config.simulator.phases });
      return new SimulatorSource(sim, clock, config.simulator.intervalMs, config.simulator.phases);
    }
  }
}

export function createNodeHal(options: { dataDir: string; logger?: Logger; clock?: Clock; restart?: () => void }): Hal {
  const clock = options.clock ?? nodeClock;
  const logger = options.logger ?? consoleLogger();
  const storage = fileStorage(options.dataDir);
  let historyStore: BlockStore | null = null;
  try {
    historyStore = fileBlockStore(join(options.dataDir, HISTORY_FILE));
  } catch (e) {
    logger.log('error', `no consumption history: cannot open ${HISTORY_FILE}: ${(e as Error).message}`);
  }
  return {
    clock,
    storage,
    historyStore,
    logger,
    crypto: nodeCrypto,
    createSource: (config, key) => createSource(config, key, clock, options.dataDir),
    createMqttClient: () => createMqttClient({ logger }),
    httpClient: nodeHttpClient,
    memory: () => {
      const m = process.memoryUsage();
      return { used: m.heapUsed, total: m.rss };
    },
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    restart: () => options.restart?.(),
  };
}
