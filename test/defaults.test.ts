// The factory settings: the exact values, a fresh object every call, and valid by the gateway's
// own rules (so a reset can never produce settings the gateway then refuses).
import { describe, expect, it } from 'vitest';
import { DEMO_KEY, defaultConfig } from '../firmware/config/defaults.js';
import { CONFIG_VERSION } from '../firmware/config/types.js';
import { validateConfig } from '../firmware/config/validate.js';
import { parseKeyText } from '../firmware/keys.js';
import { toHex } from '../firmware/bytes.js';

describe('defaultConfig', () => {
  it('is the documented factory setting, field by field', () => {
    expect(defaultConfig()).toStrictEqual({
      version: 1,
      meter: { key: '', authKey: '', framing: 'auto', maxPowerKw: 100 },
      source: {
        type: 'simulator',
        serial: { path: '', baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 },
        replay: { file: '', intervalMs: 5000, loop: true },
        simulator: { phases: 3, intervalMs: 5000, key: '000102030405060708090A0B0C0D0E0F' },
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
      http: { port: 8080, metricsTemplate: '' },
      outbox: { capacity: 1000 },
      web: { password: '', allowedHosts: [] },
      wifi: { ssid: '', password: '', hostname: 'meterbridge' },
      log: { level: 'info' },
    });
  });

  it('carries the current schema version', () => {
    expect(CONFIG_VERSION).toBe(1);
    expect(defaultConfig().version).toBe(CONFIG_VERSION);
  });

  it('is a fresh object on every call, nested objects included', () => {
    const a = defaultConfig();
    a.mqtt.host = 'changed';
    a.httpPush.headers['X-Extra'] = '1';
    a.source.serial.path = '/dev/changed';
    const b = defaultConfig();
    expect(b.mqtt.host).toBe('');
    expect(b.httpPush.headers).toStrictEqual({ 'Content-Type': 'application/json' });
    expect(b.source.serial.path).toBe('');
    expect(b.httpPush.headers).not.toBe(a.httpPush.headers);
  });

  it('passes validation unchanged and without warnings', () => {
    const r = validateConfig(defaultConfig());
    expect(r).toStrictEqual({ ok: true, config: defaultConfig(), warnings: [] });
  });

  it('has a demo key in the stored form: 32 upper-case hex digits', () => {
    const parsed = parseKeyText(DEMO_KEY);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && toHex(parsed.bytes)).toBe(DEMO_KEY);
    expect(defaultConfig().source.simulator.key).toBe(DEMO_KEY);
  });

  it('sets no secret', () => {
    const c = defaultConfig();
    expect([c.meter.key, c.meter.authKey, c.mqtt.password, c.web.password, c.wifi.password]).toStrictEqual(['', '', '', '', '']);
  });
});
