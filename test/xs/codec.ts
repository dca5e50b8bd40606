/**
 * The JSON transport between the test process and the XS worker, shared by both sides so the two
 * results are serialised by the same code. JSON alone would turn NaN, ±Infinity and -0 into
 * null/0 and hide a difference, so those numbers travel as `{ "$number": "NaN" }` etc.
 * Plain ECMAScript only: this file is bundled into the XS script.
 */

export interface XsCommand {
  op: 'decode' | 'load' | 'run' | 'push' | 'series' | 'next' | 'gc';
  /** hex of the frames of one push, joined in order (decode, load) */
  frames?: string[];
  key?: string | null;
  authKey?: string | null;
  /** which loaded capture (load, run, push) */
  id?: string;
  /** how many decodes in this one command (run, push, next); default 1, 0 for a baseline */
  n?: number;
  /** the pushes of a meter one after another, hex of each push's bytes (series) */
  pushes?: string[];
  /** through the decoder with the plausibility guard, or the one without (next) */
  guard?: boolean;
}

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'number') return v;
    if (Object.is(v, -0)) return { $number: '-0' };
    if (!Number.isFinite(v)) return { $number: String(v) };
    return v;
  });
}

export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && '$number' in v && Object.keys(v).length === 1) {
      const s = (v as { $number: string }).$number;
      return s === '-0' ? -0 : Number(s);
    }
    return v;
  });
}

/**
 * Installs the global `handleCommand` xsnap calls with each message: the JSON command is given
 * to `run`, and its result, or the exception it threw, goes back as JSON.
 */
export function serveCommands<C>(run: (command: C) => unknown): void {
  const handleCommand = (message: ArrayBuffer): ArrayBuffer => {
    let out: unknown;
    try {
      out = run(decodeJson(new TextDecoder().decode(message)) as C);
    } catch (e) {
      out = { exception: String(e), stack: e instanceof Error ? String(e.stack) : null };
    }
    const bytes = new TextEncoder().encode(encodeJson(out));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };
  (globalThis as unknown as { handleCommand: typeof handleCommand }).handleCommand = handleCommand;
}
