/**
 * The Moddable HAL: everything the gateway touches, wired once. The counterpart of
 * hal/node/platform.ts.
 *
 *   clock       Date + timer + Time.ticks (clock.ts)
 *   storage     preference / NVS, crash-safe split values (storage.ts)
 *   historyStore the `history` flash partition through the SDK's Flash (history-store.ts); null
 *               (logged) when the device's partition table has none
 *   logger      trace (logger.ts)
 *   crypto      the core's TypeScript AES-GCM (crypto.ts)
 *   sources     serial → ECMA-419 UART + native parity (serial.ts); simulator → the core's
 *               simulator paced by the timer; replay → refused (no files on the device)
 *   mqtt        legacy SDK client, QoS 0, reconnecting (mqtt.ts)
 *   httpClient  legacy SDK Request (http.ts)
 *   memory      XS heap use from `instrumentation` (instrumented builds only)
 *   randomBytes Math.random, which XS on ESP32 draws from esp_random() (xs/platforms/esp/xsHost.h
 *               c_rand, xs/sources/xsMath.c): the hardware RNG, truly random while Wi-Fi runs
 *               (ESP-IDF), which it does when sessions are made
 *   restart     given by main.ts (stops the gateway, then System.restart())
 */
import Instrumentation from 'instrumentation';
import Debug from 'debug';
import type { ByteSource, Hal, Logger, Storage } from '../hal.js';
import type { SourceConfig } from '../../firmware/config/types.js';
import { MeterSimulator, SimulatorSource } from '../../firmware/simulator.js';
import { parseSerialPath, type Board } from './board.js';
import type { ModdableClock } from './clock.js';
import { deviceCrypto } from './crypto.js';
import { ModdableHttpClient } from './http.js';
import { ModdableMqttClient } from './mqtt.js';
import { openHistoryStore } from './history-store.js';
import { PreferenceStorage } from './storage.js';
import { UartSource } from './serial.js';

export interface ModdableHalOptions {
  board: Board;
  clock: ModdableClock;
  logger: Logger;
  storage?: Storage;
  restart: () => void;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256) & 0xff;
  return out;
}

/** XS heap figures when the build is instrumented; null otherwise (release builds). */
function xsMemory(totalBytes: number | null): () => { used: number; total: number } | null {
  const slots = Instrumentation.map('XS Slot Heap Used');
  const chunks = Instrumentation.map('XS Chunk Heap Used');
  return () => {
    if (slots === undefined || chunks === undefined || totalBytes === null) return null;
    // collect first: between collections the heaps also hold garbage, which says nothing
    Debug.gc();
    const a = Instrumentation.get(slots);
    const b = Instrumentation.get(chunks);
    return a === undefined || b === undefined ? null : { used: a + b, total: totalBytes };
  };
}

export function createSource(config: SourceConfig, meterKey: Uint8Array | null, o: ModdableHalOptions): ByteSource {
  switch (config.type) {
    case 'serial': {
      const p = parseSerialPath(config.serial.path, o.board.uart);
      if (!p.ok) throw new Error(p.message);
      return new UartSource(config.serial, p.pins, o.board.rxThreshold, p.note);
    }
    case 'replay':
      throw new Error("replay files exist only on the host (meterbridge run --replay); on the device choose the serial source or the simulator");
    default: {
      const sim = new MeterSimulator({ crypto: deviceCrypto, key: meterKey ?? new Uint8Array(16), phases: config.simulator.phases });
      return new SimulatorSource(sim, o.clock, config.simulator.intervalMs, config.simulator.phases);
    }
  }
}

export function createModdableHal(o: ModdableHalOptions): Hal {
  const logger = o.logger;
  return {
    clock: o.clock,
    storage: o.storage ?? new PreferenceStorage(),
    historyStore: openHistoryStore(logger),
    logger,
    crypto: deviceCrypto,
    createSource: (config, key) => createSource(config, key, o),
    createMqttClient: () => new ModdableMqttClient(logger),
    httpClient: new ModdableHttpClient(),
    memory: xsMemory(o.board.xsHeapBytes),
    randomBytes,
    restart: o.restart,
  };
}
