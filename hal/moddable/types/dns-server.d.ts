/**
 * `dns/server` (modules/network/dns/dnsserver.js, mapped in the manifest as
 * examples/network/dns/dnsserver does). Answers A queries: the callback gets (1, name) and
 * returns a dotted IPv4 address, or nothing to stay silent.
 */
declare module 'dns/server' {
  export default class DNSServer {
    constructor(callback: (message: number, name: string) => string | undefined, options?: { port?: number; ttl?: number });
    close(): void;
    static readonly resolve: 1;
  }
}
