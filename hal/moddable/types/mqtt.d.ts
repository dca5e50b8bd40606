/**
 * The legacy MQTT 3.1.1 client `mqtt` (modules/network/mqtt/mqtt.js; @moddable/typings 5.6.0
 * has no declaration for it). What its source supports, and nothing more:
 * - CONNECT with clean session always, client id, user, password (string or ArrayBuffer), a will
 *   with topic, message, retain and QoS bits (`quality`), keepalive from `timeout` in ms (pings at
 *   3/4 of it, fails after 1.5x without traffic);
 * - PUBLISH with retain and QoS bits, but it never waits for or resends on PUBACK ("This
 *   implementation is QoS 0 only"); it throws "connection closed" before CONNACK, and the socket
 *   write throws when the message does not fit the TCP send buffer;
 * - no reconnect: `onClose` fires once (socket error, keepalive timeout, CONNACK refusal, broker
 *   disconnect); a new Client is needed. `fail(message)` is the single path to onClose and is an
 *   ordinary method, so a subclass can see the reason.
 */
declare module 'mqtt' {
  export interface MqttWill {
    topic: string;
    message: string | ArrayBuffer;
    retain?: boolean;
    quality?: 0 | 1 | 2;
  }

  export interface MqttClientOptions {
    host: string;
    port?: number;
    id?: string;
    user?: string;
    password?: string | ArrayBuffer;
    will?: MqttWill;
    /** keepalive in milliseconds; 0 or absent: none */
    timeout?: number;
  }

  export default class Client {
    constructor(options: MqttClientOptions);
    /** CONNACK 0 received (delivered on a later turn) */
    onReady?: () => void;
    onMessage?: (topic: string, payload: ArrayBuffer) => void;
    onClose?: () => void;
    publish(topic: string, payload: string | ArrayBuffer, flags?: { retain?: boolean; quality?: 0 | 1 | 2; duplicate?: boolean }): void;
    subscribe(topic: string): void;
    unsubscribe(topic: string): void;
    /** sends DISCONNECT (unless immediate) and closes the socket */
    close(immediate?: boolean): void;
    /** traces "MQTT FAIL: message", calls onClose, closes */
    fail(message?: string): void;
  }
}
