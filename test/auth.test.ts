// Access rules with an injected clock: host names, Origin, the guessing limiter, sessions.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Auth, GUESS_LIMITS, GuessLimiter, cookieValue, hostAllowed, isIpLiteral, originAllowed, sameSecret, splitAuthority } from '../firmware/auth.js';

function setup(password = 'hunter22') {
  let now = 1_000_000;
  const auth = new Auth(() => password, (k) => new Uint8Array(randomBytes(k)), () => now);
  return { auth, tick: (ms: number) => (now += ms), setPassword: (p: string) => (password = p) };
}

const basic = (user: string, pass: string) => ({ authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') });
const cookie = (token: string) => ({ cookie: `a=b; mb_session=${token}` });
const DAY = 24 * 3600 * 1000;

describe('passwords and sessions', () => {
  it('accepts a session from login, and HTTP Basic with the password (UTF-8, any user name)', () => {
    const { auth, setPassword } = setup();
    expect(auth.authorize({}, 'a')).toMatchObject({ ok: false, status: 401, error: 'password required' });
    const r = auth.login('hunter22', 'a');
    if (!r.ok) throw new Error('login failed');
    expect(r.token).toMatch(/^[0-9A-F]{32}$/);
    expect(auth.authorize(cookie(r.token), 'a').ok).toBe(true);
    expect(auth.authorize({ cookie: 'mb_session=0000' }, 'a')).toMatchObject({ ok: false, status: 401, detail: expect.stringContaining('session has ended') });
    expect(auth.authorize(basic('admin', 'hunter22'), 'a').ok).toBe(true);
    expect(auth.authorize(basic('', 'hunter22'), 'a').ok).toBe(true);
    expect(auth.authorize(basic('admin', 'hunter23'), 'a')).toMatchObject({ ok: false, status: 401, error: 'wrong password' });
    setPassword('Grüße aus Wien');
    expect(auth.authorize(basic('x', 'Grüße aus Wien'), 'a').ok).toBe(true);
    auth.logout(cookie(r.token));
    expect(auth.authorize(cookie(r.token), 'a').ok).toBe(false);
  });

  it('sessions end 7 days after their last use and 30 days after login; a new password ends them all', () => {
    const { auth, tick } = setup();
    const t = (auth.login('hunter22', 'a') as { token: string }).token;
    for (let d = 0; d < 29; d += 6) {
      expect(auth.hasSession(cookie(t))).toBe(true);
      tick(6 * DAY);
    }
    expect(auth.hasSession(cookie(t))).toBe(false); // 30 days since login, though used every 6 days
    const idle = (auth.login('hunter22', 'a') as { token: string }).token;
    tick(7 * DAY - 1);
    expect(auth.hasSession(cookie(idle))).toBe(true);
    tick(7 * DAY);
    expect(auth.hasSession(cookie(idle))).toBe(false);
    const t2 = (auth.login('hunter22', 'a') as { token: string }).token;
    auth.reset();
    expect(auth.hasSession(cookie(t2))).toBe(false);
  });

  it('at most 16 sessions: a session in use is never ended to make room, one unused for an hour may be', () => {
    const { auth, tick } = setup();
    const tokens: string[] = [];
    for (let i = 0; i < 16; i++) {
      tokens.push((auth.login('hunter22', 'a') as { token: string }).token);
      tick(60_000);
    }
    const refused = auth.login('hunter22', 'a');
    expect(refused).toMatchObject({ ok: false, status: 503, error: 'too many sessions' });
    for (const t of tokens) expect(auth.hasSession(cookie(t))).toBe(true);
    // an hour later, all but the first are used again: the first may go, nobody else
    tick(3600_000);
    for (const t of tokens.slice(1)) expect(auth.hasSession(cookie(t))).toBe(true);
    const r = auth.login('hunter22', 'a');
    expect(r.ok).toBe(true);
    expect(auth.hasSession(cookie(tokens[0]))).toBe(false);
    for (const t of tokens.slice(1)) expect(auth.hasSession(cookie(t))).toBe(true);
    expect(auth.sessionCount).toBe(16);
  });

  it('compares secrets fully', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
    expect(sameSecret('', 'a')).toBe(false);
    expect(cookieValue(' x=1 ; mb_session=ab ', 'mb_session')).toBe('ab');
    expect(cookieValue(undefined, 'mb_session')).toBeNull();
  });
});

describe('guessing', () => {
  it('one address: 5 wrong guesses at once, then one per 10 s; the right password resets that address', () => {
    const { auth, tick } = setup();
    for (let i = 0; i < 5; i++) expect(auth.authorize(basic('', 'guess' + i), '10.0.0.9')).toMatchObject({ status: 401 });
    // the right password is not even looked at while the address has no guesses left
    expect(auth.login('hunter22', '10.0.0.9')).toMatchObject({ ok: false, status: 429, waitMs: 10_000, detail: 'try again in 10 s' });
    expect(auth.authorize(basic('', 'hunter22'), '10.0.0.9')).toMatchObject({ status: 429 });
    // another address is not affected
    expect(auth.login('hunter22', '10.0.0.2').ok).toBe(true);
    tick(9_999);
    expect(auth.limiter.wait('10.0.0.9')).toBe(1);
    tick(1);
    expect(auth.login('hunter22', '10.0.0.9').ok).toBe(true);
    expect(auth.limiter.wait('10.0.0.9')).toBe(0);
    for (let i = 0; i < 5; i++) expect(auth.login('nope', '10.0.0.9')).toMatchObject({ status: 401 });
  });

  it('32 parallel attackers on 32 addresses: at most 60 wrong guesses are checked in any minute, over 10 minutes', () => {
    let now = 0;
    const limiter = new GuessLimiter(() => now);
    const checkedAt: number[] = [];
    // every 100 ms each of the 32 connections sends its next guess
    for (now = 0; now < 600_000; now += 100) {
      for (let c = 0; c < 32; c++) {
        const address = `10.0.1.${c}`;
        if (limiter.wait(address) > 0) continue;
        limiter.wrong(address);
        checkedAt.push(now);
      }
    }
    let worst = 0;
    for (let i = 0, j = 0; i < checkedAt.length; i++) {
      while (checkedAt[i] - checkedAt[j] >= 60_000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(60);
    // and the limit is the total, not just the per-address one: about 40 per minute go through
    expect(checkedAt.length).toBeGreaterThan(9 * 40);
    expect(checkedAt.length).toBeLessThanOrEqual(GUESS_LIMITS.totalBurst + 600_000 / GUESS_LIMITS.totalRefillMs);
  });

  it("the owner's password works again within 30 s after an attack stops, from the attacker's address or another", () => {
    for (const owner of ['10.0.1.0', '192.168.1.20']) {
      const { auth, tick } = setup();
      for (let t = 0; t < 120_000; t += 50) {
        tick(50);
        for (let c = 0; c < 32; c++) auth.login('guess', `10.0.1.${c}`);
      }
      expect(auth.login('hunter22', owner)).toMatchObject({ status: 429 });
      let waited = 0;
      while (!auth.login('hunter22', owner).ok) {
        tick(500);
        waited += 500;
        expect(waited).toBeLessThanOrEqual(30_000);
      }
      expect(waited).toBeLessThanOrEqual(owner === '10.0.1.0' ? 10_000 : 1_500);
    }
  });

  it('remembers at most 32 addresses, forgetting one whose bucket is full again first', () => {
    let now = 0;
    // the total limit out of the way: this is about the per-address table
    const limiter = new GuessLimiter(() => now, { ...GUESS_LIMITS, totalBurst: 1e9 });
    limiter.wrong('x'); // the oldest entry
    limiter.wrong('old');
    now += 10_000; // 'old' is full again; 'x' then guesses its last four
    for (let i = 0; i < 5; i++) limiter.wrong('x');
    for (let c = 0; c < 30; c++) for (let i = 0; i < 5; i++) limiter.wrong(`a${c}`);
    expect(limiter.wait('x')).toBeGreaterThan(0);
    limiter.wrong('new'); // the 33rd address: 'old' is forgotten, not 'x'
    expect(limiter.wait('x')).toBeGreaterThan(0);
    expect(limiter.wait('a0')).toBeGreaterThan(0);
    expect(limiter.wait('new')).toBe(0);
  });
});

describe('host names and origins', () => {
  it('IP literals, localhost, own and added names pass; other names do not', () => {
    const names = ['meterbridge', 'meterbridge.local', 'meter.example.net'];
    for (const ok of ['192.168.1.10', '127.0.0.1', '[::1]', '[fe80::1]', 'localhost', 'meterbridge.local', 'meter.example.net'])
      expect(hostAllowed(ok, names), ok).toBe(true);
    for (const bad of ['attacker.example', '192.168.1.10.attacker.example', '999.1.1.1', '1.2.3', 'meterbridge.local.evil', '[::1', '2130706433'])
      expect(hostAllowed(bad, names), bad).toBe(false);
    expect(isIpLiteral('[::ffff:127.0.0.1]')).toBe(true);
    expect(splitAuthority('Example.NET.:8080')).toStrictEqual({ name: 'example.net', port: '8080' });
    expect(splitAuthority('[::1]:80')).toStrictEqual({ name: '[::1]', port: '80' });
    expect(splitAuthority('a:b')).toBeNull();
    expect(splitAuthority('')).toBeNull();
  });

  it('an Origin must be this gateway (same host and port) or a name the owner added; null never passes', () => {
    const names = ['meterbridge.local', 'proxy.example.net'];
    const host = splitAuthority('192.168.1.10:8080');
    expect(originAllowed(undefined, host, names, [])).toBe(true);
    expect(originAllowed('http://192.168.1.10:8080', host, names, [])).toBe(true);
    expect(originAllowed('null', host, names, [])).toBe(false);
    expect(originAllowed('http://192.168.1.11:8080', host, names, [])).toBe(false);
    expect(originAllowed('http://192.168.1.10:9090', host, names, [])).toBe(false);
    expect(originAllowed('http://attacker.example:8080', splitAuthority('attacker.example:8080'), names, [])).toBe(false);
    expect(originAllowed('https://proxy.example.net', host, names, ['proxy.example.net'])).toBe(true);
    expect(originAllowed('http://meterbridge.local', splitAuthority('meterbridge.local'), names, [])).toBe(true);
    expect(originAllowed('http://meterbridge.local', splitAuthority('meterbridge.local:80'), names, [])).toBe(true);
    expect(originAllowed('file://', host, names, [])).toBe(false);
  });
});
