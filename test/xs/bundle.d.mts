export declare const root: string;
export declare const xsEntry: string;
/** One IIFE script of `entry` (default test/xs/entry.ts) and the core, for xsnap's `evaluate`. */
export declare function buildXsScript(entry?: string): Promise<string>;
