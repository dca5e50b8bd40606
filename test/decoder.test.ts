// The whole pipeline on bad input: every problem is one typed error with an offset, nothing
// throws, memory stays bounded, and the next good push decodes.
import { describe, expect, it } from 'vitest';
import { MeterDecoder, decode, type DecoderKeys } from '../firmware/decoder.js';
import { PlausibilityGuard } from '../firmware/guard.js';
import { authenticationKey, encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import type { DecodeError } from '../firmware/errors.js';
import type { Reading } from '../firmware/reading.js';
import { crc16x25 } from '../firmware/link/hdlc.js';
import { concat, hex, reencrypt, rng, vector, vectors, wire, type Vector } from './helpers.js';

const keysOf = (v: Vector): DecoderKeys => ({
  encryption: v.key ? encryptionKey(v.key) : null,
  authentication: v.auth_key ? authenticationKey(v.auth_key) : null,
});

function collect(keys: DecoderKeys, framing?: 'auto' | 'mbus' | 'hdlc' | 'apdu') {
  const readings: Reading[] = [];
  const errors: DecodeError[] = [];
  const decoder = new MeterDecoder({ crypto: softwareCrypto, keys, framing, onReading: (r) => readings.push(r), onError: (e) => errors.push(e) });
  return { decoder, readings, errors };
}

const WRONG = encryptionKey('000102030405060708090A0B0C0D0E0F');

describe('wrong keys', () => {
  const encrypted = vectors.filter((v) => v.key !== null);
  it.each(encrypted.map((v) => [v.id, v] as const))('%s with a wrong key is an error, never a Reading', (_id, v) => {
    const { readings, errors } = decode(wire(v), { encryption: WRONG, authentication: v.auth_key ? authenticationKey(v.auth_key) : null }, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors).toHaveLength(1);
    // with an authentication key the tag catches it first
    expect(errors[0].kind).toBe(v.auth_key ? 'tag-mismatch' : 'wrong-key-or-corrupt');
  });

  it('a wrong authentication key is a tag mismatch at the tag', () => {
    const v = vector('dk-kamstrup-omnipower-authenc');
    const bytes = wire(v);
    const { readings, errors } = decode(bytes, { encryption: encryptionKey(v.key!), authentication: authenticationKey('FFEEDDCCBBAA99887766554433221101') }, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors.map((e) => e.kind)).toEqual(['tag-mismatch']);
    expect(errors[0].offset).toBe(bytes.length - 3 - 12); // FCS (2) + flag (1) follow the 12-byte tag
  });

  it('a flipped ciphertext bit in an authenticated push is a tag mismatch, not garbage', () => {
    const v = vector('at-netzburgenland-lgz-e450-amsreader501');
    // re-frame: flip a ciphertext bit and fix the HDLC FCS so only the GCM tag can notice
    const frame = wire(v).slice();
    frame[40] ^= 0x01;
    fixHdlcFcs(frame);
    const { errors, readings } = decode(frame, keysOf(v), softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors.map((e) => e.kind)).toEqual(['tag-mismatch']);
  });
});

function fixHdlcFcs(frame: Uint8Array): void {
  const length = ((frame[1] << 8) | frame[2]) & 0x7ff;
  const crc = crc16x25(frame, 1, length - 1);
  frame[length - 1] = crc & 0xff;
  frame[length] = crc >> 8;
}

describe('errors name the byte to look at', () => {
  it('a corrupted M-Bus checksum: error at the checksum byte, the next push still decodes', () => {
    const v = vector('at-netznoe-kaifa-official');
    const good = wire(v);
    const bad = good.slice();
    const firstFrameLength = 0xfa + 6;
    bad[firstFrameLength - 2] ^= 0xff;
    const { decoder, readings, errors } = collect(keysOf(v));
    decoder.push(concat(bad, good));
    decoder.finish();
    expect(errors.map((e) => [e.kind, e.offset])).toEqual([
      ['checksum', firstFrameLength - 2],
      ['segment-order', firstFrameLength + 6], // the CI byte of the orphaned second segment
    ]);
    expect(readings).toHaveLength(1);
    expect(readings[0].values['1-0:32.7.0'].value).toBe(233.7);
  });

  it('an A-XDR error inside an unencrypted push names the stream byte', () => {
    const v = vector('no-aidon-1phase-plain');
    const frame = wire(v).slice();
    // info starts after 7E A0 D2 41 08 83 13 82 D6 E6 E7 00: byte 12 is 0F; the array tag is at 12+1+4+1 = 18
    expect(frame[18]).toBe(0x01);
    frame[18] = 0x42; // no such A-XDR type
    fixHdlcFcs(frame);
    const { errors, readings } = decode(frame, {}, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors).toEqual([{ kind: 'axdr', offset: 18, detail: 'unknown data type 0x42' }]);
  });

  it('an unknown APDU tag', () => {
    const { errors } = decode(hex('C4 01 C1 00'), {}, softwareCrypto);
    expect(errors.map((e) => [e.kind, e.offset])).toEqual([['unknown-apdu', 0]]);
  });

  it('a ciphered APDU cut short', () => {
    const v = vector('at-steiermark-sagemcom-t210dr-shrdzm');
    const bytes = wire(v).subarray(0, 100);
    const { errors } = decode(bytes, keysOf(v), softwareCrypto);
    expect(errors.map((e) => [e.kind, e.offset])).toEqual([['truncated', 13]]); // the content after DB 08 <8 title bytes> 82 01 F2
  });

  it('a truncated M-Bus push', () => {
    const v = vector('at-tinetz-kaifa-docexample');
    const bytes = wire(v);
    const { errors } = decode(bytes.subarray(0, 0xfa + 6), keysOf(v), softwareCrypto);
    expect(errors.map((e) => e.kind)).toEqual(['truncated']);
  });
});

describe('captures as people make them: the errors do not depend on the chunking', () => {
  function events(v: Vector, chunks: Uint8Array[]): string {
    const { decoder, readings, errors } = collect(keysOf(v));
    for (const c of chunks) decoder.push(c);
    decoder.finish();
    return JSON.stringify({ readings, errors, framing: decoder.stats.framing });
  }

  it.each([
    ['at-wels-siemens-im350-shrdzm-2', 49253],
    ['at-netznoe-kaifa-official', 0x23],
  ] as const)('%s: mid-stream start, noise, a damaged frame and good pushes, split anywhere', (id, counter) => {
    const v = vector(id);
    const push = (k: number) => reencrypt(v, { counter: counter + k }).wire;
    const damaged = push(2).slice();
    damaged[20] ^= 0x40;
    const input = concat(wire(v).subarray(50), hex('7E A7 FF 68 FF FF 68 00 13'), push(1), damaged, push(3), hex('00 7E'), push(4));
    const whole = events(v, [input]);
    const parsed = JSON.parse(whole);
    expect(parsed.readings.map((r: Reading) => r.frameCounter)).toEqual([counter + 1, counter + 3, counter + 4]);
    const noiseAt = wire(v).length - 50;
    if (id.startsWith('at-wels')) {
      // the noise header (dst 68 FF, src FF, control 68) fails its HCS at once though it announced
      // 2047 bytes; the damaged push fails its FCS
      const damagedAt = noiseAt + 9 + push(1).length;
      expect(parsed.errors.map((e: DecodeError) => `${e.kind}@${e.offset}`)).toEqual([`checksum@${noiseAt + 7}`, `checksum@${damagedAt + damaged.length - 3}`]);
    } else expect(parsed.errors.map((e: DecodeError) => e.kind)).toContain('checksum');
    for (let k = 1; k < input.length; k++) {
      const split = events(v, [input.subarray(0, k), input.subarray(k)]);
      if (split !== whole) expect(JSON.parse(split), `split at ${k}`).toEqual(parsed);
    }
    expect(events(v, Array.from(input, (_, i) => input.subarray(i, i + 1)))).toBe(whole);
  });
});

describe('fuzz: 100 000 random and mutated pushes', () => {
  /**
   * One decoder per real push, fed continuously like a serial port: mutated copies (bit flips,
   * truncations, insertions, deletions, replaced bytes) of the push that comes next, and every
   * 50th time the push itself. Ciphered pushes are re-encrypted with a growing frame counter, as
   * the meter sends them. Counts the published Readings whose values differ from the original.
   */
  function fuzz(guarded: boolean) {
    const random = rng(0x5eed);
    const sources = vectors.filter((v) => v.key !== null || v.security.startsWith('none'));
    let mutated = 0;
    let goodChecks = 0;
    let published = 0;
    let lost = 0;
    let time = 0;
    const wrong: Record<string, number> = {};
    const streams = sources.map((v) => {
      const framing = v.frames_hex[0].startsWith('68') || v.frames_hex[0].startsWith('7E') ? 'auto' : 'apdu';
      const first = v.key ? reencrypt(v) : null;
      const base = first ? first.counter : 0;
      const push = (k: number) => (first ? reencrypt(v, { counter: first.counter + k }).wire : wire(v));
      const original = JSON.stringify(decode(wire(v), keysOf(v), softwareCrypto).readings[0].values);
      const readings: Reading[] = [];
      const errors: DecodeError[] = [];
      const s = { v, framing, push, base, k: 1, next: push(1), original, readings, errors, decoder: null as unknown as MeterDecoder };
      s.decoder = new MeterDecoder({
        crypto: softwareCrypto,
        keys: keysOf(v),
        framing,
        guard: guarded ? new PlausibilityGuard() : null,
        now: () => time, // as the gateway gives it: when the bytes arrived
        onReading: (r) => {
          published++;
          if (JSON.stringify(r.values) !== original) wrong[v.id] = (wrong[v.id] ?? 0) + 1;
          readings.push(r);
        },
        onError: (e) => errors.push(e),
      });
      return s;
    });
    const before = streams.map((s) => bufferSizes(s.decoder));
    for (let n = 0; n < 100_000; n++) {
      const s = streams[n % streams.length];
      time += 100; // 50 noisy copies in the 5 s between two pushes
      s.decoder.push(mutate(s.next, random));
      mutated++;
      if (s.framing === 'apdu') s.decoder.finish(); // a bare APDU ends with its input
      if (n % 50 === 49) {
        // the real push after the noise decodes (raw APDU streams decode at finish), or an
        // undamaged copy of it already came through; without the guard always
        const count = s.readings.length;
        time += 100;
        s.decoder.push(s.next);
        s.decoder.finish();
        const last = s.readings[s.readings.length - 1];
        const copyCameThrough = last !== undefined && JSON.stringify(last.values) === s.original && last.frameCounter === (s.v.key ? s.k + s.base : null);
        if (s.readings.length === count && !copyCameThrough) {
          expect(guarded, `${s.v.id} after mutation ${n}`).toBe(true);
          lost++; // refused because a corrupted push the guard could not see was accepted before it
        }
        goodChecks++;
        s.k++;
        s.next = s.push(s.k);
      }
      if (s.readings.length > 1000) s.readings.length = 0;
      if (s.errors.length > 1000) s.errors.length = 0;
    }
    for (let n = 0; n < 2000; n++) {
      // pure random bytes, every length
      const bytes = new Uint8Array(Math.floor(random() * 600));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      if (bytes.length) bytes[0] = [0x68, 0x7e, 0xdb, 0x0f, 0xe0][n % 5];
      decode(bytes, { encryption: WRONG }, softwareCrypto);
    }
    expect(mutated).toBe(100_000);
    expect(goodChecks).toBe(2000);
    // no buffer grew; auto framing may have released the parser it did not need
    streams.forEach((s, i) => {
      const now = bufferSizes(s.decoder);
      for (const [name, size] of Object.entries(now)) expect(size, `${s.v.id} ${name}`).toBe(before[i][name]);
      expect(Object.keys(now).length).toBeGreaterThanOrEqual(2);
    });
    const total = Object.values(wrong).reduce((a, b) => a + b, 0);
    // bare plaintext APDUs carry no checksum at all: every change of a byte reaches the decoder
    const bare = Object.entries(wrong).filter(([id]) => vector(id).security.startsWith('none') && !vector(id).frames_hex[0].startsWith('7E')).reduce((a, [, n]) => a + n, 0);
    return { published, wrong, total, bare, checked: total - bare, lost };
  }

  it('never throws, keeps its buffers, decodes the next good push; the guard stops wrong values', () => {
    const open = fuzz(false);
    const guarded = fuzz(true);
    console.log(
      `of 100 000 mutated pushes, published Readings whose values differ from the original push: ${open.total} without the guard ${JSON.stringify(open.wrong)}, ` +
        `${guarded.total} with it ${JSON.stringify(guarded.wrong)} (pushes with a checksum, tag or cipher: ${open.checked} -> ${guarded.checked}; bare plaintext APDUs: ${open.bare} -> ${guarded.bare}); ` +
        `real pushes refused after an unseen corruption was accepted: ${guarded.lost} of 2000`,
    );
    expect(open.total).toBeGreaterThan(0); // the noise the checksums cannot see is real
    expect(open.lost).toBe(0);
    // what remains are changes in low digits and in the clock's seconds, which no rule can see
    expect(guarded.bare).toBeLessThan(open.bare * 0.75);
    expect(guarded.checked).toBeLessThan(open.checked);
    expect(guarded.lost).toBeLessThan(20);
  }, 240_000);
});

/** Sizes of every buffer the decoder holds, by name; a link that auto framing let go is absent. */
function bufferSizes(d: MeterDecoder): Record<string, number> {
  const any = d as unknown as Record<string, { buf?: Uint8Array; assembler?: { buffer: Uint8Array }; buffer?: Uint8Array; out?: { buffer: Uint8Array } } | null>;
  const out: Record<string, number> = {};
  for (const k of ['mbus', 'hdlc']) {
    const l = any[k];
    if (l) {
      out[`${k}.buf`] = l.buf!.length;
      out[`${k}.assembler`] = l.assembler!.buffer.length;
    }
  }
  if (any.raw) out.raw = any.raw.buffer!.length;
  out.gbt = (any.gbt as { out: { buffer: Uint8Array } }).out.buffer.length;
  return out;
}

function mutate(good: Uint8Array, random: () => number): Uint8Array {
  const bytes = Array.from(good);
  const ops = 1 + Math.floor(random() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(random() * bytes.length);
    switch (Math.floor(random() * 5)) {
      case 0:
        bytes[at] ^= 1 << Math.floor(random() * 8); // bit flip
        break;
      case 1:
        bytes.length = at; // truncation
        break;
      case 2:
        bytes.splice(at, 0, Math.floor(random() * 256)); // insertion
        break;
      case 3:
        bytes.splice(at, 1); // deletion
        break;
      default:
        bytes[at] = Math.floor(random() * 256); // byte replaced
    }
  }
  return Uint8Array.from(bytes);
}

describe('authentication only (security 0x10): the plaintext travels in the clear under a tag', () => {
  // built from a real plaintext: DB 08 <title> len 10 <IC> <plaintext> <tag over SC ‖ AK ‖ plaintext>
  const plain = hex(vector('at-vorarlberg-kaifa-plaintext-fixture').plaintext_hex!);
  const EK = hex('101112131415161718191A1B1C1D1E1F');
  const AK = hex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
  const title = hex('4B464D1020019F8B');
  const ic = 0x01020304;
  function push(): Uint8Array {
    const iv = concat(title, Uint8Array.of(1, 2, 3, 4));
    const aad = concat(Uint8Array.of(0x10), AK, plain);
    const tag = new Uint8Array(12);
    const key = softwareCrypto.importKey(EK);
    softwareCrypto.gcmEncryptInPlace(key, iv, new Uint8Array(0), 0, 0, aad, tag);
    const content = 5 + plain.length + 12;
    return concat(Uint8Array.of(0xdb, 8), title, Uint8Array.of(0x82, content >> 8, content & 0xff, 0x10, ic >>> 24, (ic >>> 16) & 0xff, (ic >>> 8) & 0xff, ic & 0xff), plain, tag);
  }

  it('verifies the tag with both keys and decodes the clear data', () => {
    const { readings, errors } = decode(push(), { encryption: encryptionKey(EK), authentication: authenticationKey(AK) }, softwareCrypto);
    expect(errors).toEqual([]);
    expect(readings[0].security).toEqual({ control: 0x10, encrypted: false, authenticated: true, tag: 'verified' });
    expect(readings[0].values['1-0:52.7.0']).toEqual({ value: 232.5, unit: 'V' });
    expect(readings[0].frameCounter).toBe(ic);
  });

  it('a changed byte of the clear data is caught by the tag', () => {
    const p = push();
    p[40] ^= 0x01;
    const { readings, errors } = decode(p, { encryption: encryptionKey(EK), authentication: authenticationKey(AK) }, softwareCrypto);
    expect(readings).toEqual([]);
    expect(errors.map((e) => e.kind)).toEqual(['tag-mismatch']);
  });

  it('without the authentication key the data is still read, and the Reading says the tag was not checked', () => {
    const { readings } = decode(push(), {}, softwareCrypto);
    expect(readings[0].security).toEqual({ control: 0x10, encrypted: false, authenticated: false, tag: 'unchecked' });
  });
});
