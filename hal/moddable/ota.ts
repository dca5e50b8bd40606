/**
 * Firmware update over the web API, and rollback of an update that does not prove healthy.
 *
 * Upload: `POST /api/ota` (or PUT) with the raw app image as the body (the `xs_esp32.bin` that
 * mcconfig builds; Content-Type application/octet-stream), authorised like every other API call
 * (session cookie or HTTP Basic with the web password, same-origin check). The body streams into
 * the SDK's `ota` module (build/devices/esp32/modules/ota: esp_ota_begin on the inactive slot,
 * sequential writes, esp_ota_end validates the image, esp_ota_set_boot_partition), never into RAM.
 * The first byte must be 0xE9, the ESP-IDF app image magic (ESP_IMAGE_HEADER_MAGIC), which
 * catches a wrong file at once. After success the device restarts into the new slot.
 *
 *   curl -u :PASSWORD -H 'Content-Type: application/octet-stream' \
 *        --data-binary @xs_esp32.bin http://meterbridge.local/api/ota
 *
 * Rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE in sdkconfig/sdkconfig.defaults): a new image
 * first boots in state "pending". RollbackGuard marks it valid once it has run HEALTHY_AFTER_MS
 * without a reset, its HTTP server listens and its network is up (station with an IP address, or
 * the setup access point). If that has not happened within the window (default 5 minutes) it
 * rolls back and reboots into the previous image; any reset before that (crash, task watchdog,
 * power loss) makes the bootloader roll back as well. A Wi-Fi outage during those minutes
 * therefore also returns to the previous image: the safe side.
 *
 * While the image is pending, esp_ota_begin refuses (ESP_ERR_OTA_ROLLBACK_INVALID_STATE), which
 * the SDK's `ota` module reports as "begin failed": an upload is refused first, with 409 and what
 * the guard still waits for.
 *
 * No SDK module is imported here: main.ts passes the running image (meterbridge/rollback), the
 * `ota` constructor and the HAL clock, so tests run this code as it is. createApi
 * (firmware/api.ts) has no extension point for routes, so main.ts puts `handle` in front of the
 * API handler and passes the service to the server as an UploadRoute.
 */
import { json } from '../../firmware/api.js';
import type { Clock, HttpServerRequest, HttpServerResponse, Logger, TimerHandle } from '../hal.js';
import type { UploadHead, UploadRoute, UploadSink } from './upload.js';

export const OTA_PATH = '/api/ota';
/** ESP-IDF esp_app_format: the first byte of an app image */
const APP_IMAGE_MAGIC = 0xe9;
/** the size of one app slot in hal/moddable/partitions.csv (ota_0, ota_1) */
export const OTA_SLOT_BYTES = 0x1e0000;
const RESTART_DELAY_MS = 1500;
const HEALTHY_AFTER_MS = 60_000;
const ROLLBACK_WINDOW_MS = 5 * 60_000;

/** ESP-IDF OTA state of the running app; 'unknown' for a serially flashed image */
export type ImageState = 'new' | 'pending' | 'valid' | 'invalid' | 'aborted' | 'undefined' | 'unknown';

/** The running app image: meterbridge/rollback on the device. */
export interface RunningImage {
  state(): ImageState;
  /** label of the running app partition, e.g. "ota_0" */
  partition(): string;
  /** esp_ota_mark_app_valid_cancel_rollback(); true on success */
  markValid(): boolean;
  /** esp_ota_mark_app_invalid_rollback_and_reboot(); returns false only when it cannot roll back */
  rollBack(): boolean;
}

/** The update partition being written: the SDK's `ota` module. Every method throws on failure. */
export interface OtaWriter {
  write(data: Uint8Array): void;
  /** esp_ota_end (validates the image) and esp_ota_set_boot_partition */
  complete(): void;
  cancel(): void;
}

/** What the rollback guard still waits for before it keeps a new image (RollbackGuard.verification). */
export interface Verification {
  /** how long the image must run before it is kept, ms */
  healthyAfterMs: number;
  /** ms until it has run that long (0: it has) */
  healthyInMs: number;
  /** ms until it is rolled back if it is still not kept */
  rollbackInMs: number;
  serving: boolean;
  network: boolean;
  /** the guard found it healthy, but esp_ota_mark_app_valid_cancel_rollback failed */
  markFailed: boolean;
  /** the window passed and esp_ota_mark_app_invalid_rollback_and_reboot found nothing to return to */
  rollbackFailed: boolean;
}

export interface OtaOptions {
  /** the API's access rules (createApi's guard): host, cross-site, first run, password */
  guard(req: UploadHead | HttpServerRequest): HttpServerResponse | null;
  logger: Logger;
  /** graceful restart (publishes "offline", then esp_restart) */
  restart(): void;
  version: string;
  image: RunningImage;
  /** esp_ota_begin on the inactive slot (`new OTA()` of the SDK); throws when it cannot */
  begin(): OtaWriter;
  clock: Clock;
  /** while the image is pending: what keeping it still waits for (RollbackGuard.verification) */
  verification(): Verification | null;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Why an update must wait while the running image is pending verification, as sentences. */
export function pendingDetail(v: Verification | null): string {
  const head = 'The firmware installed last is still being checked; no new update can start before it is kept';
  if (v === null || v.rollbackFailed) return `${head}. Restart the device and try again.`;
  const rolledBack = `rolled back to the previous firmware (with a restart) in ${seconds(v.rollbackInMs)} s`;
  if (v.markFailed) return `${head}, and marking it as kept failed: it is ${rolledBack}, or at the next restart. Try again after that.`;
  const kept = `it is kept once it has run for ${seconds(v.healthyAfterMs)} s with its web server and network up`;
  const missing: string[] = [];
  if (!v.serving) missing.push('the web server');
  if (!v.network) missing.push('the network');
  if (missing.length === 0) return `${head}: ${kept}. Try again in ${seconds(v.healthyInMs)} s.`;
  return `${head}: ${kept} (${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not up yet), else it is ${rolledBack}. Try again after that.`;
}

export class OtaService implements UploadRoute {
  private busy = false;

  constructor(private readonly o: OtaOptions) {}

  /** GET /api/ota (what runs, and in which state); other methods without a body. Null: not ours. */
  handle(req: HttpServerRequest): HttpServerResponse | null {
    if (pathOf(req.url) !== OTA_PATH) return null;
    const refused = this.o.guard(req);
    if (refused) return refused;
    if (req.method === 'GET' || req.method === 'HEAD') {
      return json(200, { version: this.o.version, partition: this.o.image.partition(), state: this.o.image.state(), maxBytes: OTA_SLOT_BYTES, updating: this.busy });
    }
    if (req.method === 'POST' || req.method === 'PUT') return json(400, { error: 'empty body', detail: 'send the firmware image (xs_esp32.bin) as the request body' });
    return json(405, { error: `method ${req.method} not allowed`, allowed: ['GET', 'POST', 'PUT'] }, { Allow: 'GET, POST, PUT' });
  }

  accept(head: UploadHead): UploadSink | HttpServerResponse | null {
    if (pathOf(head.url) !== OTA_PATH) return null;
    if (head.method !== 'POST' && head.method !== 'PUT') return json(405, { error: `method ${head.method} not allowed`, allowed: ['GET', 'POST', 'PUT'] }, { Allow: 'GET, POST, PUT' });
    const refused = this.o.guard(head);
    if (refused) return refused;
    const type = (head.headers['content-type'] ?? 'application/octet-stream').toLowerCase();
    if (!type.startsWith('application/octet-stream')) return json(415, { error: 'Content-Type must be application/octet-stream' });
    if (head.length > OTA_SLOT_BYTES) return json(413, { error: 'image too large', detail: `an app slot holds ${OTA_SLOT_BYTES} bytes; this image has ${head.length}` });
    if (this.o.image.state() === 'pending') {
      return json(409, { error: 'the running firmware is still being checked', detail: pendingDetail(this.o.verification()) });
    }
    if (this.busy) return json(409, { error: 'an update is already being received' });
    let ota: OtaWriter;
    try {
      ota = this.o.begin();
    } catch (e) {
      return json(500, { error: 'cannot start the update', detail: (e as Error).message });
    }
    this.busy = true;
    this.o.logger.log('info', `ota: receiving ${head.length} bytes into the inactive slot (running ${this.o.image.partition()})`);
    let written = 0;
    let open = true;
    const cancel = () => {
      if (!open) return;
      open = false;
      this.busy = false;
      try {
        ota.cancel();
      } catch {
        // nothing to undo
      }
    };
    return {
      write: (chunk) => {
        if (written === 0 && chunk[0] !== APP_IMAGE_MAGIC) {
          cancel();
          return json(400, { error: 'not an ESP32 app image', detail: 'upload the xs_esp32.bin of the build (it starts with the byte 0xE9)' });
        }
        try {
          ota.write(chunk);
        } catch (e) {
          cancel();
          return json(500, { error: 'writing the update failed', detail: `${(e as Error).message} after ${written} bytes` });
        }
        written += chunk.length;
        return null;
      },
      end: () => {
        open = false;
        this.busy = false;
        try {
          ota.complete();
        } catch (e) {
          this.o.logger.log('warn', `ota: image rejected: ${(e as Error).message}`);
          return Promise.resolve(json(400, { error: 'the image was rejected', detail: `${(e as Error).message} (incomplete or damaged image, or one built for another chip)` }));
        }
        this.o.logger.log('info', `ota: ${written} bytes installed; restarting into the new image`);
        this.o.clock.setTimeout(() => this.o.restart(), RESTART_DELAY_MS);
        return Promise.resolve(json(200, { ok: true, bytes: written, detail: 'installed; the device restarts now and keeps the new firmware once it runs healthy for a minute' }));
      },
      abort: () => {
        if (open) this.o.logger.log('warn', `ota: upload ended after ${written} of ${head.length} bytes; the update was discarded`);
        cancel();
      },
    };
  }
}

/** Keeps a freshly updated image only if it proves healthy (see the header). */
export class RollbackGuard {
  private pending = false;
  private serving = false;
  private network = false;
  private oldEnough = false;
  private markFailed = false;
  private rollbackFailed = false;
  private deadline: TimerHandle | undefined;
  /** clock.monotonic() at start() */
  private startedAt = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly image: RunningImage,
    private readonly windowMs: number = ROLLBACK_WINDOW_MS,
  ) {}

  start(): void {
    if (this.image.state() !== 'pending') return;
    this.pending = true;
    this.startedAt = this.clock.monotonic();
    this.logger.log('warn', `ota: first boot of a new image in ${this.image.partition()}: it is kept once healthy, else rolled back within ${Math.round(this.windowMs / 60_000)} min`);
    this.clock.setTimeout(() => {
      this.oldEnough = true;
      this.check();
    }, HEALTHY_AFTER_MS);
    this.deadline = this.clock.setTimeout(() => {
      this.deadline = undefined;
      if (!this.pending) return;
      this.logger.log('error', `ota: the new image did not become healthy (HTTP ${this.serving ? 'up' : 'down'}, network ${this.network ? 'up' : 'down'}): rolling back`);
      if (this.image.rollBack()) return;
      this.rollbackFailed = true;
      this.logger.log('error', 'ota: no previous image to roll back to; keeping this one');
    }, this.windowMs);
  }

  /** What keeping the image still waits for; null when no new image is pending. */
  verification(): Verification | null {
    if (!this.pending) return null;
    const ran = this.clock.monotonic() - this.startedAt;
    return {
      healthyAfterMs: HEALTHY_AFTER_MS,
      healthyInMs: this.oldEnough ? 0 : Math.max(0, HEALTHY_AFTER_MS - ran),
      rollbackInMs: Math.max(0, this.windowMs - ran),
      serving: this.serving,
      network: this.network,
      markFailed: this.markFailed,
      rollbackFailed: this.rollbackFailed,
    };
  }

  /** the HTTP server listens */
  noteServing(): void {
    this.serving = true;
    this.check();
  }

  /** the station has an IP address, or the setup access point is up */
  noteNetwork(): void {
    this.network = true;
    this.check();
  }

  private check(): void {
    if (!this.pending || !this.serving || !this.network || !this.oldEnough) return;
    if (this.image.markValid()) {
      this.pending = false;
      if (this.deadline) this.clock.clear(this.deadline);
      this.deadline = undefined;
      this.logger.log('info', 'ota: the new image is healthy and now permanent');
    } else {
      this.markFailed = true;
      this.logger.log('error', 'ota: marking the new image valid failed; it will be rolled back at the next reset');
    }
  }
}
