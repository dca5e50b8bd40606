/**
 * meterbridge web UI: one page, hash routes #status #history #meter #diagnostics #publishing #device.
 * The History page's code is a separate asset (/ui/history), fetched when that page is first shown.
 * Boot: GET /api/session -> login form or the app; the app loads /api/config and /api/presets
 * once and polls /api/status every 5 s (plus /api/reading on Status, /api/history every 30 s).
 */
import { call, download, errText, onUnauthorized } from './api';
import { drawChart } from './chart';
import { chosen, remember, startGerman, type Lang } from './i18n';
import { initDevice } from './device';
import { $, $$, h, say } from './dom';
import { describe, fill, rebindHints, saveForm, secretWidgets, state } from './forms';
import { keyWidgets } from './key';
import { initMeter } from './meter';
import { initPublishing, loadPresets, previewAll } from './publishing';
import { showReading, showStatus, tick, type Status } from './status';

const PAGES = ['status', 'history', 'meter', 'diagnostics', 'publishing', 'device'];
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
  if (page === 'history' && loggedIn && !$('#hist-js')) document.head.append(h('script', { id: 'hist-js', src: '/ui/history' }));
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
  $('#page-setup').hidden = true;
  $('#page-login').hidden = false;
  route(false);
  $('#login-password').focus();
}

/** First run: nothing but the first password (the gateway refuses everything else until then). */
async function showSetup(): Promise<void> {
  loggedIn = false;
  $('#nav').hidden = true;
  $('#page-login').hidden = true;
  $('#page-setup').hidden = false;
  route(false);
  $('#setup-password').focus();
  // e.g. damaged settings whose password could not be read
  const st = await call('/api/status');
  const list = $('#setup-warnings');
  const warnings: string[] = st.ok ? st.data.configWarnings ?? [] : [];
  list.replaceChildren(...warnings.map((w) => h('li', { text: w[0].toUpperCase() + w.slice(1) + '.' })));
  list.hidden = warnings.length === 0;
}

/** Session, config and presets; then every form shows the saved settings. */
async function load(): Promise<void> {
  const s = await call('/api/session');
  if (!s.ok) {
    // not reachable yet: the offline banner shows; try again
    setTimeout(load, 5000);
    return;
  }
  if (!s.data.passwordSet) return showSetup();
  if (!s.data.authenticated) return showLogin();
  const [c] = await Promise.all([call('/api/config'), loadPresets()]);
  if (!c.ok) return;
  state.config = c.data;
  // only the ESP32 has /api/network: the host's UI leaves out what applies to the device only
  void call('/api/network').then((a) => (document.body.dataset.platform = a.ok ? 'esp32' : 'host'));
  loggedIn = true;
  $('#page-login').hidden = true;
  $('#page-setup').hidden = true;
  $('#nav').hidden = false;
  CONFIG_FORMS.forEach((id) => fill($('#form-' + id)));
  route(false);
}

async function language(): Promise<void> {
  const lang = chosen();
  const select = $<HTMLSelectElement>('#lang');
  select.value = lang;
  select.onchange = () => {
    remember(select.value as Lang);
    location.reload();
  };
  if (lang !== 'de') return;
  // no English flash before the German arrives
  document.body.style.visibility = 'hidden';
  try {
    await startGerman();
  } catch {
    // the table could not be loaded: English it is
  }
  document.body.style.visibility = '';
}

async function init(): Promise<void> {
  await language();
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
    if (a.ok || a.status === 403) {
      input.value = '';
      err.textContent = '';
      await load();
    } else say(err, a.status === 401 ? 'Wrong password.' : errText(a), true);
  };
  const setup = $<HTMLFormElement>('#form-setup');
  setup.onsubmit = async (ev) => {
    ev.preventDefault();
    const p1 = $<HTMLInputElement>('#setup-password');
    const p2 = $<HTMLInputElement>('#setup-password2');
    const err = $('#setup-error');
    if (p1.value.length < 8) return say(err, 'The password needs at least 8 characters.', true);
    if (p1.value !== p2.value) return say(err, 'The two passwords differ.', true);
    const a = await call('/api/config', 'PUT', { web: { password: p1.value } });
    if (!a.ok) return say(err, a.status === 400 && a.data?.errors ? 'Not saved: ' + a.data.errors.map((e: { message: string }) => e.message).join('; ') + '.' : errText(a), true);
    p1.value = p2.value = '';
    err.textContent = '';
    focusNext = '';
    await load();
  };
  rebindHints();
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

void init();
