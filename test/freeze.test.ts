import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../firmware/freeze.js';
import { POSITIONAL_LAYOUTS } from '../firmware/dlms/cosem.js';
import { QUANTITIES } from '../firmware/quantities.js';
import { PUBLISHERS } from '../firmware/publish/registry.js';
import { HA_STATE_KEYS, PRESETS } from '../firmware/template/presets.js';
import { SECRET_FIELDS } from '../firmware/config/types.js';

/** every object reachable from v, v included */
function objects(v: unknown, seen = new Set<object>()): object[] {
  if (v === null || typeof v !== 'object' || seen.has(v)) return [];
  seen.add(v);
  for (const k of Object.keys(v)) objects((v as Record<string, unknown>)[k], seen);
  return [...seen];
}

describe('deepFreeze', () => {
  it('freezes nested objects and arrays and returns its argument', () => {
    const t = { a: [{ b: 1 }, [2, { c: 3 }]], d: { e: { f: 'x' } } };
    expect(deepFreeze(t)).toBe(t);
    const all = objects(t);
    expect(all.length).toBe(7);
    for (const o of all) expect(Object.isFrozen(o)).toBe(true);
    expect(() => { (t.d.e as { f: string }).f = 'y'; }).toThrow(TypeError);
  });

  it('leaves primitives alone', () => {
    expect(deepFreeze(3)).toBe(3);
    expect(deepFreeze(null)).toBe(null);
    expect(deepFreeze('s')).toBe('s');
  });

  // the tables the device preload would otherwise copy into RAM
  it.each([
    ['POSITIONAL_LAYOUTS', POSITIONAL_LAYOUTS],
    ['QUANTITIES', QUANTITIES],
    ['PUBLISHERS', PUBLISHERS],
    ['HA_STATE_KEYS', HA_STATE_KEYS],
    ['PRESETS', PRESETS],
    ['SECRET_FIELDS', SECRET_FIELDS],
  ])('%s is frozen all the way down', (_name, table) => {
    const all = objects(table);
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((o) => !Object.isFrozen(o))).toEqual([]);
  });
});
