// validateConfig: every rule with its exact message, all errors at once, partial updates on a base,
// write-only secrets (keep / clear), normalisation of what people type, unknown-key warnings.
// redactConfig / configForExport: no secret text ever leaves, backups round-trip.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../firmware/config/defaults.js';
import { SECRET_FIELDS, type Config } from '../firmware/config/types.js';
import {
  configForExport,
  fingerprint,
  isSecretHeader,
  redactConfig,
  secretState,
  utf8Length,
  validateConfig,
} from '../firmware/config/validate.js';

/** { a: { b: value } } from 'a.b'. */
function at(path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let o: unknown = value;
  for (let i = parts.length - 1; i >= 0; i--) o = { [parts[i]]: o };
  return o as Record<string, unknown>;
}

/** The defaults with a change applied: the expected result of a partial update. */
function defaultsWith(change: (c: Config) => void): Config {
  const c = defaultConfig();
  change(c);
  return c;
}

const KEY = '00112233445566778899AABBCCDDEEFF';
const AUTH_KEY = 'FFEEDDCCBBAA99887766554433221100';

/** A config with every secret set, and a credential header. */
function secretConfig(): Config {
  return defaultsWith((c) => {
    c.meter.key = KEY;
    c.meter.authKey = AUTH_KEY;
    c.mqtt.enabled = true;
    c.mqtt.host = 'broker.local';
    c.mqtt.username = 'meter';
    c.mqtt.password = 'mqtt-secret-pw';
    c.web.password = 'web-secret-pw';
    c.wifi.ssid = 'Home';
    c.wifi.password = 'wifi-secret-pw';
    c.httpPush.headers = { 'Content-Type': 'application/json', Authorization: 'Bearer tok-123456' };
    c.httpPush.password = 'push-secret-pw';
  });
}

const WHOLE_PORT = 'must be a whole number from 1 to 65535';
const GROUP = 'must be a group of settings (a JSON object)';

describe('whole and partial input', () => {
  it('an empty object gives the base unchanged', () => {
    expect(validateConfig({})).toStrictEqual({ ok: true, config: defaultConfig(), warnings: [] });
  });

  it('a partial update changes only the fields it names', () => {
    expect(validateConfig({ mqtt: { host: 'x' } })).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => (c.mqtt.host = 'x')),
      warnings: [],
    });
  });

  it('missing fields come from the given base, not from the defaults', () => {
    const base = secretConfig();
    const r = validateConfig({ mqtt: { qos: 1 }, log: { level: 'debug' } }, base);
    const want = secretConfig();
    want.mqtt.qos = 1;
    want.log.level = 'debug';
    expect(r).toStrictEqual({ ok: true, config: want, warnings: [] });
  });

  it('returns a fresh config that shares no object with the base', () => {
    const base = secretConfig();
    const r = validateConfig({}, base);
    if (!r.ok) throw new Error('expected ok');
    r.config.httpPush.headers['X-New'] = '1';
    r.config.mqtt.homeAssistant.enabled = false;
    r.config.source.serial.path = '/dev/x';
    expect(base).toStrictEqual(secretConfig());
  });

  it('does not change the input object', () => {
    const input = { mqtt: { host: '  spaced  ', baseTopic: '/a/' }, meter: { key: KEY.toLowerCase() } };
    const copy = JSON.parse(JSON.stringify(input));
    validateConfig(input);
    expect(input).toStrictEqual(copy);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a list', []],
    ['a number', 42],
    ['text', '{"mqtt":{}}'],
    ['true', true],
  ])('rejects %s as the whole input', (_what, input) => {
    expect(validateConfig(input)).toStrictEqual({ ok: false, errors: [{ field: '', message: GROUP }] });
  });

  it.each([
    ['meter', 'k'],
    ['source', 1],
    ['source.serial', []],
    ['source.replay', null],
    ['source.simulator', true],
    ['mqtt', 5],
    ['mqtt.homeAssistant', 'on'],
    ['httpPush', []],
    ['http', 8080],
    ['outbox', 1000],
    ['web', 'pw'],
    ['wifi', null],
    ['log', 'info'],
  ])('a group %s that is not an object is one error on that group', (path, value) => {
    expect(validateConfig(at(path, value))).toStrictEqual({ ok: false, errors: [{ field: path, message: GROUP }] });
  });

  it('version 1 is accepted; other versions are refused with the reason', () => {
    expect(validateConfig({ version: 1 })).toStrictEqual({ ok: true, config: defaultConfig(), warnings: [] });
    expect(validateConfig({ version: 2 })).toStrictEqual({
      ok: false,
      errors: [{ field: 'version', message: 'these settings are version 2, written by a newer firmware; this firmware reads version 1' }],
    });
    expect(validateConfig({ version: 0 })).toStrictEqual({
      ok: false,
      errors: [{ field: 'version', message: 'these settings are in the older format version 0; they must be converted before use' }],
    });
    expect(validateConfig({ version: '1' })).toStrictEqual({ ok: false, errors: [{ field: 'version', message: 'must be 1' }] });
    expect(validateConfig({ version: 1.5 })).toStrictEqual({ ok: false, errors: [{ field: 'version', message: 'must be 1' }] });
  });
});

describe('every field rule, with its message', () => {
  const ms = (min: number, max: number) => `must be a whole number of milliseconds from ${min} to ${max}`;
  const cases: [string, unknown, string][] = [
    ['meter.framing', 'dlms', "must be one of 'auto', 'mbus', 'hdlc'"],
    ['meter.key', 'AB'.repeat(15), 'a key has 32 hex digits (16 bytes); this one has 30'],
    ['meter.key', 'AB'.repeat(17), 'a key has 32 hex digits (16 bytes); this one has 34'],
    ['meter.key', 'zz' + 'AB'.repeat(15), 'not a hex key (a key has 32 hex digits): character "z" at position 0 is not hex'],
    ['meter.key', 'A' + 'AB'.repeat(15), 'not a hex key (a key has 32 hex digits): odd number of hex digits: the digit at character 30 has no partner'],
    ['meter.key', 12, 'must be text (or null to keep the saved value)'],
    ['meter.authKey', 'AB'.repeat(8), 'a key has 32 hex digits (16 bytes); this one has 16'],
    ['meter.authKey', false, 'must be text (or null to keep the saved value)'],
    ['source.type', 'usb', "must be one of 'simulator', 'serial', 'replay'"],
    ['source.serial.path', 5, 'must be text'],
    ['source.serial.path', 'p'.repeat(257), 'is too long: at most 256 characters; this one has 257'],
    ['source.serial.baudRate', 2400.5, 'must be a whole number from 300 to 921600 (the Austrian meters send at 2400)'],
    ['source.serial.baudRate', 299, 'must be a whole number from 300 to 921600 (the Austrian meters send at 2400)'],
    ['source.serial.baudRate', 921601, 'must be a whole number from 300 to 921600 (the Austrian meters send at 2400)'],
    ['source.serial.baudRate', '2400', 'must be a whole number from 300 to 921600 (the Austrian meters send at 2400)'],
    ['source.serial.dataBits', 9, 'must be 7 or 8'],
    ['source.serial.dataBits', '8', 'must be 7 or 8'],
    ['source.serial.parity', 'mark', "must be one of 'none', 'even', 'odd'"],
    ['source.serial.stopBits', 1.5, 'must be 1 or 2'],
    ['source.replay.file', 7, 'must be text'],
    ['source.replay.intervalMs', 99, ms(100, 3600000)],
    ['source.replay.intervalMs', 3600001, ms(100, 3600000)],
    ['source.replay.loop', 'yes', 'must be true or false'],
    ['source.simulator.phases', 2, 'must be 1 or 3'],
    ['source.simulator.intervalMs', 0, ms(100, 3600000)],
    ['source.simulator.key', '', 'the simulated meter needs a key of 32 hex digits'],
    ['source.simulator.key', '0001', 'a key has 32 hex digits (16 bytes); this one has 4'],
    ['source.simulator.key', null, 'must be text'],
    ['mqtt.enabled', 'true', 'must be true or false'],
    ['mqtt.host', 'mqtt://broker.local', "write only the broker's name or IP address, without 'mqtt://' or similar in front"],
    ['mqtt.host', '192.168.1.5:1883', 'write the port in mqtt.port, not after the host'],
    ['mqtt.host', 'my broker', "must be a host name or IP address, without spaces or '/'"],
    ['mqtt.host', 'broker/x', "must be a host name or IP address, without spaces or '/'"],
    ['mqtt.host', 'h'.repeat(254), 'is too long: at most 253 characters; this one has 254'],
    ['mqtt.host', 1, 'must be text'],
    ['mqtt.port', 0, WHOLE_PORT],
    ['mqtt.port', 65536, WHOLE_PORT],
    ['mqtt.port', 1883.5, WHOLE_PORT],
    ['mqtt.port', '1883', WHOLE_PORT],
    ['mqtt.port', null, WHOLE_PORT],
    ['mqtt.port', Number.NaN, WHOLE_PORT],
    ['mqtt.tls', 1, 'must be true or false'],
    ['mqtt.username', 5, 'must be text'],
    ['mqtt.username', 'u'.repeat(257), 'is too long: at most 256 characters; this one has 257'],
    ['mqtt.password', 5, 'must be text (or null to keep the saved value)'],
    ['mqtt.password', 'p'.repeat(257), 'is too long: at most 256 characters; this one has 257'],
    ['mqtt.clientId', '', "must be 1 to 23 letters, digits, '-' or '_' (MQTT 3.1.1)"],
    ['mqtt.clientId', 'c'.repeat(24), "must be 1 to 23 letters, digits, '-' or '_' (MQTT 3.1.1)"],
    ['mqtt.clientId', 'my client', "must be 1 to 23 letters, digits, '-' or '_' (MQTT 3.1.1)"],
    ['mqtt.clientId', 'zähler', "must be 1 to 23 letters, digits, '-' or '_' (MQTT 3.1.1)"],
    ['mqtt.clientId', 7, 'must be text'],
    ['mqtt.baseTopic', '///', "must not be empty (e.g. 'meterbridge')"],
    ['mqtt.baseTopic', '  ', "must not be empty (e.g. 'meterbridge')"],
    ['mqtt.baseTopic', 'home/+/meter', "must not contain '+' or '#' (MQTT wildcards)"],
    ['mqtt.baseTopic', 'home/#', "must not contain '+' or '#' (MQTT wildcards)"],
    ['mqtt.baseTopic', 'a\u0000b', 'must not contain the character NUL'],
    ['mqtt.baseTopic', 't'.repeat(201), 'is too long: at most 200 characters; this one has 201'],
    ['mqtt.qos', 2, 'must be 0 or 1'],
    ['mqtt.retain', 'no', 'must be true or false'],
    ['mqtt.mode', 'value', "must be one of 'reading', 'values', 'fields'"],
    ['mqtt.preset', '', "must not be empty ('custom' for your own templates)"],
    ['mqtt.preset', 'p'.repeat(65), 'is too long: at most 64 characters; this one has 65'],
    ['mqtt.topicTemplate', 5, 'must be text'],
    ['mqtt.topicTemplate', 't'.repeat(8193), 'is too long: a template can have at most 8192 bytes; this one has 8193'],
    ['mqtt.payloadTemplate', 'é'.repeat(4097), 'is too long: a template can have at most 8192 bytes; this one has 8194'],
    ['mqtt.payloadTemplate', null, 'must be text'],
    ['mqtt.homeAssistant.enabled', 'yes', 'must be true or false'],
    ['mqtt.homeAssistant.discoveryPrefix', 'ha/#', "must not contain '+' or '#' (MQTT wildcards)"],
    ['mqtt.homeAssistant.discoveryPrefix', '/', "must not be empty (e.g. 'meterbridge')"],
    ['httpPush.enabled', 0, 'must be true or false'],
    ['httpPush.url', 'ftp://host/x', 'must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter'],
    ['httpPush.url', 'http://', 'must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter'],
    ['httpPush.url', 'http:///path', 'must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter'],
    ['httpPush.url', 'http://host/a b', 'must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter'],
    ['httpPush.url', '192.168.1.10/meter', 'must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter'],
    ['httpPush.url', 'https://user:pw@host/x', 'must not contain a user name or password; put them in an Authorization header, where they stay hidden'],
    ['httpPush.url', 'http://h/' + 'u'.repeat(2040), 'is too long: at most 2048 characters; this one has 2049'],
    ['httpPush.url', 3, 'must be text'],
    ['httpPush.method', 'GET', "must be 'POST' or 'PUT'"],
    ['httpPush.preset', 5, 'must be text'],
    ['httpPush.bodyTemplate', 'b'.repeat(8193), 'is too long: a template can have at most 8192 bytes; this one has 8193'],
    ['httpPush.bodyFormat', 'xml', "must be 'json' or 'text'"],
    ['httpPush.timeoutMs', 99, ms(100, 120000)],
    ['httpPush.timeoutMs', 120001, ms(100, 120000)],
    ['httpPush.minIntervalMs', -1, ms(0, 86400000)],
    ['httpPush.minIntervalMs', 86400001, ms(0, 86400000)],
    ['http.port', 0, WHOLE_PORT],
    ['http.port', 70000, WHOLE_PORT],
    ['http.metricsTemplate', 'm'.repeat(8193), 'is too long: a template can have at most 8192 bytes; this one has 8193'],
    ['meter.maxPowerKw', 0, 'must be a whole number of kW from 1 to 100000 (the most the meter can measure per direction; pushes beyond it are refused as implausible)'],
    ['outbox.capacity', 0, 'must be a whole number from 1 to 100000'],
    ['outbox.capacity', 100001, 'must be a whole number from 1 to 100000'],
    ['outbox.capacity', 1.5, 'must be a whole number from 1 to 100000'],
    ['web.password', 'w'.repeat(129), 'is too long: at most 128 characters; this one has 129'],
    ['web.password', 1234, 'must be text (or null to keep the saved value)'],
    ['wifi.ssid', 's'.repeat(33), 'a Wi-Fi network name has at most 32 bytes; this one has 33'],
    ['wifi.ssid', 'ä'.repeat(17), 'a Wi-Fi network name has at most 32 bytes; this one has 34'],
    ['wifi.ssid', 5, 'must be text'],
    ['wifi.password', 'short', 'a Wi-Fi password has 8 to 63 characters; this one has 5'],
    ['wifi.password', 'x'.repeat(64), 'a Wi-Fi password has 8 to 63 characters; this one has 64'],
    ['wifi.password', 'pässwörter', 'a Wi-Fi password may use only ASCII letters, digits, spaces and punctuation'],
    ['wifi.hostname', '-meter', "must be 1 to 63 letters, digits or '-', not starting or ending with '-'"],
    ['wifi.hostname', 'meter-', "must be 1 to 63 letters, digits or '-', not starting or ending with '-'"],
    ['wifi.hostname', 'meter_bridge', "must be 1 to 63 letters, digits or '-', not starting or ending with '-'"],
    ['wifi.hostname', 'meter.local', "must be 1 to 63 letters, digits or '-', not starting or ending with '-'"],
    ['wifi.hostname', 'h'.repeat(64), "must be 1 to 63 letters, digits or '-', not starting or ending with '-'"],
    ['wifi.hostname', '', "must be 1 to 63 letters, digits or '-', not starting or ending with '-'"],
    ['log.level', 'verbose', "must be one of 'debug', 'info', 'warn', 'error'"],
  ];

  it.each(cases)('%s = %j is refused', (field, value, message) => {
    expect(validateConfig(at(field, value))).toStrictEqual({ ok: false, errors: [{ field, message }] });
  });

  it.each([
    ['mqtt.port', 1],
    ['mqtt.port', 65535],
    ['http.port', 1],
    ['outbox.capacity', 1],
    ['outbox.capacity', 100000],
    ['source.serial.baudRate', 300],
    ['source.serial.baudRate', 921600],
    ['source.serial.dataBits', 7],
    ['source.serial.stopBits', 2],
    ['source.serial.parity', 'none'],
    ['source.replay.intervalMs', 100],
    ['source.simulator.phases', 1],
    ['httpPush.minIntervalMs', 0],
    ['httpPush.timeoutMs', 120000],
    ['mqtt.clientId', 'A-z_0'.padEnd(23, '9')],
    ['mqtt.baseTopic', 't'.repeat(200)],
    ['mqtt.qos', 1],
    ['mqtt.mode', 'values'],
    ['mqtt.preset', 'custom'],
    ['mqtt.topicTemplate', 't'.repeat(8192)],
    ['mqtt.payloadTemplate', 'é'.repeat(4096)],
    ['mqtt.payloadTemplate', ''],
    ['mqtt.host', 'fe80::1'],
    ['mqtt.host', '192.168.1.5'],
    ['wifi.ssid', 's'.repeat(32)],
    ['wifi.ssid', 'ä'.repeat(16)],
    ['wifi.ssid', ''],
    ['wifi.password', '12345678'],
    ['wifi.password', 'p'.repeat(63)],
    ['wifi.password', 'aB'.repeat(32).replace(/[^0-9a-fA-F]/g, '0')],
    ['wifi.hostname', 'm'.repeat(63)],
    ['wifi.hostname', 'a'],
    ['httpPush.url', 'https://example.com:8443/api/meter?x=1#f'],
    ['httpPush.url', 'HTTP://HOST/'],
    ['httpPush.bodyFormat', 'text'],
    ['httpPush.method', 'PUT'],
    ['log.level', 'error'],
    ['meter.framing', 'hdlc'],
  ] as const)('%s = %j is accepted as is', (field, value) => {
    const r = validateConfig(at(field, value));
    expect(r.ok).toBe(true);
    const parts = field.split('.');
    let got: unknown = r.ok ? r.config : null;
    for (const p of parts) got = (got as Record<string, unknown>)[p];
    expect(got).toBe(value);
  });
});

describe('rules that tie fields together', () => {
  it('the serial source needs a port', () => {
    expect(validateConfig({ source: { type: 'serial' } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'source.serial.path', message: "is needed when the source is 'serial': the serial port the meter is on, e.g. /dev/ttyUSB0" }],
    });
    expect(validateConfig({ source: { type: 'serial', serial: { path: '  /dev/ttyUSB0 ' } } })).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => {
        c.source.type = 'serial';
        c.source.serial.path = '/dev/ttyUSB0';
      }),
      warnings: [],
    });
  });

  it('the replay source needs a file', () => {
    expect(validateConfig({ source: { type: 'replay', replay: { file: '  ' } } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'source.replay.file', message: "is needed when the source is 'replay': the capture file to play" }],
    });
    const r = validateConfig({ source: { type: 'replay', replay: { file: 'capture.hex' } } });
    expect(r.ok && r.config.source.replay.file).toBe('capture.hex');
  });

  it('the port or file of an unused source may stay empty', () => {
    expect(validateConfig({ source: { type: 'simulator', serial: { path: '' }, replay: { file: '' } } }).ok).toBe(true);
  });

  it('MQTT on needs a host; MQTT off does not', () => {
    expect(validateConfig({ mqtt: { enabled: true } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'mqtt.host', message: 'is needed when MQTT is on: the name or IP address of your MQTT broker' }],
    });
    expect(validateConfig({ mqtt: { enabled: false, host: '' } })).toStrictEqual({ ok: true, config: defaultConfig(), warnings: [] });
  });

  it('an MQTT password needs a user name when MQTT is on', () => {
    expect(validateConfig({ mqtt: { enabled: true, host: 'b', password: 'pw' } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'mqtt.username', message: 'is needed when an MQTT password is set (MQTT sends a password only together with a user name)' }],
    });
    expect(validateConfig({ mqtt: { enabled: true, host: 'b', username: 'u', password: 'pw' } }).ok).toBe(true);
    expect(validateConfig({ mqtt: { enabled: false, password: 'pw' } }).ok).toBe(true);
  });

  it('HTTP push on needs a URL; off does not', () => {
    expect(validateConfig({ httpPush: { enabled: true } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'httpPush.url', message: 'is needed when HTTP push is on: an address starting with http:// or https://' }],
    });
    expect(validateConfig({ httpPush: { enabled: false, url: '' } }).ok).toBe(true);
  });

  it('a field that already failed is reported once, not again by a cross-field rule', () => {
    expect(validateConfig({ mqtt: { enabled: true, host: 5 } })).toStrictEqual({ ok: false, errors: [{ field: 'mqtt.host', message: 'must be text' }] });
  });

  it('the cross-field rules use the base for what the input leaves out', () => {
    const base = defaultsWith((c) => {
      c.mqtt.host = 'broker';
    });
    expect(validateConfig({ mqtt: { enabled: true } }, base).ok).toBe(true);
    const serialBase = defaultsWith((c) => {
      c.source.serial.path = '/dev/ttyS0';
    });
    expect(validateConfig({ source: { type: 'serial' } }, serialBase).ok).toBe(true);
  });
});

describe('all bad fields at once', () => {
  it('returns one error per bad field, in settings order, cross-field rules last', () => {
    const r = validateConfig({
      version: 3,
      meter: { key: 'AB'.repeat(15), framing: 'x' },
      source: { type: 'serial', serial: { baudRate: 0 }, simulator: { phases: 2 } },
      mqtt: { enabled: true, port: 0, clientId: '', baseTopic: '#', homeAssistant: { discoveryPrefix: '' } },
      httpPush: { enabled: true, url: 'ftp://x', headers: { 'Bad Name': 'v' } },
      http: { port: -1 },
      outbox: { capacity: 0 },
      web: { password: 9 },
      wifi: { ssid: 's'.repeat(40), password: 'short', hostname: '_' },
      log: { level: 'loud' },
    });
    expect(r).toStrictEqual({
      ok: false,
      errors: [
        { field: 'version', message: 'these settings are version 3, written by a newer firmware; this firmware reads version 1' },
        { field: 'meter.key', message: 'a key has 32 hex digits (16 bytes); this one has 30' },
        { field: 'meter.framing', message: "must be one of 'auto', 'mbus', 'hdlc'" },
        { field: 'source.serial.baudRate', message: 'must be a whole number from 300 to 921600 (the Austrian meters send at 2400)' },
        { field: 'source.simulator.phases', message: 'must be 1 or 3' },
        { field: 'mqtt.port', message: WHOLE_PORT },
        { field: 'mqtt.clientId', message: "must be 1 to 23 letters, digits, '-' or '_' (MQTT 3.1.1)" },
        { field: 'mqtt.baseTopic', message: "must not contain '+' or '#' (MQTT wildcards)" },
        { field: 'mqtt.homeAssistant.discoveryPrefix', message: "must not be empty (e.g. 'meterbridge')" },
        { field: 'httpPush.url', message: 'must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter' },
        { field: 'httpPush.headers.Bad Name', message: "a header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)" },
        { field: 'http.port', message: WHOLE_PORT },
        { field: 'outbox.capacity', message: 'must be a whole number from 1 to 100000' },
        { field: 'web.password', message: 'must be text (or null to keep the saved value)' },
        { field: 'wifi.ssid', message: 'a Wi-Fi network name has at most 32 bytes; this one has 40' },
        { field: 'wifi.password', message: 'a Wi-Fi password has 8 to 63 characters; this one has 5' },
        { field: 'wifi.hostname', message: "must be 1 to 63 letters, digits or '-', not starting or ending with '-'" },
        { field: 'log.level', message: "must be one of 'debug', 'info', 'warn', 'error'" },
        { field: 'source.serial.path', message: "is needed when the source is 'serial': the serial port the meter is on, e.g. /dev/ttyUSB0" },
        { field: 'mqtt.host', message: 'is needed when MQTT is on: the name or IP address of your MQTT broker' },
      ],
    });
  });
});

describe('normalisation of what people type', () => {
  it.each([
    ['upper case already', KEY],
    ['lower case', KEY.toLowerCase()],
    ['spaces between bytes', '00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF'],
    ['a 0x prefix', '0x00112233445566778899aabbccddeeff'],
    ['0x before every byte, commas', '0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff'],
    ['colons', '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff'],
    ['spaces and a line break around', '  00112233 44556677\n8899AABB CCDDEEFF  '],
  ])('a key with %s is stored as 32 upper-case hex digits', (_what, typed) => {
    const r = validateConfig({ meter: { key: typed, authKey: typed }, source: { simulator: { key: typed } } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.config.meter.key, r.config.meter.authKey, r.config.source.simulator.key]).toStrictEqual([KEY, KEY, KEY]);
  });

  it('trims the text fields', () => {
    const r = validateConfig({
      source: { serial: { path: ' /dev/ttyUSB0 ' }, replay: { file: '\tcap.hex\n' } },
      mqtt: {
        host: ' broker.local ',
        username: ' meter ',
        clientId: ' bridge-1 ',
        preset: ' json ',
        homeAssistant: { discoveryPrefix: ' homeassistant ' },
      },
      httpPush: { url: '  https://example.com/x  ', headers: { ' X-Meter ': '  kitchen  ' }, preset: ' custom ' },
      wifi: { hostname: ' meter-1 ' },
    });
    expect(r).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => {
        c.source.serial.path = '/dev/ttyUSB0';
        c.source.replay.file = 'cap.hex';
        c.mqtt.host = 'broker.local';
        c.mqtt.username = 'meter';
        c.mqtt.clientId = 'bridge-1';
        c.mqtt.preset = 'json';
        c.mqtt.homeAssistant.discoveryPrefix = 'homeassistant';
        c.httpPush.url = 'https://example.com/x';
        c.httpPush.headers = { 'X-Meter': 'kitchen' };
        c.httpPush.preset = 'custom';
        c.wifi.hostname = 'meter-1';
      }),
      warnings: [],
    });
  });

  it.each([
    ['/home/meter/', 'home/meter'],
    ['///home/meter', 'home/meter'],
    ['  /home/meter/  ', 'home/meter'],
    ['//a//b//', 'a//b'],
    ['meterbridge', 'meterbridge'],
  ])('the topic %j is stored as %j', (typed, stored) => {
    const r = validateConfig({ mqtt: { baseTopic: typed, homeAssistant: { discoveryPrefix: typed } } });
    expect(r.ok && [r.config.mqtt.baseTopic, r.config.mqtt.homeAssistant.discoveryPrefix]).toStrictEqual([stored, stored]);
  });

  it('normalises the case of method, parity and log level', () => {
    const r = validateConfig({ httpPush: { method: ' put ' }, source: { serial: { parity: 'EVEN' } }, log: { level: 'Warn' } });
    expect(r.ok && [r.config.httpPush.method, r.config.source.serial.parity, r.config.log.level]).toStrictEqual(['PUT', 'even', 'warn']);
  });

  it('keeps passwords and templates exactly as typed, spaces included', () => {
    const r = validateConfig({
      mqtt: { password: ' pass word ', topicTemplate: ' {{base_topic}}/x ', payloadTemplate: '{{x}}\n' },
      web: { password: '  web pw  ' },
      wifi: { password: ' wifi pass ' },
      http: { metricsTemplate: '# HELP x\n' },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.config.mqtt.password, r.config.mqtt.topicTemplate, r.config.mqtt.payloadTemplate, r.config.web.password, r.config.wifi.password, r.config.http.metricsTemplate]).toStrictEqual([
      ' pass word ',
      ' {{base_topic}}/x ',
      '{{x}}\n',
      '  web pw  ',
      ' wifi pass ',
      '# HELP x\n',
    ]);
  });

  it('does not compile templates: broken mustache is left to the gateway', () => {
    const r = validateConfig({ mqtt: { payloadTemplate: '{{#unclosed' } });
    expect(r.ok && r.config.mqtt.payloadTemplate).toBe('{{#unclosed');
  });

  it('accepts a 64-hex-digit Wi-Fi PSK', () => {
    const psk = 'a1'.repeat(32);
    const r = validateConfig({ wifi: { password: psk } });
    expect(r.ok && r.config.wifi.password).toBe(psk);
  });
});

describe('write-only secrets', () => {
  const samples: Record<(typeof SECRET_FIELDS)[number], [string, string]> = {
    'meter.key': [KEY, AUTH_KEY],
    'meter.authKey': [AUTH_KEY, KEY],
    'mqtt.password': ['mqtt-secret-pw', 'another-pw'],
    'httpPush.password': ['push-secret-pw', 'another-pw'],
    'web.password': ['web-secret-pw', 'another-pw'],
    'wifi.password': ['wifi-secret-pw', 'another-pw'],
  };
  const get = (c: Config, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], c);
  // every secret set, samples[field][0] being the saved value
  const baseWith = (path: string, value: string) => {
    const c = secretConfig();
    expect(get(c, path)).toBe(value);
    return c;
  };

  it('covers exactly the six secret fields', () => {
    expect([...SECRET_FIELDS]).toStrictEqual(['meter.key', 'meter.authKey', 'mqtt.password', 'httpPush.password', 'web.password', 'wifi.password']);
  });

  it.each(SECRET_FIELDS.map((f) => [f]))('%s: absent keeps the saved value', (field) => {
    const base = baseWith(field, samples[field][0]);
    const r = validateConfig({ log: { level: 'debug' } }, base);
    expect(r.ok && get(r.config, field)).toBe(samples[field][0]);
  });

  it.each(SECRET_FIELDS.map((f) => [f]))('%s: null keeps the saved value', (field) => {
    const base = baseWith(field, samples[field][0]);
    const r = validateConfig(at(field, null), base);
    expect(r).toStrictEqual({ ok: true, config: base, warnings: [] });
  });

  it.each(SECRET_FIELDS.map((f) => [f]))('%s: the { set, fingerprint } object the UI was sent keeps the saved value', (field) => {
    const base = baseWith(field, samples[field][0]);
    const r = validateConfig(at(field, { set: true, fingerprint: 'ABCD' }), base);
    expect(r).toStrictEqual({ ok: true, config: base, warnings: [] });
  });

  it.each(SECRET_FIELDS.filter((f) => f !== 'web.password').map((f) => [f]))('%s: an empty string clears it', (field) => {
    const base = baseWith(field, samples[field][0]);
    const r = validateConfig(at(field, ''), base);
    expect(r.ok && get(r.config, field)).toBe('');
  });

  it('web.password cannot be removed through the API, only from the owner side (a factory reset)', () => {
    const base = baseWith('web.password', samples['web.password'][0]);
    const r = validateConfig(at('web.password', ''), base);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0]).toMatchObject({ field: 'web.password', message: expect.stringContaining('cannot be removed') });
    const owner = validateConfig(at('web.password', ''), base, { trusted: true });
    expect(owner.ok && owner.config.web.password).toBe('');
  });

  it.each(SECRET_FIELDS.map((f) => [f]))('%s: a new value replaces it', (field) => {
    const base = baseWith(field, samples[field][0]);
    const r = validateConfig(at(field, samples[field][1]), base);
    expect(r.ok && get(r.config, field)).toBe(samples[field][1]);
  });

  it('a key of only spaces clears the key', () => {
    const r = validateConfig({ meter: { key: '   ' } }, baseWith('meter.key', KEY));
    expect(r.ok && r.config.meter.key).toBe('');
  });

  it('an invalid new secret is an error and the message does not repeat the secret', () => {
    const r = validateConfig({ wifi: { password: 'secret7' } });
    expect(r).toStrictEqual({ ok: false, errors: [{ field: 'wifi.password', message: 'a Wi-Fi password has 8 to 63 characters; this one has 7' }] });
  });

  it('an object that is not the { set, fingerprint } shape is not taken for "keep"', () => {
    expect(validateConfig({ web: { password: { set: true, value: 'x' } } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'web.password', message: 'must be text (or null to keep the saved value)' }],
    });
  });

  it('what GET /api/config sends, PUT back unchanged, changes nothing', () => {
    const c = secretConfig();
    expect(validateConfig(JSON.parse(JSON.stringify(redactConfig(c))), c)).toStrictEqual({ ok: true, config: c, warnings: [] });
  });
});

describe('HTTP push headers', () => {
  const base = () =>
    defaultsWith((c) => {
      c.httpPush.headers = { 'Content-Type': 'application/json', Authorization: 'Bearer tok-123456', 'X-Site': 'home' };
    });

  it('given headers replace the saved map as a whole, so a header can be removed', () => {
    const r = validateConfig({ httpPush: { headers: { 'X-New': 'n' } } }, base());
    expect(r.ok && r.config.httpPush.headers).toStrictEqual({ 'X-New': 'n' });
  });

  it('absent headers keep the saved map', () => {
    const r = validateConfig({ httpPush: { url: 'http://h/' } }, base());
    expect(r.ok && r.config.httpPush.headers).toStrictEqual(base().httpPush.headers);
  });

  it('a null value keeps the saved value of that header, whatever the case of its name', () => {
    const r = validateConfig({ httpPush: { headers: { authorization: null, 'X-Site': 'work' } } }, base());
    expect(r).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => {
        c.httpPush.headers = { authorization: 'Bearer tok-123456', 'X-Site': 'work' };
      }),
      warnings: [],
    });
  });

  it('a null value with nothing saved is left out with a warning', () => {
    const r = validateConfig({ httpPush: { headers: { Authorization: null, 'X-A': 'a' } } });
    expect(r).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => {
        c.httpPush.headers = { 'X-A': 'a' };
      }),
      warnings: ['httpPush.headers.Authorization had no value and there is no saved value to keep, so it was left out'],
    });
  });

  it('an empty map is allowed', () => {
    const r = validateConfig({ httpPush: { headers: {} } }, base());
    expect(r.ok && r.config.httpPush.headers).toStrictEqual({});
  });

  it.each([
    [{ 'X-A': 'one\r\nX-Injected: yes' }, 'httpPush.headers.X-A', 'must be on one line, without line breaks or control characters'],
    [{ 'X-A': 'one\ntwo' }, 'httpPush.headers.X-A', 'must be on one line, without line breaks or control characters'],
    [{ 'X-A': 'bell\u0007' }, 'httpPush.headers.X-A', 'must be on one line, without line breaks or control characters'],
    [{ 'X-A\r\nX-B': 'v' }, 'httpPush.headers.X-A\r\nX-B', 'a header name must not contain line breaks'],
    [{ 'X A': 'v' }, 'httpPush.headers.X A', "a header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)"],
    [{ 'X:A': 'v' }, 'httpPush.headers.X:A', "a header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)"],
    [{ '  ': 'v' }, 'httpPush.headers.  ', 'a header name must not be empty'],
    [{ 'X-A': 5 }, 'httpPush.headers.X-A', 'must be text'],
    [{ 'X-A': 'v'.repeat(2049) }, 'httpPush.headers.X-A', 'is too long: at most 2048 characters; this one has 2049'],
    [{ 'X-A': 'a', 'x-a': 'b' }, 'httpPush.headers.x-a', 'appears twice (header names ignore upper and lower case)'],
    [['Content-Type: text/plain'], 'httpPush.headers', "must be a group of 'name': 'value' pairs (a JSON object)"],
    ['Content-Type: text/plain', 'httpPush.headers', "must be a group of 'name': 'value' pairs (a JSON object)"],
  ])('%j is refused', (headers, field, message) => {
    expect(validateConfig({ httpPush: { headers } })).toStrictEqual({ ok: false, errors: [{ field, message }] });
  });

  it('at most 20 headers', () => {
    const h: Record<string, string> = {};
    for (let i = 0; i < 21; i++) h[`X-H${i}`] = 'v';
    expect(validateConfig({ httpPush: { headers: h } })).toStrictEqual({
      ok: false,
      errors: [{ field: 'httpPush.headers', message: 'at most 20 headers; this has 21' }],
    });
    delete h['X-H20'];
    const r = validateConfig({ httpPush: { headers: h } });
    expect(r.ok && Object.keys(r.config.httpPush.headers).length).toBe(20);
  });

  it('a header named __proto__ is an ordinary header, not a prototype', () => {
    const r = validateConfig(JSON.parse('{"httpPush":{"headers":{"__proto__":"x"}}}'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const h = r.config.httpPush.headers;
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.keys(h)).toStrictEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toBe('x');
  });
});

describe('warnings', () => {
  it.each([
    [{ mqtt: { hots: 'x' } }, "unknown setting 'mqtt.hots' was ignored"],
    [{ colour: 'blue' }, "unknown setting 'colour' was ignored"],
    [{ source: { serial: { speed: 9600 } } }, "unknown setting 'source.serial.speed' was ignored"],
    [{ mqtt: { homeAssistant: { prefix: 'ha' } } }, "unknown setting 'mqtt.homeAssistant.prefix' was ignored"],
    [JSON.parse('{"__proto__":{"x":1}}'), "unknown setting '__proto__' was ignored"],
  ])('%j: an unknown setting is a warning, not an error', (input, warning) => {
    expect(validateConfig(input)).toStrictEqual({ ok: true, config: defaultConfig(), warnings: [warning] });
  });

  it('every unknown setting is named, and the known ones still apply', () => {
    expect(validateConfig({ mqtt: { hots: 'x', host: 'b' }, wifi: { pass: 'y' }, extra: 1 })).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => (c.mqtt.host = 'b')),
      warnings: ["unknown setting 'extra' was ignored", "unknown setting 'mqtt.hots' was ignored", "unknown setting 'wifi.pass' was ignored"],
    });
  });

  it('an authentication key without the encryption key', () => {
    const r = validateConfig({ meter: { authKey: AUTH_KEY } });
    expect(r.ok && r.warnings).toStrictEqual([
      'meter.authKey is set but meter.key is empty: without the encryption key (GUEK) the meter data cannot be decrypted',
    ]);
  });

  it('TLS on the plain port and plain on the TLS port, only when MQTT is on', () => {
    const on = { enabled: true, host: 'b' };
    let r = validateConfig({ mqtt: { ...on, tls: true } });
    expect(r.ok && r.warnings).toStrictEqual(['mqtt.tls is on but mqtt.port is 1883, the usual port without TLS; brokers usually take TLS on 8883']);
    r = validateConfig({ mqtt: { ...on, port: 8883 } });
    expect(r.ok && r.warnings).toStrictEqual(['mqtt.port is 8883, the usual port for TLS, but mqtt.tls is off']);
    r = validateConfig({ mqtt: { ...on, port: 8883, tls: true } });
    expect(r.ok && r.warnings).toStrictEqual([]);
    r = validateConfig({ mqtt: { tls: true } });
    expect(r.ok && r.warnings).toStrictEqual([]);
  });

  it('a Wi-Fi name with spaces at the ends is kept, with a warning', () => {
    const r = validateConfig({ wifi: { ssid: ' Home ' } });
    expect(r).toStrictEqual({
      ok: true,
      config: defaultsWith((c) => (c.wifi.ssid = ' Home ')),
      warnings: ['wifi.ssid begins or ends with a space; it was kept as typed because network names may contain spaces'],
    });
  });

  it('with errors, only the errors come back', () => {
    expect(validateConfig({ mqtt: { hots: 'x', port: 0 } })).toStrictEqual({ ok: false, errors: [{ field: 'mqtt.port', message: WHOLE_PORT }] });
  });
});

describe('fingerprints', () => {
  it.each([
    ['a', 'E40C'], // FNV-1a 32 of "a" = e40c292c (published test vector)
    ['foobar', 'BF9C'], // = bf9cf968
    ['é', '1E9D'], // UTF-8 C3 A9
    ['😀', '33A2'], // UTF-8 F0 9F 98 80, from a surrogate pair
    [KEY, '5136'],
    [AUTH_KEY, '2369'],
  ])('fingerprint(%j) = %s', (text, fp) => {
    expect(fingerprint(text)).toBe(fp);
  });

  it('an unset secret has no fingerprint', () => {
    expect(fingerprint('')).toBe(null);
    expect(secretState('')).toStrictEqual({ set: false, fingerprint: null });
    expect(secretState('a')).toStrictEqual({ set: true, fingerprint: 'E40C' });
  });

  it('utf8Length counts bytes, not characters', () => {
    expect([utf8Length(''), utf8Length('abc'), utf8Length('ä'), utf8Length('€'), utf8Length('😀'), utf8Length('\ud800x')]).toStrictEqual([0, 3, 2, 3, 4, 4]);
  });
});

describe('redactConfig', () => {
  it('replaces every secret by { set, fingerprint } and keeps everything else', () => {
    const c = secretConfig();
    const want = JSON.parse(JSON.stringify(c));
    want.meter.key = { set: true, fingerprint: '5136' };
    want.meter.authKey = { set: true, fingerprint: '2369' };
    // passwords and credential headers: no fingerprint, it would help guessing them offline
    want.mqtt.password = { set: true, fingerprint: null };
    want.httpPush.password = { set: true, fingerprint: null };
    want.web.password = { set: true, fingerprint: null };
    want.wifi.password = { set: true, fingerprint: null };
    want.httpPush.headers.Authorization = { set: true, fingerprint: null };
    expect(redactConfig(c)).toStrictEqual(want);
  });

  it('shows unset secrets as not set', () => {
    const r = redactConfig(defaultConfig());
    expect([r.meter.key, r.meter.authKey, r.mqtt.password, r.web.password, r.wifi.password]).toStrictEqual(
      Array(5).fill({ set: false, fingerprint: null }),
    );
    expect(r.httpPush.headers).toStrictEqual({ 'Content-Type': 'application/json' });
    expect(r.source.simulator.key).toBe('000102030405060708090A0B0C0D0E0F'); // the published demo key is no secret
  });

  it('never contains the secret text, in any spelling', () => {
    const text = JSON.stringify(redactConfig(secretConfig()));
    for (const s of [KEY, KEY.toLowerCase(), AUTH_KEY, AUTH_KEY.toLowerCase(), 'mqtt-secret-pw', 'push-secret-pw', 'web-secret-pw', 'wifi-secret-pw', 'tok-123456', 'Bearer']) {
      expect(text.includes(s), s).toBe(false);
    }
  });

  it('tells two keys apart', () => {
    const a = redactConfig(secretConfig());
    expect(a.meter.key.fingerprint).not.toBe(a.meter.authKey.fingerprint);
  });

  it('does not change the config it was given', () => {
    const c = secretConfig();
    redactConfig(c);
    expect(c).toStrictEqual(secretConfig());
  });

  it.each([
    ['Authorization', true],
    ['proxy-authorization', true],
    ['X-Api-Key', true],
    ['X-Auth-Token', true],
    ['Cookie', true],
    ['X-Secret', true],
    ['X-Password', true],
    ['Content-Type', false],
    ['Accept', false],
    ['X-Meter', false],
  ])('header %s holds a credential: %s', (name, yes) => {
    expect(isSecretHeader(name)).toBe(yes);
  });
});

describe('configForExport', () => {
  it('with secrets: the whole config, a copy', () => {
    const c = secretConfig();
    const out = configForExport(c, true);
    expect(out).toStrictEqual(JSON.parse(JSON.stringify(c)));
    expect(out.version).toBe(1);
    (out.mqtt as Record<string, unknown>).host = 'changed';
    expect(c.mqtt.host).toBe('broker.local');
  });

  it('without secrets: the secret fields are left out and credential headers are null', () => {
    const want = JSON.parse(JSON.stringify(secretConfig()));
    delete want.meter.key;
    delete want.meter.authKey;
    delete want.mqtt.password;
    delete want.httpPush.password;
    delete want.web.password;
    delete want.wifi.password;
    want.httpPush.headers.Authorization = null;
    const out = configForExport(secretConfig(), false);
    expect(out).toStrictEqual(want);
    const text = JSON.stringify(out);
    for (const s of [KEY, AUTH_KEY, 'mqtt-secret-pw', 'push-secret-pw', 'web-secret-pw', 'wifi-secret-pw', 'tok-123456']) expect(text.includes(s), s).toBe(false);
  });

  it('a backup without secrets, restored onto the gateway, keeps the secrets it has', () => {
    const c = secretConfig();
    const file = JSON.parse(JSON.stringify(configForExport(c, false)));
    expect(validateConfig(file, c)).toStrictEqual({ ok: true, config: c, warnings: [] });
  });

  it('a backup with secrets restores everything onto a factory-new gateway', () => {
    const c = secretConfig();
    const file = JSON.parse(JSON.stringify(configForExport(c, true)));
    expect(validateConfig(file)).toStrictEqual({ ok: true, config: c, warnings: [] });
  });

  it('a backup without secrets onto a factory-new gateway leaves the secrets unset', () => {
    const file = JSON.parse(JSON.stringify(configForExport(secretConfig(), false)));
    const r = validateConfig(file);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.config.meter.key, r.config.meter.authKey, r.config.mqtt.password, r.config.web.password, r.config.wifi.password]).toStrictEqual(['', '', '', '', '']);
    expect(r.config.httpPush.headers).toStrictEqual({ 'Content-Type': 'application/json' });
    expect(r.warnings).toStrictEqual(['httpPush.headers.Authorization had no value and there is no saved value to keep, so it was left out']);
  });
});

describe('access settings', () => {
  it('a web password has at least 8 characters; a shorter stored one stays with a warning', () => {
    const r = validateConfig({ web: { password: 'abc' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toStrictEqual([{ field: 'web.password', message: 'is too short: at least 8 characters; this one has 3' }]);
    expect(validateConfig({ web: { password: '12345678' } }).ok).toBe(true);
    const stored = validateConfig({ web: { password: 'abc' } }, undefined, { trusted: true });
    expect(stored.ok && stored.config.web.password).toBe('abc');
    expect(stored.ok && stored.warnings[0]).toContain('fewer than 8 characters');
  });

  it('web.allowedHosts: host names, lower case, no ports or schemes', () => {
    const r = validateConfig({ web: { allowedHosts: ['Meter.Example.NET.', 'meter.example.net', 'pi'] } });
    expect(r.ok && r.config.web.allowedHosts).toStrictEqual(['meter.example.net', 'pi']);
    for (const bad of [['http://x'], ['x:8080'], 'x', [1], ['a b']]) {
      const b = validateConfig({ web: { allowedHosts: bad } });
      expect(b.ok, JSON.stringify(bad)).toBe(false);
      expect(!b.ok && b.errors[0].field).toBe('web.allowedHosts');
    }
  });
});

describe('secrets bound to their destination', () => {
  const saved = () => secretConfig(); // broker.local:1883 with mqtt-secret-pw; Authorization header
  it.each([
    ['host', { host: 'evil.example' }],
    ['port', { port: 1884 }],
    ['TLS', { tls: true, port: 8883 }],
  ])('another broker %s clears the MQTT password, with a warning', (_what, change) => {
    const r = validateConfig({ mqtt: change }, saved());
    expect(r.ok && r.config.mqtt.password).toBe('');
    expect(r.ok && r.warnings.join(' ')).toContain('mqtt.password was cleared because the broker');
  });

  it('keeps it when the same change gives a password, or the broker stays', () => {
    const r = validateConfig({ mqtt: { host: 'new.example', password: 'new-secret' } }, saved());
    expect(r.ok && r.config.mqtt.password).toBe('new-secret');
    for (const keep of [{ mqtt: { host: 'broker.local', password: null } }, { mqtt: { baseTopic: 'x', password: { set: true, fingerprint: null } } }]) {
      const k = validateConfig(keep, saved());
      expect(k.ok && k.config.mqtt.password).toBe('mqtt-secret-pw');
    }
  });

  it('another push server drops the credential headers unless they are given again', () => {
    const base = saved();
    base.httpPush.url = 'http://192.168.1.5:8080/in';
    const samePlace = validateConfig({ httpPush: { url: 'http://192.168.1.5:8080/other?x=1' } }, base);
    expect(samePlace.ok && samePlace.config.httpPush.headers.Authorization).toBe('Bearer tok-123456');
    const moved = validateConfig({ httpPush: { url: 'https://192.168.1.5:8080/in', headers: { Authorization: null, 'Content-Type': 'application/json' } } }, base);
    expect(moved.ok && moved.config.httpPush.headers).toStrictEqual({ 'Content-Type': 'application/json' });
    expect(moved.ok && moved.warnings.join(' ')).toContain('httpPush.headers.Authorization was removed');
    const absent = validateConfig({ httpPush: { url: 'http://evil.example/' } }, base);
    expect(absent.ok && absent.config.httpPush.headers).toStrictEqual({ 'Content-Type': 'application/json' });
    const given = validateConfig({ httpPush: { url: 'http://new.example/', headers: { authorization: 'Bearer new' } } }, base);
    expect(given.ok && given.config.httpPush.headers).toStrictEqual({ authorization: 'Bearer new' });
  });
  it('another push server clears the basic/bearer password unless it is given again', () => {
    const base = saved();
    base.httpPush.url = 'http://192.168.1.5:8080/in';
    base.httpPush.auth = 'bearer';
    const same = validateConfig({ httpPush: { url: 'http://192.168.1.5:8080/other' } }, base);
    expect(same.ok && same.config.httpPush.password).toBe('push-secret-pw');
    const moved = validateConfig({ httpPush: { url: 'http://evil.example/' } }, base);
    expect(moved.ok && moved.config.httpPush.password).toBe('');
    expect(moved.ok && moved.warnings.join(' ')).toContain('httpPush.password was cleared because the push address now goes to another server');
    const given = validateConfig({ httpPush: { url: 'http://new.example/', password: 'tok-2' } }, base);
    expect(given.ok && given.config.httpPush.password).toBe('tok-2');
  });
});

describe('replay files', () => {
  it('through the API only a file name of the replay folder, or the saved value', () => {
    expect(validateConfig({ source: { type: 'replay', replay: { file: 'capture-1.hex' } } }).ok).toBe(true);
    for (const f of ['/etc/shadow', '../config', 'a/b.hex', '.hidden', '/tmp/fifo']) {
      const r = validateConfig({ source: { type: 'replay', replay: { file: f } } });
      expect(r.ok, f).toBe(false);
      expect(!r.ok && r.errors[0].message).toContain("'replay' folder of the data directory");
    }
    const owner = validateConfig({ source: { type: 'replay', replay: { file: '/home/me/capture.hex' } } }, undefined, { trusted: true });
    expect(owner.ok).toBe(true);
    if (!owner.ok) return;
    // a form that sends the saved path back unchanged is fine
    expect(validateConfig({ source: { replay: { file: '/home/me/capture.hex', loop: false } } }, owner.config).ok).toBe(true);
  });
});
