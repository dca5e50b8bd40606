// hal/moddable/ota.ts: the firmware upload route and the rollback guard. The running image and
// the flash slot are stand-ins that keep the rules ESP-IDF's esp_ota_* enforce and the SDK's `ota`
// module reports: begin throws "begin failed" while the running image is pending verification
// (ESP_ERR_OTA_ROLLBACK_INVALID_STATE), complete throws "end failed" on an image that does not
// start with the app magic 0xE9, marking valid ends "pending". Time only moves when told to.
import { describe, expect, it } from 'vitest';
import { OTA_SLOT_BYTES, OtaService, RollbackGuard, pendingDetail, type ImageState, type OtaWriter, type RunningImage, type Verification } from '../hal/moddable/ota.js';
import { json } from '../firmware/api.js';
import type { Clock, HttpServerResponse, TimerHandle } from '../hal/hal.js';
import type { UploadSink } from '../hal/moddable/upload.js';

const PASSWORD = { authorization: 'Basic OnNlY3JldA==' };

class Slot implements OtaWriter {
  bytes: number[] = [];
  state: 'open' | 'complete' | 'cancelled' = 'open';
  write(data: Uint8Array): void {
    if (this.state !== 'open') throw new Error('write failed');
    this.bytes.push(...data);
  }
  complete(): void {
    if (this.bytes[0] !== 0xe9) throw new Error('end failed');
    this.state = 'complete';
  }
  cancel(): void {
    this.state = 'cancelled';
  }
}

/** A clock that only moves when told to; timers fire in due order as it passes them. */
class ManualClock implements Clock {
  t = 0;
  private seq = 0;
  timers: { id: number; due: number; fn: () => void }[] = [];
  now = () => 1_764_000_000_000 + this.t;
  monotonic = () => this.t;
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.timers.push({ id: ++this.seq, due: this.t + ms, fn });
    return { id: this.seq };
  }
  setInterval(): TimerHandle {
    throw new Error('not used here');
  }
  clear(handle: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.id !== handle.id);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (let next = this.nextDue(end); next; next = this.nextDue(end)) {
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.due;
      next.fn();
    }
    this.t = end;
  }
  private nextDue(end: number) {
    return this.timers.filter((x) => x.due <= end).sort((a, b) => a.due - b.due)[0];
  }
}

/** meterbridge/rollback as ESP-IDF behaves: a pending image becomes valid, or is rolled back (a reboot). */
class Image implements RunningImage {
  rolledBack = false;
  constructor(
    public current: ImageState,
    private readonly canMark = true,
    private readonly previous = true,
  ) {}
  state = () => this.current;
  partition = () => 'ota_1';
  markValid(): boolean {
    if (!this.canMark) return false;
    this.current = 'valid';
    return true;
  }
  rollBack(): boolean {
    if (!this.previous) return false;
    this.rolledBack = true;
    return true;
  }
}

function setup(image: Image, verification: () => Verification | null = () => null) {
  const slots: Slot[] = [];
  const clock = new ManualClock();
  const logs: string[] = [];
  let restarts = 0;
  const service = new OtaService({
    // the API's access rules stand in as one check of the password
    guard: (req) => (req.headers.authorization === PASSWORD.authorization ? null : json(401, { error: 'password required' })),
    logger: { log: (level, message) => logs.push(`${level} ${message}`) },
    restart: () => restarts++,
    version: '1.2.3',
    image,
    begin: () => {
      if (image.state() === 'pending') throw new Error('begin failed');
      const s = new Slot();
      slots.push(s);
      return s;
    },
    clock,
    verification,
  });
  return { service, slots, clock, logs, restarts: () => restarts };
}

const upload = (length: number, headers: Record<string, string> = PASSWORD) => ({
  method: 'POST',
  url: '/api/ota',
  headers: { 'content-type': 'application/octet-stream', ...headers },
  length,
});

function isResponse(r: UploadSink | HttpServerResponse | null): r is HttpServerResponse {
  return r !== null && 'status' in r;
}

const body = (r: HttpServerResponse) => JSON.parse(r.body as string) as { error: string; detail?: string };

const pending = (v: Partial<Verification>): Verification => ({
  healthyAfterMs: 60_000,
  healthyInMs: 0,
  rollbackInMs: 240_000,
  serving: true,
  network: true,
  markFailed: false,
  rollbackFailed: false,
  ...v,
});

describe('an upload while the running firmware is pending verification', () => {
  it('is refused with 409 and the time to wait, before the update partition is opened', () => {
    const t = setup(new Image('pending'), () => pending({ healthyInMs: 41_200, rollbackInMs: 281_200 }));
    const r = t.service.accept(upload(1_000_000));
    expect(isResponse(r)).toBe(true);
    const res = r as HttpServerResponse;
    expect(res.status).toBe(409);
    expect(body(res)).toEqual({
      error: 'the running firmware is still being checked',
      detail: 'The firmware installed last is still being checked; no new update can start before it is kept: it is kept once it has run for 60 s with its web server and network up. Try again in 42 s.',
    });
    expect(t.slots).toHaveLength(0); // "begin failed" never reached
    // GET still says what runs
    const get = t.service.handle({ method: 'GET', url: '/api/ota', headers: PASSWORD, body: new Uint8Array(0) })!;
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body as string)).toMatchObject({ version: '1.2.3', partition: 'ota_1', state: 'pending', updating: false });
  });

  it('names what is not up yet and when the image is rolled back', () => {
    const t = setup(new Image('pending'), () => pending({ healthyInMs: 0, network: false, rollbackInMs: 180_000 }));
    const res = t.service.accept(upload(1000)) as HttpServerResponse;
    expect(res.status).toBe(409);
    expect(body(res).detail).toBe(
      'The firmware installed last is still being checked; no new update can start before it is kept: it is kept once it has run for 60 s with its web server and network up (the network is not up yet), else it is rolled back to the previous firmware (with a restart) in 180 s. Try again after that.',
    );
  });

  it('applies the API access rules, and checks the request before the image state', () => {
    const t = setup(new Image('pending'), () => pending({ healthyInMs: 10_000 }));
    expect((t.service.accept(upload(1000, {})) as HttpServerResponse).status).toBe(401);
    expect((t.service.accept(upload(OTA_SLOT_BYTES + 1)) as HttpServerResponse).status).toBe(413);
    expect((t.service.accept({ ...upload(1000), headers: { ...PASSWORD, 'content-type': 'text/plain' } }) as HttpServerResponse).status).toBe(415);
  });

  it('describes a failed mark, a failed rollback and an unknown guard', () => {
    expect(pendingDetail(pending({ markFailed: true, rollbackInMs: 59_001 }))).toBe(
      'The firmware installed last is still being checked; no new update can start before it is kept, and marking it as kept failed: it is rolled back to the previous firmware (with a restart) in 60 s, or at the next restart. Try again after that.',
    );
    expect(pendingDetail(pending({ serving: false, network: false, healthyInMs: 5000, rollbackInMs: 295_000 }))).toContain(
      '(the web server and the network are not up yet), else it is rolled back to the previous firmware (with a restart) in 295 s',
    );
    const restart = 'The firmware installed last is still being checked; no new update can start before it is kept. Restart the device and try again.';
    expect(pendingDetail(pending({ rollbackFailed: true }))).toBe(restart);
    expect(pendingDetail(null)).toBe(restart);
  });
});

describe('an upload to a confirmed (or serially flashed) firmware', () => {
  for (const state of ['valid', 'unknown'] as const) {
    it(`streams into the slot, completes and restarts after the answer (${state})`, async () => {
      const t = setup(new Image(state));
      const sink = t.service.accept(upload(6)) as UploadSink;
      expect(isResponse(sink)).toBe(false);
      expect(t.service.accept(upload(6))).toMatchObject({ status: 409, body: JSON.stringify({ error: 'an update is already being received' }) });
      expect(sink.write(new Uint8Array([0xe9, 1, 2]))).toBeNull();
      expect(sink.write(new Uint8Array([3, 4, 5]))).toBeNull();
      const res = await sink.end();
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body as string)).toMatchObject({ ok: true, bytes: 6 });
      expect(t.slots[0]!.bytes).toEqual([0xe9, 1, 2, 3, 4, 5]);
      expect(t.slots[0]!.state).toBe('complete');
      t.clock.advance(1499); // the answer goes out first
      expect(t.restarts()).toBe(0);
      t.clock.advance(1);
      expect(t.restarts()).toBe(1);
    });
  }

  it('refuses a file that is not an app image at its first byte and frees the route', () => {
    const t = setup(new Image('valid'));
    const sink = t.service.accept(upload(3)) as UploadSink;
    const res = sink.write(new Uint8Array([0x50, 0x4b, 3]))!;
    expect(res.status).toBe(400);
    expect(body(res).error).toBe('not an ESP32 app image');
    expect(t.slots[0]!.state).toBe('cancelled');
    expect(isResponse(t.service.accept(upload(3)))).toBe(false);
  });

  it('reports the SDK error when the update partition cannot be opened for another reason', () => {
    const service = new OtaService({
      guard: () => null,
      logger: { log: () => undefined },
      restart: () => undefined,
      version: '1',
      image: new Image('valid'),
      begin: () => {
        throw new Error('no update parition');
      },
      clock: new ManualClock(),
      verification: () => null,
    });
    expect(service.accept(upload(10))).toMatchObject({ status: 500, body: JSON.stringify({ error: 'cannot start the update', detail: 'no update parition' }) });
  });
});

describe('the rollback guard and the upload route together', () => {
  function boot(image: Image) {
    const logs: string[] = [];
    const clock = new ManualClock();
    const guard = new RollbackGuard({ log: (level, message) => logs.push(`${level} ${message}`) }, clock, image);
    const service = new OtaService({
      guard: () => null,
      logger: { log: () => undefined },
      restart: () => undefined,
      version: '1',
      image,
      begin: () => new Slot(),
      clock,
      verification: () => guard.verification(),
    });
    guard.start();
    return { guard, service, clock, logs };
  }
  const post = (service: OtaService) => service.accept(upload(100));

  it('refuses an upload until the new image has run healthy for 60 s, then keeps it and accepts one', () => {
    const { guard, service, clock } = boot(new Image('pending'));
    guard.noteServing();
    guard.noteNetwork();
    clock.advance(18_800);
    const res = post(service) as HttpServerResponse;
    expect(res.status).toBe(409);
    expect(body(res).detail).toMatch(/it is kept once it has run for 60 s with its web server and network up\. Try again in 42 s\.$/);
    clock.advance(41_199);
    expect(body(post(service) as HttpServerResponse).detail).toMatch(/Try again in 1 s\.$/);
    clock.advance(1);
    expect(guard.verification()).toBeNull();
    expect(isResponse(post(service))).toBe(false);
  });

  it('waits for the network, and says when the image is rolled back without it', () => {
    const image = new Image('pending');
    const { guard, service, clock } = boot(image);
    guard.noteServing();
    clock.advance(120_000);
    expect(body(post(service) as HttpServerResponse).detail).toMatch(/\(the network is not up yet\), else it is rolled back to the previous firmware \(with a restart\) in 180 s\. Try again after that\.$/);
    expect(guard.verification()).toMatchObject({ healthyInMs: 0, rollbackInMs: 180_000, serving: true, network: false });
    clock.advance(180_000);
    expect(image.rolledBack).toBe(true);
  });

  it('says so when marking the image valid fails, and when there is nothing to roll back to', () => {
    const image = new Image('pending', false, false);
    const { guard, service, clock, logs } = boot(image);
    guard.noteServing();
    guard.noteNetwork();
    clock.advance(60_000);
    expect(body(post(service) as HttpServerResponse).detail).toMatch(/marking it as kept failed: it is rolled back to the previous firmware \(with a restart\) in 240 s, or at the next restart/);
    clock.advance(240_000);
    expect(image.rolledBack).toBe(false);
    expect(logs.at(-1)).toBe('error ota: no previous image to roll back to; keeping this one');
    expect(body(post(service) as HttpServerResponse).detail).toMatch(/Restart the device and try again\.$/);
  });

  it('does nothing for an image that is already valid or was flashed over serial', () => {
    for (const state of ['valid', 'unknown'] as const) {
      const { guard, service, clock } = boot(new Image(state));
      expect(guard.verification()).toBeNull();
      expect(clock.timers).toHaveLength(0);
      expect(isResponse(post(service))).toBe(false);
    }
  });
});
