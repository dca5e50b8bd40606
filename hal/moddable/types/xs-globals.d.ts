/**
 * Globals of the XS engine and the Moddable runtime that this device code uses, and nothing
 * else. Sources (Moddable SDK 8.2.3): the XS built-in extensions in `xs/sources/xsDataView.c`
 * (ArrayBuffer.fromString, String.fromArrayBuffer: UTF-8, absent in CESU-8 builds such as
 * xsnap), `trace` in `xs/platforms/mc/xsHosts.c`, host buffers in `documentation/files/files.md`
 * (Resource), `System` in `modules/io/system/system.js` (installed on globalThis by the preloaded
 * ECMA-419 `system` module, which modules/io/manifest.json includes).
 *
 * A script file (no import/export), so the interfaces below merge into the global ones.
 */

/** Writes to the debug console (xsbug or the serial log). Only strings and numbers are safe. */
declare function trace(...values: (string | number | boolean)[]): void;

/** Read-only memory outside the XS heap, e.g. a resource in flash. A Uint8Array can view it. */
declare class HostBuffer {
  readonly byteLength: number;
  private readonly hostBufferBrand: never;
}

interface ArrayBufferConstructor {
  /** The UTF-8 bytes of a string (XS extension). */
  fromString(text: string): ArrayBuffer;
}

interface StringConstructor {
  /** A string from UTF-8 bytes (XS extension); throws on malformed UTF-8. */
  fromArrayBuffer(buffer: ArrayBuffer): string;
}

interface Uint8ArrayConstructor {
  /** XS lets a typed array view a host buffer (examples/files/resource/main.js). Read-only memory. */
  new (buffer: HostBuffer, byteOffset?: number, length?: number): Uint8Array;
}

/** The ECMA-419 system object the preloaded `system` module puts on globalThis. */
declare const System: {
  /** esp_restart() on ESP32 (modules/io/system/system.c). Does not return. */
  restart(): void;
};
