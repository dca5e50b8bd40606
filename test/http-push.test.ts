// HTTP push with a fake clock and a scripted HTTP client: order, backoff, 4xx, settings changes,
// header templates and authentication. (The real node:http client: gateway.test.ts.)
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { base64Utf8, origin } from '../firmware/publish/http-push.js';
import { fakeGateway } from './support/fakes.js';

function config(input: Record<string, unknown>, base?: Config): Config {
  const v = validateConfig(input, base);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

const PUSH = { enabled: true, url: 'http://10.0.0.7:8086/write?db=x', bodyTemplate: '{"n":{{frame_counter}}}', bodyFormat: 'json' };
/** frame counters of the bodies, counted from the first reading (the simulator's counters follow the clock) */
const sent = (bodies: { body: string }[]) => {
  const n = bodies.map((r) => JSON.parse(r.body).n as number);
  return n.map((x) => x - n[0] + 1);
};

describe('HTTP push', () => {
  it('retries in order with backoff 1, 2, 4 s…, delivering every reading once', async () => {
    const { g, w, push } = fakeGateway(config({ httpPush: PUSH }));
    let fail = 3;
    w.http.script = () => (fail-- > 0 ? { status: 503, body: 'busy' } : { status: 204, body: '' });
    push();
    await w.clock.advance(0);
    expect(w.http.requests).toHaveLength(1);
    await w.clock.advance(999);
    expect(w.http.requests).toHaveLength(1);
    push();
    await w.clock.advance(1);
    expect(w.http.requests).toHaveLength(2); // 1 s later, the same reading
    await w.clock.advance(2000);
    expect(w.http.requests).toHaveLength(3);
    await w.clock.advance(4000);
    expect(sent(w.http.requests)).toEqual([1, 1, 1, 1, 2]);
    expect(g.status().publishers[0]).toMatchObject({ failures: 3, delivered: 2, queued: 0, rejected: 0, problem: null });
    await g.stop();
  });

  it('a 4xx drops that reading with a counted, shown error and moves on; 408 and 429 are retried', async () => {
    const { g, w, push } = fakeGateway(config({ httpPush: PUSH }));
    const answers = [400, 204, 408, 204, 429, 204, 401];
    w.http.script = () => ({ status: answers.shift() ?? 204, body: answers.length === 0 ? 'bad token' : '' });
    for (let i = 0; i < 4; i++) push();
    await w.clock.advance(10_000);
    // 1: 400 dropped; 2: 204; 3: 408 then 204; 4: 429 then 204
    expect(sent(w.http.requests)).toEqual([1, 2, 3, 3, 4, 4]);
    push();
    await w.clock.advance(0);
    const p = g.status().publishers[0];
    expect(p).toMatchObject({ rejected: 2, delivered: 3, queued: 0, failures: 4 });
    expect(p.lastError).toMatch(/^http:\/\/10\.0\.0\.7:8086 refused the reading of \S+ with HTTP 401: bad token; it was dropped/);
    expect(g.status().verdict.message).toContain('HTTP push: http://10.0.0.7:8086 refused the reading');
    await g.stop();
  });

  it('a corrected URL takes the waiting readings at once, in order, without waiting out the backoff', async () => {
    const { g, w, push } = fakeGateway(config({ httpPush: PUSH }));
    w.http.script = (o) => (o.url.startsWith('http://10.0.0.8') ? { status: 204, body: '' } : new Error('connection refused by http://10.0.0.7:8086: is the server running, and is this its port?'));
    for (let i = 0; i < 7; i++) {
      push();
      await w.clock.advance(5000);
    }
    expect(g.status().publishers[0]).toMatchObject({ queued: 7, dropped: 0 });
    expect(g.status().verdict.message).toMatch(/^HTTP push: http:\/\/10\.0\.0\.7:8086: connection refused .* \(for 35 s, 7 readings waiting\)$/);
    await g.applyConfig(config({ httpPush: { url: 'http://10.0.0.8/ingest' } }, g.currentConfig));
    await w.clock.advance(0);
    expect(sent(w.http.requests.filter((r) => r.url === 'http://10.0.0.8/ingest'))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(g.status().publishers[0]).toMatchObject({ queued: 0, delivered: 7, dropped: 0, target: 'http://10.0.0.8' });
    await g.stop();
  });

  it('renders header templates, one line each, and adds basic or bearer authentication', async () => {
    const { g, w, push } = fakeGateway(config({ httpPush: { ...PUSH, headers: { 'X-Meter': '{{meter_number}}', 'X-Frame': '{{frame_counter}}' }, auth: 'basic', username: 'jörg', password: 'pa:ss' } }));
    push();
    await w.clock.advance(0);
    const h = w.http.requests[0].headers;
    expect(h['X-Frame']).toBe(String(JSON.parse(w.http.requests[0].body).n));
    expect(h['X-Meter']).toMatch(/^\S+$/);
    expect(h.Authorization).toBe('Basic ' + Buffer.from('jörg:pa:ss', 'utf8').toString('base64'));
    await g.applyConfig(config({ httpPush: { auth: 'bearer', password: 'tok-1' } }, g.currentConfig));
    push();
    await w.clock.advance(0);
    expect(w.http.requests[1].headers.Authorization).toBe('Bearer tok-1');
    await g.stop();
  });

  it('minIntervalMs leaves out readings that come too soon', async () => {
    const { g, w, push } = fakeGateway(config({ httpPush: { ...PUSH, minIntervalMs: 10_000 } }));
    for (let i = 0; i < 6; i++) {
      push();
      await w.clock.advance(5000);
    }
    expect(sent(w.http.requests)).toEqual([1, 3, 5]);
    await g.stop();
  });

  it('base64 and origin', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'user:pässwörd', '😀:x']) expect(base64Utf8(s)).toBe(Buffer.from(s, 'utf8').toString('base64'));
    expect(origin('https://user:pw@example.com:8443/api/v2/write?token=x')).toBe('https://example.com:8443');
    expect(origin('http://10.0.0.7')).toBe('http://10.0.0.7');
  });
});
