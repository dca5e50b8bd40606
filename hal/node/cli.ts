/**
 * `meterbridge decode | run | simulate` on the host. Only argument parsing and I/O live here; the
 * decoding is the firmware's own pipeline.
 *
 * Every command and every flag is one entry of COMMANDS: the parser, `--help` and the usage
 * errors all read that table, so a new flag is one line there (and its use in the command).
 */
import { readFileSync } from 'node:fs';
import { decode, formatError, framingOf, isHexParseError, parseHex, authenticationKey, encryptionKey, PlausibilityGuard, type DecodeError, type Reading, type DecoderKeys, type Framing } from '../../firmware/index.js';
import { VERSION } from '../../firmware/version.js';
import { DEMO_KEY } from '../../firmware/config/defaults.js';
import { nodeCrypto } from './crypto.js';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  readInput: (path: string) => Uint8Array;
}

export interface FlagSpec {
  /** `--name` */
  name: string;
  /** the value's placeholder in the help (`HEX`, `FILE`); none for an on/off flag */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** what the command does, one line */
  summary: string;
  /** positional arguments: placeholder and how many at most */
  args: { name: string; max: number; help: string } | null;
  flags: readonly FlagSpec[];
  /** more help text after the flags */
  more?: string;
  run: (parsed: Parsed, io: CliIo) => number | Promise<number>;
}

export interface Parsed {
  positional: string[];
  /** a flag's value, or true for an on/off flag */
  flags: Map<string, string | true>;
}

export const COMMANDS: Record<string, CommandSpec> = {
  decode: {
    summary: 'decodes meter pushes given as hex or raw bytes and prints one Reading per push as a JSON line',
    args: { name: 'FILE', max: 1, help: 'a file of hex (any white space; bare APDUs one per line), or - (the default) for standard input' },
    flags: [
      { name: '--key', value: 'HEX', help: 'the encryption key from the grid operator (32 hex digits; spaces, 0x and lower case are fine)' },
      { name: '--auth-key', value: 'HEX', help: 'the authentication key, to verify the GCM tag of security 0x30/0x31 pushes' },
      { name: '--binary', help: 'the input is raw bytes, not hex' },
      { name: '--framing', value: 'auto|mbus|hdlc|apdu', help: 'force the link layer; by default it follows the first byte, and a capture that starts inside a frame (as a serial port gives it) is scanned for frames' },
      { name: '--max-power', value: 'KW', help: 'the plausibility guard: the most the meter can measure per direction (default 100)' },
      { name: '--no-guard', help: 'turn the plausibility guard off' },
    ],
    more:
      'The plausibility guard judges the pushes of the input against each other: the frame counter only grows, the clock does not go back, ' +
      'energy never decreases nor rises faster than --max-power allows, values stay in physical ranges. A push that breaks a rule is an ' +
      '"implausible" error, not a Reading.\n' +
      'Errors go to stderr as "error: <kind> at byte <offset>: <detail>"; exit code 1 when anything was wrong, 2 for a usage error.',
    run: decodeCommand,
  },
  run: {
    summary: 'runs the gateway: web UI and HTTP API, MQTT and HTTP push as configured',
    args: null,
    flags: [
      { name: '--config', value: 'FILE', help: 'read the configuration from FILE instead of the data folder' },
      { name: '--data', value: 'DIR', help: 'the data folder (default ./meterbridge-data)' },
      { name: '--host', value: 'ADDR', help: 'the address the web UI listens on: 127.0.0.1 (the default) is this computer only, 0.0.0.0 every network of this computer' },
      { name: '--port', value: 'N', help: 'the web UI port (default 8080)' },
      { name: '--serial', value: 'PATH', help: 'read the meter from a serial port, e.g. /dev/ttyUSB0 (2400 baud 8E1)' },
      { name: '--replay', value: 'FILE', help: 'replay a capture file of hex, one push per line' },
      { name: '--simulate', help: 'use the built-in simulated meter (demo mode; also the default without a serial port)' },
    ],
    more: 'Stops on Ctrl-C or SIGTERM.',
    run: async (parsed, io) => (await import('./run.js')).runCommand(parsed, io),
  },
  simulate: {
    summary: 'prints pushes of the simulated meter as hex, one per line',
    args: { name: 'COUNT', max: 1, help: 'how many pushes (default 1), 5 s apart in meter time' },
    flags: [
      { name: '--key', value: 'HEX', help: `the key to encrypt with (default the demo key ${DEMO_KEY})` },
      { name: '--one-phase', help: 'a single-phase meter' },
      { name: '--hdlc', help: 'HDLC frames instead of M-Bus' },
    ],
    run: async (parsed, io) => (await import('./run.js')).simulateCommand(parsed, io),
  },
};

const HELP_FLAGS = new Set(['--help', '-h']);

function flagUsage(f: FlagSpec): string {
  return f.value ? `${f.name} ${f.value}` : f.name;
}

/** `meterbridge <command> --help` */
export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const synopsis = [`meterbridge ${name}`, ...c.flags.map((f) => `[${flagUsage(f)}]`), ...(c.args ? [`[${c.args.name}]`] : [])].join(' ');
  const width = Math.max(...c.flags.map((f) => flagUsage(f).length), c.args?.name.length ?? 0, '--help'.length) + 2;
  const row = (left: string, text: string) => `  ${left.padEnd(width)}${text}`;
  return [
    `usage: ${synopsis}`,
    '',
    `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.`,
    '',
    ...(c.args ? [row(c.args.name, c.args.help)] : []),
    ...c.flags.map((f) => row(flagUsage(f), f.help)),
    row('--help', 'this help'),
    ...(c.more ? ['', c.more] : []),
  ].join('\n');
}

/** `meterbridge --help` */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'usage: meterbridge <command> [flags]',
    '',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`),
    '',
    "`meterbridge <command> --help` describes a command's flags. `meterbridge --version` prints the version.",
  ].join('\n');
}

/** Parses a command's arguments against its table entry; a string is the usage error. */
export function parseArgs(spec: CommandSpec, args: string[]): Parsed | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  // per positional argument, the on/off flag right before it: a value meant for that flag is
  // the likely mistake when there are too many arguments (`--binary KEY file`)
  const after: (string | null)[] = [];
  let previous: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      const f = spec.flags.find((x) => x.name === name);
      if (!f) return `unknown flag ${name} (${flagList(spec)})`;
      if (flags.has(name)) return `${name} is given twice`;
      previous = null;
      if (f.value) {
        const value = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) return `${name} needs a value (${flagUsage(f)})`;
        flags.set(name, value);
      } else {
        if (eq > 0) return `${name} takes no value`;
        flags.set(name, true);
        previous = name;
      }
    } else {
      positional.push(a);
      after.push(previous);
      previous = null;
    }
  }
  const max = spec.args?.max ?? 0;
  if (positional.length > max) {
    const misplaced = after.findIndex((f) => f !== null);
    if (misplaced >= 0) return `unexpected value ${JSON.stringify(positional[misplaced])} after ${after[misplaced]}, which takes no value`;
    const extra = JSON.stringify(positional[max]);
    return spec.args ? `unexpected argument ${extra} (at most ${max} ${spec.args.name})` : `unexpected argument ${extra} (this command takes only flags)`;
  }
  return { positional, flags };
}

function flagList(spec: CommandSpec): string {
  return `known: ${spec.flags.map((f) => f.name).join(', ')}, --help`;
}

function keysFrom(flags: Parsed['flags']): DecoderKeys | string {
  const keys: DecoderKeys = {};
  try {
    const k = flags.get('--key');
    if (typeof k === 'string') keys.encryption = encryptionKey(k);
    const a = flags.get('--auth-key');
    if (typeof a === 'string') keys.authentication = authenticationKey(a);
  } catch (e) {
    return (e as Error).message;
  }
  return keys;
}

/** Runs `decode`; returns the exit code. */
const FRAMINGS: readonly Framing[] = ['auto', 'mbus', 'hdlc', 'apdu'];

export function decodeCommand(parsed: Parsed, io: CliIo): number {
  const keys = keysFrom(parsed.flags);
  if (typeof keys === 'string') {
    io.stderr(`error: usage: ${keys}`);
    return 2;
  }
  const framingFlag = parsed.flags.get('--framing');
  if (framingFlag !== undefined && !FRAMINGS.includes(framingFlag as Framing)) {
    io.stderr(`error: usage: --framing must be one of ${FRAMINGS.join(', ')}`);
    return 2;
  }
  const maxPower = parsed.flags.get('--max-power');
  const kw = typeof maxPower === 'string' ? Number(maxPower) : 100;
  if (!(kw > 0 && kw <= 100_000)) {
    io.stderr('error: usage: --max-power must be a number of kW from 0 to 100000 (the most the meter can measure per direction)');
    return 2;
  }
  // one guard across every push of the input
  const guard = parsed.flags.has('--no-guard') ? null : new PlausibilityGuard({ maxPowerW: kw * 1000 });
  const file = parsed.positional[0] ?? '-';
  let input: Uint8Array;
  try {
    input = io.readInput(file);
  } catch (e) {
    io.stderr(`error: usage: cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  // one byte stream, or one bare APDU per line
  const chunks: { bytes: Uint8Array; offset: number }[] = [];
  let framing = framingFlag as Framing | undefined;
  if (parsed.flags.has('--binary')) chunks.push({ bytes: input, offset: 0 });
  else {
    const text = new TextDecoder().decode(input);
    const all = parseHex(text);
    if (isHexParseError(all)) {
      io.stderr(`error: usage: the input is not hex: ${all.detail} (use --binary for raw bytes)`);
      return 2;
    }
    if (all.length === 0) {
      io.stderr('error: usage: no input bytes (give a file of hex, or - for standard input; meterbridge decode --help)');
      return 2;
    }
    framing ??= framingOf(all);
    if (framing === 'apdu') {
      let offset = 0;
      for (const line of text.split('\n')) {
        const bytes = parseHex(line);
        if (isHexParseError(bytes) || bytes.length === 0) continue;
        chunks.push({ bytes, offset });
        offset += bytes.length;
      }
    } else chunks.push({ bytes: all, offset: 0 });
  }
  if (chunks.length === 0) {
    io.stderr('error: usage: no input bytes');
    return 2;
  }
  const readings: Reading[] = [];
  const errors: DecodeError[] = [];
  const notices: string[] = [];
  for (const c of chunks) {
    const r = decode(c.bytes, keys, nodeCrypto, { framing, guard, onNotice: (m) => notices.push(m) });
    readings.push(...r.readings);
    for (const e of r.errors) errors.push({ ...e, offset: e.offset + c.offset });
  }
  for (const r of readings) io.stdout(JSON.stringify(r));
  for (const e of errors) io.stderr(formatError(e));
  for (const m of notices) io.stderr(`note: ${m}`);
  if (errors.length === 0 && readings.length === 0) {
    io.stderr('error: layout at byte 0: no push found in the input');
    return 1;
  }
  return errors.length > 0 ? 1 : 0;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr(mainHelp());
    return 2;
  }
  if (HELP_FLAGS.has(command) || command === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) {
      io.stderr(`error: usage: unknown command ${JSON.stringify(topic)}\n${mainHelp()}`);
      return 2;
    }
    io.stdout(topic ? commandHelp(topic) : mainHelp());
    return 0;
  }
  if (command === '--version') {
    io.stdout(`meterbridge ${VERSION}`);
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    io.stderr(`error: usage: unknown ${command.startsWith('-') ? 'flag' : 'command'} ${JSON.stringify(command)}\n${mainHelp()}`);
    return 2;
  }
  const spec = COMMANDS[command];
  if (rest.some((a) => HELP_FLAGS.has(a))) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const parsed = parseArgs(spec, rest);
  if (typeof parsed === 'string') {
    io.stderr(`error: usage: meterbridge ${command}: ${parsed}`);
    return 2;
  }
  return spec.run(parsed, io);
}

function processIo(): CliIo {
  return {
    stdout: (l) => process.stdout.write(l + '\n'),
    stderr: (l) => process.stderr.write(l + '\n'),
    readInput: (p) => (p === '-' ? readFileSync(0) : readFileSync(p)),
  };
}
