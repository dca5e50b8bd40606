/**
 * `net` (modules/network/net/net.js; documentation/network/network.md § Net). `get` returns
 * undefined when the value is not available (no connection; IP or MAC in combined AP+station
 * mode without the interface argument).
 *
 * Replaces @moddable/typings 5.6.0's net.d.ts (not referenced): it lacks the interface argument
 * and types every result as present.
 */
declare module 'net' {
  type Interface = 'station' | 'ap';
  const Net: {
    get(what: 'IP' | 'MAC', iface?: Interface): string | undefined;
    get(what: 'SSID' | 'BSSID'): string | undefined;
    get(what: 'RSSI' | 'CHANNEL'): number | undefined;
    resolve(host: string, callback: (host: string, address: string | undefined) => void): void;
  };
  export default Net;
}
