/**
 * The legacy TCP `socket` module (modules/network/socket/socket.js, lwip/modSocket.c,
 * documentation/network/network.md § Socket, § Listener). Data can only be read inside the
 * callback's readable message. `write()` with no argument returns the free send-buffer space;
 * `write(...)` with data throws "can't write all data" when it does not fit (all or nothing).
 * Only the TCP parts this firmware uses are declared.
 */
declare module 'socket' {
  type SocketData = string | number | ArrayBuffer | ArrayBufferView | HostBuffer;

  export class Listener {
    constructor(options: { port: number });
    /** a connection is waiting: accept it with `new Socket({listener})` */
    callback: (this: Listener) => void;
    close(): void;
  }

  export class Socket {
    constructor(options: { host?: string; address?: string; port: number; noDelay?: boolean } | { listener: Listener; noDelay?: boolean });
    /**
     * message: 1 connected, 2 readable (value = bytes available), 3 writable (value = bytes that
     * may be written), -1 disconnected, -2 error. The socket is unusable after a negative one.
     */
    callback: (message: number, value?: number) => void;
    /** bytes available to read */
    read(): number;
    read(type: StringConstructor, until?: number | string): string;
    read(type: ArrayBufferConstructor, until?: number | string): ArrayBuffer;
    read(type: NumberConstructor): number;
    /** skips bytes; returns how many were skipped */
    read(type: null, until?: number | string): number;
    write(): number;
    write(...data: SocketData[]): void;
    get(what: 'REMOTE_IP'): string | undefined;
    close(): void;
  }
}
