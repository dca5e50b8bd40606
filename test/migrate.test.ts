// migrateConfig / loadConfig / serializeConfig: every schema version comes forward keeping every
// setting; damaged, foreign or newer settings give the defaults with a warning and never throw;
// a stored config that fails validation loses only the bad fields.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../firmware/config/defaults.js';
import { loadConfig, migrateConfig, serializeConfig } from '../firmware/config/migrate.js';
import { CONFIG_VERSION, type Config } from '../firmware/config/types.js';
import { validateConfig } from '../firmware/config/validate.js';

const KEY = '00112233445566778899AABBCCDDEEFF';
const AUTH_KEY = 'FFEEDDCCBBAA99887766554433221100';

const DEFAULTS_USED =
  'the gateway starts with the default settings: the meter keys, MQTT, HTTP push and Wi-Fi settings and the web password must be entered again';
const DAMAGED = `the saved settings are damaged (not valid JSON) and could not be read; ${DEFAULTS_USED}`;

function defaultsWith(change: (c: Config) => void): Config {
  const c = defaultConfig();
  change(c);
  return c;
}

function fullConfig(): Config {
  return defaultsWith((c) => {
    c.meter = { key: KEY, authKey: AUTH_KEY, framing: 'hdlc', maxPowerKw: 43 };
    c.source = {
      type: 'serial',
      serial: { path: '/dev/ttyUSB0', baudRate: 9600, dataBits: 7, parity: 'odd', stopBits: 2 },
      replay: { file: 'cap.hex', intervalMs: 1000, loop: false },
      simulator: { phases: 1, intervalMs: 2000, key: AUTH_KEY },
    };
    c.mqtt = {
      enabled: true,
      host: 'broker.local',
      port: 8883,
      tls: true,
      username: 'meter',
      password: 'mqtt-secret-pw',
      clientId: 'bridge-7',
      baseTopic: 'home/meter',
      qos: 1,
      retain: true,
      mode: 'values',
      preset: 'custom',
      topicTemplate: '{{base_topic}}/{{obis}}',
      payloadTemplate: '{{value}}',
      homeAssistant: { enabled: false, discoveryPrefix: 'ha' },
      backlogDelayMs: 2000,
      caCertificate: '',
      certificateFingerprint: 'AB:'.repeat(31) + 'AB',
    };
    c.httpPush = {
      enabled: true,
      url: 'https://example.com/meter',
      method: 'PUT',
      headers: { Authorization: 'Bearer tok-123456' },
      preset: 'custom',
      bodyTemplate: 'p={{power}}',
      bodyFormat: 'text',
      timeoutMs: 2000,
      minIntervalMs: 60000,
      auth: 'basic',
      username: 'u',
      password: 'p',
      caCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      certificateFingerprint: '',
    };
    c.http = { port: 80, metricsTemplate: 'meter_power {{power}}\n' };
    c.outbox = { capacity: 50 };
    c.web = { password: 'web-secret-pw', allowedHosts: ['meter.example.net'] };
    c.wifi = { ssid: 'Home', password: 'wifi-secret-pw', hostname: 'meter-1' };
    c.log = { level: 'debug' };
  });
}

/** One stored example per older schema version, and what it must become. */
const OLDER_VERSIONS: Record<number, { stored: unknown; config: Config; warnings: string[] }> = {
  // version 0, the pre-release flat format, as people typed it into the first web form
  0: {
    stored: {
      key: '00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff',
      authKey: '0xffeeddccbbaa99887766554433221100',
      mqttHost: ' 192.168.1.20 ',
      mqttPort: '1884',
      mqttUser: 'meter',
      mqttPassword: 'mqtt-secret-pw',
      topic: '/smartmeter/',
    },
    config: defaultsWith((c) => {
      c.meter.key = KEY;
      c.meter.authKey = AUTH_KEY;
      c.mqtt.enabled = true; // v0 published whenever a broker was set
      c.mqtt.host = '192.168.1.20';
      c.mqtt.port = 1884;
      c.mqtt.username = 'meter';
      c.mqtt.password = 'mqtt-secret-pw';
      c.mqtt.baseTopic = 'smartmeter';
    }),
    warnings: [
      "'key' is now 'meter.key'",
      "'authKey' is now 'meter.authKey'",
      "'mqttHost' is now 'mqtt.host'",
      "'mqttPort' is now 'mqtt.port'",
      "'mqttUser' is now 'mqtt.username'",
      "'mqttPassword' is now 'mqtt.password'",
      "'topic' is now 'mqtt.baseTopic'",
    ],
  },
};

describe('schema versions', () => {
  it('has a stored example for every version older than the current one', () => {
    const versions = Object.keys(OLDER_VERSIONS).map(Number);
    expect(versions).toStrictEqual(Array.from({ length: CONFIG_VERSION }, (_, i) => i));
  });

  it.each(Object.entries(OLDER_VERSIONS))('version %s comes forward keeping every setting', (v, fx) => {
    expect(migrateConfig(fx.stored)).toStrictEqual({ config: fx.config, warnings: fx.warnings, migratedFrom: Number(v) });
    expect(loadConfig(JSON.stringify(fx.stored))).toStrictEqual({ config: fx.config, warnings: fx.warnings, migratedFrom: Number(v) });
  });

  it('the current version loads unchanged, silently', () => {
    const c = fullConfig();
    expect(loadConfig(serializeConfig(c))).toStrictEqual({ config: c, warnings: [], migratedFrom: null });
    expect(migrateConfig(JSON.parse(serializeConfig(c)))).toStrictEqual({ config: c, warnings: [], migratedFrom: null });
  });
});

describe('version 0 (pre-release flat format)', () => {
  it('an explicit version 0 is the same format', () => {
    expect(migrateConfig({ version: 0, mqttHost: 'b', mqttPort: 1890 })).toStrictEqual({
      config: defaultsWith((c) => {
        c.mqtt.enabled = true;
        c.mqtt.host = 'b';
        c.mqtt.port = 1890;
      }),
      warnings: ["'mqttHost' is now 'mqtt.host'", "'mqttPort' is now 'mqtt.port'"],
      migratedFrom: 0,
    });
  });

  it('only the fields present are renamed; without a broker MQTT stays off', () => {
    expect(migrateConfig({ key: KEY, mqttHost: '  ' })).toStrictEqual({
      config: defaultsWith((c) => (c.meter.key = KEY)),
      warnings: ["'key' is now 'meter.key'", "'mqttHost' is now 'mqtt.host'"],
      migratedFrom: 0,
    });
  });

  it('an empty version 0 object gives the defaults', () => {
    expect(migrateConfig({ version: 0 })).toStrictEqual({ config: defaultConfig(), warnings: [], migratedFrom: 0 });
  });

  it('a nested version 1 setting wins over the legacy key for the same field', () => {
    expect(migrateConfig({ mqttHost: 'old', mqttPort: 1884, mqtt: { enabled: true, host: 'new' } })).toStrictEqual({
      config: defaultsWith((c) => {
        c.mqtt.enabled = true;
        c.mqtt.host = 'new';
        c.mqtt.port = 1884;
      }),
      warnings: ["'mqttHost' was ignored because 'mqtt.host' is also set", "'mqttPort' is now 'mqtt.port'"],
      migratedFrom: 0,
    });
  });

  it('a legacy key next to a group that is not an object is ignored, and the group reset', () => {
    expect(migrateConfig({ mqttHost: 'old', mqtt: 5 })).toStrictEqual({
      config: defaultConfig(),
      warnings: [
        "'mqttHost' was ignored because 'mqtt' is also set",
        "the saved setting 'mqtt' was not valid (must be a group of settings (a JSON object)) and was reset to the default",
      ],
      migratedFrom: 0,
    });
  });

  it('an invalid legacy value is reset alone; the rest is kept', () => {
    expect(migrateConfig({ key: 'ABCD', mqttHost: 'h', mqttPort: 'abc' })).toStrictEqual({
      config: defaultsWith((c) => {
        c.mqtt.enabled = true;
        c.mqtt.host = 'h';
      }),
      warnings: [
        "'key' is now 'meter.key'",
        "'mqttHost' is now 'mqtt.host'",
        "'mqttPort' is now 'mqtt.port'",
        "the saved setting 'meter.key' was not valid (a key has 32 hex digits (16 bytes); this one has 4) and was reset to the default",
        "the saved setting 'mqtt.port' was not valid (must be a whole number from 1 to 65535) and was reset to the default",
      ],
      migratedFrom: 0,
    });
  });

  it('other keys are carried over and judged as version 1', () => {
    expect(migrateConfig({ key: KEY, serialPort: '/dev/ttyS1', log: { level: 'warn' } })).toStrictEqual({
      config: defaultsWith((c) => {
        c.meter.key = KEY;
        c.log.level = 'warn';
      }),
      warnings: ["'key' is now 'meter.key'", "unknown setting 'serialPort' was ignored"],
      migratedFrom: 0,
    });
  });

  it('leaves the object it was given as it was', () => {
    const stored = { key: KEY, mqttHost: 'h', mqttPort: '1884' };
    migrateConfig(stored);
    expect(stored).toStrictEqual({ key: KEY, mqttHost: 'h', mqttPort: '1884' });
  });
});

describe('version 1', () => {
  it('a partial hand-written file without a version is read as version 1', () => {
    expect(loadConfig('{"mqtt":{"enabled":true,"host":"b"}}')).toStrictEqual({
      config: defaultsWith((c) => {
        c.mqtt.enabled = true;
        c.mqtt.host = 'b';
      }),
      warnings: [],
      migratedFrom: null,
    });
  });

  it('unknown settings are kept out with a warning, the rest is loaded', () => {
    expect(loadConfig('{"version":1,"mqtt":{"host":"b","hots":"x"},"newThing":true}')).toStrictEqual({
      config: defaultsWith((c) => (c.mqtt.host = 'b')),
      warnings: ["unknown setting 'newThing' was ignored", "unknown setting 'mqtt.hots' was ignored"],
      migratedFrom: null,
    });
  });

  it('a bad field is reset alone, the good ones are kept', () => {
    expect(migrateConfig({ version: 1, meter: { key: KEY }, mqtt: { host: 'b', port: 70000 } })).toStrictEqual({
      config: defaultsWith((c) => {
        c.meter.key = KEY;
        c.mqtt.host = 'b';
      }),
      warnings: ["the saved setting 'mqtt.port' was not valid (must be a whole number from 1 to 65535) and was reset to the default"],
      migratedFrom: null,
    });
  });

  it('a group that still fails after its bad field is reset is reset as a group', () => {
    const hostNeeded = 'is needed when MQTT is on: the name or IP address of your MQTT broker';
    expect(migrateConfig({ version: 1, meter: { key: KEY }, mqtt: { enabled: true, host: '', port: 1884 } })).toStrictEqual({
      config: defaultsWith((c) => (c.meter.key = KEY)),
      warnings: [
        `the saved setting 'mqtt.host' was not valid (${hostNeeded}) and was reset to the default`,
        `the saved 'mqtt' settings were not valid (mqtt.host: ${hostNeeded}) and were all reset to the defaults`,
      ],
      migratedFrom: null,
    });
  });

  it('a missing field a rule needs resets its group', () => {
    expect(migrateConfig({ version: 1, source: { type: 'serial', serial: { baudRate: 9600 } }, log: { level: 'error' } })).toStrictEqual({
      config: defaultsWith((c) => (c.log.level = 'error')),
      warnings: [
        "the saved 'source' settings were not valid (source.serial.path: is needed when the source is 'serial': the serial port the meter is on, e.g. /dev/ttyUSB0) and were all reset to the defaults",
      ],
      migratedFrom: null,
    });
  });

  it('a bad header whose name has dots is removed alone', () => {
    expect(migrateConfig({ version: 1, httpPush: { headers: { 'X.Bad Name': 'v', 'X-Good': 'g' } } })).toStrictEqual({
      config: defaultsWith((c) => (c.httpPush.headers = { 'X-Good': 'g' })),
      warnings: [
        "the saved setting 'httpPush.headers.X.Bad Name' was not valid (a header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)) and was reset to the default",
      ],
      migratedFrom: null,
    });
  });

  it('warnings never repeat a setting value, so no secret reaches a log', () => {
    const r = migrateConfig({ version: 1, meter: { key: 'DEADBEEF' }, wifi: { password: 'short' }, mqtt: { password: 77 } });
    expect(r.config).toStrictEqual(defaultConfig());
    expect(r.warnings).toStrictEqual([
      "the saved setting 'meter.key' was not valid (a key has 32 hex digits (16 bytes); this one has 8) and was reset to the default",
      "the saved setting 'mqtt.password' was not valid (must be text (or null to keep the saved value)) and was reset to the default",
      "the saved setting 'wifi.password' was not valid (a Wi-Fi password has 8 to 63 characters; this one has 5) and was reset to the default",
    ]);
    const text = r.warnings.join('\n');
    expect([text.includes('DEADBEEF'), text.includes('short'), text.includes('77')]).toStrictEqual([false, false, false]);
  });

  it('deeply wrong types everywhere: every setting reset, each one named', () => {
    const r = migrateConfig({
      version: 1,
      meter: [],
      source: 'serial',
      mqtt: { port: {}, host: ['x'], homeAssistant: 7 },
      httpPush: { headers: 'x', enabled: 'yes' },
      http: null,
      outbox: { capacity: '10' },
      web: { password: 42 },
      wifi: { ssid: { a: 1 } },
      log: { level: 3 },
    });
    const reset = (field: string, why: string) => `the saved setting '${field}' was not valid (${why}) and was reset to the default`;
    const group = 'must be a group of settings (a JSON object)';
    expect(r).toStrictEqual({
      config: defaultConfig(),
      warnings: [
        reset('meter', group),
        reset('source', group),
        reset('mqtt.homeAssistant', group),
        reset('mqtt.host', 'must be text'),
        reset('mqtt.port', 'must be a whole number from 1 to 65535'),
        reset('httpPush.enabled', 'must be true or false'),
        reset('httpPush.headers', "must be a group of 'name': 'value' pairs (a JSON object)"),
        reset('http', group),
        reset('outbox.capacity', 'must be a whole number from 1 to 100000'),
        reset('web.password', 'must be text (or null to keep the saved value)'),
        reset('wifi.ssid', 'must be text'),
        reset('log.level', "must be one of 'debug', 'info', 'warn', 'error'"),
        PASSWORD_LOST,
      ],
      migratedFrom: null,
    });
  });
});

describe('settings this firmware cannot use', () => {
  it('written by a newer firmware: defaults, and a warning that says so', () => {
    const want = {
      config: defaultConfig(),
      warnings: [`the saved settings were written by a newer firmware (settings version 2; this firmware reads up to version 1); ${DEFAULTS_USED}, or install the newer firmware again`],
      migratedFrom: null,
    };
    expect(migrateConfig({ version: 2, mqtt: { host: 'b' }, newGroup: {} })).toStrictEqual(want);
    expect(loadConfig('{"version":2}')).toStrictEqual(want);
  });

  it.each([['"1"'], ['-1'], ['1.5'], ['null'], ['true'], ['{}']])('version %s is unreadable', (v) => {
    expect(loadConfig(`{"version":${v},"mqtt":{"host":"b"}}`)).toStrictEqual({
      config: defaultConfig(),
      warnings: [`the saved settings have an unreadable version number; ${DEFAULTS_USED}`],
      migratedFrom: null,
    });
  });
});

const PASSWORD_LOST =
  'the web password could not be read from the damaged settings: set a new one; the saved keys and passwords were removed so that whoever sets it cannot read them';

describe('damaged storage: defaults, a warning, never a throw', () => {
  it('nothing stored yet: defaults without a warning', () => {
    expect(loadConfig(null)).toStrictEqual({ config: defaultConfig(), warnings: [], migratedFrom: null });
  });

  it.each([[''], ['   \n'], ['\ufeff']])('an empty file %j', (text) => {
    expect(loadConfig(text)).toStrictEqual({
      config: defaultConfig(),
      warnings: [`the saved settings were empty; ${DEFAULTS_USED}`],
      migratedFrom: null,
    });
  });

  it('JSON cut off at every length (a write interrupted by a power cut): the web password is kept once it can be read', () => {
    const text = serializeConfig(fullConfig());
    const full = text.indexOf('"web":{"password":"web-secret-pw"') + '"web":{"password":"web-secret-pw"'.length;
    expect(full).toBeGreaterThan(100);
    const kept = {
      config: defaultsWith((c) => (c.web.password = 'web-secret-pw')),
      warnings: [DAMAGED.replace(' and the web password must', ' must'), 'the web password could be read from the damaged settings and was kept'],
      migratedFrom: null,
    };
    let checked = 0;
    for (let n = 1; n < text.length; n++) {
      if (text.slice(0, n).trim() === '') continue;
      const want = n >= full ? kept : { config: defaultConfig(), warnings: text.slice(0, n).indexOf('"web"') >= 0 ? [DAMAGED, PASSWORD_LOST] : [DAMAGED], migratedFrom: null };
      expect(loadConfig(text.slice(0, n))).toStrictEqual(want);
      checked++;
    }
    expect(checked).toBe(text.length - 1);
  });

  it('settings whose web password cannot be read lose their other secrets too', () => {
    const stored = JSON.parse(serializeConfig(fullConfig()));
    stored.web.password = 7;
    const r = loadConfig(JSON.stringify(stored));
    expect(r.config.web.password).toBe('');
    expect([r.config.meter.key, r.config.meter.authKey, r.config.mqtt.password, r.config.wifi.password]).toStrictEqual(['', '', '', '']);
    expect(r.config.httpPush.headers).toStrictEqual({});
    expect(r.config.mqtt.host).toBe(fullConfig().mqtt.host);
    expect(r.warnings.at(-1)).toBe(PASSWORD_LOST);
    // a damaged group elsewhere keeps the password
    stored.web.password = 'web-secret-pw';
    stored.mqtt = 5;
    const k = loadConfig(JSON.stringify(stored));
    expect([k.config.web.password, k.config.meter.key]).toStrictEqual(['web-secret-pw', fullConfig().meter.key]);
  });

  it.each([['not json'], ['{"version":1,}'], ["{'version':1}"], ['{"version":1}}'], ['\u0000\u0000\u0000'], ['\ufeff\ufeff{"version":1}']])(
    'not JSON: %j',
    (text) => {
      expect(loadConfig(text)).toStrictEqual({ config: defaultConfig(), warnings: [DAMAGED], migratedFrom: null });
    },
  );

  it('a byte order mark before the JSON (a file saved by a Windows editor) is skipped', () => {
    expect(loadConfig('\ufeff{"version":1,"mqtt":{"host":"b"}}')).toStrictEqual({
      config: defaultsWith((c) => (c.mqtt.host = 'b')),
      warnings: [],
      migratedFrom: null,
    });
  });

  it.each([
    ['[]', 'a list'],
    ['[{"version":1}]', 'a list'],
    ['42', 'a number'],
    ['null', 'null'],
    ['"text"', 'text'],
    ['true', 'true/false'],
  ])('JSON %s that is not an object', (text, what) => {
    expect(loadConfig(text)).toStrictEqual({
      config: defaultConfig(),
      warnings: [`the saved settings are ${what}, not a group of settings, and could not be read; ${DEFAULTS_USED}`],
      migratedFrom: null,
    });
  });

  it.each([
    [[], 'a list'],
    [42, 'a number'],
    [null, 'null'],
    [false, 'true/false'],
    [undefined, 'missing'],
  ])('a parsed value %j that is not an object', (value, what) => {
    expect(migrateConfig(value)).toStrictEqual({
      config: defaultConfig(),
      warnings: [`the saved settings are ${what}, not a group of settings, and could not be read; ${DEFAULTS_USED}`],
      migratedFrom: null,
    });
  });

  it('an object that cannot be copied (a cycle) does not throw', () => {
    const stored: Record<string, unknown> = { version: 1 };
    stored.self = stored;
    expect(migrateConfig(stored)).toStrictEqual({
      config: defaultConfig(),
      warnings: [`the saved settings could not be read; ${DEFAULTS_USED}`],
      migratedFrom: null,
    });
  });

  it('random values of random shapes never throw and always give a valid config', () => {
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const names = ['version', 'meter', 'key', 'mqtt', 'host', 'port', 'source', 'type', 'serial', 'headers', 'httpPush', 'wifi', 'ssid', 'mqttHost', 'x'];
    const value = (depth: number): unknown => {
      const r = rand();
      if (r < 0.1) return null;
      if (r < 0.2) return rand() < 0.5;
      if (r < 0.35) return Math.floor(rand() * 70000) - 10;
      if (r < 0.5) return ['', 'serial', '1', 'a b', KEY, 'mqtt://x', '#'][Math.floor(rand() * 7)];
      if (r < 0.6 || depth > 3) return [value(depth + 1)];
      const o: Record<string, unknown> = {};
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) o[names[Math.floor(rand() * names.length)]] = value(depth + 1);
      if (depth === 0 && rand() < 0.7) o.version = rand() < 0.8 ? 1 : 0;
      return o;
    };
    let valid = 0;
    for (let i = 0; i < 2000; i++) {
      const stored = value(0);
      const r = migrateConfig(stored);
      const again = validateConfig(r.config);
      if (again.ok && JSON.stringify(again.config) === JSON.stringify(r.config)) valid++;
      else expect.fail(`not a valid config from ${JSON.stringify(stored)}`);
    }
    expect(valid).toBe(2000);
  });
});

describe('serializeConfig', () => {
  it('stores everything, secrets included: storage is the device, not the browser', () => {
    const c = fullConfig();
    expect(JSON.parse(serializeConfig(c))).toStrictEqual(JSON.parse(JSON.stringify(c)));
    expect(serializeConfig(c).startsWith('{"version":1,"meter":{"key":"00112233445566778899AABBCCDDEEFF"')).toBe(true);
  });

  it('always writes the current version', () => {
    const c = fullConfig();
    c.version = 0;
    expect(JSON.parse(serializeConfig(c)).version).toBe(CONFIG_VERSION);
  });
});
