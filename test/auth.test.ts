import { describe, expect, it } from 'vitest';
import { Auth, cookieValue, sameSecret } from '../firmware/auth.js';

function setup(password = 'hunter2') {
  let now = 1_000_000;
  let n = 0;
  const auth = new Auth(() => password, (k) => Uint8Array.from({ length: k }, () => n++ & 0xff), () => now);
  return { auth, tick: (ms: number) => (now += ms), setPassword: (p: string) => (password = p) };
}

const basic = (user: string, pass: string) => ({ authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') });

describe('web access', () => {
  it('is open until a password is set', () => {
    const { auth } = setup('');
    expect(auth.passwordSet).toBe(false);
    expect(auth.check({})).toBe(true);
  });

  it('accepts a session from login, and HTTP Basic with the password', () => {
    const { auth } = setup();
    expect(auth.check({})).toBe(false);
    const token = auth.login('hunter2')!;
    expect(token).toMatch(/^[0-9A-F]{32}$/);
    expect(auth.check({ cookie: `a=b; mb_session=${token}` })).toBe(true);
    expect(auth.check({ cookie: 'mb_session=0000' })).toBe(false);
    expect(auth.check(basic('admin', 'hunter2'))).toBe(true);
    expect(auth.check(basic('admin', 'hunter3'))).toBe(false);
    auth.logout({ cookie: `mb_session=${token}` });
    expect(auth.check({ cookie: `mb_session=${token}` })).toBe(false);
  });

  it('makes every wrong password cost more time, and a right one resets it', () => {
    const { auth, tick } = setup();
    expect(auth.login('nope')).toBeNull();
    expect(auth.delay()).toBe(500);
    expect(auth.login('nope')).toBeNull();
    expect(auth.delay()).toBe(1000);
    for (let i = 0; i < 10; i++) auth.login('nope');
    expect(auth.delay()).toBe(8000);
    tick(8000);
    expect(auth.delay()).toBe(0);
    expect(auth.login('hunter2')).not.toBeNull();
    expect(auth.delay()).toBe(0);
  });

  it('sessions expire after 30 days and a password change ends them', () => {
    const { auth, tick } = setup();
    const token = auth.login('hunter2')!;
    tick(29 * 24 * 3600 * 1000);
    expect(auth.check({ cookie: `mb_session=${token}` })).toBe(true);
    tick(2 * 24 * 3600 * 1000);
    expect(auth.check({ cookie: `mb_session=${token}` })).toBe(false);
    const t2 = auth.login('hunter2')!;
    auth.reset();
    expect(auth.check({ cookie: `mb_session=${t2}` })).toBe(false);
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
