/** What xsnap-worker reports after each command (`fxWriteOkay` in xsnap-worker.c). */
export interface XsMeters {
  /** XS meter index accumulated during this one command: deterministic, not time */
  compute: number;
  /** live heap slots now (32 B each on a 64-bit host, 16 B on ESP32); reset by every GC */
  currentHeapCount: number;
  /** total bytes the machine has reserved; NOT per-command allocation */
  allocate: number;
}

export declare class XsWorker {
  static start(bin: string, options?: { meteringLimit?: number; name?: string }): XsWorker;
  /** set once the process has exited, with the reason */
  readonly exited: string | null;
  /** Evaluates a classic script; rejects with the XS exception text if it throws. */
  evaluate(code: string): Promise<{ reply: Uint8Array; meters: XsMeters | null }>;
  /** Calls globalThis.handleCommand with the UTF-8 of `text`; returns the reply as text. */
  command(text: string): Promise<{ text: string; meters: XsMeters | null }>;
  close(): Promise<void>;
}
