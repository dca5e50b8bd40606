/**
 * `preference` (modules/files/preference/esp32/modPreference.c, ESP-IDF NVS). Domains and keys
 * are at most 15 characters, values at most 4000 bytes (documentation/files/files.md). A set
 * erases the key and then writes it (an ESP-IDF type-change workaround), so one key is not
 * written atomically. `set` throws "nvs set fail" (e.g. NVS full); `get` returns undefined for a
 * missing key. Non-integral numbers throw "float unsupported".
 */
declare module 'preference' {
  type PreferenceValue = boolean | number | string | ArrayBuffer;
  const Preference: {
    set(domain: string, key: string, value: PreferenceValue): void;
    get(domain: string, key: string): PreferenceValue | undefined;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}
