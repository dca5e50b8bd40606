/*
 * The ESP32 `flash` module (modules/files/flash/esp32/flash.c) for the Linux build: a raw data
 * partition kept in a file under config.file.root, so it survives a restart of the runtime as
 * flash survives a power cycle. Partition sizes come from config.partitions (the test reads them
 * from hal/moddable/partitions.csv); a name it lacks fails as esp_partition_find_first does.
 *
 * NOR semantics, stricter than the chip: erase(sector) sets 4096 bytes to 0xFF, and a write may
 * only clear bits. esp_partition_write would AND a 1 over a 0 silently and leave a byte that is
 * neither the old nor the new value; here it throws, so a log that relies on it fails the test.
 */
import { File } from "file";
import config from "mc/config";

const SECTOR = 4096;

export default class Flash {
	#path;
	#size;
	constructor(name) {
		const size = config.partitions?.[name];
		if (!size) throw new Error("can't find partition");
		this.#path = `${config.file.root}partition.${name}`;
		this.#size = size;
		if (!File.exists(this.#path)) {
			const file = new File(this.#path, true);
			const blank = new Uint8Array(SECTOR).fill(0xff).buffer;
			for (let at = 0; at < size; at += SECTOR) file.write(blank);
			file.close();
		}
	}
	get byteLength() { return this.#size; }
	get blockSize() { return SECTOR; }
	#check(offset, byteLength, what) {
		if (!(offset >= 0 && byteLength >= 0 && offset + byteLength <= this.#size)) throw new Error(`${what} failed`);
	}
	#read(offset, byteLength) {
		const file = new File(this.#path);
		file.position = offset;
		const bytes = file.read(ArrayBuffer, byteLength);
		file.close();
		return bytes;
	}
	#store(offset, buffer) {
		const file = new File(this.#path, true);
		file.position = offset;
		file.write(buffer);
		file.close();
	}
	read(offset, byteLength) {
		this.#check(offset, byteLength, "read");
		return this.#read(offset, byteLength);
	}
	write(offset, byteLength, buffer) {
		const src = ArrayBuffer.isView(buffer)
			? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
			: new Uint8Array(buffer);
		if (byteLength <= 0 || src.length < byteLength) throw new Error("invalid");
		this.#check(offset, byteLength, "write");
		const old = new Uint8Array(this.#read(offset, byteLength));
		for (let i = 0; i < byteLength; i++) {
			if ((src[i] & ~old[i]) & 0xff) {
				trace(`HOSTRUN flash: write sets bits at ${offset + i} (0x${old[i].toString(16)} -> 0x${src[i].toString(16)}): NOR flash can only clear bits\n`);
				throw new Error(`flash stand-in: the write at ${offset + i} would set bits (0x${old[i].toString(16)} -> 0x${src[i].toString(16)}); NOR flash only clears bits, erase the sector first`);
			}
		}
		this.#store(offset, src.slice(0, byteLength).buffer);
	}
	erase(sector) {
		if (!(sector >= 0 && (sector + 1) * SECTOR <= this.#size)) throw new Error("erase failed");
		this.#store(sector * SECTOR, new Uint8Array(SECTOR).fill(0xff).buffer);
		trace(`HOSTRUN flash: erase ${sector}\n`);
	}
}
