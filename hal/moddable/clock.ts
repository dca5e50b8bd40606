/**
 * The HAL Clock on Moddable: `Date.now()` for the wall clock (1970-based until SNTP sets it with
 * Time.set; there is no battery-backed RTC), the `timer` module for callbacks, and a monotonic
 * millisecond count built from `Time.ticks`.
 *
 * Time.ticks is a signed 32-bit millisecond count that wraps after 24.8 days
 * (modules/base/time/esp/modTime.c); Time.delta gives the signed difference across one wrap. The
 * monotonic clock adds those differences up, so it stays right as long as it is read at least
 * once every 24 days: `startMonotonicKeeper` reads it hourly.
 *
 * Knows nothing of the gateway. No module-level state: everything lives on the instance, so the
 * module can be preloaded.
 */
import Time from 'time';
import Timer from 'timer';
import type { Clock, TimerHandle } from '../hal.js';

/** A HAL timer handle that owns a Moddable Timer. */
class ModdableTimerHandle implements TimerHandle {
  constructor(readonly id: Timer) {}
}

export class ModdableClock implements Clock {
  private lastTicks = Time.ticks;
  private elapsed = 0;

  now(): number {
    return Date.now();
  }

  monotonic(): number {
    const ticks = Time.ticks;
    this.elapsed += Time.delta(this.lastTicks, ticks);
    this.lastTicks = ticks;
    return this.elapsed;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return new ModdableTimerHandle(Timer.set(() => fn(), Math.max(0, ms)));
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return new ModdableTimerHandle(Timer.repeat(() => fn(), Math.max(1, ms)));
  }

  clear(handle: TimerHandle): void {
    if (handle instanceof ModdableTimerHandle) Timer.clear(handle.id);
  }

  /** Reads the monotonic clock every hour so the 32-bit tick counter never wraps unseen. */
  startMonotonicKeeper(): void {
    Timer.repeat(() => {
      this.monotonic();
    }, 3_600_000);
  }
}

/**
 * Central European Time for `Date`'s local time (the simulator's day curve, log lines): UTC+1,
 * and +1 h more from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC
 * (EU rule since 1996). The core itself never depends on the device's zone: meter timestamps
 * carry their own. Call after every wall-clock change and hourly.
 */
export function applyCentralEuropeanTime(nowMs: number): void {
  const year = new Date(nowMs).getUTCFullYear();
  const lastSunday = (month: number) => {
    const last = new Date(Date.UTC(year, month + 1, 0, 1, 0, 0));
    return last.getTime() - last.getUTCDay() * 86_400_000;
  };
  Time.timezone = 3600;
  Time.dst = nowMs >= lastSunday(2) && nowMs < lastSunday(9) ? 3600 : 0;
}
