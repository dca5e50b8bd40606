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
import { PlausibilityGuard } from './guard.js';
import { ByteHistory, RawPushRing, verdict, type ErrorRecord, type StageTimes, type Verdict } from './diagnostics.js';
import type { DecodeError } from './errors.js';
import { authenticationKey, encryptionKey, parseKeyText } from './keys.js';
import { MeterIdentity } from './meter-identity.js';
import { Outbox } from './outbox.js';
import { PUBLISHERS } from './publish/registry.js';
import type { Delivery, Publisher, PublisherEnv, PublisherKind, PublisherStatus } from './publish/publisher.js';
import type { Reading } from './reading.js';
import { DerivedTracker, type DerivedValues } from './template/derived.js';
import { compileOrEmpty, compileTemplate, type Escape, type Template } from './template/template.js';
import { presetById } from './template/presets.js';
import { buildContext } from './template/context.js';
import { netPower } from './quantities.js';
import { METER_FRESH_MS, gatewayMetrics } from './publish/prometheus.js';
import { History, type CompletedInterval } from './history/history.js';

const LINK_KINDS = new Set(['checksum', 'length', 'stop-byte', 'garbage', 'overflow']);
const DERIVED_STATE = 'derived';
const HISTORY_POINTS = 240;
const HISTORY_STEP_MS = 15_000;
const DERIVED_SAVE_MS = 5 * 60_000;
const QUARTER_MS = 900_000;

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
    /** pushes the plausibility guard refused (never published) */
    implausible: number;
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
  /** the consumption history: whether there is one, its last problem, the last quarter hour it
   *  completed, pushes it could not enter (no meter clock, no registers), flash use since start */
  history: {
    available: boolean;
    error: string | null;
    lastInterval: CompletedInterval | null;
    skipped: number;
    flashWrites: number;
    flashErases: number;
  };
}

/** Compiles every template of a config; the errors name the field and the position. */
export function checkTemplates(config: Config): FieldError[] {
  const errors: FieldError[] = [];
  const check = (field: string, source: string, escape: Escape) => {
    const r = compileTemplate(source, escape);
    if (!r.ok) errors.push({ field, message: `line ${r.error.line}, column ${r.error.column}: ${r.error.message}` });
  };
  for (const kind of PUBLISHERS) for (const t of kind.templates(config)) check(t.field, t.source, t.escape);
  if (config.http.metricsTemplate) check('http.metricsTemplate', config.http.metricsTemplate, 'none');
  return errors;
}

const compiled = compileOrEmpty;

/** A publisher failing this long turns the verdict from a warning into an error. */
const PUBLISHER_ERROR_MS = 60_000;

export class Gateway {
  private config: Config;
  private source: ByteSource | null = null;
  private sourceError: string | null = null;
  private decoder!: MeterDecoder;
  /** running publishers by kind id */
  private readonly publishers = new Map<string, Publisher>();
  /** one outbox per kind, kept across every change of settings */
  private readonly outboxes = new Map<string, Outbox<Delivery>>();
  private readonly identity: MeterIdentity;
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
  private lastMeterId: string | null = null;
  private readonly startedAt: number;
  private readonly startedMono: number;
  private readonly readingListeners: ((r: Reading) => void)[] = [];
  /** the consumption history, when the platform has a store for it */
  private readonly energy: History | null = null;
  private historyError: string | null = null;
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
    this.identity = new MeterIdentity(hal.storage);
    if (hal.historyStore) {
      try {
        this.energy = new History(hal.historyStore, { maxPowerW: config.meter.maxPowerKw * 1000 });
      } catch (e) {
        this.historyFailed(`cannot open the history: ${(e as Error).message}`);
      }
    }
  }

  private historyFailed(message: string): void {
    this.historyError = message;
    this.hal.logger.log('error', message);
  }

  /** The consumption history; null where the platform has no store for it or it failed to open. */
  get energyHistory(): History | null {
    return this.energy;
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

  /** The meter's name that never flips (MeterIdentity), null before it is known. */
  get meterId(): string | null {
    return this.lastMeterId;
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
    await Promise.all([...this.publishers.values()].map((p) => p.stop()));
    this.publishers.clear();
  }

  /** Applies a validated config, restarting only the parts it changes. */
  async applyConfig(next: Config, warnings: string[] = []): Promise<void> {
    const prev = this.config;
    this.config = next;
    this.configWarnings = warnings;
    this.metrics = compiled(next.http.metricsTemplate || presetById('prometheus')!.payloadTemplate, 'none');
    if (this.energy) this.energy.maxPowerW = next.meter.maxPowerKw * 1000;
    const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    if (changed(prev.source, next.source) || changed(prev.meter, next.meter)) {
      this.source?.stop();
      this.decoder.finish();
      this.startDecoder();
      this.startSource();
    }
    for (const o of this.outboxes.values()) if (o.limit !== next.outbox.capacity) o.resize(next.outbox.capacity);
    await Promise.all(PUBLISHERS.map((kind) => this.reconfigure(kind, prev, next)));
  }

  /** A publisher whose settings changed: a new one only for new connection settings; the outbox stays. */
  private async reconfigure(kind: PublisherKind, prev: Config, next: Config): Promise<void> {
    const running = this.publishers.get(kind.id);
    const on = kind.enabled(next);
    const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    if (running && on && !changed(kind.connection(prev), kind.connection(next))) {
      if (changed(kind.settings(prev), kind.settings(next))) running.update(next);
      return;
    }
    if (running) {
      this.publishers.delete(kind.id);
      await running.stop();
    }
    if (on) this.startPublisher(kind);
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
      guard: new PlausibilityGuard({ maxPowerW: this.config.meter.maxPowerKw * 1000 }),
      now: () => this.hal.clock.monotonic(),
      onNotice: (message) => this.hal.logger.log('info', `decode: ${message}`),
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
    for (const kind of PUBLISHERS) if (kind.enabled(this.config)) this.startPublisher(kind);
  }

  private startPublisher(kind: PublisherKind): void {
    let outbox = this.outboxes.get(kind.id);
    if (!outbox) {
      outbox = new Outbox<Delivery>(this.config.outbox.capacity);
      this.outboxes.set(kind.id, outbox);
    }
    const hal = this.hal;
    const env: PublisherEnv = {
      clock: hal.clock,
      logger: hal.logger,
      storage: hal.storage,
      version: this.version,
      createMqttClient: () => hal.createMqttClient(),
      httpClient: hal.httpClient,
    };
    const p = kind.create(this.config, outbox, env);
    this.publishers.set(kind.id, p);
    // what waited while it was off or being replaced goes now, in order
    if (outbox.size > 0) p.kick();
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
    let done: CompletedInterval | null = null;
    if (this.energy) {
      try {
        done = this.energy.feed(r, now);
        this.historyError = null;
      } catch (e) {
        // a failing store costs the history, never the reading
        this.historyFailed(`history: ${(e as Error).message}`);
      }
      const last = this.energy.lastInterval;
      if (last && this.energy.lastEpoch - last.end < QUARTER_MS) {
        // the quarter hour just past, for templates
        derived.energy_last_15min_import_wh = last.importWh ?? undefined;
        derived.energy_last_15min_export_wh = last.exportWh ?? undefined;
        derived.energy_last_15min_start = last.startLocal;
        derived.energy_last_15min_end = last.endLocal;
      }
    }
    this.saveDerived(false);
    const mono = this.hal.clock.monotonic();
    this.lastMeterId = this.identity.of(r);
    const delivery: Delivery = { reading: r, derived, receivedMs: now, meterId: this.lastMeterId };
    if (done) {
      // the completed quarter hour first, through the outbox: it waits out an outage
      const entry: Delivery = { reading: r, derived, receivedMs: now, meterId: this.lastMeterId, interval: done };
      for (const kind of PUBLISHERS) {
        const p = kind.intervals ? this.publishers.get(kind.id) : undefined;
        if (!p) continue;
        this.outboxes.get(kind.id)!.push(entry, mono);
        p.kick();
      }
    }
    for (const [id, p] of this.publishers) {
      if (p.accepts && !p.accepts(mono)) continue;
      this.outboxes.get(id)!.push(delivery, mono);
      p.kick();
    }
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
    const net = netPower(r.values);
    if (net === undefined) return;
    const last = (this.historyNext + HISTORY_POINTS - 1) % HISTORY_POINTS;
    if (this.historyCount > 0 && now - this.historyTime[last] < HISTORY_STEP_MS) return;
    this.historyTime[this.historyNext] = now;
    this.historyPower[this.historyNext] = net;
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

  /**
   * GET /metrics: the gateway's metrics always, the meter's (the metrics template over the last
   * Reading) while that Reading is fresh and the meter has a name.
   */
  renderMetrics(): string {
    const now = this.hal.clock.now();
    let text = gatewayMetrics(this.status(), this.times.reading, now);
    const r = this.lastReadingValue;
    if (r && this.lastMeterId !== null && this.times.reading !== null && now - this.times.reading < METER_FRESH_MS) {
      text += this.metrics.render(buildContext(r, this.lastDerived, { received_ms: this.times.reading, meter_id: this.lastMeterId }));
    }
    return text;
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
    const publishers = [...this.publishers.values()].map((p) => p.status());
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
        implausible: s.errorsByKind.implausible ?? 0,
        values: s.lastValueCount,
        errors: s.errors,
        errorsByKind: { ...s.errorsByKind } as Record<string, number>,
        last: { ...this.times },
      },
      verdict: withPublishers(verdict(s, this.times, now, this.startedAt), publishers, now),
      lastErrors: this.errors.slice(),
      publishers,
      configWarnings: this.configWarnings.slice(),
      memory: this.hal.memory(),
      demo: this.demo ? { key: this.config.source.simulator.key } : null,
      history: {
        available: this.energy !== null,
        error: this.historyError,
        lastInterval: this.energy ? this.energy.lastInterval : null,
        skipped: this.energy ? this.energy.skipped : 0,
        flashWrites: this.energy ? this.energy.stats.writes : 0,
        flashErases: this.energy ? this.energy.stats.erases : 0,
      },
    };
  }
}

/**
 * The verdict with the publishers in it: the meter side stays first (it is the more basic
 * problem), a failing publisher is named with what fails, since when and what waits.
 */
export function withPublishers(v: Verdict, publishers: PublisherStatus[], now: number): Verdict {
  const failing = publishers.filter((p) => p.problem !== null);
  if (failing.length === 0) return v;
  const long = failing.some((p) => p.failingSince !== null && now - p.failingSince >= PUBLISHER_ERROR_MS);
  const level = v.level === 'error' || long ? 'error' : 'warning';
  const problems = failing.map((p) => p.problem).join('; ');
  return { level, message: v.level === 'ok' ? problems : `${v.message}; ${problems}` };
}
