/**
 * `meterbridge run` and `meterbridge simulate` on the host.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Gateway, checkTemplates } from '../../firmware/gateway.js';
import { createApi } from '../../firmware/api.js';
import { uiAssetRoutes } from '../../firmware/ui-assets.js';
import { loadConfig, serializeConfig } from '../../firmware/config/migrate.js';
import { validateConfig } from '../../firmware/config/validate.js';
import type { Config } from '../../firmware/config/types.js';
import type { Clock } from '../hal.js';
import { parseKeyText } from '../../firmware/keys.js';
import { MeterSimulator } from '../../firmware/simulator.js';
import { toHex } from '../../firmware/bytes.js';
import { consoleLogger, createNodeHal, writeFileAtomic } from './platform.js';
import type { FileBlockStore } from './block-store.js';
import { nodeHttpServer } from './http-server.js';
import { nodeCrypto } from './crypto.js';
import type { CliIo, Parsed } from './cli.js';
import { DEMO_KEY } from '../../firmware/config/defaults.js';

import { VERSION } from '../../firmware/version.js';
export { VERSION };

/** The gzipped single-file UI written by web-ui/build.mjs, if it was built. */
export function loadUiAsset(): { gzip: Uint8Array; etag: string; de: Uint8Array | null; history: Uint8Array | null } | null {
  // from dist/node/ when bundled, from hal/node/ when run from source (tests)
  for (const candidate of ['../web-ui/asset.json', '../../dist/web-ui/asset.json']) {
    try {
      const asset = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8'));
      return {
        gzip: new Uint8Array(Buffer.from(asset.gzipBase64, 'base64')),
        etag: `"${String(asset.sha256).slice(0, 16)}"`,
        de: asset.deBase64 ? new Uint8Array(Buffer.from(asset.deBase64, 'base64')) : null,
        history: asset.historyBase64 ? new Uint8Array(Buffer.from(asset.historyBase64, 'base64')) : null,
      };
    } catch {
      // try the next place
    }
  }
  return null;
}

export interface RunningGateway {
  gateway: Gateway;
  port: number;
  stop(): Promise<void>;
}

/**
 * The host's web UI listens on loopback unless told otherwise: a computer may sit in networks the
 * owner does not control (a laptop), and may run other services; the ESP32 is only ever in the
 * owner's network or its own setup access point and listens on all its interfaces.
 */
export const DEFAULT_HOST = '127.0.0.1';

/** Starts a gateway with its HTTP server; used by `run` and by the integration tests. */
export async function startGateway(options: {
  config: Config;
  dataDir: string;
  warnings?: string[];
  httpPort?: number;
  host?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  log?: (line: string) => void;
  /** tests: a clock they can move (the guessing limits) */
  clock?: Clock;
  /** `run --config FILE`: the settings came from this file, so changes made in the web UI are
   *  saved to it (not to the data folder, which the file would override at the next start) */
  configFile?: string;
}): Promise<RunningGateway> {
  const logger = consoleLogger(options.logLevel ?? options.config.log.level, options.log);
  let gateway: Gateway | null = null;
  const hal = createNodeHal({
    dataDir: options.dataDir,
    clock: options.clock,
    logger,
    restart: () => {
      const g = gateway!;
      logger.log('info', 'restart requested from the web UI');
      void g.stop().then(() => g.start());
    },
  });
  gateway = new Gateway(hal, options.config, VERSION, options.warnings ?? []);
  gateway.start();
  const own = hostname().toLowerCase();
  const ui = loadUiAsset();
  const { handler } = createApi({
    gateway,
    clock: hal.clock,
    randomBytes: hal.randomBytes,
    save: (config) => (options.configFile ? writeFileAtomic(options.configFile, serializeConfig(config), `${options.configFile}.meterbridge-tmp`) : hal.storage.write('config', serializeConfig(config))),
    restart: hal.restart,
    ui,
    routes: uiAssetRoutes(ui?.history ?? null),
    names: [own, own + '.local'],
  });
  const host = options.host ?? DEFAULT_HOST;
  const server = nodeHttpServer({ host });
  let port: number;
  try {
    port = await server.listen(options.httpPort ?? options.config.http.port, handler);
  } catch (e) {
    await gateway.stop();
    (hal.historyStore as FileBlockStore | null)?.close();
    throw e;
  }
  logger.log('info', `web UI and API on http://${host.indexOf(':') >= 0 ? `[${host}]` : host}:${port}/`);
  return {
    gateway: gateway!,
    port,
    async stop() {
      await server.close();
      await gateway!.stop();
      (hal.historyStore as FileBlockStore | null)?.close();
    },
  };
}

export async function runCommand(parsed: Parsed, io: CliIo): Promise<number> {
  const f = parsed.flags;
  const sources = ['--serial', '--replay', '--simulate'].filter((n) => f.has(n));
  if (sources.length > 1) {
    io.stderr(`error: usage: meterbridge run: ${sources.join(' and ')} are alternatives: give one source`);
    return 2;
  }
  const dataDir = resolve(typeof f.get('--data') === 'string' ? (f.get('--data') as string) : 'meterbridge-data');
  let text: string | null = null;
  const configFile = f.get('--config');
  if (typeof configFile === 'string') {
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      io.stderr(`error: usage: cannot read ${configFile}: ${(e as Error).message}`);
      return 2;
    }
  } else {
    const file = resolve(dataDir, 'config');
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        io.stderr(`error: cannot read the settings ${file}: ${code === 'EISDIR' ? 'it is a directory, not a file' : (e as Error).message}`);
        return 1;
      }
      text = null;
    }
  }
  const loaded = loadConfig(text);
  let config = loaded.config;
  const warnings = [...loaded.warnings];
  // command-line overrides, validated like any other change
  const override: Record<string, unknown> = {};
  const serial = f.get('--serial');
  const replay = f.get('--replay');
  if (typeof serial === 'string') override.source = { type: 'serial', serial: { path: serial } };
  // the command line may replay any file of the host; the web API only the replay folder's
  else if (typeof replay === 'string') override.source = { type: 'replay', replay: { file: resolve(replay) } };
  else if (f.has('--simulate')) override.source = { type: 'simulator' };
  const port = f.get('--port');
  if (typeof port === 'string') override.http = { port: Number(port) };
  const host = f.get('--host');
  if (Object.keys(override).length) {
    const v = validateConfig(override, config, { trusted: true });
    if (!v.ok) {
      // the fields come from the flags: name the flag
      const flag = (field: string) => (field.startsWith('http.') ? '--port' : field.startsWith('source.replay') ? '--replay' : field.startsWith('source.serial') ? '--serial' : field);
      for (const e of v.errors) io.stderr(`error: usage: meterbridge run: ${flag(e.field)}: ${e.message}`);
      return 2;
    }
    config = v.config;
  }
  const templateErrors = checkTemplates(config);
  for (const e of templateErrors) warnings.push(`${e.field}: ${e.message}`);
  for (const w of warnings) io.stderr(`warning: ${w}`);
  if (config.source.type === 'simulator') io.stderr('info: no serial port configured: demo mode on the built-in meter simulator');
  let running: RunningGateway;
  try {
    const file = typeof configFile === 'string' ? resolve(configFile) : undefined;
    if (file) io.stderr(`info: settings from ${file}; changes made in the web UI are saved there`);
    running = await startGateway({ config, dataDir, warnings, host: typeof host === 'string' ? host : undefined, configFile: file });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const at = `${typeof host === 'string' ? host : DEFAULT_HOST}:${config.http.port}`;
    if (err.code === 'EADDRINUSE') io.stderr(`error: cannot listen on ${at}: the port is in use (another meterbridge?); choose another with --port`);
    else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') io.stderr(`error: cannot listen on ${at}: this computer has no such address`);
    else if (err.code === 'EACCES') io.stderr(`error: cannot listen on ${at}: not allowed (ports below 1024 need extra rights)`);
    else io.stderr(`error: cannot start: ${err.message}`);
    return 1;
  }
  await new Promise<void>((done) => {
    const shutdown = () => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      running.stop().then(done, done);
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
  return 0;
}

/** Prints pushes of the simulated meter as hex, one per line (5 s apart in meter time). */
export function simulateCommand(parsed: Parsed, io: CliIo): number {
  const keyText = parsed.flags.get('--key');
  const key = parseKeyText(typeof keyText === 'string' ? keyText : DEMO_KEY);
  if (!key.ok) {
    io.stderr(`error: usage: meterbridge simulate: --key: ${key.message}`);
    return 2;
  }
  const countText = parsed.positional[0] ?? '1';
  const count = Number(countText);
  if (!/^[0-9]+$/.test(countText) || count < 1) {
    io.stderr(`error: usage: meterbridge simulate: COUNT must be a whole number of pushes, 1 or more, not ${JSON.stringify(countText)}`);
    return 2;
  }
  const sim = new MeterSimulator({ crypto: nodeCrypto, key: key.bytes, phases: parsed.flags.has('--one-phase') ? 1 : 3, framing: parsed.flags.has('--hdlc') ? 'hdlc' : 'mbus' });
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const bytes = sim.push(t0 + i * 5000);
    io.stdout(toHex(bytes));
  }
  return 0;
}
