// `meterbridge decode` as a person runs it: the real bin script, stdin or a file, exit codes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reencrypt, valueAt, vector, wire } from './helpers.js';
import { freePort } from './support/mosquitto.js';
import { COMMANDS } from '../hal/node/cli.js';

const BIN = join(process.cwd(), 'bin', 'meterbridge.mjs');
const built = existsSync(join(process.cwd(), 'dist', 'node', 'cli.js'));

function run(args: string[], input?: string | Buffer) {
  // a timeout: `run --help` must print its help, not start a gateway that never exits
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 15_000 });
  if (r.signal) throw new Error(`meterbridge ${args.join(' ')} did not exit (${r.signal})`);
  return { code: r.status, out: r.stdout.trim().split('\n').filter(Boolean), err: r.stderr.trim().split('\n').filter(Boolean) };
}

describe.skipIf(!built)('meterbridge decode', () => {
  const noe = vector('at-netznoe-kaifa-official');

  const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
  /** the next push of the same meter: frame counter + 1 */
  const next = hexOf(reencrypt(noe, { counter: 0x24 }).wire);

  it('prints one Reading per push as a JSON line, from stdin, key with spaces and lower case', () => {
    const hexText = noe.frames_hex.join('\n') + '\n' + next;
    const r = run(['decode', '--key', '36 c6 66 39 e4 8a 8c a4 d6 bc 8b 28 2a 79 3b bb', '-'], hexText);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
    const reading = JSON.parse(r.out[0]);
    expect(reading.values['1-0:32.7.0']).toEqual({ value: 233.7, unit: 'V' });
    expect(reading.meter.number).toBe('181220000009');
  });

  it('reads raw bytes from a file with --binary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-cli-'));
    try {
      const file = join(dir, 'push.bin');
      writeFileSync(file, wire(noe));
      const r = run(['decode', '--binary', '--key', noe.key!, file]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out[0]).frameCounter).toBe(0x23);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('errors go to stderr as "error: <kind> at byte <offset>: <detail>" with exit code 1', () => {
    const bad = wire(noe).slice();
    bad[254] ^= 0x01; // the checksum of the first frame
    const good = Buffer.from(wire(noe)).toString('hex');
    const r = run(['decode', '--key', noe.key!], Buffer.from(bad).toString('hex') + good);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^error: checksum at byte 254: M-Bus checksum is 0x[0-9A-F]{2}, the frame sums to 0x[0-9A-F]{2}$/);
    expect(r.out).toHaveLength(1); // the good push after it still decodes
  });

  it('a wrong key, a missing key and an authenticated push', () => {
    expect(run(['decode', '--key', '00112233445566778899AABBCCDDEEF0', '-'], noe.frames_hex.join('')).err[0]).toMatch(/^error: wrong-key-or-corrupt at byte \d+: /);
    expect(run(['decode', '-'], noe.frames_hex.join('')).err[0]).toBe(
      'error: missing-key at byte 9: encrypted push from system title 4B464D6750000009 (KFM), frame counter 35, security 0x20: no encryption key is configured',
    );
    const k = vector('dk-kamstrup-omnipower-authenc');
    const ok = run(['decode', '--key', k.key!, '--auth-key', k.auth_key!, '-'], k.frames_hex.join(''));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out[0]).security.tag).toBe('verified');
  });

  it('the plausibility guard across the pushes of one capture: a repeated push is implausible, --no-guard lets it through', () => {
    const twice = noe.frames_hex.join('') + noe.frames_hex.join('');
    const r = run(['decode', '--key', noe.key!, '-'], twice);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.err).toEqual([
      `error: implausible at byte ${wire(noe).length + 9}: frame counter 35 does not follow 35 (rule frame-counter); the push from 4B464D6750000009, frame counter 35 is not published`,
    ]);
    const off = run(['decode', '--no-guard', '--key', noe.key!, '-'], twice);
    expect(off.code).toBe(0);
    expect(off.out).toHaveLength(2);
    // an energy jump faster than --max-power allows
    const jump = hexOf(reencrypt(noe, { counter: 0x24, edit: (p) => { p[valueAt(p, [1, 0, 1, 8, 0, 255]) + 1] += 1; } }).wire); // 1-0:1.8.0 + 65 536 Wh
    const fast = run(['decode', '--key', noe.key!, '--max-power', '10', '-'], noe.frames_hex.join('') + jump);
    expect(fast.err[0]).toContain('1-0:1.8.0 rose from 12937 Wh to 78473 Wh in 1 s');
    expect(fast.err[0]).toContain('more than the maximum of 10 kW (rule energy-rate)');
  });

  it('a capture taken mid-stream is scanned for frames; --framing forces the link layer', () => {
    const wels = vector('at-wels-siemens-im350-shrdzm-2');
    const cut = wire(wels).subarray(37); // a serial port opened in the middle of a push
    const pushes = [1, 2].map((k) => hexOf(reencrypt(wels, { counter: 49253 + k }).wire)).join('');
    const r = run(['decode', '--key', wels.key!, '-'], hexOf(cut) + pushes);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.map((l) => JSON.parse(l).frameCounter)).toEqual([49254, 49255]);
    // forced to M-Bus, the same bytes hold no frame
    const forced = run(['decode', '--key', wels.key!, '--framing', 'mbus', '-'], hexOf(cut) + pushes);
    expect(forced.out).toEqual([]);
    expect(forced.code).toBe(1);
    expect(run(['decode', '--framing', 'x25', '-'], pushes).code).toBe(2);
    // M-Bus from the middle of the first frame: the orphaned second segment is said, the next push decodes
    const mbus = run(['decode', '--key', noe.key!, '-'], hexOf(wire(noe).subarray(100)) + next);
    expect(mbus.out.map((l) => JSON.parse(l).frameCounter)).toEqual([0x24]);
    expect(mbus.err).toEqual([expect.stringMatching(/^error: segment-order at byte 162: segment 1 arrived without the segments before it/)]);
  });

  it('bare APDUs one per line, offsets counted over the whole input', () => {
    const a = vector('at-vorarlberg-kaifa-plaintext-fixture').frames_hex[0];
    const b = vector('at-sagemcom-t210d-plaintext-fixture').frames_hex[0];
    const r = run(['decode', '-'], `${a}\n${b}\nC4\n`);
    expect(r.out).toHaveLength(2);
    expect(r.err).toEqual([`error: unknown-apdu at byte ${(a.length + b.length) / 2}: APDU tag 0xC4 is not a data-notification (0x0F), general-glo-ciphering (0xDB) or general-block-transfer (0xE0)`]);
  });

  it('usage errors exit 2 and say what is wrong', () => {
    const odd = run(['decode', '--key', '36C6', '-'], '68');
    expect(odd.code).toBe(2);
    expect(odd.err[0]).toBe('error: usage: encryption key: a key has 32 hex digits (16 bytes); this one has 4');
    const notHex = run(['decode', '-'], 'hello');
    expect(notHex.code).toBe(2);
    expect(notHex.err[0]).toMatch(/^error: usage: the input is not hex: character "h" at position 0 is not hex/);
    expect(run(['decode', '-'], '').code).toBe(2);
    expect(run(['frobnicate']).code).toBe(2);
  });

  it('simulate prints pushes that decode', () => {
    const sim = run(['simulate', '2']);
    expect(sim.code).toBe(0);
    expect(sim.out).toHaveLength(2);
    const r = run(['decode', '--key', '000102030405060708090A0B0C0D0E0F', '-'], sim.out.join('\n'));
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
  });
});

describe.skipIf(!built)('command line help and usage errors', () => {
  it.each(Object.keys(COMMANDS))('%s --help (and help <command>) describes every flag and does nothing else', (name) => {
    for (const args of [[name, '--help'], ['help', name], [name, '-h']]) {
      const r = run(args, '');
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`^usage: meterbridge ${name} `));
      for (const f of COMMANDS[name].flags) expect(r.out.join('\n')).toContain(f.name);
    }
    const withValues = run([name, '--key', '00', '--help'], '');
    expect(withValues.code).toBe(0);
    expect(withValues.out[0]).toMatch(/^usage: /);
  });

  it('meterbridge alone prints the commands and exits 2; --help exits 0; --version', () => {
    const bare = run([]);
    expect(bare.code).toBe(2);
    expect(bare.err.join('\n')).toContain('decode');
    const help = run(['--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.out.join('\n')).toContain(`  ${name} `);
    expect(run(['--version']).out).toEqual([expect.stringMatching(/^meterbridge \d+\.\d+\.\d+$/)]);
    const unknown = run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err[0]).toBe('error: usage: unknown command "frobnicate"');
  });

  it.each(Object.keys(COMMANDS))('%s: an unknown flag is a usage error that names it', (name) => {
    const r = run([name, '--frobnicate', 'x'], '');
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toMatch(new RegExp(`^error: usage: meterbridge ${name}: unknown flag --frobnicate \\(known: `));
  });

  it.each([
    [['decode', '--authkey', 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF', 'frames.hex'], 'unknown flag --authkey (known: --key, --auth-key, '],
    [['decode', '--binary', '36C66639E48A8CA4D6BC8B282A793BBB', 'frames.hex'], 'unexpected value "36C66639E48A8CA4D6BC8B282A793BBB" after --binary, which takes no value'],
    [['decode', 'a.hex', 'b.hex'], 'unexpected argument "b.hex" (at most 1 FILE)'],
    [['decode', '-', '--key'], '--key needs a value (--key HEX)'],
    [['decode', '--key', '--binary'], '--key needs a value (--key HEX)'],
    [['decode', '--key=00', '--key', '00', '-'], '--key is given twice'],
    [['decode', '--binary=yes', '-'], '--binary takes no value'],
    [['run', '--port', 'abc'], '--port: must be a whole number from 1 to 65535'],
    [['run', '--serial', '/dev/ttyUSB0', '--simulate'], '--serial and --simulate are alternatives: give one source'],
    [['run', 'capture.hex'], 'unexpected argument "capture.hex" (this command takes only flags)'],
    [['simulate', '--hdlc', '5', '3'], 'unexpected value "5" after --hdlc, which takes no value'],
    [['simulate', 'five'], 'COUNT must be a whole number of pushes, 1 or more, not "five"'],
    [['simulate', '--key', '0011'], '--key: a key has 32 hex digits (16 bytes); this one has 4'],
  ])('%j is a usage error: %s', (args, message) => {
    const r = run(args, '');
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toContain(`error: usage: meterbridge ${args[0]}: ${message}`);
  });
});

describe.skipIf(!built)('meterbridge run', { timeout: 20_000 }, () => {
  it('replays a capture with --replay, serves the API, logs without secrets, and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-run-'));
    const v = vector('at-tinetz-kaifa-docexample');
    const capture = join(dir, 'capture.hex');
    writeFileSync(capture, v.frames_hex.join(' ') + '\n');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ version: 1, meter: { key: v.key }, mqtt: { username: 'u', password: 'mqtt-secret-pw' }, log: { level: 'debug' } }));
    const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--data', dir, '--replay', capture, '--port', String(await freePort())], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c) => (log += c));
    try {
      let port = 0;
      for (let i = 0; i < 200 && !port; i++) {
        port = Number(/web UI and API on http:\/\/[^:]+:(\d+)\//.exec(log)?.[1] ?? 0);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(port).toBeGreaterThan(0);
      let reading: { meter: { number: string } } | null = null;
      for (let i = 0; i < 100 && !reading; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/api/reading`);
        if (res.status === 200) reading = (await res.json()) as { meter: { number: string } };
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(reading?.meter.number).toBe('1KFM0100000035');
      expect(log).toContain('reading from replay of');
      // the host listens on loopback unless --host says otherwise
      expect(log).toContain(`web UI and API on http://127.0.0.1:${port}/`);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(log).not.toContain(v.key!);
    expect(log).not.toContain('mqtt-secret-pw');
  });

  it('run --config FILE: changes made in the web UI are saved to that file, so the next start has them', async () => {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-run-'));
    const config = join(dir, 'my-config.json');
    writeFileSync(config, JSON.stringify({ version: 1, web: { password: 'web password' }, mqtt: { baseTopic: 'before' } }));
    const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--data', dir, '--port', String(await freePort())], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c) => (log += c));
    try {
      let port = 0;
      for (let i = 0; i < 200 && !port; i++) {
        port = Number(/web UI and API on http:\/\/[^:]+:(\d+)\//.exec(log)?.[1] ?? 0);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(log).toContain(`info: settings from ${config}; changes made in the web UI are saved there`);
      const res = await fetch(`http://127.0.0.1:${port}/api/config`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', authorization: 'Basic ' + Buffer.from('x:web password').toString('base64') },
        body: JSON.stringify({ mqtt: { baseTopic: 'after' } }),
      });
      expect(res.status).toBe(200);
      const saved = JSON.parse(readFileSync(config, 'utf8'));
      expect(saved.mqtt.baseTopic).toBe('after');
      expect(saved.web.password).toBe('web password'); // the file stays a complete configuration
      expect(existsSync(join(dir, 'config'))).toBe(false);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a damaged stored configuration falls back to defaults and says so, it does not stop the gateway', async () => {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-run-'));
    // cut off mid-write, after the web password
    writeFileSync(join(dir, 'config'), '{"version":1,"meter":{"key":"000102030405060708090A0B0C0D0E0F"},"web":{"password":"kept password"},"wifi":{"ssid":');
    const child = spawn(process.execPath, [BIN, 'run', '--data', dir, '--port', String(await freePort())], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c) => (log += c));
    try {
      let port = 0;
      for (let i = 0; i < 200 && !port; i++) {
        port = Number(/web UI and API on http:\/\/[^:]+:(\d+)\//.exec(log)?.[1] ?? 0);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(log).toMatch(/warning: .*(damaged|could not be read|defaults)/i);
      // the web password survived: the settings stay closed to anyone without it
      expect((await fetch(`http://127.0.0.1:${port}/api/config`)).status).toBe(401);
      const auth = { authorization: 'Basic ' + Buffer.from('x:kept password').toString('base64') };
      const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`, { headers: auth })).json()) as { configWarnings: string[] };
      expect(status.configWarnings.join(' ')).toMatch(/default/i);
      expect(status.configWarnings.join(' ')).toContain('the web password could be read from the damaged settings and was kept');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('oddities end with one line each: settings that are a directory, a port in use', async () => {
    const { createServer } = await import('node:net');
    const dir = mkdtempSync(join(tmpdir(), 'meterbridge-run-'));
    try {
      mkdirSync(join(dir, 'config'));
      const r = spawnSync(process.execPath, [BIN, 'run', '--data', dir, '--port', String(await freePort())], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`error: cannot read the settings ${join(dir, 'config')}: it is a directory, not a file`);
      rmSync(join(dir, 'config'), { recursive: true });
      const busy = createServer();
      await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
      const port = (busy.address() as { port: number }).port;
      try {
        const { spawn } = await import('node:child_process');
        const child = spawn(process.execPath, [BIN, 'run', '--data', dir, '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c) => (err += c));
        const code = await new Promise<number | null>((done) => child.once('exit', done));
        expect(code).toBe(1);
        const errors = err.split('\n').filter((l) => l.startsWith('error'));
        expect(errors).toEqual([`error: cannot listen on 127.0.0.1:${port}: the port is in use (another meterbridge?); choose another with --port`]);
        expect(err).not.toMatch(/^\s+at /m);
      } finally {
        busy.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
