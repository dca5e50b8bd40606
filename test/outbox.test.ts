import { describe, expect, it } from 'vitest';
import { Outbox } from '../firmware/outbox.js';

describe('outbox', () => {
  it('keeps order and drops the oldest when full, counting the drops', () => {
    const o = new Outbox<number>(3);
    for (let i = 1; i <= 5; i++) o.push(i, i * 10);
    expect(o.size).toBe(3);
    expect(o.dropped).toBe(2);
    const out: number[] = [];
    while (o.peek()) {
      out.push(o.peek()!.item);
      o.shift();
    }
    expect(out).toEqual([3, 4, 5]);
    expect(o.delivered).toBe(3);
  });

  it('peek does not remove; shift on empty is harmless', () => {
    const o = new Outbox<string>(2);
    o.shift();
    expect(o.delivered).toBe(0);
    o.push('a', 1);
    expect(o.peek()).toEqual({ item: 'a', receivedAt: 1 });
    expect(o.peek()).toEqual({ item: 'a', receivedAt: 1 });
    expect(o.size).toBe(1);
  });

  it('resizes keeping the newest entries', () => {
    const o = new Outbox<number>(5);
    for (let i = 1; i <= 5; i++) o.push(i, 0);
    o.resize(2);
    expect(o.dropped).toBe(3);
    expect(o.peek()!.item).toBe(4);
    o.resize(4);
    o.push(6, 0);
    o.push(7, 0);
    const out: number[] = [];
    while (o.peek()) {
      out.push(o.peek()!.item);
      o.shift();
    }
    expect(out).toEqual([4, 5, 6, 7]);
  });

  it('stays bounded over a long outage', () => {
    const o = new Outbox<number>(1000);
    for (let i = 0; i < 100_000; i++) o.push(i, i);
    expect(o.size).toBe(1000);
    expect(o.dropped).toBe(99_000);
    expect(o.peek()!.item).toBe(99_000);
  });
});
