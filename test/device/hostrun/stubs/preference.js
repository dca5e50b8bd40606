/*
 * `preference` for the Linux build, kept OUT of the JS heap like the ESP32's NVS: one file per
 * key under config.file.root. (The SDK's Linux preference holds every value in a JS object and
 * turns an ArrayBuffer into a "1,2,3" string: several times a stored blob in the chunk heap,
 * which the ESP32 never spends.) Types as modPreference.c keeps them: boolean, integer, string,
 * ArrayBuffer.
 */
import { File, Iterator } from "file";
import config from "mc/config";

const ROOT = config.file.root;

function path(domain, key) {
	return `${ROOT}${domain}.${key}`;
}

export default class Preference {
	static set(domain, key, value) {
		const p = path(domain, key);
		if (File.exists(p)) File.delete(p);
		const file = new File(p, true);
		if (value instanceof ArrayBuffer) { file.write("a"); file.write(value); }
		else if (typeof value === "string") file.write("s" + value);
		else if (typeof value === "boolean") file.write(value ? "t" : "f");
		else if (typeof value === "number") file.write("n" + String(value | 0));
		else { file.close(); throw new Error("stub preference: unsupported value"); }
		file.close();
	}
	static get(domain, key) {
		const p = path(domain, key);
		if (!File.exists(p)) return undefined;
		const file = new File(p);
		const kind = file.read(String, 1);
		let result;
		if (kind === "a") result = (file.length > 1) ? file.read(ArrayBuffer, file.length - 1) : new ArrayBuffer(0);
		else if (kind === "s") result = (file.length > 1) ? file.read(String, file.length - 1) : "";
		else if (kind === "t" || kind === "f") result = kind === "t";
		else if (kind === "n") result = Number(file.read(String, file.length - 1));
		file.close();
		return result;
	}
	static delete(domain, key) {
		const p = path(domain, key);
		if (File.exists(p)) File.delete(p);
	}
	static keys(domain) {
		const keys = [];
		const prefix = domain + ".";
		for (const item of new Iterator(ROOT)) {
			if ((item.length !== undefined) && item.name.startsWith(prefix)) keys.push(item.name.slice(prefix.length));
		}
		return keys;
	}
}
