/**
 * The gateway: source -> decoder -> Reading -> publishers, wired to the Hal it is given. It owns
 * the config, the pipeline stats and the verdict, the last Reading, the raw-push ring and one
 * outbox per publisher. It never throws on bad input or a failing network: problems become stats,
 * log lines and status.
 */
import type { ByteSource, Hal } from '../hal/hal.js';
import { parseHex, isHexParseError } from './bytes.js';
import type { Config, FieldError } from './config/types.js';
import { MeterDecoder, decode, type DecoderKeys } from './decoder.js';
import { ByteHistory, RawPushRing, verdict, type ErrorRecord, type StageTimes, type Verdict } from './diagnostics.js';
import type { DecodeError } from './errors.js';
import { authenticationKey, encryptionKey, parseKeyText } from './keys.js';
import { HttpPushPublisher } from './publish/http-push.js';
import { MqttPublisher } from './publish/mqtt.js';
import type { Publisher, PublisherStatus } from './publish/publisher.js';
import type { Reading } from './reading.js';
import { DerivedTracker, type DerivedValues } from './template/derived.js';
import { compileTemplate, type Template } from './template/template.js';
import { presetById } from './template/presets.js';
import { buildContext } from './template/context.js';
import { electricityValue } from './publish/homeassistant.js';

const LINK_KINDS = new Set(['checksum', 'length', 'stop-byte', 'garbage', 'overflow']);
const DERIVED_STATE = 'derived';
const HISTORY_POINTS = 240;
const HISTORY_STEP_MS = 15_000;
const DERIVED_SAVE_MS = 5 * 60_000;

export interface GatewayStatus {
  version: string;
  uptimeSeconds: number;
  source: string;
  sourceError: string | null;
  framing: string;
  pipeline: {
    bytes: number;
    frames: number;
    checksumErrors: number;
    apdus: number;
    lastSecurityControl: string | null;
    decrypted: number;
    readings: number;
    values: number;
    errors: number;
    errorsByKind: Record<string, number>;
    last: StageTimes;
  };
  verdict: Verdict;
  lastErrors: ErrorRecord[];
  publishers: PublisherStatus[];
  configWarnings: string[];
  memory: { used: number; total: number } | null;
  /** while the built-in simulator is the source: its key, to show and to try with Test key */
  demo: { key: string } | null;
}

/** Compiles every template of a config; the errors name the field and the position. */
export function checkTemplates(config: Config): FieldError[] {
  const errors: FieldError[] = [];
  const check = (field: string, source: string, escape: 'json' | 'none') => {
    const r = compileTemplate(source, escape);
    if (!r.ok) errors.push({ field, message: `line ${r.error.line}, column ${r.error.column}: ${r.error.message}` });
  };
  check('mqtt.topicTemplate', config.mqtt.topicTemplate, 'none');
  check('mqtt.payloadTemplate', config.mqtt.payloadTemplate, presetEscape(config.mqtt.preset));
  check('httpPush.bodyTemplate', config.httpPush.bodyTemplate, config.httpPush.bodyFormat === 'json' ? 'json' : 'none');
  if (config.http.metricsTemplate) check('http.metricsTemplate', config.http.metricsTemplate, 'none');
  return errors;
}

function presetEscape(id: string): 'json' | 'none' {
  return presetById(id)?.escape ?? 'json';
}

function compiled(source: string, escape: 'json' | 'none'): Template {
  const r = compileTemplate(source, escape);
  if (r.ok) return r.template;
  // validated configs never get here; an empty template is the safe fallback
  return (compileTemplate('', escape) as { ok: true; template: Template }).template;
}

export class Gateway {
  private config: Config;
  private source: ByteSource | null = null;
  private sourceError: string | null = null;
  private decoder!: MeterDecoder;
  private publishers: Publisher[] = [];
  /** day/month baselines survive a restart: saved every few minutes, not per push (flash wear) */
  private derived: DerivedTracker;
  private derivedSavedAt = -Infinity;
  private readonly recent = new ByteHistory(2048);
  /** bytes the history had seen when the current decoder started: decoder offsets start at 0 */
  private decoderBase = 0;
  private readonly raw = new RawPushRing(8);
  private readonly errors: ErrorRecord[] = [];
  private readonly times: StageTimes = { byte: null, frame: null, apdu: null, decrypted: null, reading: null, error: null };
  private lastReadingValue: Reading | null = null;
  private lastDerived: DerivedValues | null = null;
  private readonly startedAt: number;
  private readonly startedMono: number;
  private readonly readingListeners: ((r: Reading) => void)[] = [];
  private metrics: Template;
  /** net power of the last hour for the UI's chart: a fixed ring, one point per 15 s at most
   *  (an array of pairs per push would cost the ESP32 tens of KB) */
  private readonly historyTime = new Float64Array(HISTORY_POINTS);
  private readonly historyPower = new Float32Array(HISTORY_POINTS);
  private historyNext = 0;
  private historyCount = 0;

  constructor(
    private readonly hal: Hal,
    config: Config,
    private readonly version: string,
    private configWarnings: string[] = [],
  ) {
    this.config = config;
    this.startedAt = hal.clock.now();
    this.startedMono = hal.clock.monotonic();
    this.metrics = compiled(config.http.metricsTemplate || presetById('prometheus')!.payloadTemplate, 'none');
    let saved: unknown = null;
    try {
      saved = JSON.parse(hal.storage.read(DERIVED_STATE) ?? 'null');
    } catch {
      saved = null; // a damaged file only costs today's baseline
    }
    this.derived = DerivedTracker.fromJSON(saved);
  }

  private saveDerived(force: boolean): void {
    const now = this.hal.clock.monotonic();
    if (!force && now - this.derivedSavedAt < DERIVED_SAVE_MS) return;
    this.derivedSavedAt = now;
    try {
      this.hal.storage.write(DERIVED_STATE, JSON.stringify(this.derived.toJSON()));
    } catch (e) {
      this.hal.logger.log('warn', `cannot save the day and month baselines: ${(e as Error).message}`);
    }
  }

  get currentConfig(): Config {
    return this.config;
  }

  get lastReading(): Reading | null {
    return this.lastReadingValue;
  }

  onReading(listener: (r: Reading) => void): void {
    this.readingListeners.push(listener);
  }

  start(): void {
    this.startDecoder();
    this.startPublishers();
    this.startSource();
  }

  async stop(): Promise<void> {
    if (this.lastReadingValue) this.saveDerived(true);
    this.source?.stop();
    this.source = null;
    this.decoder?.finish();
    await Promise.all(this.publishers.map((p) => p.stop()));
    this.publishers = [];
  }

  /** Applies a validated config, restarting only the parts it changes. */
  async applyConfig(next: Config, warnings: string[] = []): Promise<void> {
    const prev = this.config;
    this.config = next;
    this.configWarnings = warnings;
    this.metrics = compiled(next.http.metricsTemplate || presetById('prometheus')!.payloadTemplate, 'none');
    const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    if (changed(prev.source, next.source) || changed(prev.meter, next.meter)) {
      this.source?.stop();
      this.decoder.finish();
      this.startDecoder();
      this.startSource();
    }
    if (changed(prev.mqtt, next.mqtt) || changed(prev.httpPush, next.httpPush) || prev.outbox.capacity !== next.outbox.capacity) {
      await Promise.all(this.publishers.map((p) => p.stop()));
      this.startPublishers();
    }
  }

  /** The simulated meter is a demo meter with its own published key: it encrypts with that key
   *  whatever key is saved, and the gateway decodes it with that key, so a saved key can neither
   *  make the demo "work" nor break it. */
  private get demo(): boolean {
    return this.config.source.type === 'simulator';
  }

  private keys(): DecoderKeys {
    const c = this.config;
    if (this.demo) return { encryption: encryptionKey(c.source.simulator.key), authentication: null };
    return {
      encryption: c.meter.key ? encryptionKey(c.meter.key) : null,
      authentication: c.meter.authKey ? authenticationKey(c.meter.authKey) : null,
    };
  }

  private startDecoder(): void {
    const now = () => this.hal.clock.now();
    this.decoderBase = this.recent.total;
    this.decoder = new MeterDecoder({
      crypto: this.hal.crypto,
      keys: this.keys(),
      framing: this.config.meter.framing,
      onFrame: (bytes, start, end) => {
        this.times.frame = now();
        this.raw.frame(bytes, start, end);
      },
      onReading: (r) => this.reading(r),
      onError: (e) => this.decodeError(e),
    });
  }

  private startSource(): void {
    const keyText = this.demo ? this.config.source.simulator.key : this.config.meter.key;
    const parsed = keyText ? parseKeyText(keyText) : null;
    try {
      this.source = this.hal.createSource(this.config.source, parsed && parsed.ok ? parsed.bytes : null);
    } catch (e) {
      this.sourceError = (e as Error).message;
      this.hal.logger.log('error', `source: ${this.sourceError}`);
      return;
    }
    this.sourceError = null;
    this.hal.logger.log('info', `reading from ${this.source.description}`);
    this.source.start(
      (bytes) => this.bytes(bytes),
      (message) => {
        this.sourceError = message;
        this.hal.logger.log('warn', `source: ${message}`);
      },
    );
  }

  private startPublishers(): void {
    const c = this.config;
    const pubs: Publisher[] = [];
    if (c.mqtt.enabled) {
      const escape = presetEscape(c.mqtt.preset);
      pubs.push(
        new MqttPublisher(
          c.mqtt,
          { topic: compiled(c.mqtt.topicTemplate, 'none'), payload: compiled(c.mqtt.payloadTemplate, escape) },
          this.hal.createMqttClient(),
          this.hal.clock,
          this.hal.logger,
          c.outbox.capacity,
          this.version,
        ),
      );
    }
    if (c.httpPush.enabled) {
      pubs.push(new HttpPushPublisher(c.httpPush, compiled(c.httpPush.bodyTemplate, c.httpPush.bodyFormat === 'json' ? 'json' : 'none'), this.hal.httpClient, this.hal.clock, this.hal.logger, c.outbox.capacity));
    }
    this.publishers = pubs;
  }

  /** Bytes from the source (also the entry point for tests and the replay source). */
  bytes(bytes: Uint8Array): void {
    this.times.byte = this.hal.clock.now();
    this.recent.push(bytes);
    this.decoder.push(bytes);
  }

  private reading(r: Reading): void {
    const now = this.hal.clock.now();
    this.times.reading = now;
    this.times.apdu = now;
    if (r.security.encrypted) this.times.decrypted = now;
    this.raw.close(now, 'reading');
    this.lastReadingValue = r;
    this.recordPower(r, now);
    const derived = this.derived.update(r);
    this.lastDerived = derived;
    this.saveDerived(false);
    const mono = this.hal.clock.monotonic();
    for (const p of this.publishers) p.enqueue({ reading: r, derived, receivedMs: now }, mono);
    for (const l of this.readingListeners) l(r);
  }

  private decodeError(e: DecodeError): void {
    const now = this.hal.clock.now();
    this.times.error = now;
    if (!LINK_KINDS.has(e.kind)) this.times.apdu = now;
    if (e.kind !== 'garbage') this.raw.close(now, e.kind);
    this.errors.push({ ...e, at: now, context: this.recent.context(this.decoderBase + e.offset) });
    if (this.errors.length > 10) this.errors.shift();
    this.hal.logger.log('warn', `decode: ${e.kind} at byte ${e.offset}: ${e.detail}`);
  }

  private recordPower(r: Reading, now: number): void {
    const imp = electricityValue(r, '1.7.0');
    const exp = electricityValue(r, '2.7.0');
    if (imp === undefined && exp === undefined) return;
    const last = (this.historyNext + HISTORY_POINTS - 1) % HISTORY_POINTS;
    if (this.historyCount > 0 && now - this.historyTime[last] < HISTORY_STEP_MS) return;
    this.historyTime[this.historyNext] = now;
    this.historyPower[this.historyNext] = (imp ?? 0) - (exp ?? 0);
    this.historyNext = (this.historyNext + 1) % HISTORY_POINTS;
    if (this.historyCount < HISTORY_POINTS) this.historyCount++;
  }

  /** [wall ms, net power W] of the last hour, oldest first (built only when asked for). */
  history(): [number, number][] {
    const out: [number, number][] = [];
    const since = this.hal.clock.now() - 3_600_000;
    for (let k = 0; k < this.historyCount; k++) {
      const i = (this.historyNext - this.historyCount + k + HISTORY_POINTS) % HISTORY_POINTS;
      if (this.historyTime[i] >= since) out.push([this.historyTime[i], this.historyPower[i]]);
    }
    return out;
  }

  /** GET /metrics and previews: the metrics template rendered from the last Reading. */
  renderMetrics(): string | null {
    if (!this.lastReadingValue) return null;
    return this.metrics.render(buildContext(this.lastReadingValue, this.lastDerived, { received_ms: this.times.reading }));
  }

  get lastDerivedValues(): DerivedValues | null {
    return this.lastDerived;
  }

  rawPushes() {
    return this.raw.list();
  }

  /** Decrypts the last captured raw push (or the given hex) with a key before it is saved. */
  testKey(keyText: string, authKeyText: string, hex?: string): { ok: true; reading: Reading } | { ok: false; message: string } {
    const k = parseKeyText(keyText);
    if (!k.ok) return { ok: false, message: `key: ${k.message}` };
    let auth = null;
    if (authKeyText.trim()) {
      const a = parseKeyText(authKeyText);
      if (!a.ok) return { ok: false, message: `authentication key: ${a.message}` };
      auth = authenticationKey(a.bytes);
    }
    let bytes: Uint8Array;
    if (hex !== undefined) {
      const b = parseHex(hex);
      if (isHexParseError(b)) return { ok: false, message: b.detail };
      bytes = b;
    } else {
      const last = this.raw.last();
      if (!last) return { ok: false, message: 'no push has been received from the meter yet' };
      bytes = parseHex(last.frames.join('')) as Uint8Array;
    }
    const result = decode(bytes, { encryption: encryptionKey(k.bytes), authentication: auth }, this.hal.crypto);
    if (result.readings.length > 0) return { ok: true, reading: result.readings[0] };
    const e = result.errors[0];
    return { ok: false, message: e ? `${e.kind}: ${e.detail}` : 'the captured bytes hold no complete push' };
  }

  status(): GatewayStatus {
    const s = this.decoder.stats;
    const now = this.hal.clock.now();
    return {
      version: this.version,
      uptimeSeconds: Math.round((this.hal.clock.monotonic() - this.startedMono) / 1000),
      source: this.source?.description ?? 'none',
      sourceError: this.sourceError,
      framing: s.framing,
      pipeline: {
        bytes: s.bytes,
        frames: s.frames,
        checksumErrors: s.errorsByKind.checksum ?? 0,
        apdus: s.apdus,
        lastSecurityControl: s.lastSecurityControl < 0 ? null : '0x' + s.lastSecurityControl.toString(16).toUpperCase().padStart(2, '0'),
        decrypted: s.decrypted,
        readings: s.readings,
        values: s.lastValueCount,
        errors: s.errors,
        errorsByKind: { ...s.errorsByKind } as Record<string, number>,
        last: { ...this.times },
      },
      verdict: verdict(s, this.times, now, this.startedAt),
      lastErrors: this.errors.slice(),
      publishers: this.publishers.map((p) => p.status()),
      configWarnings: this.configWarnings.slice(),
      memory: this.hal.memory(),
      demo: this.demo ? { key: this.config.source.simulator.key } : null,
    };
  }
}
