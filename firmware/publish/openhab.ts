/**
 * A ready-to-paste openHAB Thing for the openHAB preset (one MQTT message per OBIS value): a
 * Generic MQTT Thing whose availability is the gateway's `<base>/status` with the payloads
 * `online`/`offline` (openHAB's own defaults are ON/OFF, so a Thing made by hand shows the gateway
 * offline), and one channel per value of a Reading: `number` with the meter's unit for numbers,
 * `string` for texts. The state topics come from the configured topic template, so they are the
 * topics the publisher sends to.
 *
 * Does not know: MQTT connections, which broker Thing the user has (`mqtt:broker:myBroker`
 * stands in for it).
 */
import type { MqttConfig } from '../config/types.js';
import type { Reading } from '../reading.js';
import { buildValueContext, obisName } from '../template/context.js';
import { compileOrEmpty } from '../template/template.js';
import { idSlug } from './publisher.js';

/** The broker Thing the definition refers to; the user's own UID replaces it. */
export const OPENHAB_BROKER = 'mqtt:broker:myBroker';

/** A double-quoted string of the .things syntax. */
function quoted(s: string): string {
  return '"' + s.split('\\').join('\\\\').split('"').join('\\"') + '"';
}

/**
 * The .things text for this Reading's values, or null when the MQTT settings do not send one
 * message per value (another preset than openHAB's).
 */
export function openhabThing(r: Reading, mqtt: MqttConfig, meterId: string | null): string | null {
  if (mqtt.mode !== 'values') return null;
  const topic = compileOrEmpty(mqtt.topicTemplate, 'none');
  const name = meterId ?? r.meter.number ?? r.meter.systemTitle ?? 'meter';
  const lines = [
    `// meterbridge for openHAB: paste into a .things file and put the UID of your MQTT broker Thing for ${OPENHAB_BROKER}`,
    `Thing mqtt:topic:meterbridge_${idSlug(name)} ${quoted('Smart meter ' + name)} (${OPENHAB_BROKER}) [ availabilityTopic=${quoted(mqtt.baseTopic + '/status')}, payloadAvailable="online", payloadNotAvailable="offline" ] {`,
    '    Channels:',
  ];
  const extra = { base_topic: mqtt.baseTopic, meter_id: meterId ?? undefined };
  for (const obis of Object.keys(r.values)) {
    const v = r.values[obis];
    const state = topic.render(buildValueContext(r, obis, extra));
    const number = typeof v.value === 'number';
    const unit = number && v.unit ? `, unit=${quoted(v.unit)}` : '';
    lines.push(`        Type ${number ? 'number' : 'string'} : obis_${idSlug(obis)} ${quoted(obisName(obis))} [ stateTopic=${quoted(state)}${unit} ]`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
