/**
 * GET /metrics in the Prometheus text format 0.0.4: the gateway's own metrics, always (a gateway
 * that runs is up, whether or not the meter has sent anything), then the meter's values of the
 * last Reading (the metrics template, by default the Prometheus preset built from quantities.ts)
 * only while that Reading is fresh, so a dead meter shows as missing samples and
 * meterbridge_meter_up 0, not as old values.
 *
 * Names follow the Prometheus conventions (checked with `promtool check metrics` in the tests):
 * `meterbridge_` prefix, base units spelled out, `_total` on counters, labels for what varies
 * (publisher, error kind), never for the value itself.
 */
import type { GatewayStatus } from '../gateway.js';

/** A Reading older than this is not served: the meter has stopped. */
export const METER_FRESH_MS = 60_000;

function family(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): void {
  if (samples.length === 0) return;
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
}

/** Label value escaping of the text format: backslash, double quote, line feed. */
export function labelValue(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    out += c === '\\' ? '\\\\' : c === '"' ? '\\"' : c === '\n' ? '\\n' : c;
  }
  return out;
}

/** The gateway's metrics; `lastReadingAt` is the wall time of the last Reading (null: none yet). */
export function gatewayMetrics(s: GatewayStatus, lastReadingAt: number | null, now: number): string {
  const out: string[] = [];
  const fresh = lastReadingAt !== null && now - lastReadingAt < METER_FRESH_MS;
  family(out, 'meterbridge_build_info', 'gauge', 'The gateway version, as a label.', [[`{version="${labelValue(s.version)}"}`, 1]]);
  family(out, 'meterbridge_uptime_seconds', 'gauge', 'Seconds since the gateway started.', [['', s.uptimeSeconds]]);
  family(out, 'meterbridge_meter_up', 'gauge', `1 while the meter's readings arrive (the last one less than ${METER_FRESH_MS / 1000} s old), else 0.`, [['', fresh ? 1 : 0]]);
  if (lastReadingAt !== null) {
    family(out, 'meterbridge_last_reading_timestamp_seconds', 'gauge', 'When the last reading arrived, seconds since 1970.', [['', Math.floor(lastReadingAt / 1000)]]);
  }
  const p = s.pipeline;
  family(out, 'meterbridge_received_bytes_total', 'counter', 'Bytes received from the meter.', [['', p.bytes]]);
  family(out, 'meterbridge_frames_total', 'counter', 'Link frames received intact.', [['', p.frames]]);
  family(out, 'meterbridge_readings_total', 'counter', 'Readings decoded.', [['', p.readings]]);
  family(
    out,
    'meterbridge_decode_errors_total',
    'counter',
    'Frames or pushes rejected, by kind.',
    Object.keys(p.errorsByKind).sort().map((k) => [`{kind="${labelValue(k)}"}`, p.errorsByKind[k]] as [string, number]),
  );
  const pub = (f: (x: GatewayStatus['publishers'][0]) => number) => s.publishers.map((x) => [`{publisher="${x.name}"}`, f(x)] as [string, number]);
  family(out, 'meterbridge_publisher_up', 'gauge', '1 while the publisher delivers, 0 while it fails.', pub((x) => (x.problem === null ? 1 : 0)));
  family(out, 'meterbridge_publisher_queue_length', 'gauge', 'Readings waiting in the outbox.', pub((x) => x.queued));
  family(out, 'meterbridge_publisher_queue_capacity', 'gauge', 'Readings the outbox holds at most.', pub((x) => x.capacity));
  family(out, 'meterbridge_publisher_delivered_total', 'counter', 'Readings delivered.', pub((x) => x.delivered));
  family(out, 'meterbridge_publisher_dropped_total', 'counter', 'Readings dropped because the outbox was full.', pub((x) => x.dropped));
  family(out, 'meterbridge_publisher_rejected_total', 'counter', 'Readings the target refused for good (HTTP 4xx), dropped.', pub((x) => x.rejected));
  family(out, 'meterbridge_publisher_failures_total', 'counter', 'Failed attempts: connection errors, outages, failed deliveries.', pub((x) => x.failures));
  return out.join('\n') + '\n';
}
