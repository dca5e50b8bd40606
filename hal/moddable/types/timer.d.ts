/**
 * `timer` (modules/base/timer/timer.js, modTimer.c). Callbacks receive the timer; `this` is
 * globalThis. A one-shot timer frees itself after it fires; clearing it afterwards is a no-op
 * (xs_timer_clear checks the host data).
 */
declare module 'timer' {
  class Timer {
    private constructor();
    private readonly timerBrand: never;
    /** once after `delay` ms, or repeating every `repeat` ms after the first `delay` */
    static set(callback: (timer: Timer) => void, delay?: number, repeat?: number): Timer;
    static repeat(callback: (timer: Timer) => void, interval: number): Timer;
    static schedule(timer: Timer, delay?: number, repeat?: number): void;
    static clear(timer: Timer | undefined): void;
    /** blocks the whole VM: never used here */
    static delay(ms: number): void;
  }
  export default Timer;
}
