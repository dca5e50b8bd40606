/**
 * The ESP32 firmware's entry point: mcconfig runs this module as `main` and calls its default
 * export (xs/platforms/mc/xsHosts.c). Module level only defines things (no native calls), so
 * the bundle can be preloaded into flash (documentation/xs/preload.md, "Preloading main").
 *
 *   preference ─► loadConfig ─► device defaults/limits ─► Hal ─► Gateway.start()
 *   createApi ─┬─ captive-portal redirects (setup mode)
 *              ├─ /api/ota (+ streamed upload), /api/network, /api/presets (copy, see below)
 *              └─ everything else ─► HTTP server on config.http.port (+ port 80 in setup mode)
 *   network: station from the settings, or the setup access point; mDNS, SNTP, boot button
 *   rollback guard: a new OTA image is kept only once healthy
 */
import OTA from 'ota';
import Resource from 'Resource';
import Timer from 'timer';
import { imageState, markValid, rollBack, runningPartition } from 'meterbridge/rollback';
import { Gateway, checkTemplates } from '../../firmware/gateway.js';
import { createApi, json } from '../../firmware/api.js';
import { uiAssetRoutes } from '../../firmware/ui-assets.js';
import { loadConfig, serializeConfig } from '../../firmware/config/migrate.js';
import type { Config } from '../../firmware/config/types.js';
import type { Hal, HttpHandler, HttpServerRequest, HttpServerResponse } from '../hal.js';
import { readBoard } from './board.js';
import { ModdableClock, applyCentralEuropeanTime } from './clock.js';
import { clampForDevice, isFactoryConfig, withDeviceDefaults } from './device-config.js';
import { ModdableHttpServer } from './http.js';
import { TraceLogger } from './logger.js';
import { NetworkManager } from './network.js';
import { OtaService, RollbackGuard, type RunningImage } from './ota.js';
import { createModdableHal } from './platform.js';
import { PreferenceStorage } from './storage.js';

import { VERSION } from '../../firmware/version.js';
export { VERSION };
const CONFIG_NAME = 'config';
const UI_RESOURCE = 'index.html.gz';
const UI_DE_RESOURCE = 'de.txt.gz';
const UI_HISTORY_RESOURCE = 'history.js.gz';

/** The gateway with the device's limits, and a hook for the settings the core does not act on. */
class DeviceGateway extends Gateway {
  constructor(
    hal: Hal,
    config: Config,
    version: string,
    warnings: string[],
    private readonly changed: (prev: Config, next: Config) => void,
  ) {
    super(hal, config, version, warnings);
  }

  override async applyConfig(next: Config, warnings: string[] = []): Promise<void> {
    const prev = this.currentConfig;
    const w = [...warnings];
    const limited = clampForDevice(next, w);
    await super.applyConfig(limited, w);
    this.changed(prev, limited);
  }
}

/** The gzipped UI from the manifest's resources, viewed in flash (no copy into RAM). */
function loadUi(version: string): { gzip: Uint8Array; etag: string; de: Uint8Array | null; history: Uint8Array | null } | null {
  if (!Resource.exists(UI_RESOURCE)) return null;
  const gzip = new Uint8Array(new Resource(UI_RESOURCE));
  const part = (name: string) => (Resource.exists(name) ? new Uint8Array(new Resource(name)) : null);
  return { gzip, etag: `"${version}-${gzip.length}"`, de: part(UI_DE_RESOURCE), history: part(UI_HISTORY_RESOURCE) };
}

export default function main(): void {
  const board = readBoard();
  const logger = new TraceLogger('info');
  const clock = new ModdableClock();
  clock.startMonotonicKeeper();
  applyCentralEuropeanTime(clock.now());
  const storage = new PreferenceStorage();

  let stored: string | null = null;
  try {
    stored = storage.read(CONFIG_NAME);
  } catch (e) {
    logger.log('error', `config: cannot read the stored settings: ${(e as Error).message}`);
  }
  const loaded = loadConfig(stored);
  const warnings = [...loaded.warnings];
  // nothing stored, or settings so damaged that only the core's factory settings remain
  let config = stored === null || isFactoryConfig(loaded.config) ? withDeviceDefaults(loaded.config, warnings) : loaded.config;
  config = clampForDevice(config, warnings);
  for (const e of checkTemplates(config)) warnings.push(`${e.field}: ${e.message}`);
  logger.level = config.log.level;
  for (const w of warnings) logger.log('warn', `config: ${w}`);

  const image: RunningImage = { state: imageState, partition: runningPartition, markValid, rollBack };
  const guard = new RollbackGuard(logger, clock, image);
  guard.start();

  let gateway: DeviceGateway | null = null;
  let network: NetworkManager | null = null;
  let restarting = false;
  const restart = () => {
    if (restarting) return;
    restarting = true;
    logger.log('info', 'restarting');
    Timer.set(() => System.restart(), 3000); // whatever happens to the graceful stop
    const g = gateway;
    (g ? g.stop() : Promise.resolve()).then(
      () => Timer.set(() => System.restart(), 200),
      () => Timer.set(() => System.restart(), 200),
    );
  };

  const hal = createModdableHal({ board, clock, logger, storage, restart });
  gateway = new DeviceGateway(hal, config, VERSION, warnings, (prev, next) => {
    logger.level = next.log.level;
    if (JSON.stringify(prev.wifi) !== JSON.stringify(next.wifi)) network?.applyWifi(next.wifi);
    if (prev.http.port !== next.http.port) logger.log('warn', `http: the new port ${next.http.port} takes effect after a restart`);
  });
  gateway.start();

  const save = (c: Config) => {
    if (isFactoryConfig(c)) {
      // a factory reset: forget everything, and come back with the device's first-boot settings
      storage.remove(CONFIG_NAME);
      logger.log('info', 'config: factory reset; restarting into setup mode');
      Timer.set(restart, 2000);
      return;
    }
    storage.write(CONFIG_NAME, serializeConfig(c));
  };
  const ui = loadUi(VERSION);
  const api = createApi({
    gateway,
    clock,
    randomBytes: hal.randomBytes,
    save,
    restart,
    ui,
    // a history answer is built whole in the heap: 120 points (a day of quarter hours, DST days
    // too) are about 20 KB of arrays and JSON, 1000 would not fit beside the gateway; `next` pages on
    historyMaxPoints: 120,
    // under the API's access rules: Host allow-list, first run, password
    routes: { '/api/network': { GET: () => json(200, network?.describe() ?? { mode: 'off' }) }, ...uiAssetRoutes(ui?.history ?? null) },
  });
  const ota = new OtaService({
    guard: (req) => api.guard(req),
    logger,
    restart,
    version: VERSION,
    image,
    begin: () => new OTA(),
    clock,
    verification: () => guard.verification(),
  });

  const handler: HttpHandler = (req: HttpServerRequest): Promise<HttpServerResponse> => {
    // setup mode: a phone's captive-portal probe for another host is sent to the setup page
    const redirect = network?.portal(req) ?? null;
    if (redirect) return Promise.resolve(redirect);
    const own = ota.handle(req);
    if (own) return Promise.resolve(own);
    return api.handler(req);
  };

  const server = new ModdableHttpServer({ bodyLimit: 16 * 1024, uploads: [ota], logger });
  const port = config.http.port;
  server.listen(port, handler).then(
    () => {
      logger.log('info', `http: web UI and API on port ${port}`);
      guard.noteServing();
    },
    (e: unknown) => logger.log('error', `http: ${(e as Error).message}`),
  );
  let portalServer: ModdableHttpServer | null = null;

  network = new NetworkManager({
    wifi: config.wifi,
    httpPort: port,
    apPassword: board.apPassword,
    sntpHost: board.sntpHost,
    buttonPin: board.buttonPin,
    logger,
    restart,
    onUp: () => guard.noteNetwork(),
    onAccessPoint: () => {
      // phones probe port 80 for the captive portal
      if (port === 80 || portalServer) return;
      portalServer = new ModdableHttpServer({ bodyLimit: 16 * 1024, uploads: [ota], logger });
      portalServer.listen(80, handler).catch((e: unknown) => logger.log('warn', `http: no captive portal on port 80: ${(e as Error).message}`));
    },
  });
  network.start();
}
