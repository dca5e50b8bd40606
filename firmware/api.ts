/**
 * The HTTP API of web-ui/API.md, the same handler on both targets behind the HttpServer HAL.
 * Every request gets an explicit status: bad JSON or a bad `%` escape 400, too large 413, unknown
 * path 404, wrong method 405, no access 401, too many wrong passwords 429, cross-site or before
 * the first password 403, a Host that is not this gateway 421; a handler error is a 500 with a
 * sentence, never a crash. The UI asset itself is given by the platform (`ui`), already gzipped.
 *
 *   request ─► Host allowed (421) ─► UI │ route (404) ─► cross-site, Content-Type (403, 415)
 *           ─► first run: only FIRST_RUN and the first password (403) ─► access (401, 429) ─► route
 *
 * The rules themselves (host names, Origin, guessing limits, sessions) are in auth.ts.
 */
import type { Clock, HttpHandler, HttpServerRequest, HttpServerResponse } from '../hal/hal.js';
import { Auth, MIN_PASSWORD_LENGTH, SESSION_COOKIE, hostAllowed, originAllowed, sessionCookie, splitAuthority, type Verdict } from './auth.js';
import { CONFIG_VERSION, SECRET_FIELDS, type Config } from './config/types.js';
import { migrateConfig } from './config/migrate.js';
import { configForExport, redactConfig, validateConfig } from './config/validate.js';
import { defaultConfig } from './config/defaults.js';
import { checkTemplates, type Gateway } from './gateway.js';
import { buildContext, buildFieldContexts, buildValueContext } from './template/context.js';
import { PRESETS } from './template/presets.js';
import { openhabThing } from './publish/openhab.js';
import { compileTemplate } from './template/template.js';
import { QUANTITIES } from './quantities.js';
import { utf8String } from './bytes.js';
import { csvFileName, historyCsv, parseHistoryQuery } from './history/http.js';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpServerResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): HttpServerResponse {
  return { status, headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' }, body };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s.split('+').join(' '));
  } catch {
    return null;
  }
}

/** The query's name=value pairs; null when an escape is bad (`%zz`, a cut UTF-8 sequence). */
function queryOf(url: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  const q = url.indexOf('?');
  if (q < 0) return out;
  for (const part of url.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decode(eq >= 0 ? part.slice(0, eq) : part);
    const v = eq >= 0 ? decode(part.slice(eq + 1)) : '';
    if (k === null || v === null) return null;
    out[k] = v;
  }
  return out;
}

type Body = { ok: true; value: Record<string, unknown> } | { ok: false; response: HttpServerResponse };

/** The JSON object body of a request, or the answer explaining why there is none. */
export function jsonBody(req: HttpServerRequest): Body {
  if (req.bodyTooLarge) return { ok: false, response: json(413, { error: 'request body too large', detail: 'the limit is 16 KB' }) };
  const textBody = utf8String(req.body, 0, req.body.length);
  if (textBody.trim() === '') return { ok: false, response: json(400, { error: 'empty body', detail: 'a JSON object is expected' }) };
  let value: unknown;
  try {
    value = JSON.parse(textBody);
  } catch (e) {
    return { ok: false, response: json(400, { error: 'malformed JSON', detail: (e as Error).message }) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, response: json(400, { error: 'a JSON object is expected' }) };
  return { ok: true, value: value as Record<string, unknown> };
}

export type Route = (req: HttpServerRequest) => Promise<HttpServerResponse> | HttpServerResponse;
export type Routes = Record<string, Partial<Record<string, Route>>>;

/** What the access rules need of a request (an upload's head has no body yet). */
export type RequestHead = Pick<HttpServerRequest, 'method' | 'url' | 'headers' | 'remoteAddress'>;

export interface ApiOptions {
  gateway: Gateway;
  clock: Clock;
  randomBytes: (n: number) => Uint8Array;
  /** persists a config that passed validation */
  save: (config: Config) => void;
  restart: () => void;
  /** the gzipped single-file UI, if the platform has it */
  ui?: { gzip: Uint8Array; etag: string; /** the German table (web-ui/de.txt), gzipped */ de?: Uint8Array | null } | null;
  /** platform routes (OTA, network), under the same access and same-origin rules */
  routes?: Routes;
  /** most points one history answer holds (default MAX_POINTS): the device's heap wants fewer */
  historyMaxPoints?: number;
  /** names of the machine besides `<wifi.hostname>` and `<wifi.hostname>.local` (the host's own name) */
  names?: readonly string[];
}

/** Served before a web password is set (GET), besides setting the first password. */
/** the UI's German table: fetched by the UI when German is chosen, login and first run too */
const UI_DE = '/ui/de';
const FIRST_RUN = new Set(['/', '/index.html', UI_DE, '/api/session', '/api/status', '/api/reading', '/status']);
/** Served without a password once one is set (the UI, and the way to log in). */
const OPEN = new Set(['/', '/index.html', UI_DE, '/api/session', '/api/login', '/api/logout']);
const FIRST_PASSWORD = 'until a web password is set, only the status can be read and PUT /api/config takes only { "web": { "password": "…" } }';

function onlyWebPassword(body: Record<string, unknown>): boolean {
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'web') return false;
  const web = body.web;
  if (typeof web !== 'object' || web === null || Array.isArray(web)) return false;
  const w = web as Record<string, unknown>;
  const wk = Object.keys(w);
  return wk.length === 1 && wk[0] === 'password' && typeof w.password === 'string';
}

/** The client's address as one key: an IPv4 address that came over IPv6 counts as the IPv4 address. */
function clientAddress(req: RequestHead): string {
  const a = req.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.indexOf('.') > 0 ? a.slice(7) : a;
}

export interface Api {
  handler: HttpHandler;
  auth: Auth;
  /** The access rules for a request the handler does not see whole (a streamed upload): the
   *  refusal to send, or null when it may pass. */
  guard(req: RequestHead): HttpServerResponse | null;
}

export function createApi(o: ApiOptions): Api {
  const g = o.gateway;
  const auth = new Auth(() => g.currentConfig.web.password, o.randomBytes, () => o.clock.monotonic());

  const applyInput = async (input: Record<string, unknown>, base: Config): Promise<HttpServerResponse> => {
    const passwordBefore = g.currentConfig.web.password;
    const v = validateConfig(input, base);
    if (!v.ok) return json(400, { error: 'invalid configuration', errors: v.errors });
    const templateErrors = checkTemplates(v.config);
    if (templateErrors.length) return json(400, { error: 'invalid configuration', errors: templateErrors });
    o.save(v.config);
    await g.applyConfig(v.config, v.warnings);
    const headers: Record<string, string> = {};
    if (v.config.web.password !== passwordBefore) {
      auth.reset();
      // whoever just set the password stays logged in
      const token = v.config.web.password ? auth.newSession() : null;
      if (token) headers['Set-Cookie'] = sessionCookie(token);
    }
    return json(200, { config: redactConfig(v.config), warnings: v.warnings }, headers);
  };

  const routes: Routes = {
    ...o.routes,
    '/api/session': {
      GET: (req) =>
        json(200, { passwordSet: auth.passwordSet, authenticated: auth.passwordSet && auth.hasSession(req.headers), minPasswordLength: MIN_PASSWORD_LENGTH }),
    },
    '/api/login': {
      POST: (req) => {
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        const r = auth.login(typeof b.value.password === 'string' ? b.value.password : '', clientAddress(req));
        if (!r.ok) return refusal(r);
        return json(200, { ok: true }, { 'Set-Cookie': sessionCookie(r.token) });
      },
    },
    '/api/logout': {
      POST: (req) => {
        auth.logout(req.headers);
        return json(200, { ok: true }, { 'Set-Cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict` });
      },
    },
    '/api/reading': {
      GET: () => {
        const r = g.lastReading;
        return r ? json(200, r) : json(404, { error: 'no reading yet', detail: g.status().verdict.message });
      },
    },
    '/api/status': { GET: () => json(200, { ...g.status(), passwordSet: auth.passwordSet }) },
    '/api/history': { GET: () => json(200, { points: g.history() }) },
    '/api/history/energy': {
      GET: (req) => {
        const h = g.energyHistory;
        if (!h) return json(404, { error: 'no consumption history', detail: g.status().history.error ?? 'this gateway has no store for the history' });
        const p = parseHistoryQuery(queryOf(req.url) ?? {}, req.headers.accept, h, o.clock.now());
        if (!p.ok) return json(400, { error: p.error, detail: p.detail });
        const r = p.request;
        const a = h.query(r.resolution, r.from, r.to, o.historyMaxPoints);
        if (r.csv) {
          return {
            status: 200,
            headers: {
              'Content-Type': 'text/csv; charset=utf-8',
              'Content-Disposition': `attachment; filename="${csvFileName(r, h.offsetAt(r.from))}"`,
              'Cache-Control': 'no-store',
            },
            body: historyCsv(a),
          };
        }
        return json(200, {
          resolution: a.resolution,
          from: r.from,
          to: r.to === Infinity ? null : r.to,
          columns: ['start_epoch_ms', 'import_wh', 'export_wh', 'utc_offset_min', 'end_epoch_ms', 'end_utc_offset_min'],
          points: a.points,
          gaps: a.gaps,
          current: a.current,
          next: a.next,
        });
      },
    },
    '/metrics': {
      GET: () => {
        // always 200: a running gateway is up; the meter's state is in its metrics
        return text(200, g.renderMetrics(), 'text/plain; version=0.0.4; charset=utf-8');
      },
    },
    '/status': { GET: () => text(200, statusPage(g), 'text/html; charset=utf-8') },
    '/api/config': {
      GET: () => json(200, redactConfig(g.currentConfig)),
      PUT: async (req) => {
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        if (!auth.passwordSet && !onlyWebPassword(b.value)) return json(403, { error: 'set a web password first', detail: FIRST_PASSWORD });
        return applyInput(b.value, g.currentConfig);
      },
    },
    '/api/config/export': {
      GET: (req) => {
        const secrets = queryOf(req.url)?.secrets === '1';
        return {
          status: 200,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Disposition': `attachment; filename="meterbridge-config${secrets ? '-with-secrets' : ''}.json"`,
            'Cache-Control': 'no-store',
          },
          body: JSON.stringify(configForExport(g.currentConfig, secrets), null, 2),
        };
      },
    },
    '/api/config/import': {
      POST: async (req) => {
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        let input = b.value;
        const version = input.version;
        if (typeof version === 'number' && version < CONFIG_VERSION) {
          // a backup from an older firmware: migrate it first; secrets it does not carry stay as they are
          const m = migrateConfig(input);
          const migrated = JSON.parse(JSON.stringify(m.config)) as Record<string, Record<string, unknown>>;
          for (const path of SECRET_FIELDS) {
            const [section, field] = path.split('.');
            if (migrated[section] && migrated[section][field] === '') delete migrated[section][field];
          }
          input = migrated;
        }
        return applyInput(input, g.currentConfig);
      },
    },
    // copies: XS cannot JSON.stringify preloaded (frozen) objects
    '/api/presets': { GET: () => json(200, PRESETS.map((p) => ({ ...p }))) },
    '/api/template/preview': {
      POST: (req) => {
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        const source = b.value.template;
        if (typeof source !== 'string') return json(400, { error: 'template must be a string' });
        const escape = b.value.escape === 'none' ? 'none' : 'json';
        const c = compileTemplate(source, escape);
        if (!c.ok) return json(200, { ok: false, error: c.error });
        const r = g.lastReading;
        if (!r) return json(409, { error: 'no reading yet', detail: 'the preview renders the last reading from the meter' });
        const extra = { base_topic: g.currentConfig.mqtt.baseTopic, received_ms: o.clock.now() };
        // one message per value or quantity: all of them, one per line
        const many =
          b.value.mode === 'values' ? Object.keys(r.values).map((obis) => buildValueContext(r, obis, extra))
          : b.value.mode === 'fields' ? buildFieldContexts(r, g.lastDerivedValues, extra)
          : null;
        if (many) return json(200, { ok: true, output: many.map((ctx) => c.template.render(ctx)).join('\n') });
        return json(200, { ok: true, output: c.template.render(buildContext(r, g.lastDerivedValues, extra)) });
      },
    },
    '/api/openhab-thing': {
      GET: () => {
        const r = g.lastReading;
        if (!r) return json(409, { error: 'no reading yet', detail: 'the Thing has a channel per value of the last reading from the meter' });
        const thing = openhabThing(r, g.currentConfig.mqtt, g.meterId);
        if (thing === null) return json(409, { error: 'not one MQTT message per value', detail: 'choose the openHAB preset for MQTT and save first' });
        return text(200, thing);
      },
    },
    '/api/test-key': {
      POST: (req) => {
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        const key = typeof b.value.key === 'string' ? b.value.key : '';
        const authKey = typeof b.value.authKey === 'string' ? b.value.authKey : '';
        const r = g.testKey(key, authKey);
        if (!r.ok) return json(200, { ok: false, message: r.message });
        const values = r.reading.values;
        const pick = values['1-0:1.8.0'] ? '1-0:1.8.0' : values['1-0:32.7.0'] ? '1-0:32.7.0' : Object.keys(values)[0];
        return json(200, {
          ok: true,
          meterNumber: r.reading.meter.number,
          systemTitle: r.reading.meter.systemTitle,
          sample: pick ? { obis: pick, value: values[pick].value, unit: values[pick].unit ?? null } : null,
        });
      },
    },
    '/api/diagnostics': {
      GET: () =>
        json(200, {
          version: g.status().version,
          configVersion: g.currentConfig.version,
          status: g.status(),
          rawPushes: g.rawPushes(),
          config: configForExport(g.currentConfig, false),
        }, { 'Content-Disposition': 'attachment; filename="meterbridge-diagnostics.json"' }),
    },
    '/api/restart': {
      POST: () => {
        o.clock.setTimeout(o.restart, 100);
        return json(202, { ok: true, detail: 'restarting' });
      },
    },
    '/api/factory-reset': {
      POST: async (req) => {
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        if (b.value.confirm !== 'RESET') return json(400, { error: 'confirmation missing', detail: 'send { "confirm": "RESET" }' });
        const fresh = defaultConfig();
        o.save(fresh);
        auth.reset();
        await g.applyConfig(fresh, []);
        return json(202, { ok: true, detail: 'configuration reset to defaults' });
      },
    },
  };

  /** IP literals, localhost, the gateway's own names and the owner's list. */
  const hostNames = (): string[] => {
    const c = g.currentConfig;
    const own = c.wifi.hostname.toLowerCase();
    return [own, own + '.local', ...(o.names ?? []), ...c.web.allowedHosts];
  };

  const hostRefusal = (req: RequestHead): HttpServerResponse | null => {
    const h = req.headers.host;
    // no browser leaves out Host, so a request without one cannot be a rebinding page
    if (h === undefined) return null;
    const a = splitAuthority(h);
    if (a && hostAllowed(a.name, hostNames())) return null;
    return json(421, {
      error: 'unknown host name',
      detail: 'this gateway answers to its IP address, localhost, its own name and the names listed in web.allowedHosts',
    });
  };

  /** Cross-site, first run and password, for a request whose path is known to exist. */
  const accessRefusal = (req: RequestHead, path: string, method: string, jsonOnly: boolean): HttpServerResponse | null => {
    if (method === 'POST' || method === 'PUT' || method === 'DELETE' || method === 'PATCH') {
      // browsers send Origin on cross-site POSTs; a page of another name (rebinding, another device)
      // is refused, and application/json cannot be sent cross-site without a preflight we never answer
      const host = req.headers.host === undefined ? null : splitAuthority(req.headers.host);
      if (!originAllowed(req.headers.origin, host, hostNames(), g.currentConfig.web.allowedHosts)) return json(403, { error: 'cross-site request refused' });
      if (jsonOnly && !(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
        return json(415, { error: 'Content-Type must be application/json' });
      }
    }
    if (!auth.passwordSet) {
      if ((method === 'GET' && FIRST_RUN.has(path)) || (method === 'PUT' && path === '/api/config')) return null;
      return json(403, { error: 'set a web password first', detail: FIRST_PASSWORD });
    }
    if (OPEN.has(path)) return null;
    const v = auth.authorize(req.headers, clientAddress(req));
    if (v.ok) return null;
    if (v.status === 401 && (path === '/status' || path === '/metrics')) {
      return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="meterbridge", charset="UTF-8"', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'password required' };
    }
    return refusal(v);
  };

  const handler: HttpHandler = async (req) => {
    try {
      const path = pathOf(req.url);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const badHost = hostRefusal(req);
      if (badHost) return badHost;
      if (queryOf(req.url) === null) return json(400, { error: 'bad % escape in the address' });
      const route = routes[path];
      const isUi = (path === '/' || path === '/index.html' || path === UI_DE) && method === 'GET';
      if (!route && !isUi) return json(404, { error: 'not found', path });
      const refused = accessRefusal(req, path, method, true);
      if (refused) return refused;
      if (isUi) {
        if (path === UI_DE) {
          if (!o.ui?.de) return json(404, { error: 'not found', path });
          return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Encoding': 'gzip', 'Cache-Control': 'no-cache' }, body: o.ui.de };
        }
        if (!o.ui) return text(200, '<!doctype html><title>meterbridge</title><p>The web UI is not built. See <a href="/status">/status</a>.', 'text/html; charset=utf-8');
        return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'gzip', ETag: o.ui.etag, 'Cache-Control': 'no-cache' }, body: o.ui.gzip };
      }
      const h = route![method];
      if (!h) return json(405, { error: `method ${req.method} not allowed`, allowed: Object.keys(route!) }, { Allow: Object.keys(route!).join(', ') });
      return await h(req);
    } catch (e) {
      return json(500, { error: 'internal error', detail: (e as Error).message });
    }
  };

  const guard = (req: RequestHead): HttpServerResponse | null => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    return hostRefusal(req) ?? accessRefusal(req, pathOf(req.url), method, false);
  };
  return { handler, auth, guard };
}

/** 401 or 429 (with Retry-After) as JSON. */
function refusal(v: Exclude<Verdict, { ok: true }> | { ok: false; status: number; error: string; detail: string }): HttpServerResponse {
  const headers: Record<string, string> = {};
  if ('waitMs' in v) headers['Retry-After'] = String(Math.ceil(v.waitMs / 1000));
  return json(v.status, { error: v.error, detail: v.detail }, headers);
}

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The status as plain HTML, for browsers without JavaScript. */
function statusPage(g: Gateway): string {
  const s = g.status();
  const r = g.lastReading;
  // quantities by name (the quantities table's names), others by their OBIS code; a code or a
  // value never breaks across lines on a phone
  const named = (obis: string) => QUANTITIES.find((q) => q.cde && (obis === '1-0:' + q.cde || obis === '1-1:' + q.cde))?.name;
  let rows = '';
  if (r) {
    for (const [k, v] of Object.entries(r.values)) {
      if (k === '0-0:1.0.0' || k === '0-0:96.1.0' || k === '0-0:42.0.0') continue; // in the line above
      rows += `<tr><td>${esc(named(k) ?? k)}</td><td class="v">${esc(v.value)} ${esc(v.unit ?? '')}</td></tr>`;
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="10"><title>meterbridge status</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:40rem}td{padding:.2rem .6rem;white-space:nowrap}.v{text-align:right}.ok{color:#176b2c}.warning{color:#8a5a00}.error{color:#a11}</style></head><body>
<h1>meterbridge</h1><p class="${esc(s.verdict.level)}">${esc(s.verdict.message)}</p>
<p>Meter ${esc(r?.meter.number ?? '-')}, meter clock ${esc(r?.timestamp?.replace('T', ' ') ?? '-')}</p>
<table>${rows || '<tr><td>no reading yet</td></tr>'}</table>
<p>Frames ${s.pipeline.frames}, readings ${s.pipeline.readings}, errors ${s.pipeline.errors}. Version ${esc(s.version)}.</p></body></html>`;
}
