// The History page in real headless Chromium against the real host gateway, in English and in
// German, on a phone-sized screen in Vienna's time zone. The history file is filled first with
// the simulator's pushes every quarter hour from 1 March to 1 April 2026 (the day the clocks go
// forward included, and one silent stretch), decoded and fed to the real History; then the
// gateway starts on it with the simulator as its live source. Screenshots go to
// test-output/screenshots/history-*.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { startGateway, loadUiAsset, type RunningGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import { History } from '../firmware/history/history.js';
import { HISTORY_FILE } from '../hal/node/block-store.js';
import { MeterSimulator } from '../firmware/simulator.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { electricityNumber } from '../firmware/quantities.js';
import { DEMO_KEY } from '../firmware/config/defaults.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { hex } from './helpers.js';
import { memoryFlash } from './support/fakes.js';
import { requireTool } from './support/tools.js';

// the meter's clock (the simulator's) and the browser's are Vienna's
process.env.TZ = 'Europe/Vienna';

const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const PASSWORD = 'my meter, my history';
const AUTH = { authorization: 'Basic ' + Buffer.from('x:' + PASSWORD).toString('base64') };
const Q = 900_000;
const at = (iso: string) => Date.parse(iso);
/** silent: the gateway off from 10:07 to 13:20 on 30 March */
const SILENT = [at('2026-03-30T10:07:00+02:00'), at('2026-03-30T13:20:00+02:00')];
/** the import register of every push fed, by its time */
const fed = new Map<number, number>();
/** the register of the push 5 s after a local time */
const reg = (iso: string) => fed.get(at(iso) + 5000)!;

let browser: Browser;
let gateway: RunningGateway;
let base: string;
let dir: string;

/** a push 5 s after every quarter hour, as decoded Readings into the real History, on NOR flash in RAM */
function fill(): Uint8Array {
  const flash = memoryFlash();
  const history = new History(flash);
  const key = hex(DEMO_KEY);
  const sim = new MeterSimulator({ crypto: nodeCrypto, key, phases: 3 });
  for (let t = at('2026-02-28T23:45:05+01:00'); t < at('2026-04-01T00:20:00+02:00'); t += Q) {
    if (t >= SILENT[0] && t < SILENT[1]) continue;
    const r = decode(sim.push(t), { encryption: encryptionKey(key), authentication: null }, nodeCrypto).readings[0];
    fed.set(t, electricityNumber(r.values, '1.8.0', 'Wh')!);
    history.feed(r, t);
  }
  return flash.bytes;
}

beforeAll(async () => {
  if (!loadUiAsset()?.history) throw new Error('the web UI is not built: run `npm run build` first');
  requireTool('chromium');
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'meterbridge-e2e-history-'));
  writeFileSync(join(dir, HISTORY_FILE), fill());
  const v = validateConfig({ web: { password: PASSWORD }, source: { type: 'simulator', simulator: { intervalMs: 1000 } } });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  gateway = await startGateway({ config: v.config, dataDir: dir, httpPort: 0, host: '127.0.0.1', log: () => {} });
  base = `http://127.0.0.1:${gateway.port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const byTest = (page: Page, id: string) => page.getByTestId(id);
const poll = <T>(fn: () => T | Promise<T>, timeout = 8000) => expect.poll(fn, { timeout });
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `history-${name}.png`), fullPage: true });
/** what the gateway answers for a period, over HTTP with the password */
const api = async (resolution: string, from: string, to: string) =>
  (await fetch(`${base}/api/history/energy?resolution=${resolution}&from=${at(from)}&to=${at(to)}`, { headers: AUTH })).json() as Promise<{ points: number[][]; gaps: number[][] }>;

async function loggedIn(locale: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ locale, timezoneId: 'Europe/Vienna', viewport: { width: 390, height: 844 }, acceptDownloads: true });
  await context.addInitScript(`localStorage.setItem('meterbridge-lang', '${locale.slice(0, 2)}')`);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/#history`);
  await byTest(page, 'login-password').fill(PASSWORD);
  await byTest(page, 'login-submit').click();
  await poll(() => byTest(page, 'page-history').isVisible()).toBe(true);
  // the page's own script arrives from /ui/history when the page is first shown
  await poll(() => byTest(page, 'hist-chart').isVisible()).toBe(true);
  return { context, page, errors };
}

/** the bars as the page drew them */
const bars = (page: Page) =>
  page.$$eval('[data-testid="hist-bar"]', (els) => els.map((e) => ({
    t: Number(e.getAttribute('data-t')),
    imp: e.hasAttribute('data-import') ? Number(e.getAttribute('data-import')) : null,
    gap: e.getAttribute('data-gap') === 'true',
  })));
const total = async (page: Page, id: string) => Number(await byTest(page, id).getAttribute('data-value'));

/** Clicks a control, waits for the period it opens and its bars, and returns them. */
async function open(page: Page, control: string, title: string, barCount: number): Promise<Awaited<ReturnType<typeof bars>>> {
  await byTest(page, control).click();
  await poll(() => byTest(page, 'hist-title').textContent()).toBe(title);
  await poll(async () => (await bars(page)).length).toBe(barCount);
  return bars(page);
}

async function showDay(page: Page, date: string): Promise<void> {
  await byTest(page, 'hist-view-day').click();
  await byTest(page, 'hist-date').fill(date);
  await poll(() => byTest(page, 'hist-chart').getAttribute('aria-busy')).toBeNull();
}

describe('the History page in a real browser', { timeout: 60_000 }, () => {
  let en: Awaited<ReturnType<typeof loggedIn>>;

  it('the day the clocks go forward: 92 quarter hours, each as the meter counted, and the day\'s total', async () => {
    en = await loggedIn('en-US');
    const { page } = en;
    // today first, with its date in the picker
    const today = new Date();
    const iso = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
    await poll(() => byTest(page, 'hist-date').inputValue()).toBe(iso);
    await showDay(page, '2026-03-29');
    await poll(() => byTest(page, 'hist-title').textContent()).toBe('Sunday, March 29, 2026');
    const b = await bars(page);
    expect(b).toHaveLength(92);
    expect(b.filter((x) => x.gap)).toEqual([]);
    // each bar is the register difference between its two quarter hours (02:00–03:00 does not exist)
    expect(new Date(b[8].t).getHours()).toBe(3);
    for (let i = 0; i < b.length; i++) {
      const end = i + 1 < b.length ? b[i + 1].t : at('2026-03-30T00:00:00+02:00');
      expect(b[i].imp, `bar ${i}`).toBeCloseTo(fed.get(end + 5000)! - fed.get(b[i].t + 5000)!, 3);
    }
    const day = reg('2026-03-30T00:00:00+02:00') - reg('2026-03-29T00:00:00+01:00');
    expect(await total(page, 'hist-import')).toBeCloseTo(day, 2);
    expect(await byTest(page, 'hist-caption').textContent()).toMatch(/^From grid \d+\.\d+ kWh, to grid \d+\.\d+ kWh\.$/);
    // a tap on a bar says what it holds
    await byTest(page, 'hist-bar').nth(8).click();
    await poll(() => byTest(page, 'hist-detail').textContent()).toMatch(/^03:00\s*–\s*03:15: from grid \d+\.\d\d kWh, to grid \d+\.\d\d kWh$/);
    await shot(page, 'day-dst-en');
    expect(en.errors).toEqual([]);
  });

  it('the next day: 96 quarter hours, the silent stretch hatched as a gap, its energy named apart', async () => {
    const { page } = en;
    const b = await open(page, 'hist-next', 'Monday, March 30, 2026', 96);
    const a = await api('15min', '2026-03-30T00:00:00+02:00', '2026-03-31T00:00:00+02:00');
    expect(a.gaps).toHaveLength(1);
    const [g0, g1] = a.gaps[0];
    // 10:00 was the last quarter hour seen before, 13:30 the first after
    expect([g0, g1]).toEqual([at('2026-03-30T10:00:00+02:00'), at('2026-03-30T13:30:00+02:00')]);
    const hatched = b.filter((x) => x.gap);
    expect(hatched.map((x) => x.t)).toEqual(b.filter((x) => x.t >= g0 && x.t < g1).map((x) => x.t));
    expect(hatched).toHaveLength(14);
    expect(hatched.every((x) => x.imp === null)).toBe(true); // drawn as a gap, never as zero
    expect(await byTest(page, 'hist-gaps').textContent()).toMatch(/^14 of 96 quarter hours without data: gateway off or meter silent; shown hatched, not as zero\. Across gaps: from grid \d+\.\d\d kWh/);
    // the intervals add up to the day without what went across the gap
    const day = reg('2026-03-31T00:00:00+02:00') - reg('2026-03-30T00:00:00+02:00');
    expect(await total(page, 'hist-import')).toBeCloseTo(day - a.gaps[0][2], 2);
    await shot(page, 'day-gap-en');
  });

  it('the month: a bar per day, each the day\'s energy; the year: a bar per month; earlier, later, today', async () => {
    const { page } = en;
    const b = await open(page, 'hist-view-month', 'March 2026', 31);
    expect(b.filter((x) => x.gap)).toEqual([]);
    expect(b[28].imp).toBeCloseTo(reg('2026-03-30T00:00:00+02:00') - reg('2026-03-29T00:00:00+01:00'), 3);
    // a day's record spans the silent stretch: it knows both midnights
    expect(b[29].imp).toBeCloseTo(reg('2026-03-31T00:00:00+02:00') - reg('2026-03-30T00:00:00+02:00'), 3);
    expect(await total(page, 'hist-import')).toBeCloseTo(reg('2026-04-01T00:00:00+02:00') - reg('2026-03-01T00:00:00+01:00'), 1);
    await shot(page, 'month-en');
    // a second tap on a day opens it
    await byTest(page, 'hist-bar').nth(28).click();
    await byTest(page, 'hist-bar').nth(28).click();
    await poll(() => byTest(page, 'hist-title').textContent()).toBe('Sunday, March 29, 2026');
    const y = await open(page, 'hist-view-year', '2026', 12);
    expect(y[2].imp).toBeCloseTo(reg('2026-04-01T00:00:00+02:00') - reg('2026-03-01T00:00:00+01:00'), 3);
    expect(y[0]).toMatchObject({ imp: null, gap: true }); // January: the gateway was not there
    await shot(page, 'year-en');
    await byTest(page, 'hist-prev').click();
    await poll(() => byTest(page, 'hist-title').textContent()).toBe('2025');
    await byTest(page, 'hist-today').click();
    await poll(() => byTest(page, 'hist-title').textContent()).toBe(String(new Date().getFullYear()));
    expect(en.errors).toEqual([]);
  });

  it('downloads what is shown as CSV, under the gateway\'s file name', async () => {
    const { page } = en;
    await showDay(page, '2026-03-30');
    const [download] = await Promise.all([page.waitForEvent('download'), byTest(page, 'hist-csv').click()]);
    expect(download.suggestedFilename()).toBe('meterbridge-energy-15min-2026-03-30.csv');
    const text = readFileSync((await download.path())!, 'utf8');
    const rows = text.trim().split('\r\n');
    expect(rows[0]).toBe('start_epoch_ms;start_local;end_local;utc_offset;import_wh;export_wh;status');
    // 96 quarter hours less the 14 of the gap, and the gap as one row
    expect(rows.slice(1).filter((r) => r.endsWith(';'))).toHaveLength(82);
    expect(rows.filter((r) => r.endsWith(';gap'))).toHaveLength(1);
    expect(rows[1]).toMatch(/^\d{13};2026-03-30 00:00;2026-03-30 00:15;\+02:00;\d+(,\d+)?;\d+(,\d+)?;$/);
    await poll(() => byTest(page, 'hist-msg').textContent()).toBe('Downloaded: meterbridge-energy-15min-2026-03-30.csv');
    await en.context.close();
  });

  it('in German: the same day with German dates, words and numbers', async () => {
    const de = await loggedIn('de-AT');
    const { page } = de;
    await poll(() => byTest(page, 'nav-history').textContent()).toBe('Verlauf');
    await showDay(page, '2026-03-29');
    await poll(() => byTest(page, 'hist-title').textContent()).toBe('Sonntag, 29. März 2026');
    expect(await bars(page)).toHaveLength(92);
    expect(await byTest(page, 'hist-view-month').textContent()).toBe('Monat');
    expect(await byTest(page, 'hist-csv').textContent()).toBe('CSV herunterladen');
    expect(await byTest(page, 'hist-caption').textContent()).toMatch(/^Bezug \d+,\d+ kWh, Einspeisung \d+,\d+ kWh\.$/);
    expect(await page.locator('#hist-totals .tile span').allTextContents()).toEqual(['Bezug', 'Einspeisung', 'Saldo']);
    await byTest(page, 'hist-next').click();
    await poll(() => byTest(page, 'hist-gaps').textContent()).toMatch(/^14 von 96 Viertelstunden ohne Daten: Gateway aus oder Zähler stumm; schraffiert dargestellt, nicht als null\. Über Lücken hinweg: Bezug \d+,\d\d kWh/);
    await byTest(page, 'hist-bar').nth(0).click();
    await poll(() => byTest(page, 'hist-detail').textContent()).toMatch(/^00:00\s*–\s*00:15: Bezug \d+,\d\d kWh, Einspeisung \d+,\d\d kWh$/);
    await shot(page, 'day-gap-de');
    await byTest(page, 'hist-view-year').click();
    await poll(() => byTest(page, 'hist-title').textContent()).toBe('2026');
    await shot(page, 'year-de');
    expect(de.errors).toEqual([]);
    await de.context.close();
  });
});
