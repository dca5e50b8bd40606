/**
 * What the build says about the board: the M-Bus UART pins and the boot button (manifest
 * `defines`, read through the native meterbridge/uart module, which compiles them in) and the
 * `config` values of manifest.json or of `mcconfig … key=value` (mc/config; command-line values
 * arrive as strings).
 *
 * Also the device's reading of `source.serial.path`, which on the host names a serial port:
 *
 *   uart                     the board's M-Bus UART (the manifest defines)
 *   uart2                    UART 2 with the board's pins
 *   uart1:rx=18,tx=17        UART 1, RX on GPIO 18, TX on GPIO 17
 *
 * rx/tx name the ESP32's side: rx is the ESP32 input, wired to the click's data output (the
 * mikroBUS pin the click calls TX). See hal/moddable/README.md, "RX/TX naming".
 */
import config from 'mc/config';
import { boardDefaults } from 'meterbridge/uart';

export interface UartPins {
  port: number;
  /** ESP32 RX GPIO: data from the meter */
  receive: number;
  /** ESP32 TX GPIO: idles high so the TSS721 sees mark */
  transmit: number;
}

export interface Board {
  uart: UartPins;
  /** RX FIFO-full interrupt threshold in bytes (native/uart_parity.c explains 32) */
  rxThreshold: number;
  /** boot button GPIO (active low) */
  buttonPin: number;
  /** WPA2 password of the setup access point */
  apPassword: string;
  sntpHost: string;
  /** the XS heap sizes of manifest.json `creation`, mirrored in `config` (bytes), or null */
  xsHeapBytes: number | null;
}

/** The documented default password of the setup access point (README: first-time setup). */
export const DEFAULT_AP_PASSWORD = 'meterbridge';

function configString(key: string, fallback: string): string {
  const v = config[key];
  return typeof v === 'string' && v !== '' ? v : fallback;
}

function configNumber(key: string): number | null {
  const v = config[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** Reads the board; calls a native function, so only from main() (never at module level). */
export function readBoard(): Board {
  const [port, receive, transmit, rxThreshold, buttonPin] = boardDefaults();
  let apPassword = configString('apPassword', DEFAULT_AP_PASSWORD);
  // WPA2-PSK needs 8..63 characters; wifi/esp32/xs6wifi.c throws "password too short" otherwise
  if (apPassword.length < 8 || apPassword.length > 63) apPassword = DEFAULT_AP_PASSWORD;
  const chunk = configNumber('xsChunkBytes');
  const slots = configNumber('xsSlotBytes');
  return Object.freeze({
    uart: Object.freeze({ port, receive, transmit }),
    rxThreshold,
    buttonPin,
    apPassword,
    sntpHost: configString('sntp', 'pool.ntp.org'),
    xsHeapBytes: chunk !== null && slots !== null ? chunk + slots : null,
  });
}

export type SerialPath = { ok: true; pins: UartPins; note: string | null } | { ok: false; message: string };

/** The UART a `source.serial.path` names on the device (see the header comment). */
export function parseSerialPath(path: string, board: UartPins): SerialPath {
  const text = path.trim().toLowerCase();
  const m = /^uart(\d)?(?::(.*))?$/.exec(text);
  if (!m) {
    // a host path such as /dev/ttyUSB0 from an imported configuration: the device has one meter UART
    return { ok: true, pins: board, note: `'${path}' is a host serial port; the board's M-Bus UART is used` };
  }
  const pins = { ...board };
  if (m[1] !== undefined) pins.port = Number(m[1]);
  if (pins.port < 0 || pins.port > 2) return { ok: false, message: `UART ${pins.port} does not exist (ESP32: 0..2; ESP32-C3: 0..1)` };
  if (pins.port === 0) return { ok: false, message: 'UART 0 carries the debug console and the flashing link; use UART 1 or 2' };
  for (const item of (m[2] ?? '').split(',')) {
    const kv = item.trim();
    if (kv === '') continue;
    const eq = /^(rx|tx)=(\d{1,2})$/.exec(kv);
    if (!eq) return { ok: false, message: `'${kv}' in '${path}' is not rx=<GPIO> or tx=<GPIO>` };
    if (eq[1] === 'rx') pins.receive = Number(eq[2]);
    else pins.transmit = Number(eq[2]);
  }
  if (pins.receive === pins.transmit) return { ok: false, message: `RX and TX are both GPIO ${pins.receive}` };
  return { ok: true, pins, note: null };
}
