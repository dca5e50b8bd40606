/**
 * The XS side of test/xs.test.ts and bench/xs.mjs, bundled with the core into ONE script
 * (test/xs/bundle.mjs) that xsnap-worker evaluates. It installs the global
 * `handleCommand(ArrayBuffer) => ArrayBuffer` that xsnap calls for every `?` command.
 *
 * Only this transport layer uses TextEncoder/TextDecoder (globals in xsnap, modules on the
 * device); the core it imports must not.
 */
import {
  MeterDecoder, PlausibilityGuard, authenticationKey, decode, encryptionKey, isHexParseError, parseHex, softwareCrypto,
  type DecodeResult, type DecoderKeys, type Reading,
} from '../../firmware/index.js';
import { serveCommands, type XsCommand } from './codec.js';

/** xsnap's host function: a full garbage collection. */
declare const gc: () => void;

interface Loaded {
  bytes: Uint8Array;
  keys: DecoderKeys;
  /** the firmware's steady state: one decoder, a push at a time (M-Bus and HDLC streams only) */
  decoder: MeterDecoder | null;
}

const loaded = new Map<string, Loaded>();

/** A meter's pushes one after another (growing frame counters), for two decoders: with the
 *  plausibility guard and without; each takes the next push of the series. */
interface Series {
  pushes: Uint8Array[];
  guarded: MeterDecoder;
  bare: MeterDecoder;
  nextGuarded: number;
  nextBare: number;
}
const series = new Map<string, Series>();
/** the Reading of the last push (steady-state mode) */
let lastReading: Reading | null = null;

function bytesOf(frames: string[] | undefined): Uint8Array {
  const b = parseHex((frames ?? []).join(''));
  if (isHexParseError(b)) throw new Error(`frames: ${b.detail}`);
  return b;
}

function keysOf(c: XsCommand): DecoderKeys {
  return {
    encryption: c.key ? encryptionKey(c.key) : null,
    authentication: c.authKey ? authenticationKey(c.authKey) : null,
  };
}

function get(id: string | undefined): Loaded {
  const l = loaded.get(id ?? '');
  if (!l) throw new Error(`nothing loaded as ${id}`);
  return l;
}

function run(c: XsCommand): unknown {
  switch (c.op) {
    case 'decode':
      return decode(bytesOf(c.frames), keysOf(c), softwareCrypto);
    case 'load': {
      const keys = keysOf(c);
      const bytes = bytesOf(c.frames);
      const stream = bytes[0] === 0x68 || bytes[0] === 0x7e; // a bare APDU is no serial stream
      const decoder = stream ? new MeterDecoder({ crypto: softwareCrypto, keys, onReading: (r) => (lastReading = r) }) : null;
      loaded.set(c.id ?? '', { bytes, keys, decoder });
      return { loaded: c.id };
    }
    // run and push with n: 0 are the baselines the bench subtracts (the same command, no decode)
    case 'run': {
      const l = get(c.id);
      let r: DecodeResult | null = null;
      for (let i = c.n ?? 1; i > 0; i--) r = decode(l.bytes, l.keys, softwareCrypto);
      return { readings: r ? r.readings.length : 0, errors: r ? r.errors.length : 0 };
    }
    case 'push': {
      const l = get(c.id);
      const d = l.decoder;
      if (!d) throw new Error(`${c.id} is a bare APDU, not an M-Bus or HDLC stream`);
      lastReading = null;
      const errors = d.stats.errors;
      for (let i = c.n ?? 1; i > 0; i--) d.push(l.bytes);
      return { readings: lastReading ? 1 : 0, errors: d.stats.errors - errors };
    }
    case 'series': {
      const keys = keysOf(c);
      const pushes = (c.pushes ?? []).map((h) => bytesOf([h]));
      const make = (guard: PlausibilityGuard | null) => new MeterDecoder({ crypto: softwareCrypto, keys, guard, onReading: (r) => (lastReading = r) });
      series.set(c.id ?? '', { pushes, guarded: make(new PlausibilityGuard()), bare: make(null), nextGuarded: 0, nextBare: 0 });
      return { loaded: c.id, pushes: pushes.length };
    }
    case 'next': {
      const s = series.get(c.id ?? '');
      if (!s) throw new Error(`no series loaded as ${c.id}`);
      const d = c.guard ? s.guarded : s.bare;
      let at = c.guard ? s.nextGuarded : s.nextBare;
      const n = c.n ?? 1;
      if (at + n > s.pushes.length) throw new Error(`${c.id}: the series has ${s.pushes.length} pushes, ${at + n} asked for`);
      lastReading = null;
      const errors = d.stats.errors;
      for (let i = n; i > 0; i--) d.push(s.pushes[at++]);
      if (c.guard) s.nextGuarded = at;
      else s.nextBare = at;
      return { readings: lastReading ? 1 : 0, errors: d.stats.errors - errors };
    }
    case 'gc':
      lastReading = null;
      gc();
      return {};
    default:
      throw new Error(`unknown op ${String(c.op)}`);
  }
}

serveCommands<XsCommand>(run);
