// meterbridge/uart (hal/moddable/native/uart_parity.c) for the Linux build: records the frame
// format and the RX-full threshold the firmware asks for; line errors come from the serial stub.
export function boardDefaults() { return [2, 16, 17, 32, 0]; }
export function configure(port, dataBits, parity, stopBits) {
	trace(`HOSTRUN uart: UART${port} ${dataBits}/${parity}/${stopBits}\n`);
}
export function setRxFullThreshold(port, bytes) {
	globalThis.__mbThreshold = bytes;
}
export function takeLineErrors(port) {
	const bits = globalThis.__mbLineErrors ?? 0;
	globalThis.__mbLineErrors = 0;
	return bits;
}
