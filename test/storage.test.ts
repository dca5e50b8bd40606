// hal/moddable/storage.ts: the device's crash-safe storage on `preference` (ESP-IDF NVS). The
// SDK module does not exist on the host, so a small NVS stand-in enforces the documented limits
// (15-character keys, 4000-byte values, set = erase then write) and can cut the power mid-write.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const nvs = new Map<string, string | ArrayBuffer | number | boolean>();
let writesLeft = Infinity; // the power fails when this reaches 0
class PowerCut extends Error {
  override message = 'power cut';
}

vi.mock('preference', () => ({
  default: {
    set(domain: string, key: string, value: string | ArrayBuffer | number | boolean) {
      if (domain.length > 15 || key.length > 15) throw new Error(`key too long: ${key}`);
      const size = typeof value === 'string' ? value.length : value instanceof ArrayBuffer ? value.byteLength : 4;
      if (size > 4000) throw new Error('nvs set fail');
      if (writesLeft-- <= 0) throw new PowerCut();
      nvs.delete(`${domain}/${key}`); // the erase happens first
      if (writesLeft-- <= 0) throw new PowerCut();
      nvs.set(`${domain}/${key}`, value instanceof ArrayBuffer ? value.slice(0) : value);
    },
    get: (domain: string, key: string) => nvs.get(`${domain}/${key}`),
    delete(domain: string, key: string) {
      if (writesLeft-- <= 0) throw new PowerCut();
      nvs.delete(`${domain}/${key}`);
    },
    keys: (domain: string) => [...nvs.keys()].filter((k) => k.startsWith(domain + '/')).map((k) => k.slice(domain.length + 1)),
  },
}));

// XS built-ins the device has and Node lacks (xs.d.ts): UTF-8 string <-> ArrayBuffer
const xs = { ArrayBuffer: ArrayBuffer as unknown as Record<string, unknown>, String: String as unknown as Record<string, unknown> };
xs.ArrayBuffer.fromString ??= (s: string) => new TextEncoder().encode(s).buffer;
xs.String.fromArrayBuffer ??= (b: ArrayBuffer) => new TextDecoder().decode(b);

const { PreferenceStorage, keyPrefix } = await import('../hal/moddable/storage.js');

beforeEach(() => {
  nvs.clear();
  writesLeft = Infinity;
});

const big = (seed: number, n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(32 + ((i * 7 + seed) % 90))).join('') + 'ü€';

describe('device storage on preference', () => {
  it('round-trips small and large values, names of any length', () => {
    const s = new PreferenceStorage();
    expect(s.read('config')).toBeNull();
    s.write('config', '{"a":1}');
    expect(s.read('config')).toBe('{"a":1}');
    const text = big(1, 30_000);
    s.write('a rather long name with spaces', text);
    expect(s.read('a rather long name with spaces')).toBe(text);
    for (const key of nvs.keys()) expect(key.split('/')[1].length).toBeLessThanOrEqual(15);
    expect(keyPrefix('config').length).toBeLessThanOrEqual(9);
    s.remove('config');
    expect(s.read('config')).toBeNull();
  });

  it('a power cut at any point of a write leaves the old or the new value, never garbage', () => {
    const s = new PreferenceStorage();
    const oldText = big(2, 9000);
    const newText = big(3, 12_000);
    s.write('config', oldText);
    let sawOld = 0;
    let sawNew = 0;
    for (let cut = 0; cut < 40; cut++) {
      nvs.clear();
      writesLeft = Infinity;
      s.write('config', oldText);
      writesLeft = cut;
      try {
        s.write('config', newText);
      } catch (e) {
        // the storage reports the failed write in its own words; it must be our power cut
        if (writesLeft > 0) throw e;
      }
      writesLeft = Infinity;
      const after = new PreferenceStorage().read('config');
      expect([oldText, newText]).toContain(after);
      if (after === oldText) sawOld++;
      else sawNew++;
    }
    expect(sawOld).toBeGreaterThan(0);
    expect(sawNew).toBeGreaterThan(0);
  });
});
