/**
 * `sntp` (modules/network/sntp/sntp.js). Messages: 1 time (value: seconds since 1970), 2 retry,
 * -1 error (value: a reason; return another host name to fail over, else the client closes).
 * The client closes itself after delivering the time.
 */
declare module 'sntp' {
  export default class SNTP {
    constructor(options: { host: string }, callback: (message: number, value?: number | string) => string | void);
    close(): void;
    static readonly time: 1;
    static readonly retry: 2;
    static readonly error: -1;
  }
}
