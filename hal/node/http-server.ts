/**
 * The HttpServer HAL on node:http: reads bodies up to a limit (larger ones are not read and are
 * flagged, so the handler answers 413), never lets a handler error take the process down.
 */
import { createServer, type Server } from 'node:http';
import type { HttpHandler, HttpServer } from '../hal.js';

export function nodeHttpServer(options: { host?: string; bodyLimit?: number } = {}): HttpServer {
  const limit = options.bodyLimit ?? 16 * 1024;
  let server: Server | null = null;
  return {
    listen(port, handler: HttpHandler) {
      return new Promise((resolve, reject) => {
        server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let tooLarge = false;
          req.on('data', (c: Buffer) => {
            size += c.length;
            if (size > limit) tooLarge = true;
            else chunks.push(c);
          });
          req.on('error', () => res.destroy());
          req.on('end', async () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
            let out;
            try {
              out = await handler({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body: new Uint8Array(Buffer.concat(chunks)), bodyTooLarge: tooLarge, remoteAddress: req.socket.remoteAddress });
            } catch (e) {
              out = { status: 500, headers: { 'Content-Type': 'text/plain' }, body: `internal error: ${(e as Error).message}` };
            }
            res.writeHead(out.status, out.headers);
            res.end(req.method === 'HEAD' ? undefined : out.body);
          });
        });
        server.on('error', reject);
        server.listen(port, options.host ?? '127.0.0.1', () => {
          const a = server!.address();
          resolve(typeof a === 'object' && a ? a.port : port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
