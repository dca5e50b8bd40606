/**
 * The legacy ESP32 `ota` module (build/devices/esp32/modules/ota/ota.{js,c}; not in
 * @moddable/typings 5.6.0). The constructor calls esp_ota_begin on the next update partition with
 * sequential writes (flash is erased as it is written); `write` appends; `complete` runs
 * esp_ota_end (which validates the image) and esp_ota_set_boot_partition; `cancel` aborts. Each
 * failure throws ("no update parition", "begin failed", "write failed", "end failed", "can't
 * change boot partition").
 */
declare module 'ota' {
  export default class OTA {
    constructor();
    write(data: ArrayBuffer | ArrayBufferView): void;
    complete(): void;
    cancel(): void;
  }
}
