/**
 * A meter simulator that pushes what a Kaifa MA309M pushes at TINETZ: a data-notification with
 * OBIS/value/scaler-unit structures, encrypted with general-glo-ciphering (security 0x21, no tag,
 * or 0x30 with a tag when an authentication key is given), cut into M-Bus long frames (0xFA +
 * rest). The load follows a plausible day (base load, morning and evening peaks, PV export at
 * noon). It knows nothing of serial ports: `push(timeMs)` returns bytes; SimulatorSource paces
 * them with the HAL clock.
 *
 * The counters are a function of the clock, not of how long this simulator has run: the energy
 * registers are the integral of the day curve since 2024-01-01, and the frame counter starts at
 * the tenths of a second since then and counts one per push, so it never falls behind an earlier
 * simulator's as long as that one's pushes were at least 100 ms apart (the shortest interval). A new simulator (a saved setting, a restart) therefore carries on
 * where the last one stopped instead of starting again, which Home Assistant would read as a
 * meter reset; within one simulator they never go backwards, even if the clock does.
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
}

// DLMS unit codes
const WH = 30, W = 27, V = 35, A = 33, VARH = 32;
/** the day the simulated meter was installed (its counters start here) */
const EPOCH_MS = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const DAY_MS = 86_400_000;
const IMPORT_START_WH = 1_234_567;
const EXPORT_START_WH = 345_678;
/** the energy counters' table: cumulative Wh at each quarter hour of the day */
const QUARTERS = 96;

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
  private importWh = IMPORT_START_WH;
  private exportWh = EXPORT_START_WH;
  private counter = 0;
  private seed: number;
  /** cumulative import / export Wh of the noise-free day curve at each quarter hour, and per day */
  private readonly dayImport = new Float32Array(QUARTERS + 1);
  private readonly dayExport = new Float32Array(QUARTERS + 1);
  /** minutes from local standard time to UTC: the sun keeps standard time, so no daylight-saving jumps */
  private readonly standardOffsetMin: number;

  constructor(private readonly o: SimulatorOptions) {
    this.key = o.crypto.importKey(o.key);
    this.title = o.systemTitle ?? Uint8Array.of(0x4b, 0x46, 0x4d, 0x10, 0x20, 0x01, 0x9f, 0x8b);
    this.number = o.meterNumber ?? '1KFM0200204035';
    this.seed = o.seed ?? 42;
    const year = new Date().getFullYear();
    this.standardOffsetMin = Math.max(new Date(year, 0, 1).getTimezoneOffset(), new Date(year, 6, 1).getTimezoneOffset());
    // one-minute steps of the curve without noise
    let imp = 0;
    let exp = 0;
    for (let q = 0; q < QUARTERS; q++) {
      for (let m = 0; m < 15; m++) {
        const p = this.curve((q * 15 + m + 0.5) / 60);
        if (p > 0) imp += p / 60;
        else exp -= p / 60;
      }
      this.dayImport[q + 1] = imp;
      this.dayExport[q + 1] = exp;
    }
  }

  /** Hours into the local standard-time day, and whole days since EPOCH_MS, of a wall time. */
  private dayTime(timeMs: number): { days: number; hour: number } {
    const local = timeMs - this.standardOffsetMin * 60_000 - EPOCH_MS;
    const days = Math.floor(local / DAY_MS);
    return { days, hour: (local - days * DAY_MS) / 3_600_000 };
  }

  /** The energy registers at a wall time: the day curve integrated since EPOCH_MS. */
  private counters(timeMs: number): void {
    const { days, hour } = this.dayTime(timeMs);
    if (days < 0) {
      // a clock before the epoch (an ESP32 before SNTP): keep the counters
      if (this.counter === 0) this.counter = 1;
      return;
    }
    const q = Math.min(Math.floor(hour * 4), QUARTERS - 1);
    const f = hour * 4 - q;
    const at = (t: Float32Array) => days * t[QUARTERS] + t[q] + (t[q + 1] - t[q]) * f;
    this.importWh = Math.max(this.importWh, IMPORT_START_WH + at(this.dayImport));
    this.exportWh = Math.max(this.exportWh, EXPORT_START_WH + at(this.dayExport));
    if (this.counter === 0) this.counter = Math.max(1, Math.floor((timeMs - EPOCH_MS) / 100));
  }

  private random(): number {
    // mulberry32: deterministic noise, so tests and demos repeat
    let t = (this.seed = (this.seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Net active power (W, export negative) at an hour of the standard-time day, without noise. */
  private curve(hour: number): number {
    const base = 180;
    const morning = 900 * Math.exp(-((hour - 7.5) ** 2) / 0.8);
    const evening = 1600 * Math.exp(-((hour - 19) ** 2) / 2.5);
    const pv = hour > 6 && hour < 20 ? 2600 * Math.sin((Math.PI * (hour - 6)) / 14) : 0;
    return base + morning + evening - pv;
  }

  /** The frames of one push at wall-clock time timeMs (the meter's local time is the host's). */
  push(timeMs: number): Uint8Array {
    const date = new Date(timeMs);
    const net = this.curve(this.dayTime(timeMs).hour) + (this.random() - 0.5) * 120;
    const importW = net > 0 ? Math.round(net) : 0;
    const exportW = net < 0 ? Math.round(-net) : 0;
    this.counters(timeMs);
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
    // reactive energy: a fixed share of the active energy since the start
    w.structure(3).obis(1, 0, 3, 8, 0).uint32(Math.floor(1200 + (this.importWh - IMPORT_START_WH) * 0.05)).scalerUnit(0, VARH);
    w.structure(3).obis(1, 0, 4, 8, 0).uint32(Math.floor(300 + (this.exportWh - EXPORT_START_WH) * 0.02)).scalerUnit(0, VARH);
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
