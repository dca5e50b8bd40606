/**
 * The host half of a real ESP32 build with the Moddable SDK, for every supported chip:
 * mcconfig on the project's manifest.json, xsc/xsid on every module, xsl linking the preloads
 * (which runs every preloaded module body, the firmware's included), mcrez packing the web UI;
 * then the project's native C helpers compiled for the ESP32-C3 with the generated makefile's
 * own defines, include paths and flags, against the ESP-IDF v6.0 headers.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IDF_KIT, REPO, run, runAsync, sdkconfigIsCurrent } from './kit.js';
import { recordDeviceFigures } from './report.js';

const PLATFORMS = ['esp32', 'esp32/esp32c3', 'esp32/esp32s3'] as const;
const XSONLY_MK = join(REPO, 'test/device/xsonly.mk');
/** module-level objects that are state by design, so xsl rightly cannot freeze them */
const MUTABLE_BY_DESIGN = new Set(['lengthScratchHolder']);

interface Linked { platform: string; dir: string; log: string; code: number }

function findMakefile(dir: string): string {
  const walk = (d: string): string | null => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isFile() && e.name === 'makefile') return p;
      if (e.isDirectory()) { const f = walk(p); if (f) return f; }
    }
    return null;
  };
  const f = walk(dir);
  if (!f) throw new Error(`mcconfig wrote no makefile under ${dir}`);
  return f;
}

const out = mkdtempSync(join(tmpdir(), 'meterbridge-device-'));
const linked = new Map<string, Linked>();

async function link(platform: string): Promise<Linked> {
  const dir = join(out, platform.replace('/', '_'));
  mkdirSync(dir, { recursive: true });
  const config = await runAsync('mcconfig', ['-p', platform, '-o', dir], { cwd: REPO });
  if (config.code !== 0) return { platform, dir, log: config.out, code: config.code };
  const build = dirname(findMakefile(dir));
  const make = await runAsync('make', ['-f', 'makefile', '-f', XSONLY_MK, 'xsonly', 'IDF_VERSION=v6.0'], { cwd: build });
  return { platform, dir: build, log: config.out + make.out, code: make.code };
}

/** RegExp objects xsl placed in flash: each has a null match-data pointer in mc.xs.c. */
function regexpsInFlash(build: string): number {
  const c = readFileSync(join(build, 'mc.xs.c'), 'utf8');
  return c.match(/XS_REGEXP_KIND\}, \.value = \{ \.regexp = \{ \(txInteger\*\)&gxRegExpData\[\d+\], \(txInteger\*\)NULL/g)?.length ?? 0;
}

/** "### warning: main: … NAME…: not frozen" → the top-level names */
function notFrozen(log: string): string[] {
  const names: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^### warning: main: .* ([A-Za-z_$][\w$]*)(?:[.[][^ ]*)?: not frozen$/.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

describe('the firmware through the Moddable SDK tools', () => {
  beforeAll(async () => {
    for (const p of PLATFORMS) linked.set(p, await link(p));
  });

  it.each(PLATFORMS)('%s: mcconfig, xsc, xsl and mcrez finish without an error', (p) => {
    const l = linked.get(p)!;
    const errors = l.log.split('\n').filter((s) => /### error|: error|# error/.test(s));
    expect(errors, l.log.slice(-3000)).toEqual([]);
    expect(l.code, l.log.slice(-3000)).toBe(0);
    expect(existsSync(join(l.dir, 'mc.xs.c'))).toBe(true);
    expect(existsSync(join(l.dir, 'mc.resources.c'))).toBe(true);
  });

  it.each(PLATFORMS)('%s: no RegExp preloaded into flash, and every constant table frozen', (p) => {
    const l = linked.get(p)!;
    const regexps = regexpsInFlash(l.dir);
    const names = notFrozen(l.log);
    const instances = /^### (\d+) instances/m.exec(l.log)?.[1];
    console.log(`${p}: ${instances} preloaded instances, ${regexps} RegExp objects in flash, ${names.length} not frozen (${[...new Set(names)].join(', ') || 'none'})`);
    recordDeviceFigures(`preload ${p}`, { instances: Number(instances), regexpsInFlash: regexps, notFrozen: names.length, notFrozenNames: [...new Set(names)] });
    expect(regexps).toBe(0);
    expect(names.filter((n) => !MUTABLE_BY_DESIGN.has(n))).toEqual([]);
  });

  it('the board settings reach the C defines of each chip', () => {
    const defines = (p: string) => readFileSync(join(linked.get(p)!.dir, 'mc.defines.h'), 'utf8');
    const pins = (p: string) => ['PORT', 'RX_PIN', 'TX_PIN'].map((k) => Number(new RegExp(`MODDEF_METERBRIDGE_UART_${k} \\((\\d+)\\)`).exec(defines(p))?.[1]));
    expect(pins('esp32')).toEqual([2, 16, 17]);
    expect(pins('esp32/esp32c3')).toEqual([1, 4, 5]);
    expect(pins('esp32/esp32s3')).toEqual([1, 18, 17]);
  });

  it.each(['esp32/esp32c6', 'esp32/esp32h2'])('refuses %s, which has no board settings', (p) => {
    const dir = join(out, `refused-${basename(p)}`);
    mkdirSync(dir, { recursive: true });
    const r = run('mcconfig', ['-p', p, '-o', dir], { cwd: REPO });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('meterbridge has no board settings for this ESP32 subplatform');
  });
});

describe('the native helpers compiled for the ESP32-C3', () => {
  const STRICT = ['-Werror=implicit-function-declaration', '-Werror=incompatible-pointer-types', '-Werror=int-conversion'];
  const sources = readdirSync(join(REPO, 'hal/moddable/native')).filter((f) => f.endsWith('.c'));
  let vars: Record<string, string> = {};
  let build = '';

  beforeAll(async () => {
    const l = linked.get('esp32/esp32c3') ?? (await link('esp32/esp32c3'));
    build = l.dir;
    mkdirSync(join(build, 'xsProj-esp32c3/build/config'), { recursive: true });
    copyFileSync(join(IDF_KIT, 'sdkconfig/esp32c3/sdkconfig.h'), join(build, 'xsProj-esp32c3/build/config/sdkconfig.h'));
    const r = run('make', ['-s', '-f', 'makefile', '-f', XSONLY_MK, 'ccvars', 'IDF_VERSION=v6.0'], { cwd: build });
    for (const line of r.out.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const sdkconfig = sdkconfigIsCurrent();
    console.log(`sdkconfig: ${sdkconfig.detail}`);
  });

  /** the generated makefile's command line; GCC 12 wants the C3's zicsr/zifencei spelled out */
  function compile(source: string, extra: string[] = []): { code: number; out: string } {
    const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);
    const flags = words(vars.C_FLAGS)
      .filter((f) => f !== '-MMD' && f !== '-MP')
      .flatMap((f) => (f === '-march=rv32imc' ? ['-march=rv32imc_zicsr_zifencei', '-mabi=ilp32'] : [f]));
    const objects = join(out, 'c3-obj');
    mkdirSync(objects, { recursive: true });
    return run('riscv64-unknown-elf-gcc', [
      ...words(vars.C_DEFINES), ...extra, ...words(vars.C_INCLUDES),
      // two newlib headers adjusted to Espressif's newlib, before Debian's
      '-isystem', join(IDF_KIT, 'newlib-shim'), '-isystem', '/usr/include/newlib',
      ...flags, ...STRICT, join(REPO, 'hal/moddable/native', source), '-o', join(objects, source.replace(/\.c$/, '.o')),
    ], { cwd: build });
  }

  it('reads the compiler settings from the generated makefile', () => {
    expect(vars.C_FLAGS).toContain('-march=rv32imc');
    expect(vars.C_INCLUDES).toContain('-I');
    expect(vars.C_DEFINES).toContain('-D');
    expect(vars.C_FLAGS ?? '').not.toContain('-include');
  });

  it.each(sources)('%s compiles as the SDK builds it, with strict warnings as errors', (source) => {
    const r = compile(source);
    expect(r.out.split('\n').filter((l) => /error/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('a board without a UART pin in the manifest fails to compile, naming the setting', () => {
    // the same defines with rx_pin removed, found before the generated ones
    const dir = join(out, 'defines-without-rx-pin');
    mkdirSync(dir, { recursive: true });
    const full = readFileSync(join(build, 'mc.defines.h'), 'utf8');
    expect(full).toContain('MODDEF_METERBRIDGE_UART_RX_PIN');
    writeFileSync(join(dir, 'mc.defines.h'), full.split('\n').filter((l) => !l.includes('MODDEF_METERBRIDGE_UART_RX_PIN')).join('\n'));
    const r = compile('uart_parity.c', ['-I', dir]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('define meterbridge.uart.rx_pin in manifest.json');
  });
});
