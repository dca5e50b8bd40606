/**
 * The factory settings. A gateway with no saved settings runs the built-in meter simulator, so the
 * web UI shows live values at once; nothing is published (MQTT and HTTP push are off) and no
 * secret is set. Every call builds a fresh object: callers may change what they get.
 *
 * This file does not know about validation or storage (validate.ts, migrate.ts).
 */
import { CONFIG_VERSION, type Config } from './types.js';

/** The simulator's key: the published demo key of the DLMS examples, not a secret. */
export const DEMO_KEY = '000102030405060708090A0B0C0D0E0F';

export function defaultConfig(): Config {
  return {
    version: CONFIG_VERSION,
    meter: { key: '', authKey: '', framing: 'auto', maxPowerKw: 100 },
    source: {
      type: 'simulator',
      // 2400 baud 8E1: the M-Bus customer interface of the Austrian meters
      serial: { path: '', baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 },
      replay: { file: '', intervalMs: 5000, loop: true },
      simulator: { phases: 3, intervalMs: 5000, key: DEMO_KEY },
    },
    mqtt: {
      enabled: false,
      host: '',
      port: 1883,
      tls: false,
      username: '',
      password: '',
      clientId: 'meterbridge',
      baseTopic: 'meterbridge',
      qos: 0,
      retain: false,
      mode: 'reading',
      preset: 'json',
      topicTemplate: '{{base_topic}}/reading',
      payloadTemplate: '{{{reading_json}}}',
      homeAssistant: { enabled: true, discoveryPrefix: 'homeassistant' },
      backlogDelayMs: 5000,
      caCertificate: '',
      certificateFingerprint: '',
    },
    httpPush: {
      enabled: false,
      url: '',
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      preset: 'json',
      bodyTemplate: '{{{reading_json}}}',
      bodyFormat: 'json',
      timeoutMs: 5000,
      minIntervalMs: 0,
      auth: 'none',
      username: '',
      password: '',
      caCertificate: '',
      certificateFingerprint: '',
    },
    // metricsTemplate '': the built-in Prometheus preset
    http: { port: 8080, metricsTemplate: '' },
    outbox: { capacity: 1000 },
    web: { password: '', allowedHosts: [] },
    wifi: { ssid: '', password: '', hostname: 'meterbridge' },
    log: { level: 'info' },
  };
}
