/**
 * Constant tables frozen all the way down. On the ESP32 the firmware module is preloaded: what
 * its module body builds lives in flash, but any object that is still extensible is given a RAM
 * slot and is copied into RAM when touched ("aliased"). Freezing every nested object and array
 * keeps a table in flash. (XS's own `Object.freeze(o, true)` does the same, but only on XS.)
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) deepFreeze(o[k]);
  }
  return value;
}
