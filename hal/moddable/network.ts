/**
 * The device's network: Wi-Fi station from the settings, the setup access point with a captive
 * portal, mDNS `<hostname>.local`, SNTP, and the boot button.
 *
 *   settings have no SSID ──────────────► access point "meterbridge-XXXX" (stays until configured)
 *   settings have an SSID ──────────────► station; a lost connection is retried with backoff,
 *                                          forever: a home Wi-Fi outage never opens the AP
 *   boot button held LONG_PRESS_MS ─────► access point for SETUP_WINDOW_MS, then restart
 *   Wi-Fi settings saved ───────────────► station reconnects (from the AP: restart)
 *
 * The access point uses WPA2 (WiFi.accessPoint with a password of 8..63 characters uses
 * WPA_WPA2_PSK, modules/network/wifi/esp32/xs6wifi.c) with the password of board.ts (documented
 * default "meterbridge", or `mcconfig … apPassword=…`). XXXX is the end of the station MAC
 * address (Net.get("MAC") needs Wi-Fi initialised, so the mode is set to station first).
 *
 * Captive portal: a DNS server (`dns/server`, modules/network/dns/dnsserver.js) answers every A
 * query with the AP's address, and `portal()` redirects every HTTP request for another host to
 * http://<AP address>/, which is what the phone and laptop probes (generate_204,
 * hotspot-detect.html, connecttest.txt…) need to show the sign-in page.
 *
 * The legacy `wifi` module reports "disconnect" only after ESP-IDF's own 5 retries
 * (MODDEF_WIFI_ESP32_CONNECT_RETRIES); this file then calls WiFi.connect again after 5 s,
 * doubling to 60 s. mDNS and SNTP start on every "gotIP".
 */
import WiFi from 'wifi';
import type { WiFiCallback } from 'wifi';
import Net from 'net';
import MDNS from 'mdns';
import SNTP from 'sntp';
import DNSServer from 'dns/server';
import Digital from 'embedded:io/digital';
import Time from 'time';
import Timer from 'timer';
import type { HttpServerRequest, HttpServerResponse, Logger } from '../hal.js';
import type { WifiConfig } from '../../firmware/config/types.js';
import { applyCentralEuropeanTime } from './clock.js';

type WiFiMessage = Parameters<WiFiCallback>[0];

const LONG_PRESS_MS = 5000;
const SETUP_WINDOW_MS = 15 * 60_000;
const RECONNECT_FIRST_MS = 5000;
const RECONNECT_MAX_MS = 60_000;
const SNTP_EVERY_MS = 6 * 3600_000;
const SNTP_FALLBACK = 'europe.pool.ntp.org';

export type NetworkMode = 'off' | 'station' | 'ap';

export interface NetworkOptions {
  wifi: WifiConfig;
  httpPort: number;
  apPassword: string;
  sntpHost: string;
  buttonPin: number;
  logger: Logger;
  /** the station got an address, or the access point is up */
  onUp(mode: 'station' | 'ap'): void;
  /** the access point just started (main adds a port-80 listener for the portal if needed) */
  onAccessPoint(): void;
  restart(): void;
}

export interface NetworkDescription {
  mode: NetworkMode;
  reason: string;
  ssid: string | null;
  ip: string | null;
  rssi: number | null;
  hostname: string;
  mdns: string | null;
  accessPoint: string | null;
  /** the setup mode's DNS server answers every name with the device's address */
  captivePortal: boolean;
  clockSynchronized: boolean;
}

export class NetworkManager {
  private mode: NetworkMode = 'off';
  private reason = 'not started';
  private wifi: WifiConfig;
  private station: WiFi | null = null;
  private reconnectTimer: Timer | undefined;
  private reconnectMs = RECONNECT_FIRST_MS;
  private mdns: MDNS | null = null;
  private mdnsName: string | null = null;
  private dns: DNSServer | null = null;
  private apSsid: string | null = null;
  private apAddress: string | null = null;
  private sntpAt = 0;
  private synchronized = false;
  private button: Digital | null = null;
  private pressTimer: Timer | undefined;

  constructor(private readonly o: NetworkOptions) {
    this.wifi = { ...o.wifi };
  }

  start(): void {
    this.watchButton();
    if (this.wifi.ssid === '') this.startAccessPoint('no Wi-Fi network is configured yet');
    else this.startStation();
    Timer.repeat(() => {
      applyCentralEuropeanTime(Date.now());
      if (this.mode === 'station' && this.apAddress === null && Net.get('IP', 'station')) this.syncClock();
    }, 3600_000);
  }

  describe(): NetworkDescription {
    const station = this.mode === 'station';
    return {
      mode: this.mode,
      reason: this.reason,
      ssid: station ? this.wifi.ssid : this.apSsid,
      ip: (station ? Net.get('IP', 'station') : this.apAddress) ?? null,
      rssi: station ? (Net.get('RSSI') ?? null) : null,
      hostname: this.wifi.hostname,
      mdns: this.mdnsName ? `${this.mdnsName}.local` : null,
      accessPoint: this.apSsid,
      captivePortal: this.dns !== null,
      clockSynchronized: this.synchronized,
    };
  }

  /** New Wi-Fi settings were saved. */
  applyWifi(next: WifiConfig): void {
    const prev = this.wifi;
    this.wifi = { ...next };
    const credentials = prev.ssid !== next.ssid || prev.password !== next.password;
    if (this.mode === 'ap') {
      if (credentials && next.ssid !== '') {
        this.o.logger.log('info', `wifi: settings saved; restarting to join "${next.ssid}"`);
        Timer.set(() => this.o.restart(), 2000);
      }
      return;
    }
    if (credentials) {
      if (next.ssid === '') {
        this.o.logger.log('info', 'wifi: the network was removed from the settings; restarting into setup mode');
        Timer.set(() => this.o.restart(), 2000);
        return;
      }
      this.o.logger.log('info', `wifi: joining "${next.ssid}"`);
      this.reconnectMs = RECONNECT_FIRST_MS;
      this.cancelReconnect();
      // after the answer to the settings request has left
      Timer.set(() => this.connect(), 1500);
    } else if (prev.hostname !== next.hostname && Net.get('IP', 'station')) this.startMdns();
  }

  /** In setup mode: a redirect to the portal for requests that name another host. */
  portal(req: HttpServerRequest): HttpServerResponse | null {
    if (this.mode !== 'ap' || !this.apAddress) return null;
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    const own = this.wifi.hostname.toLowerCase();
    if (host === '' || host === this.apAddress || host === own || host === `${own}.local`) return null;
    const location = `http://${this.apAddress}${this.o.httpPort === 80 ? '' : `:${this.o.httpPort}`}/`;
    return { status: 302, headers: { Location: location, 'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' }, body: `<!doctype html><a href="${location}">meterbridge setup</a>` };
  }

  private startStation(): void {
    this.mode = 'station';
    this.reason = `joining "${this.wifi.ssid}"`;
    this.o.logger.log('info', `wifi: joining "${this.wifi.ssid}"`);
    try {
      this.station = new WiFi(this.credentials(), (message) => this.notify(message));
    } catch (e) {
      this.reason = `cannot start Wi-Fi: ${(e as Error).message}`;
      this.o.logger.log('error', `wifi: ${this.reason}`);
      this.scheduleReconnect();
    }
  }

  private credentials(): { ssid: string; password?: string } {
    return this.wifi.password ? { ssid: this.wifi.ssid, password: this.wifi.password } : { ssid: this.wifi.ssid };
  }

  private connect(): void {
    if (this.mode !== 'station') return;
    try {
      WiFi.connect(this.credentials());
    } catch (e) {
      this.reason = `Wi-Fi connect failed: ${(e as Error).message}`;
      this.o.logger.log('warn', `wifi: ${this.reason}`);
      this.scheduleReconnect();
    }
  }

  private notify(message: WiFiMessage): void {
    if (this.mode !== 'station') return;
    switch (message) {
      case 'connect':
        this.reason = `associated with "${this.wifi.ssid}", waiting for an address`;
        break;
      case 'gotIP': {
        const ip = Net.get('IP', 'station') ?? '?';
        this.reason = `connected to "${this.wifi.ssid}"`;
        this.reconnectMs = RECONNECT_FIRST_MS;
        this.cancelReconnect();
        this.o.logger.log('info', `wifi: connected to "${this.wifi.ssid}" as ${ip}`);
        this.startMdns();
        this.syncClock();
        this.o.onUp('station');
        break;
      }
      case 'lostIP':
        this.reason = `lost the address on "${this.wifi.ssid}"`;
        break;
      case 'disconnect':
        this.reason = `cannot reach "${this.wifi.ssid}" (out of range, wrong password, or the router is down); retrying`;
        this.o.logger.log('warn', `wifi: ${this.reason}`);
        this.closeMdns();
        this.scheduleReconnect();
        break;
      default:
        break;
    }
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.mode !== 'station') return;
    const delay = this.reconnectMs;
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = Timer.set(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer) Timer.clear(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private startAccessPoint(why: string): void {
    this.cancelReconnect();
    this.closeMdns();
    if (this.station) {
      this.station.close();
      this.station = null;
    }
    try {
      if (this.mode === 'off') WiFi.mode = WiFi.Mode.station; // initialises Wi-Fi so the MAC can be read
      const mac = (Net.get('MAC', 'station') ?? Net.get('MAC') ?? '').replace(/:/g, '').toUpperCase();
      this.apSsid = `meterbridge-${mac.length >= 4 ? mac.slice(-4) : '0000'}`;
      if (this.mode === 'station') WiFi.disconnect();
      this.mode = 'ap';
      WiFi.accessPoint({ ssid: this.apSsid, password: this.o.apPassword, channel: 1, max: 4 });
      this.apAddress = Net.get('IP', 'ap') ?? '192.168.4.1';
    } catch (e) {
      this.reason = `cannot start the setup access point: ${(e as Error).message}`;
      this.o.logger.log('error', `wifi: ${this.reason}`);
      return;
    }
    this.reason = `setup mode: ${why}`;
    const address = this.apAddress;
    try {
      this.dns = new DNSServer((message) => (message === DNSServer.resolve ? address : undefined));
    } catch (e) {
      this.o.logger.log('warn', `wifi: no captive-portal DNS (${(e as Error).message}); open http://${address}/ by hand`);
    }
    this.o.logger.log('info', `wifi: ${why}: access point "${this.apSsid}" (WPA2), open http://${address}/`);
    this.o.onAccessPoint();
    this.o.onUp('ap');
  }

  private startMdns(): void {
    this.closeMdns();
    const name = this.wifi.hostname;
    try {
      const mdns = new MDNS({ hostName: name }, (message, value) => {
        if (message === MDNS.hostName && value) {
          this.mdnsName = value;
          try {
            mdns.add({ name: 'http', protocol: 'tcp', port: this.o.httpPort, txt: { path: '/' } });
          } catch (e) {
            this.o.logger.log('warn', `mdns: cannot announce the web UI: ${(e as Error).message}`);
          }
          this.o.logger.log('info', `mdns: http://${value}.local${this.o.httpPort === 80 ? '' : `:${this.o.httpPort}`}/`);
        } else if (message === MDNS.error) this.o.logger.log('warn', `mdns: no free name near "${name}.local"`);
        return undefined; // on a conflict: the built-in "-2" suffix
      });
      this.mdns = mdns;
    } catch (e) {
      this.o.logger.log('warn', `mdns: ${(e as Error).message}`);
    }
  }

  private closeMdns(): void {
    const m = this.mdns;
    this.mdns = null;
    this.mdnsName = null;
    if (m) {
      try {
        m.close();
      } catch {
        // the socket went with the connection
      }
    }
  }

  /** Sets the wall clock from SNTP, at most every SNTP_EVERY_MS unless it never succeeded. */
  private syncClock(): void {
    const now = Time.ticks;
    if (this.synchronized && Time.delta(this.sntpAt, now) < SNTP_EVERY_MS) return;
    this.sntpAt = now;
    let triedFallback = false;
    try {
      new SNTP({ host: this.o.sntpHost }, (message, value) => {
        if (message === SNTP.time && typeof value === 'number') {
          Time.set(value);
          applyCentralEuropeanTime(Date.now());
          this.synchronized = true;
          this.o.logger.log('info', `sntp: clock set to ${new Date().toISOString()}`);
        } else if (message === SNTP.error) {
          if (!triedFallback && this.o.sntpHost !== SNTP_FALLBACK) {
            triedFallback = true;
            return SNTP_FALLBACK;
          }
          this.o.logger.log('warn', `sntp: no time (${String(value)}); readings keep the meter's own clock`);
        }
        return undefined;
      });
    } catch (e) {
      this.o.logger.log('warn', `sntp: ${(e as Error).message}`);
    }
  }

  /** Boot button: held LONG_PRESS_MS opens the setup access point (never needed for a Wi-Fi outage). */
  private watchButton(): void {
    try {
      this.button = new Digital({
        pin: this.o.buttonPin,
        mode: Digital.InputPullUp,
        edge: Digital.Rising | Digital.Falling,
        onReadable: () => this.buttonEdge(),
      });
    } catch (e) {
      this.o.logger.log('warn', `button: GPIO${this.o.buttonPin} unavailable (${(e as Error).message}); setup mode only while no Wi-Fi is configured`);
    }
  }

  private buttonEdge(): void {
    const pressed = this.button?.read() === 0; // active low
    if (!pressed) {
      if (this.pressTimer) Timer.clear(this.pressTimer);
      this.pressTimer = undefined;
      return;
    }
    if (this.pressTimer) return;
    this.pressTimer = Timer.set(() => {
      this.pressTimer = undefined;
      if (this.button?.read() !== 0 || this.mode === 'ap') return;
      this.startAccessPoint(`the button was held for ${LONG_PRESS_MS / 1000} s`);
      this.o.logger.log('info', `wifi: setup mode ends with a restart in ${SETUP_WINDOW_MS / 60_000} min unless new Wi-Fi settings are saved first`);
      Timer.set(() => this.o.restart(), SETUP_WINDOW_MS);
    }, LONG_PRESS_MS);
  }
}
