/**
 * The gateway's configuration, one typed shape for both targets. Defaults, validation and
 * migration live beside this file; secrets (keys, passwords) are write-only towards the UI.
 */
import { deepFreeze } from '../freeze.js';

export const CONFIG_VERSION = 1;

export type SourceType = 'simulator' | 'serial' | 'replay';

export interface SerialConfig {
  path: string;
  baudRate: number; // 2400 at the Austrian interfaces
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

export interface MeterConfig {
  /** GUEK, 32 hex digits normalised to upper case without spaces; '' = not set (secret) */
  key: string;
  /** GAK, same form; '' = not set (secret) */
  authKey: string;
  framing: 'auto' | 'mbus' | 'hdlc';
  /** the plausibility guard's bound per direction: energy may not rise faster, power not exceed it */
  maxPowerKw: number;
}

export interface SourceConfig {
  type: SourceType;
  serial: SerialConfig;
  /** a capture file of hex or raw bytes, played at the meter's pace: a file name in the data
   *  directory's `replay` folder, or (command line and config files only) any path */
  replay: { file: string; intervalMs: number; loop: boolean };
  /** the built-in meter simulator */
  /** key: the simulated meter's key (not a secret: a published demo key by default); the gateway
   *  decodes with it when meter.key is empty, so demo mode shows values at once */
  simulator: { phases: 1 | 3; intervalMs: number; key: string };
}

export interface MqttConfig {
  enabled: boolean;
  host: string;
  port: number;
  tls: boolean;
  username: string;
  /** secret */
  password: string;
  clientId: string;
  /** every topic starts here; the status topic is `<baseTopic>/status` (online/offline, retained) */
  baseTopic: string;
  qos: 0 | 1;
  retain: boolean;
  /** 'reading': one message per Reading; 'values': one per OBIS value; 'fields': one per
   *  quantity present (friendly name, e.g. `energy_import_wh`, derived values included) */
  mode: 'reading' | 'values' | 'fields';
  /** preset id the templates came from, or 'custom' */
  preset: string;
  topicTemplate: string;
  payloadTemplate: string;
  homeAssistant: { enabled: boolean; discoveryPrefix: string };
  /** wait this long after (re)connecting before sending the queued backlog, so subscribers with
   *  clean sessions are back first; 0 = at once */
  backlogDelayMs: number;
  /** TLS on the host: PEM CA certificate to trust ('' = the system's CAs) */
  caCertificate: string;
  /** TLS on the host: SHA-256 fingerprint (hex) of the broker's certificate to pin, '' = none */
  certificateFingerprint: string;
}

export interface HttpPushConfig {
  enabled: boolean;
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  preset: string;
  bodyTemplate: string;
  /** template language escaping of the body: JSON strings, or none */
  bodyFormat: 'json' | 'text';
  timeoutMs: number;
  /** at most one push per this interval; 0 = every Reading */
  minIntervalMs: number;
  /** 'basic': user name and password; 'bearer': the password is the token */
  auth: 'none' | 'basic' | 'bearer';
  username: string;
  /** secret */
  password: string;
  /** HTTPS on the host: PEM CA certificate to trust ('' = the system's CAs) */
  caCertificate: string;
  /** HTTPS on the host: SHA-256 fingerprint (hex) of the server's certificate to pin, '' = none */
  certificateFingerprint: string;
}

export interface HttpServerConfig {
  port: number;
  /** template of GET /metrics (Prometheus text by default) */
  metricsTemplate: string;
}

export interface WebConfig {
  /** secret; '' = no password set yet: the API serves only the first-run routes */
  password: string;
  /** host names besides IP addresses, localhost and the gateway's own names under which the UI
   *  may be reached (a reverse proxy, a DNS name of your own); others get 421 */
  allowedHosts: string[];
}

export interface WifiConfig {
  ssid: string;
  /** secret */
  password: string;
  hostname: string;
}

export interface Config {
  version: number;
  meter: MeterConfig;
  source: SourceConfig;
  mqtt: MqttConfig;
  httpPush: HttpPushConfig;
  http: HttpServerConfig;
  outbox: { capacity: number };
  web: WebConfig;
  wifi: WifiConfig;
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
}

/** Paths of the secret fields: never logged, never sent back to a browser. */
export const SECRET_FIELDS = deepFreeze(['meter.key', 'meter.authKey', 'mqtt.password', 'httpPush.password', 'web.password', 'wifi.password'] as const);

export interface FieldError {
  /** dotted path, e.g. `mqtt.port` */
  field: string;
  message: string;
}
