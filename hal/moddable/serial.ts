/**
 * The meter's UART on ESP32: ECMA-419 `embedded:io/serial` plus the native meterbridge/uart
 * helper (native/uart_parity.c) for the frame format and the FIFO threshold.
 *
 *   TSS721 (click) ──► GPIO rx ──► UART FIFO (128 B, no software buffer) ──► onReadable
 *        ──► read(this.rx) into one preallocated 128-byte buffer ──► onBytes(view) ──► gateway
 *
 * Facts this file is built on (modules/io/serial/esp32/serial.c):
 * - the constructor always sets 8N1; there is no parity option. 8E1 is set afterwards with
 *   configure() (ESP-IDF uart_set_parity, no driver needed). With parity 'none' in the settings
 *   the UART stays 8N1 and still reads an 8E1 line (the parity bit falls into the stop-bit slot;
 *   the M-Bus checksum catches what goes wrong): that is the fallback, and the way the ESPHome
 *   configurations for these meters read them.
 * - read() copies straight from the 128-byte hardware FIFO. The RX interrupt fires when the FIFO
 *   holds more than the full threshold (reset value 96) or after 4 idle symbols, and is disabled
 *   until JS reads. At 2400 baud 8E1 (218 bytes/s) the default leaves ~0.15 s for the JS turn in
 *   progress to finish; with the threshold at 32 it is ~0.44 s. Longer JS turns (a TLS handshake,
 *   a big JSON response, a flash write) overflow the FIFO: the bytes are lost, the frame fails
 *   its checksum, and takeLineErrors() reports the overflow.
 *
 * onReadable only drains the FIFO into the preallocated buffer and hands a view to the gateway,
 * which copies it (Gateway.bytes → ByteHistory and the framers). The view is valid only during
 * the call. Nothing here blocks or allocates per byte; one small view object per read.
 */
import Serial from 'embedded:io/serial';
import Timer from 'timer';
import { configure, setRxFullThreshold, takeLineErrors } from 'meterbridge/uart';
import type { ByteSource } from '../hal.js';
import type { SerialConfig } from '../../firmware/config/types.js';
import type { UartPins } from './board.js';

/** hardware FIFO size: one read never returns more */
const FIFO_BYTES = 128;
const LINE_CHECK_MS = 10_000;

export class UartSource implements ByteSource {
  readonly description: string;
  private serial: Serial | null = null;
  private readonly rx = new Uint8Array(FIFO_BYTES);
  private lineTimer: Timer | undefined;
  private onBytes: (bytes: Uint8Array) => void = () => {};
  private onError: (message: string) => void = () => {};
  private readonly seen = { overflow: 0, parity: 0, framing: 0 };

  constructor(
    private readonly config: SerialConfig,
    private readonly pins: UartPins,
    private readonly rxThreshold: number,
    note: string | null,
  ) {
    const c = config;
    const format = `${c.dataBits}${c.parity === 'even' ? 'E' : c.parity === 'odd' ? 'O' : 'N'}${c.stopBits}`;
    this.description =
      `UART${pins.port} (RX GPIO${pins.receive}, TX GPIO${pins.transmit}) at ${c.baudRate} baud ${format}` + (note ? `; ${note}` : '');
  }

  start(onBytes: (bytes: Uint8Array) => void, onError: (message: string) => void): void {
    this.onBytes = onBytes;
    this.onError = onError;
    const p = this.pins;
    const c = this.config;
    try {
      this.serial = new Serial({
        port: p.port,
        receive: p.receive,
        transmit: p.transmit, // configured although unused: TX idles high (mark) toward the TSS721
        baud: c.baudRate,
        format: 'buffer',
        onReadable: () => this.drain(),
      });
    } catch (e) {
      onError(`cannot open UART${p.port} on RX GPIO${p.receive} / TX GPIO${p.transmit}: ${(e as Error).message}`);
      return;
    }
    if (c.dataBits !== 8 || c.parity !== 'none' || c.stopBits !== 1) {
      try {
        configure(p.port, c.dataBits, c.parity, c.stopBits);
      } catch (e) {
        onError(`cannot set ${c.dataBits}/${c.parity}/${c.stopBits} on UART${p.port} (${(e as Error).message}); reading at 8N1, which works for 8E1 meters in practice`);
      }
    }
    try {
      setRxFullThreshold(p.port, this.rxThreshold);
    } catch (e) {
      onError(`cannot lower the UART FIFO threshold (${(e as Error).message}); bytes may be lost while the device is busy`);
    }
    takeLineErrors(p.port); // forget what happened before we owned the port
    this.lineTimer = Timer.repeat(() => this.checkLine(), LINE_CHECK_MS);
  }

  stop(): void {
    if (this.lineTimer) Timer.clear(this.lineTimer);
    this.lineTimer = undefined;
    const s = this.serial;
    this.serial = null;
    if (s) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  /** Empties the FIFO; more than FIFO_BYTES cannot be waiting, two reads are a safety margin. */
  private drain(): void {
    const s = this.serial;
    if (!s) return;
    for (let i = 0; i < 2; i++) {
      const n = s.read(this.rx);
      if (!n) return;
      this.onBytes(this.rx.subarray(0, n));
      if (this.serial !== s) return; // the gateway stopped this source from inside onBytes
    }
  }

  /** Reports FIFO overflows, and parity/framing errors when the configured format should avoid them. */
  private checkLine(): void {
    if (!this.serial) return;
    const bits = takeLineErrors(this.pins.port);
    if (bits === 0) return;
    const c = this.config;
    const formatMatches = c.parity !== 'none'; // at 8N1 an 8E1 line gives framing errors by design
    let news = false;
    if (bits & 4) {
      this.seen.overflow++;
      news = true;
    }
    if (formatMatches && bits & 1) {
      this.seen.parity++;
      news = true;
    }
    if (formatMatches && bits & 2) {
      this.seen.framing++;
      news = true;
    }
    if (!news) return;
    const parts: string[] = [];
    if (this.seen.overflow) parts.push(`the UART FIFO overflowed in ${this.seen.overflow} check interval(s): bytes were lost while the device was busy`);
    if (this.seen.parity) parts.push(`parity errors in ${this.seen.parity} interval(s): check the wiring and the click (README: corrupt data)`);
    if (this.seen.framing) parts.push(`framing errors in ${this.seen.framing} interval(s): check baud rate and format (${c.baudRate} ${c.dataBits}${c.parity}${c.stopBits})`);
    this.onError(parts.join('; '));
  }
}
