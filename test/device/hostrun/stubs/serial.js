/*
 * embedded:io/serial for the Linux build, behaving like the ESP32 one
 * (modules/io/serial/esp32/serial.c): a 128-byte receive FIFO and no software buffer;
 * onReadable(count) when the FIFO holds more than the RX-full threshold or the line has been
 * idle; read(buffer) copies out of the FIFO. The "line" is a TCP connection to the test on
 * 127.0.0.1:config.serialPort, which sends the meter's bytes paced like 2400 baud 8E1. Bytes that
 * arrive while the FIFO is full are lost and latched as an overflow, as on the chip.
 */
import Timer from "timer";
import { Socket } from "socket";
import config from "mc/config";

const FIFO = 128;
const IDLE_MS = 20;	// the chip's RX timeout is 4 symbols (17 ms at 2400 baud)

export default class Serial {
	#fifo = new Uint8Array(FIFO);
	#count = 0;
	#onReadable;
	#socket;
	#timer;
	#lastByte = 0;
	#pending = false;
	constructor(options) {
		if (options.format !== "buffer") throw new Error("stub: only format buffer");
		trace(`HOSTRUN serial: UART${options.port} RX GPIO${options.receive} TX GPIO${options.transmit} ${options.baud} baud\n`);
		this.#onReadable = options.onReadable;
		this.#socket = new Socket({ host: "127.0.0.1", port: Number(config.serialPort) });
		this.#socket.callback = (message, value) => {
			if (message === Socket.readable) this.#receive(new Uint8Array(this.#socket.read(ArrayBuffer, value)));
		};
		this.#timer = Timer.repeat(() => this.#check(), 5);
	}
	#receive(bytes) {
		for (let i = 0; i < bytes.length; i++) {
			if (this.#count < FIFO) this.#fifo[this.#count++] = bytes[i];
			else globalThis.__mbLineErrors = (globalThis.__mbLineErrors ?? 0) | 4;	// RXFIFO_OVF
		}
		this.#lastByte = Date.now();
		this.#check();
	}
	#check() {
		if (!this.#count || this.#pending || !this.#onReadable) return;
		const threshold = globalThis.__mbThreshold ?? 96;
		if ((this.#count > threshold) || ((Date.now() - this.#lastByte) >= IDLE_MS)) {
			// the interrupt is masked until JS has read, like serial.c
			this.#pending = true;
			Timer.set(() => {
				this.#pending = false;
				if (this.#count && this.#onReadable) this.#onReadable.call(this, this.#count);
			}, 0);
		}
	}
	read(buffer) {
		if (!this.#count) return undefined;
		if (!(buffer instanceof ArrayBuffer) && !ArrayBuffer.isView(buffer)) throw new Error("stub: read(buffer) only");
		const view = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
		const n = Math.min(view.length, this.#count);
		view.set(this.#fifo.subarray(0, n));
		this.#fifo.copyWithin(0, n, this.#count);
		this.#count -= n;
		return n;
	}
	write() { throw new Error("stub: the meter line is receive-only"); }
	close() {
		Timer.clear(this.#timer);
		this.#socket.close();
		this.#onReadable = undefined;
	}
	get format() { return "buffer"; }
	set format(value) { if (value !== "buffer") throw new Error("stub: only format buffer"); }
}
