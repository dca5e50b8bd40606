/**
 * `time` (modules/base/time/time.js, esp/modTime.c). `ticks` is milliseconds since boot as a
 * signed 32-bit integer (it wraps after 24.8 days); `delta(a, b)` is `(uint32)b - (uint32)a`
 * returned as a signed 32-bit integer, so it is right across one wrap.
 */
declare module 'time' {
  const Time: {
    /** sets the wall clock, seconds since 1970 (Date follows) */
    set(seconds: number): void;
    /** seconds east of UTC that Date's local time uses */
    timezone: number;
    /** daylight saving offset in seconds, added to timezone */
    dst: number;
    readonly ticks: number;
    delta(start: number, end?: number): number;
  };
  export default Time;
}
