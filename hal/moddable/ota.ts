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
 * createApi (firmware/api.ts) has no extension point for routes, so main.ts puts `handle` in
 * front of the API handler and passes the guard to the server as an UploadRoute.
 */
import OTA from 'ota';
import Timer from 'timer';
import { imageState, markValid, rollBack, runningPartition } from 'meterbridge/rollback';
import { json } from '../../firmware/api.js';
import type { HttpServerRequest, HttpServerResponse, Logger } from '../hal.js';
import type { UploadHead, UploadRoute, UploadSink } from './http.js';

export const OTA_PATH = '/api/ota';
/** ESP-IDF esp_app_format: the first byte of an app image */
const APP_IMAGE_MAGIC = 0xe9;
/** the size of one app slot in hal/moddable/partitions.csv (ota_0, ota_1) */
export const OTA_SLOT_BYTES = 0x1f0000;
const RESTART_DELAY_MS = 1500;
const HEALTHY_AFTER_MS = 60_000;
const ROLLBACK_WINDOW_MS = 5 * 60_000;

export interface OtaOptions {
  /** the API's access rules (createApi's guard): host, cross-site, first run, password */
  guard(req: UploadHead | HttpServerRequest): HttpServerResponse | null;
  logger: Logger;
  /** graceful restart (publishes "offline", then esp_restart) */
  restart(): void;
  version: string;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
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
      return json(200, { version: this.o.version, partition: runningPartition(), state: imageState(), maxBytes: OTA_SLOT_BYTES, updating: this.busy });
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
    if (this.busy) return json(409, { error: 'an update is already being received' });
    let ota: OTA;
    try {
      ota = new OTA();
    } catch (e) {
      return json(500, { error: 'cannot start the update', detail: (e as Error).message });
    }
    this.busy = true;
    this.o.logger.log('info', `ota: receiving ${head.length} bytes into the inactive slot (running ${runningPartition()})`);
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
        Timer.set(() => this.o.restart(), RESTART_DELAY_MS);
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
  private deadline: Timer | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly windowMs: number = ROLLBACK_WINDOW_MS,
  ) {}

  start(): void {
    const state = imageState();
    if (state !== 'pending') return;
    this.pending = true;
    this.logger.log('warn', `ota: first boot of a new image in ${runningPartition()}: it is kept once healthy, else rolled back within ${Math.round(this.windowMs / 60_000)} min`);
    Timer.set(() => {
      this.oldEnough = true;
      this.check();
    }, HEALTHY_AFTER_MS);
    this.deadline = Timer.set(() => {
      this.deadline = undefined;
      if (!this.pending) return;
      this.logger.log('error', `ota: the new image did not become healthy (HTTP ${this.serving ? 'up' : 'down'}, network ${this.network ? 'up' : 'down'}): rolling back`);
      if (!rollBack()) this.logger.log('error', 'ota: no previous image to roll back to; keeping this one');
    }, this.windowMs);
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
    if (markValid()) {
      this.pending = false;
      if (this.deadline) Timer.clear(this.deadline);
      this.deadline = undefined;
      this.logger.log('info', 'ota: the new image is healthy and now permanent');
    } else this.logger.log('error', 'ota: marking the new image valid failed; it will be rolled back at the next reset');
  }
}
