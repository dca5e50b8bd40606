/**
 * The HAL Logger on Moddable: one `trace` line per event ("info mqtt: connected to …"), shown
 * in xsbug or on the serial console. No timestamps: before SNTP the wall clock reads 1970, and
 * xsbug stamps lines itself. Secrets never reach here (the core redacts).
 */
import type { Logger } from '../hal.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANKS: Readonly<Record<LogLevel, number>> = Object.freeze({ debug: 10, info: 20, warn: 30, error: 40 });

export class TraceLogger implements Logger {
  constructor(public level: LogLevel = 'info') {}

  log(level: LogLevel, message: string): void {
    if (RANKS[level] >= RANKS[this.level]) trace(level, ' ', message, '\n');
  }
}
