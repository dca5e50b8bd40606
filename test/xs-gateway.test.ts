// The whole Gateway on the real XS engine (xsnap-worker of @agoric/xsnap, XS 13.3), driven by
// test/xs/gateway-entry.ts: 300 simulator pushes through decoder, MQTT publisher (with Home
// Assistant discovery) and HTTP push, every one delivered, and no slot growth in steady state
// (live slots after a full gc after 300 pushes vs after 100). The figures themselves are printed
// by bench/xs-gateway.mjs. Its own file: vitest isolates files, and the worker is separate.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildXsScript } from './xs/bundle.mjs';
import { xsnapBinary } from './support/tools.js';
import { XsWorker, type XsMeters } from './xs/driver.mjs';
import type { GatewayCommand, GatewaySummary } from './xs/gateway-entry.js';

let worker: XsWorker;
/** live slots after gc with only the bundle loaded */
let loaded = 0;

async function cmd<T>(c: GatewayCommand): Promise<{ reply: T; meters: XsMeters }> {
  const { text, meters } = await worker.command(JSON.stringify(c));
  const reply = JSON.parse(text || 'null') as (T & { exception?: string; stack?: string }) | null;
  if (reply === null) throw new Error(`no reply to ${JSON.stringify(c)}`);
  if (reply.exception) throw new Error(`XS: ${reply.exception}\n${reply.stack ?? ''}`);
  return { reply, meters: meters! };
}

const slotsAfterGc = async () => (await cmd({ op: 'gc' })).meters.currentHeapCount;

beforeAll(async () => {
  const bin = xsnapBinary();
  const script = await buildXsScript(fileURLToPath(new URL('./xs/gateway-entry.ts', import.meta.url)));
  worker = XsWorker.start(bin, { meteringLimit: 0 });
  await worker.evaluate(script);
  loaded = await slotsAfterGc();
}, 120_000);

afterAll(async () => {
  await worker?.close();
});

describe('the whole gateway on XS (xsnap-worker)', () => {
  let at100 = 0;
  let at300 = 0;

  it('runs 300 pushes end to end: every push a Reading, every Reading delivered by MQTT and HTTP push', async () => {
    const init = await cmd<{ capacity: number; api: boolean }>({ op: 'init', api: true });
    expect(init.reply).toMatchObject({ capacity: 30, api: true });

    await cmd<GatewaySummary>({ op: 'push', n: 100 });
    at100 = await slotsAfterGc();
    const { reply: s } = await cmd<GatewaySummary>({ op: 'push', n: 200 });
    at300 = await slotsAfterGc();

    expect(s.readings).toBe(300);
    expect(s.decodeErrors).toBe(0);
    expect(s.frames).toBe(600); // the simulator's push is two M-Bus long frames
    const mqtt = s.publishers.find((p) => p.name === 'mqtt')!;
    expect(mqtt).toMatchObject({ state: 'connected', delivered: 300, queued: 0, dropped: 0, failures: 0, lastError: null });
    const http = s.publishers.find((p) => p.name === 'http-push')!;
    expect(http).toMatchObject({ state: 'ok', delivered: 300, queued: 0, dropped: 0, failures: 0, lastError: null });
    expect(s.httpRequests).toBe(300);
    // per Reading: the payload and the Home Assistant state; once: 'online' and the discovery messages
    expect(s.mqttPublishes).toBeGreaterThan(600);
    expect(s.mqttPublishes).toBeLessThan(650);
    expect(s.logged.warn + s.logged.error).toBe(0);
    expect(s.timers).toBe(0);
  }, 60_000);

  it('holds no more live slots after 300 pushes than after 100 (within 5 %)', () => {
    expect(at100).toBeGreaterThan(loaded);
    // the whole machine's count, as asked...
    expect(Math.abs(at300 - at100)).toBeLessThanOrEqual(0.05 * at100);
    // ...and the gateway's own share of it, which the bundle's ~10 000 slots cannot dilute
    expect(Math.abs(at300 - at100)).toBeLessThanOrEqual(0.05 * (at100 - loaded));
  });

  it('serves /api/status, /api/reading and /metrics on XS and keeps nothing of them', async () => {
    const { reply } = await cmd<Record<string, { status: number; bytes: number }>>({ op: 'api' });
    for (const url of ['/api/status', '/api/reading', '/metrics']) {
      expect(reply[url].status, url).toBe(200);
      expect(reply[url].bytes, url).toBeGreaterThan(100);
    }
    const after = await slotsAfterGc();
    expect(Math.abs(after - at300)).toBeLessThanOrEqual(0.05 * (at300 - loaded));
  }, 30_000);

  it('applies the access rules on XS: Host allow-list, Origin, password, guessing limit, bad escapes', async () => {
    const { reply } = await cmd<Record<string, unknown>>({ op: 'access' });
    expect(reply).toEqual({
      rebinding: 421,
      noPassword: 401,
      originNull: 403,
      otherOrigin: 403,
      badEscape: 400,
      config: 200,
      configShowsPassword: false,
      guesses: [401, 401, 401, 401, 401, 429],
    });
  }, 30_000);
});
