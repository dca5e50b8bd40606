/**
 * A meter simulator that pushes what a Kaifa MA309M pushes at TINETZ: a data-notification with
 * OBIS/value/scaler-unit structures, encrypted with general-glo-ciphering (security 0x21, no tag,
 * or 0x30 with a tag when an authentication key is given), cut into M-Bus long frames (0xFA +
 * rest). The load follows a plausible day (base load, morning and evening peaks, PV export at
 * noon), the energy counters integrate it, the frame counter only grows. It knows nothing of
 * serial ports: `push(timeMs)` returns bytes; SimulatorSource paces them with the HAL clock.
 */
import { GCM_TAG_LENGTH, SC_AUTHENTICATION, TAG_DATA_NOTIFICATION, TAG_GLO_CIPHER } from './constants.js';
import type { CipherKey, Crypto } from './crypto/crypto.js';
import { AxdrWriter } from './dlms/axdr-writer.js';
import { encodeLongFrames } from './link/mbus.js';
import { encodeHdlcFrame } from './link/hdlc.js';
import type { ByteSource, Clock, TimerHandle } from '../hal/hal.js';

export interface SimulatorOptions {
  crypto: Crypto;
  key: Uint8Array;
  authKey?: Uint8Array | null;
  phases: 1 | 3;
  framing?: 'mbus' | 'hdlc';
  /** 8 bytes; default "KFM" + a serial */
  systemTitle?: Uint8Array;
  meterNumber?: string;
  seed?: number;
  /** counters at the first push */
  energyImportWh?: number;
  energyExportWh?: number;
  frameCounter?: number;
}

// DLMS unit codes
const WH = 30, W = 27, V = 35, A = 33, VARH = 32;

export class MeterSimulator {
  private readonly key: CipherKey;
  private readonly plain = new Uint8Array(512);
  private readonly apdu = new Uint8Array(600);
  private readonly frames = new Uint8Array(800);
  private readonly iv = new Uint8Array(12);
  private readonly aad = new Uint8Array(17);
  private readonly tag = new Uint8Array(GCM_TAG_LENGTH);
  private readonly title: Uint8Array;
  private readonly number: string;
  private importWh: number;
  private exportWh: number;
  private reactiveImportVarh = 1200;
  private reactiveExportVarh = 300;
  private counter: number;
  private lastMs = -1;
  private seed: number;

  constructor(private readonly o: SimulatorOptions) {
    this.key = o.crypto.importKey(o.key);
    this.title = o.systemTitle ?? Uint8Array.of(0x4b, 0x46, 0x4d, 0x10, 0x20, 0x01, 0x9f, 0x8b);
    this.number = o.meterNumber ?? '1KFM0200204035';
    this.importWh = o.energyImportWh ?? 1_234_567;
    this.exportWh = o.energyExportWh ?? 345_678;
    this.counter = o.frameCounter ?? 1;
    this.seed = o.seed ?? 42;
  }

  private random(): number {
    // mulberry32: deterministic noise, so tests and demos repeat
    let t = (this.seed = (this.seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Net active power (W, export negative) at a local time of day in hours. */
  private netPower(hour: number): number {
    const base = 180;
    const morning = 900 * Math.exp(-((hour - 7.5) ** 2) / 0.8);
    const evening = 1600 * Math.exp(-((hour - 19) ** 2) / 2.5);
    const pv = hour > 6 && hour < 20 ? 2600 * Math.sin((Math.PI * (hour - 6)) / 14) : 0;
    return base + morning + evening - pv + (this.random() - 0.5) * 120;
  }

  /** The frames of one push at wall-clock time timeMs (the meter's local time is the host's). */
  push(timeMs: number): Uint8Array {
    const date = new Date(timeMs);
    const hour = date.getHours() + date.getMinutes() / 60 + date.getSeconds() / 3600;
    const net = this.netPower(hour);
    const importW = net > 0 ? Math.round(net) : 0;
    const exportW = net < 0 ? Math.round(-net) : 0;
    if (this.lastMs >= 0 && timeMs > this.lastMs) {
      const hours = (timeMs - this.lastMs) / 3_600_000;
      this.importWh += importW * hours;
      this.exportWh += exportW * hours;
      this.reactiveImportVarh += importW * 0.05 * hours;
      this.reactiveExportVarh += exportW * 0.02 * hours;
    }
    this.lastMs = timeMs;
    const plainLength = this.notification(date, importW, exportW);
    const apduLength = this.cipher(plainLength);
    const out = this.frames;
    const n = this.o.framing === 'hdlc' ? encodeHdlcFrame(this.apdu.subarray(0, apduLength), out) : encodeLongFrames(this.apdu.subarray(0, apduLength), out);
    return out.slice(0, n);
  }

  private notification(date: Date, importW: number, exportW: number): number {
    const w = new AxdrWriter(this.plain);
    const deviation = date.getTimezoneOffset(); // minutes local -> UTC, the DLMS convention too
    const dst = 0x80; // status: daylight saving active is not modelled; 0x80 = "DST flag" as Kaifa sends
    const dow = date.getDay() === 0 ? 7 : date.getDay();
    const stamp = (x: AxdrWriter) =>
      x.dateTimeBytes(date.getFullYear(), date.getMonth() + 1, date.getDate(), dow, date.getHours(), date.getMinutes(), date.getSeconds(), deviation, dst);
    w.byte(TAG_DATA_NOTIFICATION);
    const id = this.counter;
    w.byte(id >>> 24).byte(id >>> 16).byte(id >>> 8).byte(id);
    w.byte(12);
    stamp(w);
    const three = this.o.phases === 3;
    w.structure(three ? 15 : 11); // clock, number, name, U, I (per phase), +P -P +A -A +R -R
    w.structure(2).obis(0, 0, 1, 0, 0).byte(0x09).byte(12);
    stamp(w);
    w.structure(2).obis(0, 0, 96, 1, 0).text(this.number);
    w.structure(2).obis(0, 0, 42, 0, 0).text('KFM1200200204035');
    const volts = (base: number) => Math.round((base + (this.random() - 0.5) * 4) * 10);
    const amps = (p: number) => Math.round((p / 230 / (three ? 3 : 1)) * 100 + this.random() * 3);
    w.structure(3).obis(1, 0, 32, 7, 0).uint16(volts(231)).scalerUnit(-1, V);
    if (three) {
      w.structure(3).obis(1, 0, 52, 7, 0).uint16(volts(230)).scalerUnit(-1, V);
      w.structure(3).obis(1, 0, 72, 7, 0).uint16(volts(232)).scalerUnit(-1, V);
    }
    const p = importW + exportW;
    w.structure(3).obis(1, 0, 31, 7, 0).uint16(amps(p)).scalerUnit(-2, A);
    if (three) {
      w.structure(3).obis(1, 0, 51, 7, 0).uint16(amps(p)).scalerUnit(-2, A);
      w.structure(3).obis(1, 0, 71, 7, 0).uint16(amps(p)).scalerUnit(-2, A);
    }
    w.structure(3).obis(1, 0, 1, 7, 0).uint32(importW).scalerUnit(0, W);
    w.structure(3).obis(1, 0, 2, 7, 0).uint32(exportW).scalerUnit(0, W);
    w.structure(3).obis(1, 0, 1, 8, 0).uint32(Math.floor(this.importWh)).scalerUnit(0, WH);
    w.structure(3).obis(1, 0, 2, 8, 0).uint32(Math.floor(this.exportWh)).scalerUnit(0, WH);
    w.structure(3).obis(1, 0, 3, 8, 0).uint32(Math.floor(this.reactiveImportVarh)).scalerUnit(0, VARH);
    w.structure(3).obis(1, 0, 4, 8, 0).uint32(Math.floor(this.reactiveExportVarh)).scalerUnit(0, VARH);
    return w.pos;
  }

  /** general-glo-ciphering around plain[0, n): DB 08 title len SC IC ciphertext [tag]. */
  private cipher(n: number): number {
    const auth = this.o.authKey ?? null;
    const sc = auth ? 0x30 : 0x21;
    const ic = this.counter++ >>> 0;
    const a = this.apdu;
    let p = 0;
    a[p++] = TAG_GLO_CIPHER;
    a[p++] = 8;
    a.set(this.title, p);
    p += 8;
    const content = 5 + n + (auth ? GCM_TAG_LENGTH : 0);
    if (content < 0x80) a[p++] = content;
    else if (content < 0x100) (a[p++] = 0x81), (a[p++] = content);
    else (a[p++] = 0x82), (a[p++] = content >> 8), (a[p++] = content & 0xff);
    a[p++] = sc;
    a[p++] = ic >>> 24;
    a[p++] = (ic >>> 16) & 0xff;
    a[p++] = (ic >>> 8) & 0xff;
    a[p++] = ic & 0xff;
    a.set(this.plain.subarray(0, n), p);
    this.iv.set(this.title, 0);
    this.iv[8] = ic >>> 24;
    this.iv[9] = (ic >>> 16) & 0xff;
    this.iv[10] = (ic >>> 8) & 0xff;
    this.iv[11] = ic & 0xff;
    if (auth && sc & SC_AUTHENTICATION) {
      this.aad[0] = sc;
      this.aad.set(auth, 1);
      this.o.crypto.gcmEncryptInPlace(this.key, this.iv, a, p, p + n, this.aad, this.tag);
      a.set(this.tag, p + n);
      return p + n + GCM_TAG_LENGTH;
    }
    this.o.crypto.gcmEncryptInPlace(this.key, this.iv, a, p, p + n, null, null);
    return p + n;
  }
}

/** The simulator as a byte source: one push every intervalMs, delivered in small chunks like a UART. */
export class SimulatorSource implements ByteSource {
  readonly description: string;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly simulator: MeterSimulator,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    phases: number,
  ) {
    this.description = `built-in meter simulator (${phases}-phase, a push every ${Math.round(intervalMs / 1000)} s)`;
  }

  start(onBytes: (bytes: Uint8Array) => void): void {
    const tick = () => onBytes(this.simulator.push(this.clock.now()));
    tick();
    this.timer = this.clock.setInterval(tick, this.intervalMs);
  }

  stop(): void {
    if (this.timer) this.clock.clear(this.timer);
    this.timer = null;
  }
}
