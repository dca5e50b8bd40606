// The web UI in real headless Chromium against the real host gateway (simulator source) and a
// real mosquitto broker. Screenshots of every page go to test-output/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startUiRig, type UiRig } from './support/chromium.js';
import { loadUiAsset } from '../hal/node/run.js';
import { subscribe, type Broker } from './support/mosquitto.js';
import { requireTool } from './support/tools.js';
import { makeCerts } from './support/certs.js';

const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const PASSWORD = 'my meter, my data';
const DEMO_KEY = '000102030405060708090A0B0C0D0E0F'; // the simulator's published demo key

let browser: Browser;
let broker: Broker;
let base: string;
let dir: string;
let rig: UiRig | undefined;

beforeAll(async () => {
  if (!loadUiAsset()) throw new Error('the web UI is not built: run `npm run build` first');
  requireTool('chromium');
  mkdirSync(SHOTS, { recursive: true });
  rig = await startUiRig('meterbridge-e2e-');
  ({ browser, broker, base, dir } = rig);
}, 30_000);

afterAll(async () => {
  await rig?.stop();
});

async function open(context: BrowserContext, hash = '#status'): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  await page.goto(`${base}/${hash}`);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const byTest = (page: Page, id: string) => page.getByTestId(id);
/** expect.poll with a timeout that suits a browser round trip to the gateway */
const poll = <T>(fn: () => T | Promise<T>, timeout = 8000) => expect.poll(fn, { timeout });

describe('the web UI in a real browser', { timeout: 30_000 }, () => {
  let context: BrowserContext;
  let page: Page;

  it('asks for a password first, refuses a short one, then sets one and stays logged in', async () => {
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 420, height: 900 }, acceptDownloads: true });
    page = await open(context);
    await poll(() => byTest(page, 'setup-form').isVisible()).toBe(true);
    expect(await byTest(page, 'nav-status').isVisible()).toBe(false);
    // nothing but the first password until then
    expect(await page.evaluate(async () => (await fetch('/api/config')).status)).toBe(403);
    await shot(page, 'setup');
    await byTest(page, 'setup-password').fill('short');
    await byTest(page, 'setup-password-repeat').fill('short');
    await byTest(page, 'setup-submit').click();
    await poll(() => byTest(page, 'setup-error').textContent()).toContain('at least 8 characters');
    await byTest(page, 'setup-password').fill(PASSWORD);
    await byTest(page, 'setup-password-repeat').fill(PASSWORD);
    await byTest(page, 'setup-submit').click();
    await poll(() => byTest(page, 'page-status').isVisible()).toBe(true);
    // the API now wants the password, and this browser has its session
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    expect(await page.evaluate(async () => (await fetch('/api/status')).status)).toBe(200);
    await byTest(page, 'nav-device').click();
    await shot(page, 'device');
  });

  it('a new browser must log in; a wrong password is refused', async () => {
    const other = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    const p = await open(other);
    await poll(() => byTest(p, 'login-form').isVisible()).toBe(true);
    await shot(p, 'login');
    await byTest(p, 'login-password').fill('wrong');
    await byTest(p, 'login-submit').click();
    await poll(() => byTest(p, 'login-error').textContent()).toMatch(/\S/);
    await byTest(p, 'login-password').fill(PASSWORD);
    await byTest(p, 'login-submit').click();
    await poll(() => byTest(p, 'page-status').isVisible()).toBe(true);
    await other.close();
  });

  it('enters a key as people paste it, tests it against the last push, and saves it', async () => {
    await byTest(page, 'nav-meter').click();
    const key = byTest(page, 'input-key');
    await key.fill('0x00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d');
    await poll(() => byTest(page, 'key-count').textContent()).toContain('28 of 32');
    await key.fill('0x00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f');
    await poll(() => byTest(page, 'key-count').textContent()).toContain('32 of 32');
    await byTest(page, 'test-key').click();
    const result = byTest(page, 'test-key-result');
    await poll(() => result.getAttribute('data-ok')).toBe('true');
    expect(await result.textContent()).toContain('1KFM0200204035');
    await shot(page, 'meter-test-key');
    await byTest(page, 'save-meter').click();
    await poll(() => byTest(page, 'secret-meter.key').textContent()).toMatch(/fingerprint/i); // 'set (fingerprint …)', not 'not set'
    const stored = JSON.parse(readFileSync(join(dir, 'config'), 'utf8'));
    expect(stored.meter.key).toBe(DEMO_KEY);
    // a wrong key says why it failed, and nothing is saved
    await key.fill('FF' + DEMO_KEY.slice(2));
    await byTest(page, 'test-key').click();
    await poll(() => result.getAttribute('data-ok')).toBe('false');
    expect((await result.textContent())!.toLowerCase()).toContain('key');
    await shot(page, 'meter');
  });

  it('shows live values on the status page', async () => {
    await byTest(page, 'nav-status').click();
    await poll(async () => Number(await byTest(page, 'value-voltage-l1').getAttribute('data-value'))).toBeGreaterThan(200);
    expect(await byTest(page, 'value-meter-number').textContent()).toContain('1KFM0200204035');
    const before = await byTest(page, 'value-energy-import').getAttribute('data-value');
    expect(Number(before)).toBeGreaterThan(1_000_000);
    expect(await byTest(page, 'verdict').getAttribute('data-level')).toBe('ok');
    await shot(page, 'status');
  });

  it('breaks a template and sees the error, fixes it and sees the preview', async () => {
    await byTest(page, 'nav-publishing').click();
    const payload = page.locator('[name="mqtt.payloadTemplate"]');
    await payload.fill('{"power": {{power_import_w}, "meter": "{{meter_number}}"}');
    const preview = byTest(page, 'preview-mqtt-payload');
    await poll(() => preview.getAttribute('data-state')).toBe('bad');
    expect(await preview.textContent()).toMatch(/line 1, column \d+/i);
    await shot(page, 'publishing-template-error');
    await payload.fill('{"power": {{power_import_w}}, "meter": "{{meter_number}}"}');
    await poll(() => preview.getAttribute('data-state')).not.toBe('bad');
    await poll(() => preview.textContent()).toContain('"meter": "1KFM0200204035"');
    const shown = JSON.parse((await preview.textContent())!.trim());
    expect(typeof shown.power).toBe('number');
  });

  it('saves the MQTT settings and a real subscriber receives the messages', async () => {
    const sub = await subscribe(broker.port, 'e2e/#');
    await page.locator('[name="mqtt.enabled"]').check();
    await page.locator('[name="mqtt.host"]').fill('127.0.0.1');
    await page.locator('[name="mqtt.port"]').fill(String(broker.port));
    await page.locator('[name="mqtt.baseTopic"]').fill('e2e');
    await page.locator('[name="mqtt.topicTemplate"]').fill('{{base_topic}}/power');
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'msg-mqtt').textContent()).toMatch(/saved/i);
    await shot(page, 'publishing');
    await poll(() => sub.messages.some((m) => m.topic === 'e2e/power'), 10_000).toBe(true);
    const power = sub.messages.find((m) => m.topic === 'e2e/power');
    expect(sub.messages.find((m) => m.topic === 'e2e/status')?.payload).toBe('online');
    const body = JSON.parse(power!.payload);
    expect(body.meter).toBe('1KFM0200204035');
    expect(typeof body.power).toBe('number');
    await sub.close();
    // a saved MQTT password belongs to this broker: the form says so when another one is typed
    await page.locator('[name="mqtt.username"]').fill('meter');
    await page.locator('[name="mqtt.password"]').fill('broker-pw');
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'secret-mqtt.password').textContent()).toBe('set');
    expect(await byTest(page, 'rebind-mqtt').isVisible()).toBe(false);
    await page.locator('[name="mqtt.host"]').fill('broker.example.net');
    await poll(() => byTest(page, 'rebind-mqtt').isVisible()).toBe(true);
    await page.locator('[name="mqtt.password"]').fill('new-pw');
    await poll(() => byTest(page, 'rebind-mqtt').isVisible()).toBe(false);
    await page.locator('[name="mqtt.password"]').fill('');
    await page.locator('[name="mqtt.host"]').fill('127.0.0.1');
    await poll(() => byTest(page, 'rebind-mqtt').isVisible()).toBe(false);
  });

  it('CA certificate and fingerprint: shown only with TLS or https, a bad one refused in words, saved', async () => {
    const ca = page.locator('[name="mqtt.caCertificate"]');
    const fp = page.locator('[name="mqtt.certificateFingerprint"]');
    const tls = page.locator('[name="mqtt.tls"]');
    expect(await tls.isChecked()).toBe(false);
    expect(await ca.isVisible()).toBe(false);
    await tls.check();
    await poll(() => fp.isVisible()).toBe(true);
    await fp.fill('AB:CD');
    await ca.fill('not a certificate');
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'error-mqtt.certificateFingerprint').textContent()).toBe('Must be the SHA-256 fingerprint: 64 hex digits (colons allowed); this has 4 characters');
    expect(await byTest(page, 'error-mqtt.caCertificate').textContent()).toMatch(/^Paste the certificate in PEM form/);
    const pem = makeCerts().ca;
    await ca.fill(pem);
    await fp.fill('ab cd '.repeat(8) + '01'.repeat(16)); // as people copy it: spaces, lower case
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'msg-mqtt').textContent()).toMatch(/saved/i);
    const saved = await page.evaluate(async () => ((await (await fetch('/api/config')).json()) as { mqtt: unknown }).mqtt);
    expect(saved).toMatchObject({ tls: true, caCertificate: pem.trim() + '\n', certificateFingerprint: ('ABCD'.repeat(8) + '01'.repeat(16)).replace(/(..)(?!$)/g, '$1:') });
    await shot(page, 'publishing-tls');
    // back to the plain broker the other tests use; the fields go with TLS
    await tls.uncheck();
    await poll(() => ca.isVisible()).toBe(false);
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'msg-mqtt').textContent()).toMatch(/saved/i);
    // HTTP push: only for an https address
    const url = page.locator('[name="httpPush.url"]');
    const httpCa = page.locator('[name="httpPush.caCertificate"]');
    await url.fill('http://127.0.0.1:9/meter');
    expect(await httpCa.isVisible()).toBe(false);
    await url.fill('https://meter.example.net/push');
    await poll(() => httpCa.isVisible()).toBe(true);
    await page.locator('[name="httpPush.certificateFingerprint"]').fill('12'.repeat(32));
    await byTest(page, 'save-http').click();
    await poll(() => byTest(page, 'msg-http').textContent()).toMatch(/saved/i);
    const push = await page.evaluate(async () => ((await (await fetch('/api/config')).json()) as { httpPush: unknown }).httpPush);
    expect(push).toMatchObject({ url: 'https://meter.example.net/push', certificateFingerprint: '12:'.repeat(31) + '12' });
  });

  it('the openHAB preset links its ready Thing once saved', async () => {
    const preset = byTest(page, 'preset-mqtt');
    const link = page.locator('[data-oh]');
    expect(await link.isVisible()).toBe(false);
    await preset.selectOption('openhab');
    await poll(() => link.isVisible()).toBe(true);
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'msg-mqtt').textContent()).toMatch(/saved/i);
    const href = (await link.getAttribute('href'))!;
    const thing = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    expect(thing).toMatch(/^Thing mqtt:topic:\S+ .*\[ availabilityTopic="e2e\/status", payloadAvailable="online", payloadNotAvailable="offline" \] \{$/m);
    expect(thing).toContain('stateTopic="e2e/1-0:1.8.0", unit="Wh"');
    await preset.selectOption('json');
    expect(await link.isVisible()).toBe(false);
    await byTest(page, 'save-mqtt').click();
    await poll(() => byTest(page, 'msg-mqtt').textContent()).toMatch(/saved/i);
  });

  it('exports the configuration and imports it again', async () => {
    await byTest(page, 'nav-device').click();
    const [download] = await Promise.all([page.waitForEvent('download'), byTest(page, 'export-config').click()]);
    const file = join(dir, 'exported.json');
    await download.saveAs(file);
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    expect(exported.mqtt.baseTopic).toBe('e2e');
    expect(exported.meter.key).toBeUndefined(); // secrets are left out unless asked for
    // change something, then import the file: the old value comes back
    const put = await page.evaluate(async () =>
      (await fetch('/api/config', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ mqtt: { baseTopic: 'changed' } }) })).status,
    );
    expect(put).toBe(200);
    await byTest(page, 'import-file').setInputFiles(file);
    await byTest(page, 'import-config').click();
    await poll(() => byTest(page, 'msg-backup').textContent()).toMatch(/import|saved/i);
    const now = await page.evaluate(async () => ((await (await fetch('/api/config')).json()) as { mqtt: { baseTopic: string } }).mqtt.baseTopic);
    expect(now).toBe('e2e');
    // the key survived the import of a file without secrets
    expect(JSON.parse(readFileSync(join(dir, 'config'), 'utf8')).meter.key).toBe(DEMO_KEY);
    await shot(page, 'device-after-import');
  });

  it('the host gateway shows only what applies to a computer: no Wi-Fi, no firmware upload, no memory figure', async () => {
    await byTest(page, 'nav-device').click();
    await poll(() => page.locator('body').getAttribute('data-platform')).toBe('host');
    expect(await byTest(page, 'form-wifi').isVisible()).toBe(false);
    expect(await byTest(page, 'firmware-update').isVisible()).toBe(false);
    expect(await byTest(page, 'memory').isVisible()).toBe(false);
    expect(await byTest(page, 'firmware-version').isVisible()).toBe(true);
    expect(await byTest(page, 'form-password').isVisible()).toBe(true);
  });

  it('the diagnostics page shows the pipeline', async () => {
    await byTest(page, 'nav-diagnostics').click();
    await poll(async () => Number(await byTest(page, 'stage-frames-count').textContent().then((t) => (t ?? '').replace(/\D/g, '')))).toBeGreaterThan(0);
    await shot(page, 'diagnostics');
    expect((page as Page & { jsErrors: string[] }).jsErrors).toEqual([]);
  });

  it('the status is readable without JavaScript', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false, httpCredentials: { username: 'me', password: PASSWORD } });
    const p = await noJs.newPage();
    await p.goto(`${base}/status`);
    expect(await p.textContent('body')).toContain('1KFM0200204035');
    await shot(p, 'status-no-javascript');
    await noJs.close();
  });
});
