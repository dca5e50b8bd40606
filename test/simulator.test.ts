import { describe, expect, it } from 'vitest';
import { MeterSimulator } from '../firmware/simulator.js';
import { decode } from '../firmware/decoder.js';
import { authenticationKey, encryptionKey } from '../firmware/keys.js';
import { softwareCrypto } from '../firmware/crypto/gcm.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import { hex } from './helpers.js';

const KEY = hex('000102030405060708090A0B0C0D0E0F');
const AUTH = hex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const noon = new Date(2024, 5, 21, 12, 0, 0).getTime();

describe('meter simulator', () => {
  it('pushes encrypted Kaifa-style M-Bus frames that the decoder reads (three-phase)', () => {
    const sim = new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 });
    const bytes = sim.push(noon);
    expect([bytes[0], bytes[1], bytes[2], bytes[3]]).toEqual([0x68, 0xfa, 0xfa, 0x68]); // a full first segment
    const { readings, errors } = decode(bytes, { encryption: encryptionKey(KEY) }, softwareCrypto);
    expect(errors).toEqual([]);
    const r = readings[0];
    expect(r.security).toEqual({ control: 0x21, encrypted: true, authenticated: false, tag: 'none' });
    expect(r.meter.number).toBe('1KFM0200204035');
    expect(r.meter.systemTitle).toBe('4B464D1020019F8B');
    expect(Object.keys(r.values)).toEqual(expect.arrayContaining(['1-0:32.7.0', '1-0:52.7.0', '1-0:72.7.0', '1-0:51.7.0', '1-0:1.8.0', '1-0:2.8.0', '1-0:1.7.0']));
    expect(r.timestamp?.startsWith('2024-06-21T12:00:00')).toBe(true);
    expect(r.values['1-0:32.7.0'].unit).toBe('V');
    expect(Math.abs((r.values['1-0:32.7.0'].value as number) - 231)).toBeLessThan(3);
  });

  it('single-phase lists leave out L2 and L3', () => {
    const sim = new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 1 });
    const r = decode(sim.push(noon), { encryption: encryptionKey(KEY) }, nodeCrypto).readings[0];
    expect(r.values['1-0:52.7.0']).toBeUndefined();
    expect(r.values['1-0:32.7.0']).toBeDefined();
  });

  it('counts frames and energy monotonically, and exports PV at noon', () => {
    const sim = new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 });
    const keys = { encryption: encryptionKey(KEY) };
    let last = decode(sim.push(noon), keys, nodeCrypto).readings[0];
    for (let i = 1; i <= 20; i++) {
      const r = decode(sim.push(noon + i * 5000), keys, nodeCrypto).readings[0];
      expect(r.frameCounter).toBe(last.frameCounter! + 1);
      expect(r.values['1-0:2.8.0'].value as number).toBeGreaterThanOrEqual(last.values['1-0:2.8.0'].value as number);
      expect(r.values['1-0:1.8.0'].value as number).toBeGreaterThanOrEqual(last.values['1-0:1.8.0'].value as number);
      last = r;
    }
    expect(last.values['1-0:2.7.0'].value as number).toBeGreaterThan(0); // 2.6 kW of PV beats the noon load
  });

  it('a new simulator (a saved key, a restart) carries on where the last one stopped: counters never go backwards', () => {
    const keys = { encryption: encryptionKey(KEY) };
    const values = (sim: MeterSimulator, t: number) => {
      const r = decode(sim.push(t), keys, nodeCrypto).readings[0];
      return { frame: r.frameCounter!, imp: r.values['1-0:1.8.0'].value as number, exp: r.values['1-0:2.8.0'].value as number };
    };
    const tz = process.env.TZ;
    process.env.TZ = 'Europe/Vienna'; // through the night the clocks go back (27 October 2024, 03:00 -> 02:00)
    try {
      const start = Date.UTC(2024, 9, 26, 20, 0, 0);
      const running = new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 });
      let last = values(running, start);
      let lastRestarted = last;
      for (let t = start + 5000; t < start + 12 * 3_600_000; t += 5000) {
        const now = values(running, t);
        expect(now.frame).toBe(last.frame + 1);
        expect(now.imp).toBeGreaterThanOrEqual(last.imp);
        expect(now.exp).toBeGreaterThanOrEqual(last.exp);
        last = now;
        if (t % 600_000 === 0) {
          // every ten minutes a fresh simulator, as after a key save or a restart
          const fresh = values(new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 }), t);
          expect(fresh.frame).toBeGreaterThan(lastRestarted.frame);
          expect(fresh.imp).toBeGreaterThanOrEqual(lastRestarted.imp);
          expect(fresh.exp).toBeGreaterThanOrEqual(lastRestarted.exp);
          expect(Math.abs(fresh.imp - now.imp)).toBeLessThanOrEqual(1); // the same register, not a second meter
          lastRestarted = fresh;
        }
      }
      // a day imports and exports what a household with PV does (Wh), whenever the simulator started
      const a = values(new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 }), Date.UTC(2024, 5, 1));
      const b = values(new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 }), Date.UTC(2024, 5, 2));
      expect(b.imp - a.imp).toBeGreaterThan(5_000);
      expect(b.imp - a.imp).toBeLessThan(20_000);
      expect(b.exp - a.exp).toBeGreaterThan(5_000);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('with an authentication key sends 0x30 with a tag that verifies', () => {
    const sim = new MeterSimulator({ crypto: nodeCrypto, key: KEY, authKey: AUTH, phases: 3 });
    const bytes = sim.push(noon);
    const ok = decode(bytes, { encryption: encryptionKey(KEY), authentication: authenticationKey(AUTH) }, softwareCrypto);
    expect(ok.errors).toEqual([]);
    expect(ok.readings[0].security.tag).toBe('verified');
    const bad = decode(bytes, { encryption: encryptionKey(KEY), authentication: authenticationKey(KEY) }, softwareCrypto);
    expect(bad.errors.map((e) => e.kind)).toEqual(['tag-mismatch']);
  });

  it('can frame its pushes as HDLC', () => {
    const sim = new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3, framing: 'hdlc' });
    const bytes = sim.push(noon);
    expect(bytes[0]).toBe(0x7e);
    expect(bytes[bytes.length - 1]).toBe(0x7e);
    expect(decode(bytes, { encryption: encryptionKey(KEY) }, nodeCrypto).readings).toHaveLength(1);
  });

  it('software and node:crypto encrypt alike', () => {
    const a = new MeterSimulator({ crypto: nodeCrypto, key: KEY, phases: 3 }).push(noon);
    const b = new MeterSimulator({ crypto: softwareCrypto, key: KEY, phases: 3 }).push(noon);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
