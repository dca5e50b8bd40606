// The ESP32 `ota` module for the Linux build: takes the image and counts its bytes.
export default class OTA {
	#bytes = 0;
	constructor() { trace("HOSTRUN ota: begin\n"); }
	write(data) { this.#bytes += data.byteLength; }
	complete() { trace(`HOSTRUN ota: complete, ${this.#bytes} bytes\n`); }
	cancel() { trace(`HOSTRUN ota: cancelled after ${this.#bytes} bytes\n`); }
}
