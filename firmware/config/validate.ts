/**
 * The one gate every setting passes: PUT /api/config, command-line overrides, imported files and
 * the stored copy (through migrate.ts). Checks every field, reports all bad fields at once with a
 * sentence a homeowner understands, and normalises what people type (keys with spaces or `0x`,
 * topics with slashes at the ends, stray spaces).
 *
 *   input ──► validateConfig(input, base) ──► { ok, config (fresh), warnings } | { ok: false, errors }
 *   config ─► redactConfig ─► GET /api/config   (secrets become { set, fingerprint })
 *   config ─► configForExport ─► backup file    (secrets left out unless asked for)
 *
 * Partial input: a field that is absent takes the value from `base`, so `{ mqtt: { host: 'x' } }`
 * changes the MQTT host and nothing else. Two exceptions to "absent = keep":
 * - `httpPush.headers`, when given, replaces the whole header map (otherwise a header could never
 *   be removed); a header value of null keeps that header's saved value.
 * - nothing else: every other object is merged field by field.
 *
 * Write-only secrets (SECRET_FIELDS, and HTTP push header values that carry credentials): the web
 * UI never receives them, so absent, `null` or the `{ set, fingerprint }` object that redactConfig
 * sent out all mean "keep the saved value"; an empty string clears it. Secrets are not trimmed
 * (a password may end in a space); keys are normalised to 32 upper-case hex digits.
 *
 * Not known here: template syntax. Templates are only checked to be text of at most
 * TEMPLATE_MAX_BYTES; the gateway compiles them (gateway.ts checkTemplates). Nor whether a host
 * answers or a serial port exists: that is the job of the status page.
 *
 * XS: the module top level holds only numbers; regular expressions are literals inside the
 * functions, so nothing mutable is built at import.
 */
import { toHex } from '../bytes.js';
import { parseKeyText } from '../keys.js';
import { MIN_PASSWORD_LENGTH } from '../auth.js';
import { defaultConfig } from './defaults.js';
import {
  CONFIG_VERSION,
  SECRET_FIELDS,
  type Config,
  type FieldError,
  type HttpPushConfig,
  type MeterConfig,
  type MqttConfig,
  type WifiConfig,
} from './types.js';

/**
 * trusted: the settings come from the owner's own side (the stored copy, a --config file, the
 * command line), not from the web API. Only then may `source.replay.file` name any file of the
 * host, a stored web password shorter than MIN_PASSWORD_LENGTH stay (with a warning), and the web
 * password be removed.
 */
export interface ValidateOptions {
  trusted?: boolean;
}

export type ValidationResult = { ok: true; config: Config; warnings: string[] } | { ok: false; errors: FieldError[] };

/** What GET /api/config shows for a secret: whether one is set and, for keys, a short fingerprint. */
export interface SecretState {
  set: boolean;
  /** keys only: first 4 upper-case hex digits of the FNV-1a hash (which key is set); null for
   *  passwords and credential headers, whose fingerprint would help guessing them offline */
  fingerprint: string | null;
}

/** The config as the browser may see it: every secret replaced by its SecretState. */
export type RedactedConfig = Omit<Config, 'meter' | 'mqtt' | 'httpPush' | 'web' | 'wifi'> & {
  meter: Omit<MeterConfig, 'key' | 'authKey'> & { key: SecretState; authKey: SecretState };
  mqtt: Omit<MqttConfig, 'password'> & { password: SecretState };
  /** values of credential headers (isSecretHeader) are SecretStates, the others plain text */
  httpPush: Omit<HttpPushConfig, 'headers' | 'password'> & { headers: Record<string, string | SecretState>; password: SecretState };
  web: { password: SecretState };
  wifi: Omit<WifiConfig, 'password'> & { password: SecretState };
};

/** A config as written to a backup file; secrets are absent (header values null) unless included. */
export type ExportedConfig = { version: number } & Record<string, unknown>;

/** Templates are stored on the device: each at most this many bytes of UTF-8. */
export const TEMPLATE_MAX_BYTES = 8192;
export const MAX_HEADERS = 20;

// Limits of the plain text fields (characters unless said otherwise).
const TEXT_MAX = 256;
const TOPIC_MAX = 200;
const URL_MAX = 2048;
const HEADER_VALUE_MAX = 2048;
const PASSWORD_MAX = 256;
const PRESET_MAX = 64;
const HOST_MAX = 253; // RFC 1035 2.3.4
const SSID_MAX_BYTES = 32; // IEEE 802.11: an SSID is 0..32 octets
const ALLOWED_HOSTS_MAX = 16;
const REPLAY_NAME_MAX = 64;


type Obj = Record<string, unknown>;
type Checked<T> = { ok: true; value: T } | { ok: false; message: string };
type Check<T> = (v: unknown) => Checked<T>;

interface Ctx {
  errors: FieldError[];
  warnings: string[];
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasOwn(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

function good<T>(value: T): Checked<T> {
  return { ok: true, value };
}

function bad<T>(message: string): Checked<T> {
  return { ok: false, message };
}

/** One error per field: a field that already failed is not reported again by a cross-field rule. */
function fail(ctx: Ctx, field: string, message: string): void {
  for (const e of ctx.errors) if (e.field === field) return;
  ctx.errors.push({ field, message });
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * A group of settings: absent → null (every field from base); not an object → an error and null;
 * otherwise the object, after a warning for each key this firmware does not know.
 */
function group(ctx: Ctx, input: unknown, path: string, known: object): Obj | null {
  if (input === undefined) return null;
  if (!isObject(input)) {
    fail(ctx, path, 'must be a group of settings (a JSON object)');
    return null;
  }
  for (const k of Object.keys(input)) {
    if (!hasOwn(known as Obj, k)) ctx.warnings.push(`unknown setting '${join(path, k)}' was ignored`);
  }
  return input;
}

/** One field: absent → base; invalid → an error and base (so later rules still see a value). */
function read<T>(ctx: Ctx, obj: Obj | null, path: string, key: string, base: T, check: Check<T>): T {
  if (obj === null || obj[key] === undefined) return base;
  const r = check(obj[key]);
  if (r.ok) return r.value;
  fail(ctx, join(path, key), r.message);
  return base;
}

function isSecretState(v: unknown): boolean {
  if (!isObject(v) || typeof v.set !== 'boolean') return false;
  for (const k of Object.keys(v)) if (k !== 'set' && k !== 'fingerprint') return false;
  return true;
}

/** A write-only secret: absent, null or a SecretState keep base; '' clears; else checked. */
function secret(ctx: Ctx, obj: Obj | null, path: string, key: string, base: string, check: (v: string) => Checked<string>): string {
  if (obj === null) return base;
  const v = obj[key];
  if (v === undefined || v === null || isSecretState(v)) return base;
  if (typeof v !== 'string') {
    fail(ctx, join(path, key), 'must be text (or null to keep the saved value)');
    return base;
  }
  if (v === '') return '';
  const r = check(v);
  if (r.ok) return r.value;
  fail(ctx, join(path, key), r.message);
  return base;
}

// ---- checks -------------------------------------------------------------------------------

function flag(): Check<boolean> {
  return (v) => (typeof v === 'boolean' ? good(v) : bad('must be true or false'));
}

function whole(min: number, max: number, what = 'a whole number', hint = ''): Check<number> {
  return (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? good(v) : bad(`must be ${what} from ${min} to ${max}${hint}`);
}

function quoted(v: string | number): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function oneOf<T extends string | number>(values: readonly T[], normalise?: (s: string) => string): Check<T> {
  const list =
    values.length === 2 ? `${quoted(values[0])} or ${quoted(values[1])}` : `one of ${values.map(quoted).join(', ')}`;
  return (v) => {
    const x = typeof v === 'string' && normalise ? normalise(v) : v;
    for (const allowed of values) if (x === allowed) return good(allowed);
    return bad(`must be ${list}`);
  };
}

function text(max: number, trim = true): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = trim ? v.trim() : v;
    return s.length > max ? bad(`is too long: at most ${max} characters; this one has ${s.length}`) : good(s);
  };
}

/** Bytes of the UTF-8 encoding of s (no TextEncoder on XS). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function template(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const n = utf8Length(v);
    return n > TEMPLATE_MAX_BYTES ? bad(`is too long: a template can have at most ${TEMPLATE_MAX_BYTES} bytes; this one has ${n}`) : good(v);
  };
}

/** A meter key as people paste it; stored as 32 upper-case hex digits. */
function keyText(v: string): Checked<string> {
  if (v.trim() === '') return good('');
  const r = parseKeyText(v);
  return r.ok ? good(toHex(r.bytes)) : bad(r.message);
}

/** An MQTT topic prefix: no '/' at either end, no wildcards (MQTT 3.1.1 4.7.1). */
function topic(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim().replace(/^\/+|\/+$/g, '');
    if (s === '') return bad("must not be empty (e.g. 'meterbridge')");
    if (s.indexOf('+') >= 0 || s.indexOf('#') >= 0) return bad("must not contain '+' or '#' (MQTT wildcards)");
    if (s.indexOf('\u0000') >= 0) return bad('must not contain the character NUL');
    if (s.length > TOPIC_MAX) return bad(`is too long: at most ${TOPIC_MAX} characters; this one has ${s.length}`);
    return good(s);
  };
}

/** MQTT 3.1.1 3.1.3.1: every broker accepts 1..23 of these characters. */
function clientId(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    return /^[A-Za-z0-9_-]{1,23}$/.test(s) ? good(s) : bad("must be 1 to 23 letters, digits, '-' or '_' (MQTT 3.1.1)");
  };
}

/** A broker address: a host name or an IP address, nothing else. */
function host(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    if (s.indexOf('://') >= 0) return bad("write only the broker's name or IP address, without 'mqtt://' or similar in front");
    if (/[\s/]/.test(s)) return bad("must be a host name or IP address, without spaces or '/'");
    if (/^[^:]+:\d+$/.test(s)) return bad('write the port in mqtt.port, not after the host');
    if (s.length > HOST_MAX) return bad(`is too long: at most ${HOST_MAX} characters; this one has ${s.length}`);
    return good(s);
  };
}

/** An http:// or https:// address without credentials in it. */
function url(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    if (s === '') return good(s);
    const m = /^https?:\/\/([^/?#]*)/i.exec(s);
    if (!m || m[1] === '' || /\s/.test(s)) return bad('must be an address starting with http:// or https://, e.g. http://192.168.1.10:8080/meter');
    // fetch() refuses such URLs, and the password would show on the web page
    if (m[1].indexOf('@') >= 0) return bad('must not contain a user name or password; put them in an Authorization header, where they stay hidden');
    if (s.length > URL_MAX) return bad(`is too long: at most ${URL_MAX} characters; this one has ${s.length}`);
    return good(s);
  };
}

/** RFC 1123 host name label, as announced over mDNS/DHCP. */
function hostname(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    return /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(s)
      ? good(s)
      : bad("must be 1 to 63 letters, digits or '-', not starting or ending with '-'");
  };
}

/** Not trimmed: network names may begin or end with a space. */
function ssid(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const n = utf8Length(v);
    return n > SSID_MAX_BYTES ? bad(`a Wi-Fi network name has at most ${SSID_MAX_BYTES} bytes; this one has ${n}`) : good(v);
  };
}

/** WPA2/WPA3-personal: a passphrase of 8..63 printable ASCII characters or a 64-hex-digit PSK. */
function wifiPassword(v: string): Checked<string> {
  if (v.length === 64 && /^[0-9A-Fa-f]+$/.test(v)) return good(v);
  if (v.length < 8 || v.length > 63) return bad(`a Wi-Fi password has 8 to 63 characters; this one has ${v.length}`);
  if (!/^[\x20-\x7e]+$/.test(v)) return bad('a Wi-Fi password may use only ASCII letters, digits, spaces and punctuation');
  return good(v);
}

function password(max: number): (v: string) => Checked<string> {
  return (v) => (v.length > max ? bad(`is too long: at most ${max} characters; this one has ${v.length}`) : good(v));
}

/** The web password: at least MIN_PASSWORD_LENGTH characters (a shorter stored one stays, with a warning). */
function webPassword(ctx: Ctx, trusted: boolean): (v: string) => Checked<string> {
  return (v) => {
    if (v.length > 128) return bad(`is too long: at most 128 characters; this one has ${v.length}`);
    if (v.length >= MIN_PASSWORD_LENGTH) return good(v);
    if (!trusted) return bad(`is too short: at least ${MIN_PASSWORD_LENGTH} characters; this one has ${v.length}`);
    ctx.warnings.push(`the web password has fewer than ${MIN_PASSWORD_LENGTH} characters: choose a longer one on the Device page`);
    return good(v);
  };
}

/** Host names under which the UI may be reached, besides IP addresses and its own names. */
function hostList(): Check<string[]> {
  return (v) => {
    if (!Array.isArray(v)) return bad("must be a list of host names, e.g. [\"meter.example.net\"]");
    if (v.length > ALLOWED_HOSTS_MAX) return bad(`at most ${ALLOWED_HOSTS_MAX} names; this list has ${v.length}`);
    const out: string[] = [];
    for (const item of v) {
      if (typeof item !== 'string') return bad('must be a list of host names (text)');
      let s = item.trim().toLowerCase();
      if (s.endsWith('.')) s = s.slice(0, -1);
      if (s.length > HOST_MAX || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(s))
        return bad(`'${item.slice(0, 64)}' is not a host name (letters, digits, '-' and dots; no port, no http://)`);
      if (out.indexOf(s) < 0) out.push(s);
    }
    return good(out);
  };
}

/**
 * Through the API a replay file is a file name in the data directory's replay folder (no path),
 * or the value already saved; any path of the host only from the owner's side (trusted).
 */
function replayFile(saved: string, trusted: boolean): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    if (s.length > TEXT_MAX) return bad(`is too long: at most ${TEXT_MAX} characters; this one has ${s.length}`);
    if (trusted || s === '' || s === saved) return good(s);
    if (s.length > REPLAY_NAME_MAX || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s))
      return bad("must be the name of a file in the 'replay' folder of the data directory (letters, digits, '.', '-', '_'; no path); other files only with 'meterbridge run --replay FILE'");
    return good(s);
  };
}

/** Whether a change gives this field as new text (not absent, null or a SecretState). */
function givesText(o: Obj | null, key: string): boolean {
  if (o === null) return false;
  const want = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.trim().toLowerCase() === want && typeof o[k] === 'string' && o[k] !== '') return true;
  return false;
}

/** scheme://host:port of an http(s) address, lower case with the default port; '' for none. */
export function urlOrigin(u: string): string {
  const m = /^(https?):\/\/([^/?#]*)/i.exec(u.trim());
  if (!m) return '';
  const scheme = m[1].toLowerCase();
  let authority = m[2].toLowerCase();
  if (authority.indexOf(':') < 0 || authority.endsWith(']')) authority += scheme === 'https' ? ':443' : ':80';
  return `${scheme}://${authority}`;
}

/** Header names whose values are credentials, hidden like the SECRET_FIELDS. */
export function isSecretHeader(name: string): boolean {
  return /auth|token|secret|key|pass|cookie|session/i.test(name);
}

function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower) return headers[k];
  return undefined;
}

/** Own data property even for a name like '__proto__'. */
function put(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function copyHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(h)) put(out, k, h[k]);
  return out;
}

/** The header map replaces base as a whole; null (or a SecretState) keeps a saved value. */
function headers(ctx: Ctx, input: unknown, base: Record<string, string>): Record<string, string> {
  const field = 'httpPush.headers';
  if (input === undefined) return copyHeaders(base);
  if (!isObject(input)) {
    fail(ctx, field, "must be a group of 'name': 'value' pairs (a JSON object)");
    return copyHeaders(base);
  }
  const names = Object.keys(input);
  if (names.length > MAX_HEADERS) {
    fail(ctx, field, `at most ${MAX_HEADERS} headers; this has ${names.length}`);
    return copyHeaders(base);
  }
  const out: Record<string, string> = {};
  const seen: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    const f = `${field}.${name || raw}`;
    if (name === '') {
      fail(ctx, f, 'a header name must not be empty');
      continue;
    }
    if (/[\r\n]/.test(name)) {
      fail(ctx, f, 'a header name must not contain line breaks');
      continue;
    }
    // RFC 9110 5.6.2: a field name is a token
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      fail(ctx, f, "a header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)");
      continue;
    }
    if (seen.indexOf(name.toLowerCase()) >= 0) {
      fail(ctx, f, 'appears twice (header names ignore upper and lower case)');
      continue;
    }
    seen.push(name.toLowerCase());
    const v = input[raw];
    if (v === null || isSecretState(v)) {
      const saved = findHeader(base, name);
      if (saved === undefined) ctx.warnings.push(`${f} had no value and there is no saved value to keep, so it was left out`);
      else put(out, name, saved);
      continue;
    }
    if (typeof v !== 'string') {
      fail(ctx, f, 'must be text');
      continue;
    }
    const value = v.trim();
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      fail(ctx, f, 'must be on one line, without line breaks or control characters');
      continue;
    }
    if (value.length > HEADER_VALUE_MAX) {
      fail(ctx, f, `is too long: at most ${HEADER_VALUE_MAX} characters; this one has ${value.length}`);
      continue;
    }
    put(out, name, value);
  }
  return out;
}

// ---- the whole config ---------------------------------------------------------------------

const MS = 'a whole number of milliseconds';

/**
 * Checks and normalises `input` (whole or partial) on top of `base` (default: the factory
 * settings; assumed valid). Returns a fresh Config, or every bad field at once.
 */
export function validateConfig(input: unknown, base: Config = defaultConfig(), options: ValidateOptions = {}): ValidationResult {
  const ctx: Ctx = { errors: [], warnings: [] };
  const trusted = options.trusted === true;
  if (!isObject(input)) return { ok: false, errors: [{ field: '', message: 'must be a group of settings (a JSON object)' }] };
  const d = defaultConfig(); // its keys are the known settings
  const root = group(ctx, input, '', d) as Obj;

  const version = root.version;
  if (version !== undefined && version !== CONFIG_VERSION) {
    const whole = typeof version === 'number' && Number.isInteger(version);
    fail(
      ctx,
      'version',
      whole && version > CONFIG_VERSION
        ? `these settings are version ${version}, written by a newer firmware; this firmware reads version ${CONFIG_VERSION}`
        : whole && version >= 0
          ? `these settings are in the older format version ${version}; they must be converted before use`
          : `must be ${CONFIG_VERSION}`,
    );
  }

  const m = group(ctx, root.meter, 'meter', d.meter);
  const meter: MeterConfig = {
    key: secret(ctx, m, 'meter', 'key', base.meter.key, keyText),
    authKey: secret(ctx, m, 'meter', 'authKey', base.meter.authKey, keyText),
    framing: read(ctx, m, 'meter', 'framing', base.meter.framing, oneOf(['auto', 'mbus', 'hdlc'] as const)),
    maxPowerKw: read(ctx, m, 'meter', 'maxPowerKw', base.meter.maxPowerKw, whole(1, 100000, 'a whole number of kW', ' (the most the meter can measure per direction; pushes beyond it are refused as implausible)')),
  };

  const s = group(ctx, root.source, 'source', d.source);
  const ser = group(ctx, s?.serial, 'source.serial', d.source.serial);
  const rep = group(ctx, s?.replay, 'source.replay', d.source.replay);
  const sim = group(ctx, s?.simulator, 'source.simulator', d.source.simulator);
  const bs = base.source;
  const source: Config['source'] = {
    type: read(ctx, s, 'source', 'type', bs.type, oneOf(['simulator', 'serial', 'replay'] as const)),
    serial: {
      path: read(ctx, ser, 'source.serial', 'path', bs.serial.path, text(TEXT_MAX)),
      baudRate: read(ctx, ser, 'source.serial', 'baudRate', bs.serial.baudRate, whole(300, 921600, 'a whole number', ' (the Austrian meters send at 2400)')),
      dataBits: read(ctx, ser, 'source.serial', 'dataBits', bs.serial.dataBits, oneOf([7, 8] as const)),
      parity: read(ctx, ser, 'source.serial', 'parity', bs.serial.parity, oneOf(['none', 'even', 'odd'] as const, (x) => x.trim().toLowerCase())),
      stopBits: read(ctx, ser, 'source.serial', 'stopBits', bs.serial.stopBits, oneOf([1, 2] as const)),
    },
    replay: {
      file: read(ctx, rep, 'source.replay', 'file', bs.replay.file, replayFile(bs.replay.file, options.trusted === true)),
      intervalMs: read(ctx, rep, 'source.replay', 'intervalMs', bs.replay.intervalMs, whole(100, 3600000, MS)),
      loop: read(ctx, rep, 'source.replay', 'loop', bs.replay.loop, flag()),
    },
    simulator: {
      phases: read(ctx, sim, 'source.simulator', 'phases', bs.simulator.phases, oneOf([1, 3] as const)),
      intervalMs: read(ctx, sim, 'source.simulator', 'intervalMs', bs.simulator.intervalMs, whole(100, 3600000, MS)),
      key: read(ctx, sim, 'source.simulator', 'key', bs.simulator.key, (v) => {
        if (typeof v !== 'string') return bad('must be text');
        if (v.trim() === '') return bad('the simulated meter needs a key of 32 hex digits');
        return keyText(v);
      }),
    },
  };

  const q = group(ctx, root.mqtt, 'mqtt', d.mqtt);
  const ha = group(ctx, q?.homeAssistant, 'mqtt.homeAssistant', d.mqtt.homeAssistant);
  const bq = base.mqtt;
  const mqtt: MqttConfig = {
    enabled: read(ctx, q, 'mqtt', 'enabled', bq.enabled, flag()),
    host: read(ctx, q, 'mqtt', 'host', bq.host, host()),
    port: read(ctx, q, 'mqtt', 'port', bq.port, whole(1, 65535)),
    tls: read(ctx, q, 'mqtt', 'tls', bq.tls, flag()),
    username: read(ctx, q, 'mqtt', 'username', bq.username, text(TEXT_MAX)),
    password: secret(ctx, q, 'mqtt', 'password', bq.password, password(PASSWORD_MAX)),
    clientId: read(ctx, q, 'mqtt', 'clientId', bq.clientId, clientId()),
    baseTopic: read(ctx, q, 'mqtt', 'baseTopic', bq.baseTopic, topic()),
    qos: read(ctx, q, 'mqtt', 'qos', bq.qos, oneOf([0, 1] as const)),
    retain: read(ctx, q, 'mqtt', 'retain', bq.retain, flag()),
    mode: read(ctx, q, 'mqtt', 'mode', bq.mode, oneOf(['reading', 'values', 'fields'] as const)),
    preset: read(ctx, q, 'mqtt', 'preset', bq.preset, presetId()),
    topicTemplate: read(ctx, q, 'mqtt', 'topicTemplate', bq.topicTemplate, template()),
    payloadTemplate: read(ctx, q, 'mqtt', 'payloadTemplate', bq.payloadTemplate, template()),
    homeAssistant: {
      enabled: read(ctx, ha, 'mqtt.homeAssistant', 'enabled', bq.homeAssistant.enabled, flag()),
      discoveryPrefix: read(ctx, ha, 'mqtt.homeAssistant', 'discoveryPrefix', bq.homeAssistant.discoveryPrefix, topic()),
    },
    backlogDelayMs: read(ctx, q, 'mqtt', 'backlogDelayMs', bq.backlogDelayMs, whole(0, 600000, MS)),
    caCertificate: read(ctx, q, 'mqtt', 'caCertificate', bq.caCertificate, pem()),
    certificateFingerprint: read(ctx, q, 'mqtt', 'certificateFingerprint', bq.certificateFingerprint, sha256()),
  };

  const p = group(ctx, root.httpPush, 'httpPush', d.httpPush);
  const bp = base.httpPush;
  const httpPush: HttpPushConfig = {
    enabled: read(ctx, p, 'httpPush', 'enabled', bp.enabled, flag()),
    url: read(ctx, p, 'httpPush', 'url', bp.url, url()),
    method: read(ctx, p, 'httpPush', 'method', bp.method, oneOf(['POST', 'PUT'] as const, (x) => x.trim().toUpperCase())),
    headers: headers(ctx, p ? p.headers : undefined, bp.headers),
    preset: read(ctx, p, 'httpPush', 'preset', bp.preset, presetId()),
    bodyTemplate: read(ctx, p, 'httpPush', 'bodyTemplate', bp.bodyTemplate, template()),
    bodyFormat: read(ctx, p, 'httpPush', 'bodyFormat', bp.bodyFormat, oneOf(['json', 'text'] as const)),
    timeoutMs: read(ctx, p, 'httpPush', 'timeoutMs', bp.timeoutMs, whole(100, 120000, MS)),
    minIntervalMs: read(ctx, p, 'httpPush', 'minIntervalMs', bp.minIntervalMs, whole(0, 86400000, MS)),
    auth: read(ctx, p, 'httpPush', 'auth', bp.auth, oneOf(['none', 'basic', 'bearer'] as const, (x) => x.trim().toLowerCase())),
    username: read(ctx, p, 'httpPush', 'username', bp.username, text(TEXT_MAX)),
    password: secret(ctx, p, 'httpPush', 'password', bp.password, password(HEADER_VALUE_MAX)),
    caCertificate: read(ctx, p, 'httpPush', 'caCertificate', bp.caCertificate, pem()),
    certificateFingerprint: read(ctx, p, 'httpPush', 'certificateFingerprint', bp.certificateFingerprint, sha256()),
  };

  const h = group(ctx, root.http, 'http', d.http);
  const http: Config['http'] = {
    port: read(ctx, h, 'http', 'port', base.http.port, whole(1, 65535)),
    metricsTemplate: read(ctx, h, 'http', 'metricsTemplate', base.http.metricsTemplate, template()),
  };

  const o = group(ctx, root.outbox, 'outbox', d.outbox);
  const outbox = { capacity: read(ctx, o, 'outbox', 'capacity', base.outbox.capacity, whole(1, 100000)) };

  const w = group(ctx, root.web, 'web', d.web);
  const web: Config['web'] = {
    password: secret(ctx, w, 'web', 'password', base.web.password, webPassword(ctx, trusted)),
    allowedHosts: read(ctx, w, 'web', 'allowedHosts', base.web.allowedHosts, hostList()),
  };
  if (!trusted && web.password === '' && base.web.password !== '')
    fail(ctx, 'web.password', 'cannot be removed, only changed: the settings would be open to whoever sets the next one (a factory reset removes it with every other setting)');

  const wf = group(ctx, root.wifi, 'wifi', d.wifi);
  const wifi: WifiConfig = {
    ssid: read(ctx, wf, 'wifi', 'ssid', base.wifi.ssid, ssid()),
    password: secret(ctx, wf, 'wifi', 'password', base.wifi.password, wifiPassword),
    hostname: read(ctx, wf, 'wifi', 'hostname', base.wifi.hostname, hostname()),
  };

  const l = group(ctx, root.log, 'log', d.log);
  const log: Config['log'] = {
    level: read(ctx, l, 'log', 'level', base.log.level, oneOf(['debug', 'info', 'warn', 'error'] as const, (x) => x.trim().toLowerCase())),
  };

  // Rules that tie fields together, checked on the merged result.
  if (source.type === 'serial' && source.serial.path === '')
    fail(ctx, 'source.serial.path', "is needed when the source is 'serial': the serial port the meter is on, e.g. /dev/ttyUSB0");
  if (source.type === 'replay' && source.replay.file === '')
    fail(ctx, 'source.replay.file', "is needed when the source is 'replay': the capture file to play");
  if (mqtt.enabled && mqtt.host === '') fail(ctx, 'mqtt.host', 'is needed when MQTT is on: the name or IP address of your MQTT broker');
  // MQTT 3.1.1 3.1.2.9: no password flag without the user name flag
  if (mqtt.enabled && mqtt.password !== '' && mqtt.username === '')
    fail(ctx, 'mqtt.username', 'is needed when an MQTT password is set (MQTT sends a password only together with a user name)');
  if (httpPush.enabled && httpPush.url === '')
    fail(ctx, 'httpPush.url', 'is needed when HTTP push is on: an address starting with http:// or https://');
  if (httpPush.enabled && httpPush.auth === 'basic' && httpPush.username === '')
    fail(ctx, 'httpPush.username', 'is needed for basic authentication');
  if (httpPush.enabled && httpPush.auth !== 'none' && httpPush.password === '')
    fail(ctx, 'httpPush.password', httpPush.auth === 'bearer' ? 'is needed for bearer authentication: the token' : 'is needed for basic authentication');

  if (ctx.errors.length) return { ok: false, errors: ctx.errors };

  // A saved secret belongs to its destination: another broker or push server does not get it
  // unless this same change names it again (a secret saved before any destination was named
  // goes to the first one).
  if (mqtt.password !== '' && bq.host !== '' && (mqtt.host !== bq.host || mqtt.port !== bq.port || mqtt.tls !== bq.tls) && !givesText(q, 'password')) {
    mqtt.password = '';
    ctx.warnings.push('mqtt.password was cleared because the broker (host, port or TLS) changed: enter the password for the new broker');
  }
  if (urlOrigin(bp.url) !== '' && urlOrigin(httpPush.url) !== urlOrigin(bp.url)) {
    const given = p && isObject(p.headers) ? p.headers : null;
    for (const name of Object.keys(httpPush.headers)) {
      if (!isSecretHeader(name) || (given !== null && givesText(given, name))) continue;
      delete httpPush.headers[name];
      ctx.warnings.push(`the header httpPush.headers.${name} was removed because the push address now goes to another server: enter it again for the new one`);
    }
    if (httpPush.password !== '' && !givesText(p, 'password')) {
      httpPush.password = '';
      ctx.warnings.push('httpPush.password was cleared because the push address now goes to another server: enter it again for the new one');
    }
  }

  if (meter.authKey !== '' && meter.key === '')
    ctx.warnings.push('meter.authKey is set but meter.key is empty: without the encryption key (GUEK) the meter data cannot be decrypted');
  if (mqtt.enabled && mqtt.tls && mqtt.port === 1883)
    ctx.warnings.push('mqtt.tls is on but mqtt.port is 1883, the usual port without TLS; brokers usually take TLS on 8883');
  if (mqtt.enabled && !mqtt.tls && mqtt.port === 8883)
    ctx.warnings.push('mqtt.port is 8883, the usual port for TLS, but mqtt.tls is off');
  if (wifi.ssid !== wifi.ssid.trim())
    ctx.warnings.push('wifi.ssid begins or ends with a space; it was kept as typed because network names may contain spaces');

  return {
    ok: true,
    config: { version: CONFIG_VERSION, meter, source, mqtt, httpPush, http, outbox, web, wifi, log },
    warnings: ctx.warnings,
  };
}

/** A PEM certificate (or several), '' for none. */
function pem(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    if (s === '') return good('');
    if (s.length > 16384) return bad(`is too long: at most 16384 characters; this one has ${s.length}`);
    if (s.indexOf('-----BEGIN CERTIFICATE-----') < 0 || s.indexOf('-----END CERTIFICATE-----') < 0)
      return bad('paste the certificate in PEM form: the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----');
    return good(s + '\n');
  };
}

/** A SHA-256 fingerprint: 64 hex digits, colons and spaces allowed; stored as upper-case hex pairs with colons. */
function sha256(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.replace(/[\s:]/g, '').toUpperCase();
    if (s === '') return good('');
    if (!/^[0-9A-F]{64}$/.test(s)) return bad(`must be the SHA-256 fingerprint: 64 hex digits (colons allowed); this has ${s.length} characters`);
    return good(s.replace(/(..)(?!$)/g, '$1:'));
  };
}

/** The id of the preset a template came from, or 'custom'. */
function presetId(): Check<string> {
  return (v) => {
    if (typeof v !== 'string') return bad('must be text');
    const s = v.trim();
    if (s === '') return bad("must not be empty ('custom' for your own templates)");
    return s.length > PRESET_MAX ? bad(`is too long: at most ${PRESET_MAX} characters; this one has ${s.length}`) : good(s);
  };
}

// ---- redaction and export -----------------------------------------------------------------

/**
 * FNV-1a (32 bit) over the UTF-8 bytes of the secret, first 4 of 8 upper-case hex digits: tells
 * two keys apart on screen, reveals nothing usable (16 bits, not a cryptographic hash). A key is
 * fingerprinted in its stored form (32 upper-case hex digits).
 */
export function fingerprint(secretText: string): string | null {
  if (secretText === '') return null;
  let h = 0x811c9dc5;
  const byte = (b: number) => {
    h = Math.imul(h ^ b, 0x01000193) >>> 0;
  };
  for (let i = 0; i < secretText.length; i++) {
    let c = secretText.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < secretText.length && (secretText.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (secretText.charCodeAt(++i) - 0xdc00);
    }
    if (c < 0x80) byte(c);
    else if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 63));
    } else if (c < 0x10000) {
      byte(0xe0 | (c >> 12));
      byte(0x80 | ((c >> 6) & 63));
      byte(0x80 | (c & 63));
    } else {
      byte(0xf0 | (c >> 18));
      byte(0x80 | ((c >> 12) & 63));
      byte(0x80 | ((c >> 6) & 63));
      byte(0x80 | (c & 63));
    }
  }
  return ('0000000' + h.toString(16).toUpperCase()).slice(-8).slice(0, 4);
}

export function secretState(secretText: string): SecretState {
  return { set: secretText !== '', fingerprint: fingerprint(secretText) };
}

function cloneConfig(config: Config): Obj {
  const out = JSON.parse(JSON.stringify(config)) as Obj;
  // JSON.parse turns a '__proto__' key into an own property, but be explicit about headers
  (out.httpPush as Obj).headers = copyHeaders(config.httpPush.headers);
  return out;
}

/** Applies fn to the parent object and last key of each SECRET_FIELDS path. */
function eachSecret(o: Obj, fn: (parent: Obj, key: string) => void): void {
  for (const path of SECRET_FIELDS) {
    const parts = path.split('.');
    let parent = o;
    for (let i = 0; i < parts.length - 1; i++) parent = parent[parts[i]] as Obj;
    fn(parent, parts[parts.length - 1]);
  }
}

/** For GET /api/config: the config with every secret replaced by { set, fingerprint } (fingerprints of keys only). */
export function redactConfig(config: Config): RedactedConfig {
  const out = cloneConfig(config);
  eachSecret(out, (parent, key) => {
    const value = parent[key] as string;
    parent[key] = key === 'key' || key === 'authKey' ? secretState(value) : { set: value !== '', fingerprint: null };
  });
  const h = (out.httpPush as Obj).headers as Obj;
  for (const name of Object.keys(h)) if (isSecretHeader(name)) put(h, name, { set: h[name] !== '', fingerprint: null });
  return out as unknown as RedactedConfig;
}

/**
 * A plain object to save as a backup file (always with `version`). Without secrets, the
 * SECRET_FIELDS are left out and credential header values are null: importing the file with
 * validateConfig(file, current) then keeps the secrets the gateway has.
 */
export function configForExport(config: Config, includeSecrets: boolean): ExportedConfig {
  const out = cloneConfig(config);
  out.version = CONFIG_VERSION;
  if (!includeSecrets) {
    eachSecret(out, (parent, key) => {
      delete parent[key];
    });
    const h = (out.httpPush as Obj).headers as Obj;
    for (const name of Object.keys(h)) if (isSecretHeader(name)) put(h, name, null);
  }
  return out as ExportedConfig;
}
