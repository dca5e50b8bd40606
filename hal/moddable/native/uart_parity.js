/*
 * meterbridge/uart: the native side of hal/moddable/serial.ts (see uart_parity.c). Only function
 * definitions at module level, so the module can be preloaded (documentation/xs/preload.md:
 * defining native functions during preload is safe, calling them is not).
 */

function boardDefaults() @ "xs_meterbridge_uart_defaults";
function configure(port, dataBits, parity, stopBits) @ "xs_meterbridge_uart_configure";
function setRxFullThreshold(port, bytes) @ "xs_meterbridge_uart_rx_threshold";
function takeLineErrors(port) @ "xs_meterbridge_uart_take_errors";

export { boardDefaults, configure, setRxFullThreshold, takeLineErrors };
