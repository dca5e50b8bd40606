/**
 * Streamed request bodies: the contract between the device's HTTP server (http.ts) and a route
 * that takes a large body piece by piece instead of buffering it (the OTA upload, ota.ts). Types
 * only, free of SDK modules, so the routes can be tested on the host.
 */
import type { HttpServerResponse } from '../hal.js';

export interface UploadHead {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Content-Length */
  length: number;
  /** the client's IP address (the API's per-address guessing limit) */
  remoteAddress?: string;
}

/** Receives one request body piece by piece. */
export interface UploadSink {
  /** A piece of the body, valid during the call only. A response ends the upload early. */
  write(chunk: Uint8Array): HttpServerResponse | null;
  /** The whole body has arrived. */
  end(): Promise<HttpServerResponse>;
  /** The connection ended before the body did. */
  abort(): void;
}

/** A route that streams request bodies instead of buffering them (OTA firmware uploads). */
export interface UploadRoute {
  /** For a request with a body: a sink to stream it, a response to refuse it, or null to pass. */
  accept(head: UploadHead): UploadSink | HttpServerResponse | null;
}
