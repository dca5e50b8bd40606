/**
 * `dns/server` (modules/network/dns/dnsserver.js, mapped in the manifest as
 * examples/network/dns/dnsserver does). Answers A queries: the callback gets (1, name) and
 * returns a dotted IPv4 address, or nothing to stay silent.
 *
 * Replaces @moddable/typings 5.6.0's dns/server.d.ts (not referenced): it lacks the options, the
 * `resolve` static and the silent (undefined) answer, and its class is not exported.
 */
declare module 'dns/server' {
  export default class DNSServer {
    constructor(callback: (message: number, name: string) => string | undefined, options?: { port?: number; ttl?: number });
    close(): void;
    static readonly resolve: 1;
  }
}
