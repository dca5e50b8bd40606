/**
 * What differs in the settings on the device, applied around the core's own validation
 * (firmware/config/validate.ts) without changing it:
 *
 * - First boot (nothing stored): the factory settings run the built-in simulator on port 8080,
 *   which suits the host. The device instead reads the meter UART ("uart": the board's pins) and
 *   serves on port 80, which the captive portal needs.
 * - A factory reset stores the core's factory settings; the device treats that as "nothing
 *   stored" (main.ts removes the stored copy and restarts), so the rule above applies again.
 * - The outbox keeps whole Readings in RAM (firmware/outbox.ts): roughly 1.5–2 KB of XS heap
 *   each with ~15 values, out of ~160 KB for everything. The capacity is capped at
 *   DEVICE_OUTBOX_MAX with a warning; the stored setting itself is kept as saved.
 */
import type { Config } from '../../firmware/config/types.js';
import { validateConfig } from '../../firmware/config/validate.js';
import { defaultConfig } from '../../firmware/config/defaults.js';
import { serializeConfig } from '../../firmware/config/migrate.js';

/** Readings per publisher kept while a broker or endpoint is away: 2.5 minutes of 5 s pushes. */
export const DEVICE_OUTBOX_MAX = 30;

/** The device's first-boot settings on top of the core's defaults. */
export function withDeviceDefaults(config: Config, warnings: string[]): Config {
  const v = validateConfig({ source: { type: 'serial', serial: { path: 'uart' } }, http: { port: 80 } }, config);
  if (v.ok) return v.config;
  for (const e of v.errors) warnings.push(`device default ${e.field} not applied: ${e.message}`);
  return config;
}

/** The config the device runs with; the warnings say what was limited. */
export function clampForDevice(config: Config, warnings: string[]): Config {
  if (config.outbox.capacity <= DEVICE_OUTBOX_MAX) return config;
  warnings.push(`outbox.capacity ${config.outbox.capacity} is limited to ${DEVICE_OUTBOX_MAX} readings on the device (RAM)`);
  return { ...config, outbox: { capacity: DEVICE_OUTBOX_MAX } };
}

/** True for the core's factory settings, i.e. what a factory reset saves. */
export function isFactoryConfig(config: Config): boolean {
  return serializeConfig(config) === serializeConfig(defaultConfig());
}
