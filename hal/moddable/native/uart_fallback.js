/*
 * A drop-in replacement for meterbridge/uart (uart_parity.js + .c) when the native file does not
 * build with a future ESP-IDF: in manifest.json map "meterbridge/uart" to
 * "./hal/moddable/native/uart_fallback" instead. The UART then stays at 8N1 with the reset FIFO
 * threshold (96 bytes: about 0.15 s of slack at 2400 baud), reading 8E1 data as described in
 * uart_parity.c. Keep the board defaults below equal to manifest.json's defines.
 */

const DEFAULTS = Object.freeze([2, 16, 17, 96, 0]);

function boardDefaults() {
	return DEFAULTS.slice();
}

function configure(port, dataBits, parity, stopBits) {
	if ((8 !== dataBits) || ("none" !== parity) || (1 !== stopBits))
		throw new Error("this build reads 8N1 only (native meterbridge/uart left out): set the parity to none");
}

function setRxFullThreshold(port, bytes) {
}

function takeLineErrors(port) {
	return 0;
}

export { boardDefaults, configure, setRxFullThreshold, takeLineErrors };
