/**
 * The legacy `wifi` module on ESP32 (modules/network/wifi/esp32/wifi.js, xs6wifi.c). The
 * constructor calls WiFi.connect(dictionary) when given one and registers `onNotify`. The ESP-IDF
 * driver retries a lost station connection MODDEF_WIFI_ESP32_CONNECT_RETRIES (5) times before it
 * reports "disconnect"; after that the application must call connect again. `accessPoint` uses
 * WPA/WPA2-PSK when a password of 8..64 characters is given, else an open network; without
 * `station: true` it leaves station mode. @moddable/typings 5.6.0 misspells the station_*
 * statics (`station_connected`); the runtime strings are below.
 */
declare module 'wifi' {
  export type WiFiMessage = 'connect' | 'gotIP' | 'lostIP' | 'disconnect' | 'station_connect' | 'station_disconnect';

  export interface StationOptions {
    ssid: string;
    password?: string;
    bssid?: ArrayBuffer;
    channel?: number;
  }

  export interface AccessPointOptions {
    ssid: string;
    password?: string;
    channel?: number;
    hidden?: boolean;
    interval?: number;
    max?: number;
    station?: boolean;
  }

  export default class WiFi {
    constructor(options?: StationOptions, onNotify?: (message: WiFiMessage) => void);
    /** stops notifications; does not disconnect */
    close(): void;
    static connect(options?: StationOptions): void;
    static disconnect(): void;
    static accessPoint(options: AccessPointOptions): void;
    static mode: number;
    static readonly Mode: { readonly off: -5; readonly none: 0; readonly station: 1; readonly accessPoint: 2 };
    static readonly gotIP: 'gotIP';
    static readonly lostIP: 'lostIP';
    static readonly connected: 'connect';
    static readonly disconnected: 'disconnect';
    static readonly station_connect: 'station_connect';
    static readonly station_disconnect: 'station_disconnect';
  }
}
