/**
 * Home Assistant MQTT discovery (Home Assistant 2025.10 or newer: `default_entity_id`; the
 * reactive energy sensors need 2025.6). One device per meter, one sensor per quantity of
 * quantities.ts the meter has sent, all reading one flat JSON state topic and sharing the
 * gateway's availability topic.
 *
 * Identity: the device and its sensors are named by the gateway's meter id (Delivery.meterId),
 * which never flips between the lists a meter alternates; nothing is announced before it is known.
 * Sensors are announced once per connection and stay (a list without voltages does not remove the
 * voltage sensor); their retained configs are emptied when discovery is turned off, its prefix
 * changes, or another meter takes the place (the entities then go). The announced topics are
 * kept in storage, so this also works after a restart.
 *
 * `expire_after` on measurements: three push intervals, at least a minute, rounded up to whole
 * minutes (so it does not change with jitter); the configs are sent from the second push on, when
 * the interval is known. Registers (energy) have none: a list that carries them hourly must not
 * make them unavailable in between.
 *
 * Lists without a quantity (a Norwegian Kaifa sends the power alone every 2 s, the voltages every
 * 10 s, the energy hourly) leave its key out of the shared state. Each sensor's value template
 * renders nothing then, which a numeric sensor (one with a unit, device or state class) ignores:
 * it keeps its last state, without a template warning per push. The meter number, the one text
 * sensor, keeps its state (`this.state`) when a list has no number.
 */
import type { Storage } from '../../hal/hal.js';
import { deepFreeze } from '../freeze.js';
import { QUANTITIES, electricityNumber, netPower } from '../quantities.js';
import type { Reading } from '../reading.js';
import { derivedNumber, type DerivedValues } from '../template/derived.js';
import { idSlug, type Delivery } from './publisher.js';

/** The flat state object every discovered sensor reads; frame counter and timestamp identify the push. */
export function haState(r: Reading, derived: DerivedValues | null = null): Record<string, number | string | null> {
  const s: Record<string, number | string | null> = {};
  for (const qty of QUANTITIES) {
    let v: number | undefined;
    if (!qty.derived) v = electricityNumber(r.values, qty.cde, qty.unit);
    else if (qty.key === 'power_net_w') v = netPower(r.values);
    else v = derivedNumber(derived, qty.key);
    if (v !== undefined) s[qty.key] = v;
  }
  s.meter_number = r.meter.number;
  s.timestamp = r.timestamp;
  s.frame_counter = r.frameCounter;
  return s;
}

const MAKERS: Readonly<Record<string, string>> = /* @__PURE__ */ deepFreeze({
  KFM: 'Kaifa', LGZ: 'Landis+Gyr', SMS: 'Siemens', ELS: 'Honeywell Elster', SAG: 'Sagemcom', KAM: 'Kamstrup', AID: 'Aidon', ISK: 'Iskraemeco',
});

function manufacturer(r: Reading): string {
  const t = r.meter.systemTitle;
  if (!t || t.length < 6) return 'unknown';
  let code = '';
  for (let i = 0; i < 6; i += 2) code += String.fromCharCode(parseInt(t.slice(i, i + 2), 16));
  return MAKERS[code] ?? code;
}

export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** The value template of a numeric sensor: nothing when the push lacks the key (state kept). */
export function haValueTemplate(key: string): string {
  return `{% if value_json.${key} is defined %}{{ value_json.${key} }}{% endif %}`;
}

/** The meter number's template: a text sensor would take an empty value, so it keeps its own. */
export const HA_METER_NUMBER_TEMPLATE = '{{ value_json.meter_number if value_json.meter_number else this.state }}';

/** The node id that names the meter in discovery topics and unique ids. */
export function haNodeId(meterId: string): string {
  return 'meterbridge_' + idSlug(meterId);
}

/** expire_after in seconds for a push interval: 3 intervals, at least 60 s, whole minutes. */
export function expireAfter(intervalMs: number | null): number | undefined {
  if (intervalMs === null || !(intervalMs > 0)) return undefined;
  return Math.max(60, Math.ceil((3 * intervalMs) / 60000) * 60);
}

/**
 * Retained config messages for the sensors this Reading has (and the derived values it comes
 * with). `stateTopic` is where haState() is published, `availabilityTopic` the gateway's status.
 */
export function discoveryMessages(d: Delivery, prefix: string, stateTopic: string, availabilityTopic: string, swVersion: string, intervalMs: number | null = null): DiscoveryMessage[] {
  if (d.meterId === null) return [];
  const r = d.reading;
  const node = haNodeId(d.meterId);
  const state = haState(r, d.derived);
  const device = {
    identifiers: [node],
    name: `Smart meter ${d.meterId}`,
    manufacturer: manufacturer(r),
    model: r.meter.logicalDeviceName ?? undefined,
    serial_number: r.meter.number ?? undefined,
    sw_version: `meterbridge ${swVersion}`,
  };
  const expire = expireAfter(intervalMs);
  const out: DiscoveryMessage[] = [];
  for (const qty of QUANTITIES) {
    if (state[qty.key] === undefined) continue;
    const config: Record<string, unknown> = {
      name: qty.name,
      unique_id: `${node}_${qty.key}`,
      default_entity_id: `sensor.${node}_${qty.key}`.toLowerCase(),
      state_topic: stateTopic,
      value_template: haValueTemplate(qty.key),
      availability_topic: availabilityTopic,
      device,
    };
    if (qty.ha.stateClass) config.state_class = qty.ha.stateClass;
    if (qty.ha.deviceClass) config.device_class = qty.ha.deviceClass;
    if (qty.unit) config.unit_of_measurement = qty.unit;
    if (qty.ha.precision !== undefined) config.suggested_display_precision = qty.ha.precision;
    if (qty.ha.stateClass === 'measurement' && expire !== undefined) config.expire_after = expire;
    out.push({ topic: `${prefix}/sensor/${node}/${qty.key}/config`, payload: JSON.stringify(config) });
  }
  if (r.meter.number) {
    out.push({
      topic: `${prefix}/sensor/${node}/meter_number/config`,
      payload: JSON.stringify({
        name: 'Meter number', unique_id: `${node}_meter_number`, default_entity_id: `sensor.${node}_meter_number`.toLowerCase(), state_topic: stateTopic,
        value_template: HA_METER_NUMBER_TEMPLATE, entity_category: 'diagnostic', availability_topic: availabilityTopic, device,
      }),
    });
  }
  return out;
}

const STORE = 'ha-discovery';

/** FNV-1a of a payload: tells a changed config from the one already sent, without keeping it. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Which discovery configs are on the broker, and what a Reading adds or empties. pending()
 * returns the messages; delivered() records them once they were sent.
 */
export class HaDiscovery {
  /** retained config topics believed on the broker (persisted) */
  private topics: string[];
  /** topic -> hash of the payload sent on this connection */
  private sent = new Map<string, number>();
  private staged: { topic: string; hash: number }[] = [];
  private intervalMs: number | null = null;
  private lastReceived = NaN;

  constructor(private readonly storage: Storage, private readonly version: string) {
    let saved: unknown = null;
    try {
      saved = JSON.parse(storage.read(STORE) ?? '[]');
    } catch {
      saved = [];
    }
    this.topics = Array.isArray(saved) ? saved.filter((t): t is string => typeof t === 'string') : [];
  }

  get announced(): boolean {
    return this.topics.length > 0;
  }

  /** A new connection: the broker may have lost retained messages, announce again. */
  brokerRestarted(): void {
    this.sent.clear();
    this.staged = [];
  }

  /** Settings changed: what is on the broker is compared afresh. */
  forget(): void {
    this.sent.clear();
    this.staged = [];
  }

  /**
   * The discovery messages for a Delivery (null: discovery is off, empty everything). Configs of
   * another node or prefix are emptied; new or changed ones of this Reading are sent.
   */
  pending(d: Delivery | null, prefix: string, stateTopic: string, availabilityTopic: string): DiscoveryMessage[] {
    this.staged = [];
    const out: DiscoveryMessage[] = [];
    if (d !== null) this.learnInterval(d.receivedMs);
    const wanted = d === null ? [] : discoveryMessages(d, prefix, stateTopic, availabilityTopic, this.version, this.intervalMs);
    // identity not known yet, or the push interval (for expire_after): leave everything as it is
    if (d !== null && (d.meterId === null || this.intervalMs === null)) return out;
    const own = d === null || d.meterId === null ? null : `${prefix}/sensor/${haNodeId(d.meterId)}/`;
    for (const t of this.topics) {
      if (own === null || t.indexOf(own) !== 0) {
        out.push({ topic: t, payload: '' });
        this.staged.push({ topic: t, hash: -1 });
      }
    }
    for (const m of wanted) {
      const h = hash(m.payload);
      if (this.sent.get(m.topic) === h) continue;
      out.push(m);
      this.staged.push({ topic: m.topic, hash: h });
    }
    return out;
  }

  /** The messages of the last pending() reached the broker. */
  delivered(): void {
    if (this.staged.length === 0) return;
    for (const s of this.staged) {
      const i = this.topics.indexOf(s.topic);
      if (s.hash === -1) {
        if (i >= 0) this.topics.splice(i, 1);
        this.sent.delete(s.topic);
      } else {
        if (i < 0) this.topics.push(s.topic);
        this.sent.set(s.topic, s.hash);
      }
    }
    this.staged = [];
    try {
      this.storage.write(STORE, JSON.stringify(this.topics));
    } catch {
      // not saved: after a restart the old configs are not emptied, nothing else is lost
    }
  }

  /** The longest of the recent gaps between pushes (gaps over 10 min are outages, not the interval). */
  private learnInterval(receivedMs: number): void {
    const gap = receivedMs - this.lastReceived;
    this.lastReceived = receivedMs;
    if (!(gap > 0 && gap < 600_000)) return;
    if (this.intervalMs === null || gap > this.intervalMs) this.intervalMs = gap;
  }
}
