import { describe, expect, it } from 'vitest';
import { ByteHistory, RawPushRing, verdict, type StageTimes } from '../firmware/diagnostics.js';
import type { DecoderStats } from '../firmware/decoder.js';

function stats(p: Partial<DecoderStats>): DecoderStats {
  return { bytes: 0, frames: 0, apdus: 0, lastSecurityControl: -1, decrypted: 0, readings: 0, lastValueCount: 0, errors: 0, errorsByKind: {}, lastError: null, framing: 'auto', ...p };
}
const never: StageTimes = { byte: null, frame: null, apdu: null, decrypted: null, reading: null, error: null };

describe('verdict', () => {
  const now = 1_000_000;
  it('waits quietly at first, then blames the wiring or the activation', () => {
    expect(verdict(stats({}), never, now, now - 5000).level).toBe('ok');
    const v = verdict(stats({}), never, now, now - 120_000);
    expect(v.level).toBe('error');
    expect(v.message).toContain('check the wiring');
    expect(v.message).toContain('activated at your grid operator');
  });
  it('bytes without frames: serial settings', () => {
    expect(verdict(stats({ bytes: 500 }), { ...never, byte: now - 1000 }, now, 0).message).toContain('2400 baud');
  });
  it('frames without a key, with a wrong key, damaged', () => {
    const t = { ...never, byte: now - 1000, frame: now - 1000 };
    expect(verdict(stats({ bytes: 500, frames: 2, errorsByKind: { 'missing-key': 1 } }), t, now, 0).message).toContain('no key is set');
    expect(verdict(stats({ bytes: 500, frames: 2, errorsByKind: { 'wrong-key-or-corrupt': 1 } }), t, now, 0).message).toContain('check the key');
    expect(verdict(stats({ bytes: 500, frames: 2, errorsByKind: { 'tag-mismatch': 1 } }), t, now, 0).message).toContain('check the key');
    expect(verdict(stats({ bytes: 500, frames: 2, errorsByKind: { checksum: 4 } }), t, now, 0).message).toContain('damaged');
    const refused = { kind: 'implausible' as const, offset: 9, detail: '1-0:1.8.0 went down from 5000 Wh to 12 Wh (rule energy-decrease)' };
    expect(verdict(stats({ bytes: 500, frames: 2, errorsByKind: { implausible: 3 }, lastError: refused }), t, now, 0)).toEqual({
      level: 'error',
      message: 'pushes decode but are refused as implausible, so nothing is published: 1-0:1.8.0 went down from 5000 Wh to 12 Wh (rule energy-decrease)',
    });
  });
  it('silence after data: check the cable', () => {
    const v = verdict(stats({ bytes: 500, frames: 2, readings: 2 }), { ...never, byte: now - 90_000, reading: now - 90_000 }, now, 0);
    expect(v).toEqual({ level: 'error', message: 'no data from the meter for 90 s: check the cable' });
  });
  it('all well', () => {
    const v = verdict(stats({ bytes: 500, frames: 2, readings: 2, lastValueCount: 12 }), { ...never, byte: now - 2000, reading: now - 2000 }, now, 0);
    expect(v).toEqual({ level: 'ok', message: 'receiving readings (12 values, the last 2 s ago)' });
  });
});

describe('byte history', () => {
  it('shows the bytes around a stream offset, the offending one in brackets', () => {
    const h = new ByteHistory(8);
    h.push(Uint8Array.of(0, 1, 2, 3, 4, 5));
    h.push(Uint8Array.of(6, 7, 8, 9));
    expect(h.context(7, 2)).toBe('05 06 [07] 08 09');
    expect(h.context(1, 2)).toBeNull(); // overwritten already
    expect(h.context(9, 1)).toBe('08 [09]');
  });
});

describe('raw push ring', () => {
  it('files the frames of each push and keeps the last N', () => {
    const ring = new RawPushRing(2);
    ring.frame(Uint8Array.of(0x68, 1), 0, 2);
    ring.frame(Uint8Array.of(0x68, 2), 0, 2);
    ring.close(1, 'reading');
    ring.close(2, 'checksum'); // nothing pending: nothing filed
    ring.frame(Uint8Array.of(3), 0, 1);
    ring.close(3, 'wrong-key-or-corrupt');
    ring.frame(Uint8Array.of(4), 0, 1);
    ring.close(4, 'reading');
    expect(ring.list()).toEqual([
      { at: 3, frames: ['03'], result: 'wrong-key-or-corrupt' },
      { at: 4, frames: ['04'], result: 'reading' },
    ]);
    expect(ring.last()!.at).toBe(4);
  });
});
