import { describe, expect, it } from 'vitest';
import { parseAst } from 'rollup/parseAst';
// @ts-expect-error plain .mjs build script without types
import { findPreloadHazards } from '../scripts/preload-check.mjs';
import { rollup } from 'rollup';
// @ts-expect-error plain .mjs build script without types
import { preloadCheck } from '../scripts/preload-check.mjs';

type Hazard = { line: number; what: string };
const hazards = (code: string): Hazard[] =>
  findPreloadHazards(parseAst(code), code, (s: string) => s === 'timer' || s.startsWith('embedded:'));

describe('preload check of the device bundle', () => {
  it('finds a RegExp literal or constructor at module level, with its line', () => {
    expect(hazards('const A = 1;\nconst ISO = /^\\d+$/;')).toEqual([{ line: 2, what: 'RegExp /^\\d+$/ made at module level' }]);
    expect(hazards('const R = new RegExp("a");').map((h) => h.what)).toEqual(['RegExp made at module level']);
    expect(hazards('export const T = { re: /x/g };')).toHaveLength(1);
    expect(hazards('class C { static re = /x/; }')).toHaveLength(1);
  });

  it('finds a RegExp made by a function the module body calls at once', () => {
    expect(hazards('const T = (() => { return /x/; })();')).toHaveLength(1);
    expect(hazards('const T = /* @__PURE__ */ (function () { return [/x/]; })();')).toHaveLength(1);
  });

  it('accepts a RegExp made inside a function, a method or an instance field', () => {
    expect(hazards('let re; export function f(s) { return (re ??= /x/).test(s); }')).toEqual([]);
    expect(hazards('class C { m() { return /x/; } f = /y/; }')).toEqual([]);
    expect(hazards('const g = () => /x/;')).toEqual([]);
  });

  it('finds calls into SDK modules at module level, not inside functions', () => {
    expect(hazards('import Timer from "timer";\nTimer.set(() => {}, 1);').map((h) => h.what)).toEqual(['Timer.set() from "timer" called at module level']);
    expect(hazards('import Serial from "embedded:io/serial";\nconst s = new Serial({});')).toHaveLength(1);
    expect(hazards('import Timer from "timer";\nexport default function main() { Timer.set(() => {}, 1); }')).toEqual([]);
    expect(hazards('import { f } from "./local.js";\nf();')).toEqual([]);
  });

  it('fails a rollup build that has a module-level RegExp, naming the line', async () => {
    const source = 'export const ISO = /^\\d{4}$/;\nexport function f(s) { return ISO.test(s); }\n';
    const bundle = await rollup({
      input: 'entry',
      plugins: [{ name: 'virtual', resolveId: (id: string) => id, load: () => source }, preloadCheck([/^embedded:/])],
    });
    await expect(bundle.generate({ format: 'es' })).rejects.toThrow(/line 1: RegExp \/\^\\d\{4\}\$\/ made at module level/);
  });
});
