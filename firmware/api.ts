/**
 * The HTTP API of web-ui/API.md, the same handler on both targets behind the HttpServer HAL.
 * Every request gets an explicit status: bad JSON 400, too large 413, unknown path 404, wrong
 * method 405, no access 401, cross-site 403; a handler error is a 500 with a sentence, never a
 * crash. The UI asset itself is given by the platform (`ui`), already gzipped.
 */
import type { Clock, HttpHandler, HttpServerRequest, HttpServerResponse } from '../hal/hal.js';
import { Auth, SESSION_COOKIE } from './auth.js';
import { CONFIG_VERSION, SECRET_FIELDS, type Config } from './config/types.js';
import { migrateConfig } from './config/migrate.js';
import { configForExport, redactConfig, validateConfig } from './config/validate.js';
import { defaultConfig } from './config/defaults.js';
import { checkTemplates, type Gateway } from './gateway.js';
import { buildContext, buildValueContext } from './template/context.js';
import { PRESETS } from './template/presets.js';
import { compileTemplate } from './template/template.js';
import { utf8String } from './bytes.js';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpServerResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): HttpServerResponse {
  return { status, headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' }, body };
}

function pathOf(req: HttpServerRequest): string {
  const q = req.url.indexOf('?');
  return q >= 0 ? req.url.slice(0, q) : req.url;
}

function query(req: HttpServerRequest, name: string): string | null {
  const q = req.url.indexOf('?');
  if (q < 0) return null;
  for (const part of req.url.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    const k = eq >= 0 ? part.slice(0, eq) : part;
    if (decodeURIComponent(k) === name) return eq >= 0 ? decodeURIComponent(part.slice(eq + 1)) : '';
  }
  return null;
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

export interface ApiOptions {
  gateway: Gateway;
  clock: Clock;
  randomBytes: (n: number) => Uint8Array;
  /** persists a config that passed validation */
  save: (config: Config) => void;
  restart: () => void;
  /** the gzipped single-file UI, if the platform has it */
  ui?: { gzip: Uint8Array; etag: string } | null;
  /** platform routes (OTA, network), under the same access and same-origin rules */
  routes?: Routes;
}

const sleep = (clock: Clock, ms: number) => new Promise<void>((done) => (ms > 0 ? clock.setTimeout(done, ms) : done()));

export function createApi(o: ApiOptions): { handler: HttpHandler; auth: Auth } {
  const g = o.gateway;
  const auth = new Auth(() => g.currentConfig.web.password, o.randomBytes, () => o.clock.now());

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
      if (v.config.web.password) headers['Set-Cookie'] = `${SESSION_COOKIE}=${auth.newSession()}; Path=/; HttpOnly; SameSite=Strict`;
    }
    return json(200, { config: redactConfig(v.config), warnings: v.warnings }, headers);
  };

  const routes: Routes = {
    ...o.routes,
    '/api/session': { GET: (req) => json(200, { passwordSet: auth.passwordSet, authenticated: auth.check(req.headers) }) },
    '/api/login': {
      POST: async (req) => {
        await sleep(o.clock, auth.delay());
        const b = jsonBody(req);
        if (!b.ok) return b.response;
        if (!auth.passwordSet) return json(409, { error: 'no password is set yet' });
        const token = auth.login(typeof b.value.password === 'string' ? b.value.password : '');
        if (!token) return json(401, { error: 'wrong password', detail: `wait ${Math.ceil(auth.delay() / 1000)} s before the next try` });
        return json(200, { ok: true }, { 'Set-Cookie': `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict` });
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
    '/metrics': {
      GET: () => {
        const m = g.renderMetrics();
        return m === null ? text(503, '# no reading yet\n') : text(200, m, 'text/plain; version=0.0.4; charset=utf-8');
      },
    },
    '/status': { GET: () => text(200, statusPage(g), 'text/html; charset=utf-8') },
    '/api/config': {
      GET: () => json(200, redactConfig(g.currentConfig)),
      PUT: async (req) => {
        const b = jsonBody(req);
        return b.ok ? applyInput(b.value, g.currentConfig) : b.response;
      },
    },
    '/api/config/export': {
      GET: (req) => {
        const secrets = query(req, 'secrets') === '1';
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
        const first = Object.keys(r.values)[0];
        const ctx = b.value.mode === 'values' && first ? buildValueContext(r, first, extra) : buildContext(r, g.lastDerivedValues, extra);
        return json(200, { ok: true, output: c.template.render(ctx) });
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

  const open = new Set(['/api/session', '/api/login']);
  const handler: HttpHandler = async (req) => {
    try {
      const path = pathOf(req);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      if ((path === '/' || path === '/index.html') && method === 'GET') {
        if (!o.ui) return text(200, '<!doctype html><title>meterbridge</title><p>The web UI is not built. See <a href="/status">/status</a>.', 'text/html; charset=utf-8');
        return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'gzip', ETag: o.ui.etag, 'Cache-Control': 'no-cache' }, body: o.ui.gzip };
      }
      const route = routes[path];
      if (!route) return json(404, { error: 'not found', path });
      if (method === 'POST' || method === 'PUT' || method === 'DELETE') {
        // cross-site request forgery: browsers send Origin on cross-site POSTs and cannot send
        // application/json cross-site without a preflight we never answer
        const origin = req.headers.origin;
        if (origin && origin !== 'null' && req.headers.host && origin.replace(/^https?:\/\//, '') !== req.headers.host) {
          return json(403, { error: 'cross-site request refused' });
        }
        if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
          return json(415, { error: 'Content-Type must be application/json' });
        }
      }
      if (!open.has(path) && !auth.check(req.headers)) {
        if (path === '/status' || path === '/metrics') return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="meterbridge"', 'Content-Type': 'text/plain' }, body: 'password required' };
        return json(401, { error: 'password required', detail: 'log in with the web password' });
      }
      const h = route[method];
      if (!h) return json(405, { error: `method ${req.method} not allowed`, allowed: Object.keys(route) }, { Allow: Object.keys(route).join(', ') });
      return await h(req);
    } catch (e) {
      return json(500, { error: 'internal error', detail: (e as Error).message });
    }
  };
  return { handler, auth };
}

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The status as plain HTML, for browsers without JavaScript. */
function statusPage(g: Gateway): string {
  const s = g.status();
  const r = g.lastReading;
  let rows = '';
  if (r) for (const [k, v] of Object.entries(r.values)) rows += `<tr><td>${esc(k)}</td><td>${esc(v.value)}</td><td>${esc(v.unit ?? '')}</td></tr>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="10"><title>meterbridge status</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:40rem}td{padding:.2rem .6rem}.ok{color:#176b2c}.warning{color:#8a5a00}.error{color:#a11}</style></head><body>
<h1>meterbridge</h1><p class="${esc(s.verdict.level)}">${esc(s.verdict.message)}</p>
<p>Meter ${esc(r?.meter.number ?? '-')}, clock ${esc(r?.timestamp ?? '-')}</p>
<table>${rows || '<tr><td>no reading yet</td></tr>'}</table>
<p>Frames ${s.pipeline.frames}, readings ${s.pipeline.readings}, errors ${s.pipeline.errors}. Version ${esc(s.version)}.</p></body></html>`;
}
