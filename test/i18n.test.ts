// German and English: the message keys (web-ui/src/i18n-key.mjs), the German table's build
// (web-ui/build.mjs: every English text is found where the UI or the gateway writes it), and the
// first-run journey in German in real Chromium on a fresh data folder: the web password, the
// demo banner, the key and Test key, MQTT to a real broker, a field error and the verdict in
// German, and the switch to English that is remembered. Screenshots: test-output/screenshots/de-*.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { startUiRig, type UiRig } from './support/chromium.js';
import { loadUiAsset } from '../hal/node/run.js';
import { DEMO_KEY } from '../firmware/config/defaults.js';
import { subscribe, type Broker } from './support/mosquitto.js';
import { requireTool } from './support/tools.js';
import { hash, template } from '../web-ui/src/i18n-key.mjs';

const root = process.cwd();
const SHOTS = join(root, 'test-output', 'screenshots');
const PASSWORD = 'mein Zähler, meine Daten';

/** English texts of web-ui/de.txt */
function englishOfTable(): string[] {
  const text = readFileSync(join(root, 'web-ui', 'de.txt'), 'utf8');
  const blocks = text.split('\n').filter((l) => !l.startsWith('#')).join('\n').split(/\n[ \t]*\n/);
  return blocks.map((b) => b.split('\n').filter((l) => l.trim())).filter((l) => l.length).map((l) => l[0]);
}

/** Every source file the texts can come from: the UI and the gateway (firmware, host HAL). */
function sources(): string {
  const read = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? read(join(dir, e.name)) : /\.(ts|html)$/.test(e.name) ? [readFileSync(join(root, dir, e.name), 'utf8')] : [],
    );
  return [...read('web-ui/src'), ...read('firmware'), ...read('hal')].join('\n');
}

describe('message keys', () => {
  it('numbers and quoted parts are parameters; fixed texts keep theirs', () => {
    expect(template('no data from the meter for 75 s: check the cable')).toEqual({ key: 'no data from the meter for {} s: check the cable', params: ['75'] });
    expect(template('1.234,5 of 2,048 KB used, code 0x1F, "x y"').params).toEqual(['1.234,5', '2,048', '0x1F', '"x y"']);
    expect(hash('Status')).toMatch(/^[0-9a-z]{7}$/);
    expect(hash('Status')).not.toBe(hash('status'));
  });

  it('every English text of the German table is one the UI or the gateway writes', () => {
    const all = sources();
    // put together from pieces: firmware/config/validate.ts (whole(min, max, what, hint)) and
    // the link layer's "n byte(s) outside any frame"
    const composed = new Set([
      '{} bytes outside any frame (line noise, a wrong baud rate or parity, or a frame cut short)',
      'must be a whole number from {} to {}',
      'must be a whole number of milliseconds from {} to {}',
      'must be a whole number from {} to {} (the Austrian meters send at {})',
    ]);
    // a text with {} is found when its fixed parts are found in order in one literal
    const missing = englishOfTable().filter((en) => {
      if (composed.has(en)) return false;
      const parts = en.split('{}').map((p) => p.trim()).filter((p) => p.length > 2);
      return !parts.every((p) => all.includes(p));
    });
    expect(missing).toEqual([]);
  });
});

let browser: Browser;
let broker: Broker;
let base: string;
let dir: string;
let rig: UiRig | undefined;

describe('the first run in German, in a real browser', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    if (!loadUiAsset()?.de) throw new Error('the web UI is not built: run `npm run build` first');
    requireTool('chromium');
    mkdirSync(SHOTS, { recursive: true });
    rig = await startUiRig('meterbridge-de-'); // a fresh data folder: factory settings
    ({ browser, broker, base, dir } = rig);
  }, 30_000);

  afterAll(async () => {
    await rig?.stop();
  });

  const poll = <T>(fn: () => T | Promise<T>, timeout = 8000) => expect.poll(fn, { timeout });
  const t = (page: Page, id: string) => page.getByTestId(id);
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `de-${name}.png`), fullPage: true });

  it('password, demo banner, key and Test key, MQTT, all in German; then English, remembered', async () => {
    const context = await browser.newContext({ locale: 'de-AT', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const jsErrors: string[] = [];
    page.on('pageerror', (e) => jsErrors.push(e.message));
    await page.goto(base + '/');

    // 1. the web password first
    await poll(() => t(page, 'setup-form').isVisible()).toBe(true);
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await page.locator('#page-setup h1').textContent()).toBe('Web-Passwort festlegen');
    expect(await t(page, 'setup-submit').textContent()).toBe('Passwort festlegen');
    await shot(page, 'setup-phone');
    await t(page, 'setup-password').fill('kurz');
    await t(page, 'setup-password-repeat').fill('kurz');
    await t(page, 'setup-submit').click();
    await poll(() => t(page, 'setup-error').textContent()).toBe('Das Passwort braucht mindestens 8 Zeichen.');
    await t(page, 'setup-password').fill(PASSWORD);
    await t(page, 'setup-password-repeat').fill(PASSWORD);
    await t(page, 'setup-submit').click();

    // 2. the status page says it is a demo, with the demo key
    await poll(() => t(page, 'page-status').isVisible()).toBe(true);
    const banner = t(page, 'banner-demo');
    await poll(() => banner.isVisible()).toBe(true);
    expect(await banner.textContent()).toContain('Demo: ein simulierter Zähler.');
    expect(await banner.textContent()).toContain('Schließen Sie Ihren Zähler auf der Seite „Zähler“ an.');
    expect(await t(page, 'demo-key').textContent()).toBe(DEMO_KEY);
    await poll(() => t(page, 'verdict').textContent()).toMatch(/^In Ordnung: Ablesungen kommen an \(\d+ Werte, die letzte vor \d+ s\)$/);
    expect(await t(page, 'nav-meter').textContent()).toBe('Zähler');
    await shot(page, 'status-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'status-desktop');
    await page.setViewportSize({ width: 390, height: 844 });

    // 3. the key, Test key, save
    await t(page, 'nav-meter').click();
    await poll(() => t(page, 'page-meter').isVisible()).toBe(true);
    expect(await banner.isVisible()).toBe(true); // on every page
    expect(await page.locator('label[for="f-meter-key"]').textContent()).toBe('Schlüssel (GUEK)');
    await t(page, 'input-key').fill('00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d');
    await poll(() => t(page, 'key-count').textContent()).toBe('28 von 32 Ziffern');
    await t(page, 'input-key').fill(DEMO_KEY.toLowerCase());
    await t(page, 'test-key').click();
    const result = t(page, 'test-key-result');
    await poll(() => result.getAttribute('data-ok')).toBe('true');
    expect(await result.textContent()).toContain('✓ Der Schlüssel passt.');
    expect(await result.textContent()).toContain('Zählernummer: 1KFM0200204035');
    await shot(page, 'meter-phone');
    await t(page, 'save-meter').click();
    await poll(() => t(page, 'msg-meter').textContent()).toMatch(/^Gespeichert/);
    expect(JSON.parse(readFileSync(join(dir, 'config'), 'utf8')).meter.key).toBe(DEMO_KEY);

    // 4. MQTT: a field error in German, then a real subscriber gets the readings
    await t(page, 'nav-publishing').click();
    await page.locator('[name="mqtt.enabled"]').check();
    await page.locator('[name="mqtt.host"]').fill('127.0.0.1');
    await page.locator('[name="mqtt.port"]').fill('70000');
    await t(page, 'save-mqtt').click();
    await poll(() => t(page, 'form-mqtt').textContent()).toContain('Muss eine ganze Zahl von 1 bis 65535 sein');
    const sub = await subscribe(broker.port, 'meterbridge/#');
    await page.locator('[name="mqtt.port"]').fill(String(broker.port));
    await t(page, 'save-mqtt').click();
    await poll(() => t(page, 'msg-mqtt').textContent()).toMatch(/^Gespeichert/);
    const messages = await sub.waitFor(2, 10_000);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    await poll(() => t(page, 'publishing-state').textContent()).toContain('verbunden');
    await shot(page, 'publishing-phone');
    await sub.close();

    // 5. English, and it stays English on the next visit whatever the browser says
    await page.selectOption('[data-testid="lang"]', 'en');
    await poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    await poll(() => t(page, 'nav-meter').textContent()).toBe('Meter');
    const again = await context.newPage();
    await again.goto(base + '/');
    await poll(() => again.getByTestId('nav-meter').textContent()).toBe('Meter');
    expect(await again.getByTestId('lang').inputValue()).toBe('en');
    expect(jsErrors).toEqual([]);
    await context.close();
  });
});
