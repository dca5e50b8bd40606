/**
 * The MQTT publisher: topic and payload templates, one message per Reading or one per value,
 * the gateway's retained `<base>/status` (online, and offline as the last will), the Home
 * Assistant state and discovery messages, and an outbox that keeps readings while the broker is
 * away and delivers them in order, each message once, when it is back.
 */
import type { Clock, Logger, MqttClient, MqttState, TimerHandle } from '../../hal/hal.js';
import type { MqttConfig } from '../config/types.js';
import { Outbox } from '../outbox.js';
import { buildContext, buildValueContext } from '../template/context.js';
import type { Template } from '../template/template.js';
import { discoveryMessages, haNodeId, haState } from './homeassistant.js';
import { publisherStatus, type Delivery, type Publisher, type PublisherStatus } from './publisher.js';

export interface MqttMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface MqttTemplates {
  topic: Template;
  payload: Template;
}

export class MqttPublisher implements Publisher {
  readonly name = 'mqtt';
  private readonly outbox: Outbox<Delivery>;
  private sending = false;
  /** messages of the head entry already acknowledged, so a retry sends none twice */
  private sentOfHead = 0;
  private headMessages: MqttMessage[] | null = null;
  failures = 0;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  private discoveredFor = '';
  private retry: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly config: MqttConfig,
    private readonly templates: MqttTemplates,
    private readonly client: MqttClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    capacity: number,
    private readonly version: string,
  ) {
    this.outbox = new Outbox(capacity);
    client.onStateChange((state, detail) => this.onState(state, detail));
    client.connect({
      host: config.host,
      port: config.port,
      tls: config.tls,
      clientId: config.clientId,
      username: config.username || undefined,
      password: config.password || undefined,
      keepaliveSeconds: 30,
      will: { topic: this.statusTopic, payload: 'offline', qos: 1, retain: true },
    });
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

  private onState(state: MqttState, detail?: string): void {
    if (state === 'connected') {
      this.logger.log('info', `mqtt: connected to ${this.config.host}:${this.config.port}`);
      this.discoveredFor = ''; // a broker restart may have lost retained messages
      this.client.publish(this.statusTopic, 'online', { qos: 1, retain: true }).catch(() => {});
      this.drain();
    } else if (state === 'disconnected' && detail) {
      this.lastError = detail;
      this.logger.log('warn', `mqtt: ${detail}`);
    }
  }

  enqueue(d: Delivery, monotonicMs: number): void {
    this.outbox.push(d, monotonicMs);
    this.drain();
  }

  /** The messages one Reading becomes. */
  messagesFor(d: Delivery): MqttMessage[] {
    const out: MqttMessage[] = [];
    const extra = { base_topic: this.config.baseTopic, received_ms: d.receivedMs };
    if (this.config.mode === 'values') {
      for (const obis of Object.keys(d.reading.values)) {
        const ctx = buildValueContext(d.reading, obis, extra);
        out.push({ topic: this.templates.topic.render(ctx), payload: this.templates.payload.render(ctx), retain: this.config.retain });
      }
    } else {
      const ctx = buildContext(d.reading, d.derived, extra);
      out.push({ topic: this.templates.topic.render(ctx), payload: this.templates.payload.render(ctx), retain: this.config.retain });
    }
    if (this.config.homeAssistant.enabled) {
      const node = haNodeId(d.reading);
      if (node !== this.discoveredFor) {
        for (const m of discoveryMessages(d.reading, this.config.homeAssistant.discoveryPrefix, this.haStateTopic, this.statusTopic, this.version)) {
          out.push({ topic: m.topic, payload: m.payload, retain: true });
        }
        this.discoveredFor = node;
      }
      if (!this.haPresetIsState) out.push({ topic: this.haStateTopic, payload: JSON.stringify(haState(d.reading)), retain: false });
    }
    return out;
  }

  private async drain(): Promise<void> {
    if (this.sending || this.stopped) return;
    this.sending = true;
    try {
      while (!this.stopped && this.client.state === 'connected') {
        const head = this.outbox.peek();
        if (!head) break;
        if (!this.headMessages) {
          this.headMessages = this.messagesFor(head.item);
          this.sentOfHead = 0;
        }
        const msgs = this.headMessages;
        while (this.sentOfHead < msgs.length) {
          const m = msgs[this.sentOfHead];
          await this.client.publish(m.topic, m.payload, { qos: this.config.qos, retain: m.retain });
          this.sentOfHead++;
        }
        this.outbox.shift();
        this.headMessages = null;
        this.lastSuccessAt = this.clock.now();
        this.lastError = null;
      }
    } catch (e) {
      this.failures++;
      this.lastError = `publish failed: ${(e as Error).message}`;
      if (this.headMessages && this.sentOfHead === 0) this.discoveredFor = ''; // rebuild on retry
      // the client reconnects by itself; its 'connected' event drains again. A timer covers a
      // publish that failed while the connection stayed up.
      if (!this.retry && !this.stopped) {
        this.retry = this.clock.setTimeout(() => {
          this.retry = null;
          this.drain();
        }, 2000);
      }
    } finally {
      this.sending = false;
    }
  }

  status(): PublisherStatus {
    return publisherStatus(this.name, this.client.state, this.outbox, this);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) this.clock.clear(this.retry);
    if (this.client.state === 'connected') await this.client.publish(this.statusTopic, 'offline', { qos: 1, retain: true }).catch(() => {});
    await this.client.close();
  }
}
