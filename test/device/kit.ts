/**
 * The Moddable SDK for the device tests: the offline kit (SDK sources + ESP-IDF headers as
 * tarballs) unpacked into a cache folder outside the checkout, its host tools built once and
 * reused while the tarballs stay the same.
 *
 *   MB_DEVICE_KIT    the kit folder (default: ../shared/device-kit beside the checkout)
 *   MB_DEVICE_CACHE  the cache folder (default: ~/.cache/meterbridge-device-kit)
 */
import { spawn, spawnSync, type SpawnOptions, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KIT = resolve(process.env.MB_DEVICE_KIT ?? join(REPO, '../shared/device-kit'));
export const CACHE = resolve(process.env.MB_DEVICE_CACHE ?? join(homedir(), '.cache/meterbridge-device-kit'));
export const MODDABLE = join(CACHE, 'moddable');
export const IDF_KIT = join(CACHE, 'esp-idf-v6.0-headers');
export const TOOLS = join(MODDABLE, 'build/bin/lin/release');

export const DEBIAN_PACKAGES = 'make gcc pkg-config libglib2.0-dev libgtk-3-dev xvfb xauth gcc-riscv64-unknown-elf libnewlib-dev';

/** The environment the SDK's tools expect: its bin folder on PATH first. */
export function sdkEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, MODDABLE, IDF_PATH: join(IDF_KIT, 'esp-idf'), PATH: `${TOOLS}:${process.env.PATH}`, ...extra };
}

export interface RunResult { code: number; out: string }

/** Runs a command to its end; stdout and stderr together, as a build log reads. */
export function run(cmd: string, args: string[], o: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: sdkEnv(), ...o });
  if (r.error) return { code: -1, out: String(r.error.message) };
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * The same, without blocking the event loop: a test worker that blocks for minutes loses its
 * connection to the test runner.
 */
export function runAsync(cmd: string, args: string[], o: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: sdkEnv(), ...o, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.on('error', (e) => resolve({ code: -1, out: out + String(e.message) }));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Fails with the one apt-get line when a tool the device tests need is missing. */
export function checkHostPackages(): void {
  const missing = ['make', 'gcc', 'pkg-config', 'xvfb-run', 'xauth', 'riscv64-unknown-elf-gcc'].filter((c) => !has(c));
  if (missing.length === 0 && spawnSync('pkg-config', ['--exists', 'gtk+-3.0']).status !== 0) missing.push('gtk+-3.0');
  if (missing.length > 0) {
    throw new Error(`the device tests need ${missing.join(', ')}: apt-get install -y ${DEBIAN_PACKAGES}`);
  }
  if (!existsSync('/usr/include/newlib/stdlib.h')) throw new Error(`the device tests need newlib headers: apt-get install -y ${DEBIAN_PACKAGES}`);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function tarball(prefix: string): string {
  const name = readdirSync(KIT).find((f) => f.startsWith(prefix) && f.endsWith('.tar.xz'));
  if (!name) throw new Error(`no ${prefix}*.tar.xz in the device kit ${KIT}`);
  return join(KIT, name);
}

/**
 * Unpacks the kit and builds the SDK's host tools (xsc, xsl, mcconfig, mcrez, mcsim …) unless the
 * cache already holds them for these tarballs. Returns a line saying which.
 */
export function ensureTools(): string {
  if (!existsSync(KIT)) throw new Error(`the device kit is not at ${KIT}: set MB_DEVICE_KIT to the folder holding moddable-sdk-*.tar.xz`);
  checkHostPackages();
  const sdk = tarball('moddable-sdk-');
  const idf = tarball('esp-idf-');
  const stamp = join(CACHE, 'tools.stamp');
  const want = `${sha256(sdk)} ${sha256(idf)}\n`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(join(TOOLS, 'mcsim')) && existsSync(join(TOOLS, 'xsl'))) {
    return `Moddable tools reused from ${TOOLS}`;
  }
  const started = Date.now();
  mkdirSync(CACHE, { recursive: true });
  rmSync(MODDABLE, { recursive: true, force: true });
  rmSync(IDF_KIT, { recursive: true, force: true });
  rmSync(stamp, { force: true });
  for (const t of [sdk, idf]) {
    const r = run('tar', ['-xJf', t, '-C', CACHE]);
    if (r.code !== 0) throw new Error(`cannot unpack ${t}: ${r.out}`);
  }
  const r = run('make', ['release', `-j${Math.max(1, Math.min(4, Number(process.env.MB_DEVICE_JOBS ?? 2)))}`], { cwd: join(MODDABLE, 'build/makefiles/lin') });
  writeFileSync(join(CACHE, 'tools-build.log'), r.out);
  if (r.code !== 0 || !existsSync(join(TOOLS, 'mcsim'))) {
    throw new Error(`building the Moddable tools failed (log ${join(CACHE, 'tools-build.log')}):\n${r.out.split('\n').slice(-20).join('\n')}`);
  }
  writeFileSync(stamp, want);
  return `Moddable tools built in ${Math.round((Date.now() - started) / 1000)} s into ${TOOLS}`;
}

/** The kit's record of the sdkconfig its sdkconfig.h files were generated from. */
export function sdkconfigIsCurrent(): { current: boolean; detail: string } {
  const record = join(IDF_KIT, 'sdkconfig/project-sdkconfig.sha256');
  if (!existsSync(record)) return { current: false, detail: `no ${record}` };
  const [want, file] = readFileSync(record, 'utf8').trim().split(/\s+/);
  const path = join(REPO, file);
  const have = existsSync(path) ? sha256(path) : 'missing';
  return have === want
    ? { current: true, detail: `${file} is the one the kit's sdkconfig.h files were generated from` }
    : { current: false, detail: `${file} changed since the kit's sdkconfig.h files were generated (sha256 ${have.slice(0, 12)}…, kit ${want.slice(0, 12)}…): if an option changed, regenerate them with the full ESP-IDF` };
}

/** Newest modification time under dist/, to tell a stale build. */
export function distBuilt(): boolean {
  return ['dist/moddable/main.js', 'dist/web-ui/index.html.gz'].every((f) => existsSync(join(REPO, f)) && statSync(join(REPO, f)).size > 0);
}
