/**
 * The legacy `http` module (modules/network/http/http.js; documentation/network/network.md
 * § HTTP Request, § HTTP Server). Every request sends `Connection: close`.
 *
 * Request callback messages (Request.*): 0 requestFragment — value is the free send space, return
 * the next piece of the body (body: true) or undefined when done; 1 status — value is the status
 * code; 2 header — value the lower-case name, etc the value; 3 headersComplete; 4
 * responseFragment — value is the bytes available, read them with `read`; 5 responseComplete —
 * value is the body when `response` was given; -2 error (socket failure; value a socket code).
 * A string body is measured with `.length` (code points in XS), so send UTF-8 as bytes.
 *
 * Server: declared for completeness; hal/moddable/http.ts does NOT use it (its prepareResponse
 * must return the response synchronously, which an async handler cannot do; see http.ts).
 */
declare module 'http' {
  type Body = string | ArrayBuffer | ArrayBufferView | HostBuffer;

  export interface RequestOptions {
    host?: string;
    address?: string;
    port?: number;
    path?: string;
    method?: string;
    /** name, value, name, value… */
    headers?: string[];
    /** true: the body is supplied piecewise through requestFragment */
    body?: true | string | ArrayBuffer;
    /** collect the response body as one String or ArrayBuffer; absent: responseFragment */
    response?: StringConstructor | ArrayBufferConstructor;
  }

  export class Request {
    constructor(options: RequestOptions);
    callback: (message: number, value?: unknown, etc?: unknown) => Body | undefined | void;
    /** bytes available */
    read(): number;
    read(type: StringConstructor, limit?: number): string | undefined;
    read(type: ArrayBufferConstructor, limit?: number): ArrayBuffer | undefined;
    /** skips the available bytes (or `limit` of them) */
    read(type: null, limit?: number): number | undefined;
    close(): void;
    static readonly requestFragment: 0;
    static readonly status: 1;
    static readonly header: 2;
    static readonly headersComplete: 3;
    static readonly responseFragment: 4;
    static readonly responseComplete: 5;
    static readonly error: -2;
  }

  export interface ServerResponse {
    status?: number;
    reason?: string;
    /** name, value, name, value… */
    headers?: string[];
    /** true: streamed through responseFragment */
    body?: true | string | ArrayBuffer;
  }

  export class Server {
    constructor(options?: { port?: number });
    /** `this` is a per-connection Request */
    callback: (this: Request, message: number, value?: unknown, etc?: unknown) => unknown;
    close(connections?: boolean): void;
    static readonly connection: 1;
    static readonly status: 2;
    static readonly header: 3;
    static readonly headersComplete: 4;
    static readonly requestFragment: 5;
    static readonly requestComplete: 6;
    static readonly prepareResponse: 8;
    static readonly responseFragment: 9;
    static readonly responseComplete: 10;
    static readonly error: -1;
  }

  const http: { readonly Request: typeof Request; readonly Server: typeof Server };
  export default http;
}
