/**
 * The MQTT publisher: topic and payload templates, one message per Reading or one per value,
 * the gateway's retained `<base>/status` (online, and offline as the last will), the Home
 * Assistant state and discovery messages. It drains the gateway's outbox for MQTT in order while
 * the broker is there.
 *
 * Delivery is at least once: a Reading is removed from the outbox when all its messages were
 * handed over (QoS 0) or acknowledged (QoS 1). A connection lost in between sends that Reading's
 * unacknowledged messages again, so a subscriber may see a message twice and tells them apart by
 * the frame counter and the meter's timestamp every preset carries. After a (re)connect the
 * backlog waits `backlogDelayMs`, so subscribers that reconnect with clean sessions are back.
 *
 * Completed quarter hours of the history go through the same outbox, so they wait out an outage
 * like Readings do: one message each on `<base>/energy/15min`, not retained (an interval is an
 * event: a retained copy would be delivered again to every subscriber that reconnects, and a
 * consumer that adds intervals up would count it twice), JSON with the interval, its energy and
 * the meter's clock at both boundaries:
 *
 *   {"start":"2024-06-01T12:00:00+02:00","end":"2024-06-01T12:15:00+02:00","start_ms":…,"end_ms":…,
 *    "import_wh":123,"export_wh":0,"meter_start":"2024-06-01T12:00:04+02:00","meter_end":"…","meter_id":"…"}
 *
 * Only a change of the connection settings (kind.connection) makes a new publisher; templates,
 * QoS, retain and Home Assistant settings are taken over in place, without offline/online.
 */
import type { MqttClient, MqttState, TimerHandle } from '../../hal/hal.js';
import type { Config, MqttConfig } from '../config/types.js';
import type { Outbox } from '../outbox.js';
import { buildContext, buildFieldContexts, buildValueContext } from '../template/context.js';
import { presetById } from '../template/presets.js';
import { compileOrEmpty, type Escape, type Template } from '../template/template.js';
import { HaDiscovery, haState } from './homeassistant.js';
import { Health, publisherStatus, type Delivery, type Publisher, type PublisherEnv, type PublisherKind, type PublisherStatus } from './publisher.js';

export interface MqttMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A failed publish on a connection that stays up is retried after this long. */
const RETRY_MS = 2000;

function payloadEscape(c: MqttConfig): Escape {
  return presetById(c.preset)?.escape ?? 'json';
}

export const MQTT_KIND: PublisherKind = Object.freeze({
  id: 'mqtt',
  label: 'MQTT',
  enabled: (c: Config) => c.mqtt.enabled,
  templates: (c: Config) => [
    { field: 'mqtt.topicTemplate', source: c.mqtt.topicTemplate, escape: 'none' as Escape },
    { field: 'mqtt.payloadTemplate', source: c.mqtt.payloadTemplate, escape: payloadEscape(c.mqtt) },
  ],
  connection: (c: Config) => {
    const m = c.mqtt;
    // baseTopic: the status topic is the last will, fixed per connection
    return [m.host, m.port, m.tls, m.username, m.password, m.clientId, m.baseTopic, m.caCertificate, m.certificateFingerprint];
  },
  settings: (c: Config) => c.mqtt,
  create: (c: Config, outbox: Outbox<Delivery>, env: PublisherEnv) => new MqttPublisher(c.mqtt, outbox, env),
  intervals: true,
});

/** The message of a completed quarter hour (see the header). */
export function intervalMessage(baseTopic: string, d: Delivery): MqttMessage {
  const i = d.interval!;
  const payload = JSON.stringify({
    start: i.startLocal, end: i.endLocal, start_ms: i.start, end_ms: i.end,
    import_wh: i.importWh, export_wh: i.exportWh,
    meter_start: i.meterStart, meter_end: i.meterEnd, meter_id: d.meterId,
  });
  return { topic: `${baseTopic}/energy/15min`, payload, retain: false };
}

export class MqttPublisher implements Publisher {
  readonly name = 'mqtt';
  private config: MqttConfig;
  private topic!: Template;
  private payload!: Template;
  private readonly client: MqttClient;
  private readonly health: Health;
  private readonly ha: HaDiscovery;
  private sending: Promise<void> | null = null;
  /** kicked while a drain was running */
  private again = false;
  /** messages of the head entry already acknowledged, so a retry sends none twice */
  private sentOfHead = 0;
  private headMessages: MqttMessage[] | null = null;
  private retry: TimerHandle | null = null;
  /** the backlog waits until then (monotonic ms) after a (re)connect */
  private holdUntil = 0;
  private hold: TimerHandle | null = null;
  private stopped = false;
  /** counts connections, so a failure of an earlier one is told from one of this one */
  private epoch = 0;

  constructor(
    config: MqttConfig,
    private readonly outbox: Outbox<Delivery>,
    private readonly env: PublisherEnv,
  ) {
    this.config = config;
    this.compile();
    this.health = new Health(env.clock);
    this.ha = new HaDiscovery(env.storage, env.version);
    this.client = env.createMqttClient();
    this.client.onStateChange((state, detail) => this.onState(state, detail));
    this.client.connect({
      host: config.host,
      port: config.port,
      tls: config.tls,
      clientId: config.clientId,
      username: config.username || undefined,
      password: config.password || undefined,
      keepaliveSeconds: 30,
      will: { topic: this.statusTopic, payload: 'offline', qos: 1, retain: true },
      ca: config.caCertificate || undefined,
      fingerprint: config.certificateFingerprint || undefined,
    });
  }

  private compile(): void {
    this.topic = compileOrEmpty(this.config.topicTemplate, 'none');
    this.payload = compileOrEmpty(this.config.payloadTemplate, payloadEscape(this.config));
  }

  get statusTopic(): string {
    return `${this.config.baseTopic}/status`;
  }

  /** With the Home Assistant preset the user's own messages are the state; else a separate topic. */
  private get haPresetIsState(): boolean {
    return this.config.preset === 'homeassistant' && this.config.mode === 'reading' && this.config.topicTemplate === '{{base_topic}}/state';
  }

  get haStateTopic(): string {
    return this.haPresetIsState ? `${this.config.baseTopic}/state` : `${this.config.baseTopic}/homeassistant/state`;
  }

  update(config: Config): void {
    const prev = this.config;
    this.config = config.mqtt;
    this.compile();
    const ha = config.mqtt.homeAssistant;
    if (prev.homeAssistant.enabled !== ha.enabled || prev.homeAssistant.discoveryPrefix !== ha.discoveryPrefix || this.haStateTopic !== this.stateTopicOf(prev)) {
      // discovery turned off or moved: the old retained configs are emptied, so the entities go
      this.ha.forget();
    }
    if (this.client.state === 'connected') this.kick();
  }

  private stateTopicOf(c: MqttConfig): string {
    const isState = c.preset === 'homeassistant' && c.mode === 'reading' && c.topicTemplate === '{{base_topic}}/state';
    return isState ? `${c.baseTopic}/state` : `${c.baseTopic}/homeassistant/state`;
  }

  private onState(state: MqttState, detail?: string): void {
    if (this.stopped) return;
    if (state === 'connected') {
      this.env.logger.log('info', `mqtt: connected to ${this.target}`);
      this.epoch++;
      this.health.succeeded();
      if (this.retry) this.env.clock.clear(this.retry);
      this.retry = null;
      this.ha.brokerRestarted(); // a broker restart may have lost retained messages
      this.client.publish(this.statusTopic, 'online', { qos: 1, retain: true }).catch(() => {});
      // after an outage the backlog waits for subscribers that come back with the broker; the
      // first connection and an empty outbox have nothing to wait for
      const backlog = this.epoch > 1 && this.config.backlogDelayMs > 0 && this.outbox.size > 0;
      this.holdUntil = backlog ? this.env.clock.monotonic() + this.config.backlogDelayMs : 0;
      if (backlog) this.waitForBacklog();
      else this.kick();
    } else if (state === 'disconnected' && detail) {
      // every failed attempt and every lost connection counts
      this.health.failed(detail);
      this.env.logger.log('warn', `mqtt: ${detail}`);
    }
  }

  private waitForBacklog(): void {
    if (this.hold) this.env.clock.clear(this.hold);
    const wait = Math.max(0, this.holdUntil - this.env.clock.monotonic());
    this.hold = this.env.clock.setTimeout(() => {
      this.hold = null;
      this.kick();
    }, wait);
  }

  private get target(): string {
    return `${this.config.host}:${this.config.port}`;
  }

  kick(): void {
    if (this.stopped || this.hold) return;
    if (this.sending) {
      // a drain is ending or waiting: it looks again when it is done
      this.again = true;
      return;
    }
    if (this.env.clock.monotonic() < this.holdUntil) {
      this.waitForBacklog();
      return;
    }
    this.again = false;
    this.sending = this.drain().finally(() => {
      this.sending = null;
      // after a failure the retry timer tries again, not a tight loop
      if (this.again && !this.retry) this.kick();
    });
  }

  /** The messages one Reading becomes: the user's, then Home Assistant's. */
  messagesFor(d: Delivery): MqttMessage[] {
    const out: MqttMessage[] = [];
    const extra = { base_topic: this.config.baseTopic, received_ms: d.receivedMs, meter_id: d.meterId ?? undefined };
    if (this.config.mode === 'values') {
      for (const obis of Object.keys(d.reading.values)) {
        const ctx = buildValueContext(d.reading, obis, extra);
        out.push({ topic: this.topic.render(ctx), payload: this.payload.render(ctx), retain: this.config.retain });
      }
    } else if (this.config.mode === 'fields') {
      for (const ctx of buildFieldContexts(d.reading, d.derived, extra)) {
        out.push({ topic: this.topic.render(ctx), payload: this.payload.render(ctx), retain: this.config.retain });
      }
    } else {
      const ctx = buildContext(d.reading, d.derived, extra);
      out.push({ topic: this.topic.render(ctx), payload: this.payload.render(ctx), retain: this.config.retain });
    }
    return out;
  }

  /** Discovery changes (new sensors, emptied configs) and the Home Assistant state of a Reading. */
  private haMessages(d: Delivery): MqttMessage[] {
    const ha = this.config.homeAssistant;
    const out: MqttMessage[] = [];
    for (const m of this.ha.pending(ha.enabled ? d : null, ha.discoveryPrefix, this.haStateTopic, this.statusTopic)) out.push({ topic: m.topic, payload: m.payload, retain: true });
    if (ha.enabled && d.meterId !== null && !this.haPresetIsState) out.push({ topic: this.haStateTopic, payload: JSON.stringify(haState(d.reading, d.derived)), retain: false });
    return out;
  }

  private async drain(): Promise<void> {
    const epoch = this.epoch;
    try {
      while (!this.stopped && this.client.state === 'connected') {
        const head = this.outbox.peek();
        if (!head) {
          // discovery to empty (turned off) with nothing queued
          if (!this.config.homeAssistant.enabled && this.ha.announced) await this.sendAll(this.haMessagesWithout());
          break;
        }
        if (!this.headMessages) {
          const d = head.item;
          this.headMessages = d.interval ? [intervalMessage(this.config.baseTopic, d)] : this.messagesFor(d).concat(this.haMessages(d));
          this.sentOfHead = 0;
        }
        const msgs = this.headMessages;
        while (this.sentOfHead < msgs.length) {
          const m = msgs[this.sentOfHead];
          await this.client.publish(m.topic, m.payload, { qos: this.config.qos, retain: m.retain });
          if (this.stopped) return; // the next publisher sends this Reading again (at least once)
          this.sentOfHead++;
        }
        this.outbox.shift();
        this.headMessages = null;
        if (!head.item.interval) this.ha.delivered();
        this.health.succeeded();
      }
    } catch (e) {
      if (this.stopped) return;
      if (this.epoch !== epoch || this.client.state !== 'connected') {
        // the connection went (counted by its 'disconnected'); a new one drains again
        if (this.epoch !== epoch) this.again = true;
        return;
      }
      this.health.failed(`publish failed: ${(e as Error).message}`);
      // the client reconnects by itself; its 'connected' event drains again. A timer covers a
      // publish that failed while the connection stayed up.
      if (!this.retry) {
        this.retry = this.env.clock.setTimeout(() => {
          this.retry = null;
          this.kick();
        }, RETRY_MS);
      }
    }
  }

  private haMessagesWithout(): MqttMessage[] {
    const ha = this.config.homeAssistant;
    return this.ha.pending(null, ha.discoveryPrefix, this.haStateTopic, this.statusTopic).map((m) => ({ topic: m.topic, payload: m.payload, retain: true }));
  }

  private async sendAll(msgs: MqttMessage[]): Promise<void> {
    for (const m of msgs) await this.client.publish(m.topic, m.payload, { qos: this.config.qos, retain: m.retain });
    this.ha.delivered();
  }

  status(): PublisherStatus {
    return publisherStatus(MQTT_KIND, this.client.state, this.target, this.outbox, this.health, this.env.clock.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) this.env.clock.clear(this.retry);
    if (this.hold) this.env.clock.clear(this.hold);
    this.retry = null;
    this.hold = null;
    if (this.client.state === 'connected') await this.client.publish(this.statusTopic, 'offline', { qos: 1, retain: true }).catch(() => {});
    await this.client.close();
    await this.sending;
  }
}
