/**
 * Test support: the programs some tests run, one table, and the Debian package that provides
 * each. A test that needs a missing one fails with one line naming the package to install,
 * instead of an ENOENT deep in a stack trace; test/support/global-setup.ts lists every missing
 * one before the run. The XS engine is a project of its own (tools/xs), installed and compiled
 * by the global setup (here when a test needs it and the setup could not), never at install: the
 * gateway itself needs no C compiler.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Tool {
  /** what the tests use it for */
  why: string;
  /** the Debian/Ubuntu package(s) */
  debian: string;
  /** present when this is true */
  present: () => boolean;
}

const onPath = (cmd: string, ...also: string[]) => () =>
  spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0 || also.some((p) => spawnSync('test', ['-x', p]).status === 0);

const root = fileURLToPath(new URL('../../', import.meta.url));
const xsnapScript = `${root}scripts/build-xsnap.mjs`;
/** the xsnap-worker binary is there already (and its package current), or cc and make can build it */
const xsnapBuilt = () => spawnSync(process.execPath, [xsnapScript, '--check'], { stdio: 'ignore' }).status === 0;

export const TOOLS = Object.freeze({
  mosquitto: { why: 'the MQTT tests', debian: 'mosquitto', present: onPath('mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto') },
  chromium: { why: 'the web UI tests', debian: 'chromium', present: onPath('/usr/bin/chromium') },
  socat: { why: 'the serial port tests', debian: 'socat', present: onPath('socat') },
  openssl: { why: 'the MQTT TLS test', debian: 'openssl', present: onPath('openssl') },
  influxd: { why: 'the InfluxDB test', debian: 'influxdb', present: onPath('influxd', '/usr/bin/influxd') },
  cc: { why: 'building the XS engine for the XS tests', debian: 'make gcc libc6-dev', present: () => xsnapBuilt() || (onPath('cc')() && onPath('make')()) },
} satisfies Record<string, Tool>);

export type ToolName = keyof typeof TOOLS;

/** The one-line message for a missing tool. */
export function missingMessage(names: ToolName[]): string {
  const packages = [...new Set(names.map((n) => TOOLS[n].debian))];
  return `${names.map((n) => `${n === 'cc' ? 'a C compiler and make' : n} (${TOOLS[n].why})`).join(', ')} not found: apt-get install ${packages.join(' ')}`;
}

/** Throws the one-line message when the tool is missing. */
export function requireTool(name: ToolName): void {
  if (!TOOLS[name].present()) throw new Error(missingMessage([name]));
}

/** The xsnap-worker binary, compiled from @agoric/xsnap's C sources (tools/xs) on first use. */
export function xsnapBinary(): string {
  requireTool('cc');
  const r = spawnSync(process.execPath, [xsnapScript], { encoding: 'utf8' });
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').filter((l) => l.startsWith('build-xsnap:')).pop();
    throw new Error(last ?? `scripts/build-xsnap.mjs failed (exit ${r.status})`);
  }
  return r.stdout.trim().split('\n').pop()!;
}
