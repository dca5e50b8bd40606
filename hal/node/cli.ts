/**
 * `meterbridge decode | run | simulate` on the host. Only argument parsing and I/O live here; the
 * decoding is the firmware's own pipeline.
 */
import { readFileSync } from 'node:fs';
import { decode, formatError, isHexParseError, parseHex, authenticationKey, encryptionKey, type DecodeError, type Reading, type DecoderKeys } from '../../firmware/index.js';
import { nodeCrypto } from './crypto.js';

const USAGE = `usage:
  meterbridge decode --key HEX [--auth-key HEX] [--binary] [FILE|-]
      Decodes meter pushes (M-Bus frames, HDLC frames or bare APDUs) given as hex (any white
      space) or, with --binary, as raw bytes. Prints one Reading per push as a JSON line; errors
      go to stderr as "error: <kind> at byte <offset>: <detail>" and make the exit code 1.
      Bare APDUs may be given one per line.
  meterbridge run [--config FILE] [--data DIR] [--host ADDR] [--port N] [--serial PATH | --replay FILE | --simulate]
      Runs the gateway: web UI and HTTP API, MQTT and HTTP push as configured. Without a
      serial port it runs on the built-in meter simulator (demo mode). The web UI listens on
      127.0.0.1 (this computer only) unless --host names another address, e.g. --host 0.0.0.0
      for every network of this computer.
  meterbridge simulate [--key HEX] [--one-phase] [--hdlc] [COUNT]
      Prints COUNT pushes of the simulated meter as hex, one per line.
`;

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  readInput: (path: string) => Uint8Array;
}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--key', '--auth-key', '--config', '--serial', '--replay', '--port', '--data', '--host']);

export function parseArgs(args: string[]): Parsed | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (VALUE_FLAGS.has(name)) {
        const value = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (value === undefined) return `${name} needs a value`;
        flags.set(name, value);
      } else flags.set(name, true);
    } else positional.push(a);
  }
  return { positional, flags };
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
export function decodeCommand(args: string[], io: CliIo): number {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.stderr(`error: usage: ${parsed}`);
    return 2;
  }
  const keys = keysFrom(parsed.flags);
  if (typeof keys === 'string') {
    io.stderr(`error: usage: ${keys}`);
    return 2;
  }
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
  if (parsed.flags.has('--binary')) chunks.push({ bytes: input, offset: 0 });
  else {
    const text = new TextDecoder().decode(input);
    const all = parseHex(text);
    if (isHexParseError(all)) {
      io.stderr(`error: usage: the input is not hex: ${all.detail} (use --binary for raw bytes)`);
      return 2;
    }
    if (all.length === 0) {
      io.stderr('error: usage: no input bytes (give a file of hex, or - for standard input)');
      return 2;
    }
    if (all[0] !== 0x68 && all[0] !== 0x7e) {
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
  for (const c of chunks) {
    const r = decode(c.bytes, keys, nodeCrypto);
    readings.push(...r.readings);
    for (const e of r.errors) errors.push({ ...e, offset: e.offset + c.offset });
  }
  for (const r of readings) io.stdout(JSON.stringify(r));
  for (const e of errors) io.stderr(formatError(e));
  if (errors.length === 0 && readings.length === 0) {
    io.stderr('error: layout at byte 0: no push found in the input');
    return 1;
  }
  return errors.length > 0 ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io: CliIo = {
    stdout: (l) => process.stdout.write(l + '\n'),
    stderr: (l) => process.stderr.write(l + '\n'),
    readInput: (p) => (p === '-' ? readFileSync(0) : readFileSync(p)),
  };
  switch (command) {
    case 'decode':
      return decodeCommand(rest, io);
    case 'run':
    case 'simulate': {
      const gateway = await import('./run.js');
      return command === 'run' ? gateway.runCommand(rest, io) : gateway.simulateCommand(rest, io);
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`error: usage: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}
