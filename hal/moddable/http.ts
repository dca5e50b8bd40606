/**
 * HTTP on Moddable: the HAL HttpServer (web UI + API, streaming uploads for OTA) and the HAL
 * HttpClient (HTTP push).
 *
 * Server: NOT the SDK's legacy `http` Server, but a small HTTP/1.1 server on the same `socket`
 * Listener/Socket layer that http.js is built on. Two facts of modules/network/http/http.js rule
 * the SDK server out:
 *  1. it asks for the response synchronously: `prepareResponse` is called in the same turn as
 *     `requestComplete` (or `headersComplete` without a body), and the HAL handler is async (it
 *     returns a Promise), so its answer is never ready in time;
 *  2. a one-shot response body must fit the free TCP send buffer (`if (count > socket.write())
 *     return;` and then it waits for space that never comes): 8192 bytes on ESP32, 5744 on
 *     ESP32-C3/S3 (CONFIG_LWIP_TCP_SND_BUF_DEFAULT), smaller than the web UI (~20 KB gzipped) and
 *     than some JSON answers.
 * This server reads the request (head at most 8 KB, body at most `bodyLimit`, default 16 KB:
 * larger bodies are drained unread and flagged `bodyTooLarge`, so the handler answers 413), calls
 * the async handler, and streams the answer in pieces as the socket frees space, with
 * Content-Length and `Connection: close` (one request per connection, as the SDK server does).
 * Upload routes (OTA) take a body of any size piecewise instead of buffering it.
 *
 *   accept ─► head (lines) ─► body | drain | upload stream ─► handler (async) ─► send ─► close
 *
 * Data can only be read inside the socket's readable callback, one lwIP pbuf at a time
 * (lwip/modSocket.c xs_socket_read): every callback reads until `read()` is 0.
 *
 * Client: the SDK's `http` Request with a streamed body (so any size fits the send buffer), a
 * timeout that closes the request, and at most 512 bytes of the answer kept (the push publisher
 * only shows the start of an error body). http:// only: no TLS in this build.
 */
import { Listener, Socket } from 'socket';
import type { TcpStream } from 'socket';
import { Request } from 'http';
import Timer from 'timer';
import type { HttpClient, HttpHandler, HttpRequestOptions, HttpResponseData, HttpServer, HttpServerRequest, HttpServerResponse, Logger } from '../hal.js';
import type { UploadRoute, UploadSink } from './upload.js';

export interface ModdableHttpServerOptions {
  /** largest buffered request body, bytes (default 16 KB, the limit web-ui/API.md names) */
  bodyLimit?: number;
  /** connections served at once; more get 503 (lwIP allows 8 active TCP pcbs in all) */
  maxConnections?: number;
  uploads?: readonly UploadRoute[];
  logger?: Logger;
}

const HEAD_LIMIT = 8192;
/** a request must arrive completely within this time (slow or stuck clients) */
const RECEIVE_MS = 20_000;
/** a response must be taken by the client within this time */
const SEND_MS = 60_000;
/** a body above the limit is drained up to this size before answering; beyond it the connection is just closed after the answer */
const DRAIN_LIMIT = 4 * 1024 * 1024;

const REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Content Too Large', 415: 'Unsupported Media Type', 421: 'Misdirected Request',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
});

type Phase = 'head' | 'body' | 'drain' | 'stream' | 'wait' | 'send' | 'done';

function plain(status: number, text: string): HttpServerResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body: text + '\n' };
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(ArrayBuffer.fromString(text));
}

/** No CR or LF may reach the wire from a header (response splitting). */
function headerSafe(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

class Connection {
  phase: Phase = 'head';
  private partial = '';
  private headBytes = 0;
  private method = '';
  private url = '';
  private readonly headers: Record<string, string> = {};
  private expected = 0;
  private received = 0;
  private body: Uint8Array | null = null;
  private tooLarge = false;
  private sink: UploadSink | null = null;
  private out: Uint8Array | null = null;
  private outAt = 0;
  private head: Uint8Array | null = null;
  private timer: Timer | undefined;

  constructor(
    private readonly server: ModdableHttpServer,
    private readonly socket: TcpStream,
  ) {
    socket.callback = (message, value) => this.event(message, value ?? 0);
    this.timer = Timer.set(() => this.timeout(), RECEIVE_MS);
  }

  /** Answers at once (too many connections) without reading anything. */
  refuse(response: HttpServerResponse): void {
    this.respond(response, false);
  }

  close(): void {
    if (this.phase === 'done') return;
    const sink = this.sink;
    this.sink = null;
    this.phase = 'done';
    if (this.timer) Timer.clear(this.timer);
    this.timer = undefined;
    this.body = null;
    this.out = null;
    try {
      this.socket.close();
    } catch {
      // already closed by the peer
    }
    this.server.forget(this);
    if (sink) {
      try {
        sink.abort();
      } catch {
        // the sink cleans up after itself
      }
    }
  }

  private timeout(): void {
    this.timer = undefined;
    this.close();
  }

  private event(message: number, value: number): void {
    try {
      if (message === 2) this.readable();
      else if (message === 3) this.pump();
      else if (message < 0) this.close();
    } catch (e) {
      this.server.log('warn', `http: connection dropped: ${(e as Error).message}`);
      this.close();
    }
  }

  private readable(): void {
    const s = this.socket;
    while (this.phase !== 'done' && s.read() > 0) {
      switch (this.phase) {
        case 'head':
          this.headLine(s.read(String, '\n'));
          break;
        case 'body': {
          const chunk = s.read(ArrayBuffer, this.take());
          this.body!.set(new Uint8Array(chunk), this.received);
          this.received += chunk.byteLength;
          if (this.received >= this.expected) this.dispatch();
          break;
        }
        case 'drain':
          this.received += s.read(null, this.take());
          if (this.received >= this.expected) this.dispatch();
          break;
        case 'stream': {
          const chunk = s.read(ArrayBuffer, this.take());
          this.received += chunk.byteLength;
          const early = this.sink!.write(new Uint8Array(chunk));
          if (early) {
            this.sink = null;
            this.respond(early, false);
          } else if (this.received >= this.expected) this.finishStream();
          break;
        }
        default:
          // after the request: nothing more is expected on a Connection: close exchange
          s.read(null);
      }
    }
  }

  /**
   * How many bytes to read now: the rest of this pbuf, at most what the body still needs. The
   * native read takes its count as a uint16 (lwip/modSocket.c), so it must never see a larger one.
   */
  private take(): number {
    return Math.min(this.socket.read(), this.expected - this.received);
  }

  private headLine(piece: string): void {
    this.headBytes += piece.length;
    if (this.headBytes > HEAD_LIMIT) return this.respond(plain(431, `the request head is larger than ${HEAD_LIMIT} bytes`), false);
    if (!piece.endsWith('\n')) {
      this.partial += piece; // the line continues in the next pbuf
      return;
    }
    const line = (this.partial + piece).replace(/\r?\n$/, '');
    this.partial = '';
    if (this.method === '') {
      if (line === '') return; // tolerated blank lines before the request line (RFC 9112 §2.2)
      const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
      if (!m) return this.respond(plain(400, 'malformed request line'), false);
      this.method = m[1];
      this.url = m[2];
      return;
    }
    if (line !== '') {
      const colon = line.indexOf(':');
      if (colon <= 0) return this.respond(plain(400, 'malformed header line'), false);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = this.headers[name];
      this.headers[name] = prev === undefined ? value : prev + (name === 'cookie' ? '; ' : ', ') + value;
      return;
    }
    this.headersDone();
  }

  private headersDone(): void {
    const h = this.headers;
    if (h['transfer-encoding'] !== undefined) return this.respond(plain(411, 'send the body with a Content-Length (chunked request bodies are not supported)'), false);
    const lengthText = h['content-length'] ?? '0';
    if (!/^\d{1,10}$/.test(lengthText)) return this.respond(plain(400, 'malformed Content-Length'), false);
    this.expected = Number(lengthText);
    const continues = (h.expect ?? '').toLowerCase() === '100-continue';
    if (this.expected > 0) {
      for (const route of this.server.uploads) {
        const r = route.accept({ method: this.method, url: this.url, headers: h, length: this.expected, remoteAddress: this.remote() });
        if (r === null) continue;
        if ('write' in r) {
          this.sink = r;
          this.phase = 'stream';
          if (continues) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
          return;
        }
        // refused before the body: a client that asked for 100-continue has not sent it
        return this.respond(r, false);
      }
    }
    if (this.expected === 0) return this.dispatch();
    if (this.expected > this.server.bodyLimit) {
      this.tooLarge = true;
      // with 100-continue the client waits for us; otherwise read and drop the body first, so
      // closing does not reset the connection before the client has read the answer
      if (continues || this.expected > DRAIN_LIMIT) return this.dispatch();
      this.phase = 'drain';
      return;
    }
    this.body = new Uint8Array(this.expected);
    this.phase = 'body';
    if (continues) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  private remote(): string | undefined {
    try {
      return this.socket.get('REMOTE_IP');
    } catch {
      return undefined;
    }
  }

  private request(): HttpServerRequest {
    return {
      method: this.method,
      url: this.url,
      headers: this.headers,
      body: this.body ?? new Uint8Array(0),
      bodyTooLarge: this.tooLarge || undefined,
      remoteAddress: this.remote(),
    };
  }

  private dispatch(): void {
    this.phase = 'wait';
    if (this.timer) Timer.clear(this.timer);
    this.timer = undefined;
    const req = this.request();
    this.body = null;
    this.server.handle(req).then(
      (res) => this.respond(res, req.method === 'HEAD'),
      (e: unknown) => this.respond(plain(500, `internal error: ${(e as Error).message}`), false),
    );
  }

  private finishStream(): void {
    const sink = this.sink!;
    this.sink = null;
    this.phase = 'wait';
    if (this.timer) Timer.clear(this.timer);
    this.timer = undefined;
    sink.end().then(
      (res) => this.respond(res, false),
      (e: unknown) => this.respond(plain(500, `upload failed: ${(e as Error).message}`), false),
    );
  }

  private respond(res: HttpServerResponse, headOnly: boolean): void {
    if (this.phase === 'done' || this.phase === 'send') return;
    if (this.sink) {
      const sink = this.sink;
      this.sink = null;
      sink.abort();
    }
    this.phase = 'send';
    if (this.timer) Timer.clear(this.timer);
    this.timer = Timer.set(() => this.timeout(), SEND_MS);
    const body = typeof res.body === 'string' ? utf8(res.body) : res.body;
    let head = `HTTP/1.1 ${res.status} ${REASONS[res.status] ?? 'Status'}\r\n`;
    for (const name of Object.keys(res.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding' || !/^[A-Za-z0-9-]+$/.test(name)) continue;
      head += `${name}: ${headerSafe(String(res.headers[name]))}\r\n`;
    }
    head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    this.head = utf8(head);
    this.out = headOnly ? null : body;
    this.outAt = 0;
    this.pump();
  }

  /** Writes as much as the socket takes now; the writable callback calls again. */
  private pump(): void {
    if (this.phase !== 'send') return;
    const s = this.socket;
    try {
      if (this.head !== null) {
        if (s.write() < this.head.length) return;
        s.write(this.head);
        this.head = null;
      }
      const out = this.out;
      while (out && this.outAt < out.length) {
        const space = s.write();
        if (space <= 0) return;
        const n = Math.min(space, out.length - this.outAt);
        s.write(out.subarray(this.outAt, this.outAt + n));
        this.outAt += n;
      }
    } catch (e) {
      this.server.log('warn', `http: response not sent: ${(e as Error).message}`);
    }
    // everything is queued in lwIP (or the socket failed); a graceful close sends it before the FIN
    this.close();
  }
}

export class ModdableHttpServer implements HttpServer {
  readonly bodyLimit: number;
  readonly uploads: readonly UploadRoute[];
  private readonly maxConnections: number;
  private readonly logger: Logger | null;
  private listener: Listener | null = null;
  private handler: HttpHandler | null = null;
  private readonly connections = new Set<Connection>();

  constructor(options: ModdableHttpServerOptions = {}) {
    this.bodyLimit = options.bodyLimit ?? 16 * 1024;
    this.maxConnections = options.maxConnections ?? 4;
    this.uploads = options.uploads ?? [];
    this.logger = options.logger ?? null;
  }

  listen(port: number, handler: HttpHandler): Promise<number> {
    try {
      const listener = new Listener({ port });
      listener.callback = () => this.accept(listener);
      this.listener = listener;
      this.handler = handler;
      return Promise.resolve(port);
    } catch (e) {
      return Promise.reject(new Error(`cannot listen on port ${port}: ${(e as Error).message}`));
    }
  }

  close(): Promise<void> {
    const l = this.listener;
    this.listener = null;
    if (l) l.close();
    for (const c of [...this.connections]) c.close();
    return Promise.resolve();
  }

  /** @internal */
  handle(req: HttpServerRequest): Promise<HttpServerResponse> {
    const h = this.handler;
    if (!h) return Promise.resolve(plain(503, 'the server is closing'));
    return h(req);
  }

  /** @internal */
  forget(c: Connection): void {
    this.connections.delete(c);
  }

  /** @internal */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.logger?.log(level, message);
  }

  private accept(listener: Listener): void {
    let socket: TcpStream;
    try {
      // @moddable/typings 5.6.0 types this as its TCPSocket, which lacks read() and read(null)
      socket = new Socket({ listener, noDelay: true }) as TcpStream;
    } catch (e) {
      this.log('warn', `http: cannot accept a connection: ${(e as Error).message}`);
      return;
    }
    const c = new Connection(this, socket);
    if (this.connections.size >= this.maxConnections) {
      c.refuse(plain(503, 'busy: too many connections, try again'));
      return;
    }
    this.connections.add(c);
  }
}

/** http://host[:port]/path?query → its parts; https and credentials in the URL are refused. */
export function parseHttpUrl(url: string): { ok: true; host: string; port: number; path: string } | { ok: false; message: string } {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url.trim());
  if (!m) return { ok: false, message: `'${url}' is not an absolute http:// URL` };
  const scheme = m[1].toLowerCase();
  if (scheme === 'https') return { ok: false, message: 'https is not available in the device build (no TLS): use http:// in the home network' };
  if (scheme !== 'http') return { ok: false, message: `the scheme '${scheme}' is not supported (http:// only)` };
  const authority = m[2];
  if (authority.includes('@')) return { ok: false, message: 'credentials in the URL are not supported: use an Authorization header' };
  const hp = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!hp) return { ok: false, message: `'${authority}' is not a host name or IPv4 address with an optional port` };
  const port = hp[2] === undefined ? 80 : Number(hp[2]);
  if (port < 1 || port > 65535) return { ok: false, message: `port ${port} is not 1..65535` };
  return { ok: true, host: hp[1], port, path: m[3] === '' ? '/' : m[3] };
}

const KEEP_BYTES = 512;

export class ModdableHttpClient implements HttpClient {
  request(o: HttpRequestOptions): Promise<HttpResponseData> {
    const u = parseHttpUrl(o.url);
    if (!u.ok) return Promise.reject(new Error(u.message));
    return new Promise<HttpResponseData>((resolve, reject) => {
      const body = utf8(o.body);
      const headers: string[] = [];
      for (const name of Object.keys(o.headers)) {
        const lower = name.toLowerCase();
        if (lower === 'content-length' || lower === 'connection' || lower === 'host' || lower === 'transfer-encoding') continue;
        headers.push(name, headerSafe(o.headers[name]));
      }
      headers.push('content-length', String(body.length));
      const where = `${u.host}:${u.port}`;
      let sent = 0;
      let status = 0;
      const kept: Uint8Array = new Uint8Array(KEEP_BYTES);
      let keptLength = 0;
      let done = false;
      let req: Request | null = null;
      const timer = Timer.set(() => finish(new Error(`no answer from ${where} within ${o.timeoutMs} ms`), null), Math.max(1, o.timeoutMs));
      const finish = (error: Error | null, result: HttpResponseData | null) => {
        if (done) return;
        done = true;
        Timer.clear(timer);
        try {
          req?.close();
        } catch {
          // already closed by http.js after responseComplete
        }
        if (error) reject(error);
        else resolve(result!);
      };
      try {
        req = new Request({ host: u.host, port: u.port, path: u.path, method: o.method, headers, body: true });
      } catch (e) {
        finish(new Error(`cannot connect to ${where}: ${(e as Error).message}`), null);
        return;
      }
      const r = req;
      r.callback = (message: number, value?: unknown) => {
        switch (message) {
          case Request.requestFragment: {
            if (sent >= body.length) return undefined;
            // no space now: an empty piece writes nothing and waits for the next writable event
            const space = typeof value === 'number' && value > 0 ? value : 0;
            const n = Math.min(space, body.length - sent);
            const piece = body.subarray(sent, sent + n);
            sent += n;
            // http.js passes it to socket.write, which takes any view; 5.6.0 types only ArrayBuffer
            return piece as unknown as ArrayBuffer;
          }
          case Request.status:
            status = typeof value === 'number' ? value : 0;
            return undefined;
          case Request.responseFragment: {
            // 4 at run time (http.js); @moddable/typings 5.6.0 types it as 3 (headersComplete)
            // take what fits in KEEP_BYTES, skip the rest: http.js only moves on once it is read
            const room = KEEP_BYTES - keptLength;
            const available = r.read();
            if (room > 0 && available > 0) {
              const ab = r.read(ArrayBuffer, Math.min(room, available));
              if (ab) {
                kept.set(new Uint8Array(ab), keptLength);
                keptLength += ab.byteLength;
              }
            }
            if (r.read() > 0) r.read(null);
            return undefined;
          }
          case Request.responseComplete: {
            let text = '';
            try {
              text = String.fromArrayBuffer(kept.slice(0, keptLength).buffer);
            } catch {
              text = ''; // cut inside a UTF-8 sequence, or not text
            }
            finish(null, { status, body: text });
            return undefined;
          }
          case Request.error:
            finish(new Error(status ? `the connection to ${where} broke during the answer` : `cannot reach ${where} (connection refused, no route, or the host name does not resolve)`), null);
            return undefined;
          default:
            return undefined;
        }
      };
    });
  }
}
