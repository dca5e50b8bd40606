/**
 * meterbridge web UI: one page, hash routes #status #meter #diagnostics #publishing #device.
 * Boot: GET /api/session -> login form or the app; the app loads /api/config and /api/presets
 * once and polls /api/status every 5 s (plus /api/reading on Status, /api/history every 30 s).
 */
import { call, download, errText, onUnauthorized } from './api';
import { drawChart } from './chart';
import { initDevice, showPasswordState } from './device';
import { $, $$, say } from './dom';
import { describe, fill, saveForm, secretWidgets, state } from './forms';
import { keyWidgets } from './key';
import { initMeter } from './meter';
import { initPublishing, loadPresets, previewAll } from './publishing';
import { showReading, showStatus, tick, type Status } from './status';

const PAGES = ['status', 'meter', 'diagnostics', 'publishing', 'device'];
/** the forms saved through PUT /api/config by convention (forms.ts) */
const CONFIG_FORMS = ['meter', 'mqtt', 'http', 'metrics', 'wifi'];
let page = '';
let loggedIn = false;
let historyAt = 0;
let timer = 0;
/** what to focus after the next route change instead of the page title */
let focusNext = '';

function route(focus: boolean): void {
  const want = location.hash.slice(1);
  // other hashes (#main of the skip link) keep the page
  page = PAGES.indexOf(want) >= 0 ? want : page || 'status';
  for (const s of $$('section[data-page]')) s.hidden = !loggedIn || s.id !== 'page-' + page;
  for (const a of $$('nav a')) {
    if (a.getAttribute('href') === '#' + page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const h1 = $('#page-' + page + ' h1');
  document.title = h1.textContent + ' · meterbridge';
  if (focus) $(focusNext || '#page-' + page + ' h1').focus();
  focusNext = '';
  if (page === 'status') historyAt = 0;
  if (page === 'publishing' && loggedIn) previewAll();
  void poll();
}

async function poll(): Promise<void> {
  clearTimeout(timer);
  if (loggedIn && !document.hidden) {
    const jobs: Promise<unknown>[] = [call<Status>('/api/status').then((a) => a.ok && showStatus(a.data))];
    if (page === 'status') {
      jobs.push(call('/api/reading').then((a) => (a.ok || a.status === 404) && showReading(a.ok ? a.data : null)));
      if (Date.now() - historyAt > 30e3) {
        historyAt = Date.now();
        jobs.push(call('/api/history').then((a) => a.ok && drawChart(a.data.points)));
      }
    }
    await Promise.all(jobs);
  }
  // a poll started meanwhile (route change) may have set a timer: keep one loop only
  clearTimeout(timer);
  timer = window.setTimeout(poll, 5000);
}

function showLogin(): void {
  loggedIn = false;
  $('#nav').hidden = true;
  $('#banner-password').hidden = true;
  $('#page-login').hidden = false;
  route(false);
  $('#login-password').focus();
}

/** Session, config and presets; then every form shows the saved settings. */
async function load(): Promise<void> {
  const s = await call('/api/session');
  if (!s.ok) {
    // not reachable yet: the offline banner shows; try again
    setTimeout(load, 5000);
    return;
  }
  if (!s.data.authenticated) return showLogin();
  const [c] = await Promise.all([call('/api/config'), loadPresets()]);
  if (!c.ok) return;
  state.config = c.data;
  loggedIn = true;
  $('#page-login').hidden = true;
  $('#nav').hidden = false;
  $('#banner-password').hidden = s.data.passwordSet;
  showPasswordState(s.data.passwordSet);
  CONFIG_FORMS.forEach((id) => fill($('#form-' + id)));
  route(false);
}

function init(): void {
  onUnauthorized(() => loggedIn && showLogin());
  secretWidgets();
  keyWidgets();
  describe();
  initMeter();
  initPublishing();
  initDevice({ reload: load });
  for (const id of CONFIG_FORMS) {
    const f = $<HTMLFormElement>('#form-' + id);
    f.onsubmit = (ev) => {
      ev.preventDefault();
      void saveForm(f);
    };
  }
  $('#download-diagnostics').onclick = async () => {
    const a = await download('/api/diagnostics', 'meterbridge-diagnostics.json');
    say($('#msg-diagnostics'), a.ok ? 'Downloaded: attach the file to your bug report.' : errText(a), !a.ok);
  };
  const login = $<HTMLFormElement>('#form-login');
  login.onsubmit = async (ev) => {
    ev.preventDefault();
    const input = $<HTMLInputElement>('#login-password');
    const err = $('#login-error');
    err.textContent = 'Checking…';
    const a = await call('/api/login', 'POST', { password: input.value });
    if (a.ok || a.status === 409) {
      input.value = '';
      err.textContent = '';
      await load();
    } else say(err, a.status === 401 ? 'Wrong password' + (a.data?.detail ? ': ' + a.data.detail + '.' : '.') : errText(a), true);
  };
  $('[data-testid="banner-password-link"]').addEventListener('click', () => {
    focusNext = '#f-web-password';
    if (page === 'device') route(true);
  });
  window.addEventListener('hashchange', () => route(true));
  document.addEventListener('visibilitychange', () => !document.hidden && poll());
  let resize = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resize);
    resize = window.setTimeout(() => drawChart(), 150);
  });
  setInterval(tick, 1000);
  void load();
}

init();
