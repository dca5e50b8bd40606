/**
 * A real serial port through the `serialport` package (2400 baud 8E1 by default). The port is
 * reopened after it vanishes (a USB adapter unplugged), every 5 s, without crashing the gateway.
 */
import type { ByteSource, SerialOptions } from '../hal.js';

export class SerialSource implements ByteSource {
  readonly description: string;
  private port: { close(cb?: (err: Error | null) => void): void; isOpen: boolean } | null = null;
  private reopen: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly options: SerialOptions) {
    const parity = options.parity === 'even' ? 'E' : options.parity === 'odd' ? 'O' : 'N';
    this.description = `serial port ${options.path} (${options.baudRate} baud ${options.dataBits}${parity}${options.stopBits})`;
  }

  start(onBytes: (bytes: Uint8Array) => void, onError: (message: string) => void): void {
    this.stopped = false;
    void this.open(onBytes, onError);
  }

  private async open(onBytes: (bytes: Uint8Array) => void, onError: (message: string) => void): Promise<void> {
    const retry = (message: string) => {
      onError(`${message}; trying again in 5 s`);
      if (!this.stopped) this.reopen = setTimeout(() => void this.open(onBytes, onError), 5000);
    };
    let SerialPort: typeof import('serialport').SerialPort;
    try {
      ({ SerialPort } = await import('serialport'));
    } catch (e) {
      onError(`the serialport package cannot be loaded: ${(e as Error).message}`);
      return;
    }
    const o = this.options;
    const port = new SerialPort({ path: o.path, baudRate: o.baudRate, dataBits: o.dataBits, parity: o.parity, stopBits: o.stopBits, autoOpen: false });
    port.on('data', (chunk: Buffer) => onBytes(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    port.on('close', () => {
      if (!this.stopped) retry(`${o.path} closed`);
    });
    port.on('error', (err: Error) => onError(`${o.path}: ${err.message}`));
    port.open((err) => {
      if (err) retry(`cannot open ${o.path}: ${err.message}`);
    });
    this.port = port;
  }

  stop(): void {
    this.stopped = true;
    if (this.reopen) clearTimeout(this.reopen);
    if (this.port?.isOpen) this.port.close();
    this.port = null;
  }
}
