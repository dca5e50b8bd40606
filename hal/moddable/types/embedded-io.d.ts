/**
 * ECMA-419 IO used here: `embedded:io/serial` (modules/io/serial/esp32/serial.{js,c}) and
 * `embedded:io/digital` (modules/io/digital/digital.js).
 *
 * Serial on ESP32: always 8N1 (uart_param_config with UART_PARITY_DISABLE), no dataBits/parity/
 * stopBits options, no software buffer: `read(buffer)` copies from the 128-byte hardware FIFO and
 * returns the count, or undefined when the FIFO is empty. `port` defaults to 0 (the debug UART).
 * onReadable fires on FIFO-full (threshold) or after an RX timeout of 4 symbols.
 */
declare module 'embedded:io/serial' {
  export interface SerialOptions {
    port?: number;
    receive?: number;
    transmit?: number;
    baud: number;
    format?: 'buffer' | 'number';
    onReadable?: (this: Serial, count: number) => void;
    onWritable?: (this: Serial, count: number) => void;
  }
  export default class Serial {
    constructor(options: SerialOptions);
    read(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
    read(count?: number): ArrayBuffer | undefined;
    write(data: ArrayBuffer | ArrayBufferView | number): void;
    close(): void;
    format: 'buffer' | 'number';
  }
}

declare module 'embedded:io/digital' {
  export interface DigitalOptions {
    pin: number;
    mode: number;
    /** Digital.Rising | Digital.Falling */
    edge?: number;
    onReadable?: (this: Digital) => void;
  }
  export default class Digital {
    constructor(options: DigitalOptions);
    read(): 0 | 1;
    write(value: 0 | 1): void;
    close(): void;
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly InputPullDown: number;
    static readonly Output: number;
    static readonly Rising: 1;
    static readonly Falling: 2;
  }
}
