/**
 * Whatever storage held → a valid Config of CONFIG_VERSION, and words for what happened. Never
 * throws: damaged or foreign settings give the defaults plus a warning that says what was lost,
 * because a gateway that does not boot is worse than one that asks for its settings again.
 *
 *   text ─► loadConfig ─► JSON.parse ─► migrateConfig ─► version 0 → 1 → … → CONFIG_VERSION
 *                                                      ─► validateConfig (salvage) ─► Config
 *
 * Settings schema versions
 * ------------------------
 * 0  The pre-release format (the host gateway's first web form, before 0.1.0): one flat object
 *    with no `version` field (or `version: 0`):
 *
 *      { "key": "…", "authKey": "…", "mqttHost": "…", "mqttPort": 1883,
 *        "mqttUser": "…", "mqttPassword": "…", "topic": "…" }
 *
 *    key, authKey: GUEK and GAK as typed (spaces, `0x`, lower case); mqttPort: a number or, as the
 *    form saved it, a string of digits; topic: the start of every topic (`<topic>/reading`), which
 *    is today's mqtt.baseTopic. MQTT had no on/off switch: it ran whenever mqttHost was set, so
 *    the migration turns mqtt.enabled on exactly then. There was no source setting (the command
 *    line chose it), so source keeps its default. Keys not listed are carried over to be judged
 *    by version 1 (nested version 1 settings win over a legacy key for the same field).
 * 1  firmware/config/types.ts.
 *
 * A stored object without `version` is read as version 0 if it has any of the legacy keys, and
 * as version 1 otherwise (a hand-written partial config file for `meterbridge run --config`).
 *
 * Adding version N+1: write `fromVN(o, warnings)` (a version N object → a version N+1 object,
 * one warning per renamed or removed field saying what replaced it), put it in STEPS at index N,
 * bump CONFIG_VERSION, and add a test that a version N object keeps every setting.
 *
 * Salvage: a config of a known version that fails validation is not thrown away whole. Each bad
 * field is reset to its default (a warning names it); a group that still fails is reset as a
 * group; only if that fails too are all settings reset. Warnings never contain a setting's value,
 * so a secret cannot leak into a log.
 */
import { defaultConfig } from './defaults.js';
import { CONFIG_VERSION, type Config } from './types.js';
import { isSecretHeader, validateConfig } from './validate.js';

export interface MigrationResult {
  config: Config;
  warnings: string[];
  /** the version the stored settings were converted from; null when none was (current or reset) */
  migratedFrom: number | null;
}

type Obj = Record<string, unknown>;

/** Version 0 field → version 1 group and field. */
const V0_RENAMES: readonly (readonly [string, string, string])[] = Object.freeze([
  Object.freeze(['key', 'meter', 'key'] as const),
  Object.freeze(['authKey', 'meter', 'authKey'] as const),
  Object.freeze(['mqttHost', 'mqtt', 'host'] as const),
  Object.freeze(['mqttPort', 'mqtt', 'port'] as const),
  Object.freeze(['mqttUser', 'mqtt', 'username'] as const),
  Object.freeze(['mqttPassword', 'mqtt', 'password'] as const),
  Object.freeze(['topic', 'mqtt', 'baseTopic'] as const),
]);

/** STEPS[n] turns a version n object into a version n+1 object. */
const STEPS: readonly ((o: Obj, warnings: string[]) => Obj)[] = Object.freeze([fromV0]);

const DEFAULTS_USED =
  'the gateway starts with the default settings: the meter keys, MQTT, HTTP push and Wi-Fi settings and the web password must be entered again';

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasOwn(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

function put(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function isLegacyKey(k: string): boolean {
  for (const r of V0_RENAMES) if (r[0] === k) return true;
  return false;
}

function fromV0(o: Obj, warnings: string[]): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o)) if (k !== 'version' && !isLegacyKey(k)) put(out, k, o[k]);
  for (const [old, group, key] of V0_RENAMES) {
    if (!hasOwn(o, old)) continue;
    if (out[group] === undefined) out[group] = {};
    const target = out[group];
    if (!isObject(target)) {
      warnings.push(`'${old}' was ignored because '${group}' is also set`);
      continue;
    }
    if (hasOwn(target, key)) {
      warnings.push(`'${old}' was ignored because '${group}.${key}' is also set`);
      continue;
    }
    let value = o[old];
    if (old === 'mqttPort' && typeof value === 'string' && /^\s*\d+\s*$/.test(value)) value = Number(value);
    target[key] = value;
    warnings.push(`'${old}' is now '${group}.${key}'`);
  }
  const mqtt = out.mqtt;
  if (typeof o.mqttHost === 'string' && o.mqttHost.trim() !== '' && isObject(mqtt) && !hasOwn(mqtt, 'enabled')) mqtt.enabled = true;
  out.version = 1;
  return out;
}

function reset(warning: string): MigrationResult {
  return { config: defaultConfig(), warnings: [warning], migratedFrom: null };
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'text';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'true/false';
  return typeof v;
}

/** Deletes the field an error names; the field may contain dots (HTTP header names). */
function removePath(root: Obj, path: string): boolean {
  const parts = path.split('.');
  let o: unknown = root;
  for (let i = 0; i < parts.length; i++) {
    if (!isObject(o)) return false;
    const rest = parts.slice(i).join('.');
    if (hasOwn(o, rest)) {
      delete o[rest];
      return true;
    }
    if (!hasOwn(o, parts[i])) return false;
    o = o[parts[i]];
  }
  return false;
}

/** Validates; resets what fails, field by field, then group by group, then everything. */
function salvage(o: Obj, warnings: string[]): Config | null {
  const lost: string[] = [];
  let errors = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    // stored settings come from the owner's side: a replay path of the command line, an old short password
    const r = validateConfig(o, defaultConfig(), { trusted: true });
    if (r.ok) {
      warnings.push(...lost, ...r.warnings);
      return r.config;
    }
    errors = r.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    for (const e of r.errors) {
      if (attempt === 0 && removePath(o, e.field)) {
        lost.push(`the saved setting '${e.field}' was not valid (${e.message}) and was reset to the default`);
        continue;
      }
      const group = e.field.split('.')[0];
      if (group !== '' && group !== 'version' && hasOwn(o, group)) {
        delete o[group];
        lost.push(`the saved '${group}' settings were not valid (${e.field}: ${e.message}) and were all reset to the defaults`);
      }
    }
  }
  warnings.length = 0;
  warnings.push(`the saved settings were not valid (${errors}); ${DEFAULTS_USED}`);
  return null;
}

function migrate(stored: unknown): MigrationResult {
  let value = stored;
  if (typeof stored === 'string') {
    // a byte order mark: a config file saved by a Windows editor
    const text = stored.charCodeAt(0) === 0xfeff ? stored.slice(1) : stored;
    if (text.trim() === '') return reset(`the saved settings were empty; ${DEFAULTS_USED}`);
    try {
      value = JSON.parse(text);
    } catch {
      return reset(`the saved settings are damaged (not valid JSON) and could not be read; ${DEFAULTS_USED}`);
    }
  }
  if (!isObject(value)) return reset(`the saved settings are ${describe(value)}, not a group of settings, and could not be read; ${DEFAULTS_USED}`);
  let version = value.version;
  if (version === undefined) {
    version = CONFIG_VERSION;
    for (const k of Object.keys(value)) if (isLegacyKey(k)) version = 0;
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0)
    return reset(`the saved settings have an unreadable version number; ${DEFAULTS_USED}`);
  if (version > CONFIG_VERSION)
    return reset(
      `the saved settings were written by a newer firmware (settings version ${version}; this firmware reads up to version ${CONFIG_VERSION}); ${DEFAULTS_USED}, or install the newer firmware again`,
    );
  const warnings: string[] = [];
  // a copy: the caller's object stays as it was
  let o = JSON.parse(JSON.stringify(value)) as Obj;
  for (let v = version; v < CONFIG_VERSION; v++) o = STEPS[v](o, warnings);
  const config = salvage(o, warnings);
  if (config === null) return { config: defaultConfig(), warnings, migratedFrom: null };
  return { config, warnings, migratedFrom: version < CONFIG_VERSION ? version : null };
}

/**
 * The web password of stored settings as far as it can be read: from the object, or, when the
 * text is no longer JSON, from its `"web":{"password":"…"` (serializeConfig writes it so).
 * '' = none was set; null = unreadable (or no web settings at all).
 */
function storedPassword(stored: unknown): string | null {
  let value = stored;
  if (typeof stored === 'string') {
    try {
      value = JSON.parse(stored.charCodeAt(0) === 0xfeff ? stored.slice(1) : stored);
    } catch {
      const m = /"web"\s*:\s*\{\s*"password"\s*:\s*("(?:[^"\\\u0000-\u001f]|\\.)*")/.exec(stored);
      if (!m) return null;
      try {
        value = { web: { password: JSON.parse(m[1]) } };
      } catch {
        return null;
      }
    }
  }
  if (!isObject(value) || !isObject(value.web)) return null;
  const p = value.web.password;
  return typeof p === 'string' && p.length <= 128 ? p : null;
}

function hadWebSettings(stored: unknown): boolean {
  if (typeof stored === 'string') return stored.indexOf('"web"') >= 0;
  return isObject(stored) && hasOwn(stored, 'web');
}

/**
 * Damaged settings keep the web password if it can be read. If it cannot, the secrets that were
 * salvaged go too: whoever sets the next password must not be able to read them.
 */
function keepPassword(r: MigrationResult, stored: unknown): MigrationResult {
  if (r.config.web.password !== '') return r;
  const found = storedPassword(stored);
  if (found) {
    r.config.web.password = found;
    for (let i = 0; i < r.warnings.length; i++) r.warnings[i] = r.warnings[i].split(' and the web password must').join(' must');
    r.warnings.push('the web password could be read from the damaged settings and was kept');
    return r;
  }
  if (found === '' || !hadWebSettings(stored)) return r;
  const c = r.config;
  c.meter.key = c.meter.authKey = c.mqtt.password = c.wifi.password = '';
  for (const name of Object.keys(c.httpPush.headers)) if (isSecretHeader(name)) delete c.httpPush.headers[name];
  r.warnings.push('the web password could not be read from the damaged settings: set a new one; the saved keys and passwords were removed so that whoever sets it cannot read them');
  return r;
}

/** What storage held (parsed JSON or the raw text) → the current Config. Never throws. */
export function migrateConfig(stored: unknown): MigrationResult {
  try {
    return keepPassword(migrate(stored), stored);
  } catch {
    // e.g. an object JSON cannot copy (a cycle): the same as damaged settings
    return reset(`the saved settings could not be read; ${DEFAULTS_USED}`);
  }
}

/** The stored text (null: nothing stored yet → the defaults, silently) → the current Config. */
export function loadConfig(text: string | null): MigrationResult {
  if (text === null) return { config: defaultConfig(), warnings: [], migratedFrom: null };
  return migrateConfig(text);
}

/** The text to store: the whole config, secrets included, always with the current version. */
export function serializeConfig(config: Config): string {
  return JSON.stringify({ ...config, version: CONFIG_VERSION });
}
