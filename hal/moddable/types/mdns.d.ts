/**
 * `mdns` (modules/network/mdns/mdns.js). With `hostName` it probes and claims `<hostName>.local`:
 * the callback gets (1, "") when probing starts and (1, claimedName) when claimed; (2, name) on a
 * conflict (return a new name; return nothing for the built-in "-2", "-3"… suffix; return true to
 * give up, which reports -1). `add` throws "not ready" while probing.
 *
 * Replaces @moddable/typings 5.6.0's mdns.d.ts (not referenced): it lacks close() and the
 * hostName/retry/error statics, and its class is not exported, so it cannot be augmented.
 */
declare module 'mdns' {
  export interface MdnsService {
    name: string;
    protocol: 'tcp' | 'udp';
    port: number;
    txt?: Record<string, string>;
  }
  export default class MDNS {
    constructor(options: { hostName?: string }, callback?: (message: number, value?: string) => string | boolean | void);
    add(service: MdnsService): void;
    update(service: MdnsService): void;
    remove(service: MdnsService | string): void;
    close(): void;
    static readonly hostName: 1;
    static readonly retry: 2;
    static readonly error: -1;
  }
}
