/**
 * The two small native modules of this firmware (hal/moddable/native/*.c + .js), listed in
 * manifest.json as "meterbridge/uart" and "meterbridge/rollback".
 */
declare module 'meterbridge/uart' {
  /**
   * Board defaults from the manifest defines (MODDEF_METERBRIDGE_*):
   * [uart port, RX GPIO (ESP32 input, wired to the click's data output), TX GPIO, RX FIFO
   * interrupt threshold in bytes, boot button GPIO].
   */
  export function boardDefaults(): [number, number, number, number, number];
  /**
   * uart_set_word_length/uart_set_parity/uart_set_stop_bits on a port the ECMA-419 Serial has
   * already opened (no ESP-IDF driver needed; esp_driver_uart/src/uart.c only takes its spinlock).
   * Throws on an invalid port or value.
   */
  export function configure(port: number, dataBits: number, parity: 'none' | 'even' | 'odd', stopBits: number): void;
  /** RX FIFO-full interrupt threshold, 1..120 bytes (uart_ll_set_rxfifo_full_thr). */
  export function setRxFullThreshold(port: number, bytes: number): void;
  /** Line errors since the last call, cleared by reading: bit 0 parity, bit 1 framing, bit 2 FIFO overflow. */
  export function takeLineErrors(port: number): number;
}

declare module 'meterbridge/rollback' {
  /** ESP-IDF OTA state of the running app; 'unknown' for a serially flashed image (no otadata entry). */
  export function imageState(): 'new' | 'pending' | 'valid' | 'invalid' | 'aborted' | 'undefined' | 'unknown';
  /** label of the running app partition, e.g. "ota_0" */
  export function runningPartition(): string;
  /** esp_ota_mark_app_valid_cancel_rollback(); true on success */
  export function markValid(): boolean;
  /** esp_ota_mark_app_invalid_rollback_and_reboot(); returns false only when it cannot roll back */
  export function rollBack(): boolean;
}
