/**
 * Narrow corrections to @moddable/typings 5.6.0, checked against the Moddable SDK 8.2.3 sources.
 * Only exported declarations can be augmented; where 5.6.0 keeps a class unexported, an exported
 * interface with the runtime's shape is added here and the one place that creates the object
 * casts to it.
 */
export {};

declare module 'socket' {
  interface Listener {
    /** xs_listener_close (socket.js); 5.6.0 omits it */
    close(): void;
  }

  /**
   * A TCP socket as lwip/modSocket.c xs_socket_read/xs_socket_write implement it. 5.6.0 types
   * `new Socket({listener})` as its unexported TCPSocket, whose read lacks the no-argument form
   * (bytes available), `null` (skip) and a string terminator.
   */
  export interface TcpStream {
    callback: (message: number, value?: number) => void;
    /** bytes available to read */
    read(): number;
    read(type: StringConstructor, until?: number | string): string;
    read(type: ArrayBufferConstructor, until?: number | string): ArrayBuffer;
    /** skips bytes; returns how many were skipped */
    read(type: null, until?: number | string): number;
    /** free space in the send buffer */
    write(): number;
    /** all or nothing: throws "can't write all data" when it does not fit */
    write(...data: (string | number | ArrayBuffer | ArrayBufferView | HostBuffer)[]): void;
    get(what: 'REMOTE_IP'): string | undefined;
    close(): void;
  }
}

declare module 'http' {
  interface Request {
    /** skips the available bytes (or `limit` of them); 5.6.0 omits the `null` form of http.js */
    read(type: null, limit?: number): number | undefined;
  }
}
