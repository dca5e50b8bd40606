// Node-RED 4 (the npm package, installed for the tests in tools/node-red) on loopback as a user would set it up for the
// gateway's generic JSON preset: an `mqtt in` node on the test's mosquitto with output "a parsed
// JSON object", and an `http in` node (POST) answered by an `http response`. A function node
// behind each records what arrives; the flow serves the record on GET /seen. The built-in meter
// simulator sends real encrypted pushes: both ways must give msg.payload as an object, the Reading.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../hal/node/run.js';
import { validateConfig } from '../firmware/config/validate.js';
import type { Config } from '../firmware/config/types.js';
import { presetById } from '../firmware/template/presets.js';
import { freePort, sleep, startBroker, type Broker } from './support/mosquitto.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const RED = fileURLToPath(new URL('../tools/node-red/node_modules/node-red/red.js', import.meta.url));

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What the flow records: where a message came from, its topic and payload. */
interface Seen {
  via: 'mqtt' | 'http';
  topic?: string;
  type: string;
  payload: Record<string, unknown>;
}

const record = (via: string) => `
const seen = global.get('seen') || [];
seen.push({ via: '${via}', topic: msg.topic, type: typeof msg.payload, payload: msg.payload });
global.set('seen', seen);
return msg;`;

function flow(brokerPort: number): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'meterbridge' },
    { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(brokerPort), clientid: 'node-red-test', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    // MQTT: the reading topic of the generic JSON preset, "a parsed JSON object"
    { id: 'mqttIn', type: 'mqtt in', z: 'tab', topic: 'mb/reading', qos: '1', datatype: 'json', broker: 'broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['recMqtt']] },
    { id: 'recMqtt', type: 'function', z: 'tab', func: record('mqtt'), outputs: 1, wires: [[]] },
    // HTTP push: POST /meter, body parsed by the http in node from its Content-Type
    { id: 'httpIn', type: 'http in', z: 'tab', url: '/meter', method: 'post', upload: false, wires: [['recHttp']] },
    { id: 'recHttp', type: 'function', z: 'tab', func: record('http'), outputs: 1, wires: [['answer']] },
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '204', wires: [] },
    // the record, for the test
    { id: 'seenIn', type: 'http in', z: 'tab', url: '/seen', method: 'get', wires: [['seenOut']] },
    { id: 'seenOut', type: 'function', z: 'tab', func: "msg.payload = global.get('seen') || []; return msg;", outputs: 1, wires: [['seenAnswer']] },
    { id: 'seenAnswer', type: 'http response', z: 'tab', statusCode: '200', wires: [] },
  ];
}

async function startNodeRed(brokerPort: number): Promise<ServerProcess> {
  if (!existsSync(RED)) throw new Error('Node-RED is not installed in tools/node-red: node scripts/install-tools.mjs node-red (the test run does it when the npm registry is reachable)');
  const userDir = tempDir('meterbridge-node-red-');
  const port = await freePort();
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow(brokerPort)));
  // loopback only, no editor, no telemetry, nothing installed from the network
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      httpAdminRoot: false,
      flowFile: 'flows.json',
      credentialSecret: false,
      diagnostics: { enabled: false, ui: false },
      telemetry: { enabled: false, updateNotification: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
      logging: { console: { level: 'warn', metrics: false, audit: false } },
    })};\n`,
  );
  return startServerProcess({
    name: 'Node-RED',
    command: process.execPath,
    args: [RED, '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
    env: { ...process.env, HOME: userDir, NODE_RED_ENABLE_PROJECTS: 'false' },
    port,
    readyPath: '/seen',
    readyStatus: 200,
    timeoutMs: 45_000,
    pollMs: 100,
  });
}

function config(input: Record<string, unknown>): Config {
  const v = validateConfig(input, undefined, { trusted: true });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.config;
}

describe('Node-RED 4 receives MQTT and HTTP push as objects', () => {
  let broker: Broker;
  let red: ServerProcess;
  beforeAll(async () => {
    broker = await startBroker();
    red = await startNodeRed(broker.port);
    // the mqtt in node is subscribed before the gateway sends
    await broker.waitForLog('node-red-test', 1, 20_000);
  }, 60_000);
  afterAll(async () => {
    await red?.stop();
    await broker?.stop();
  });

  it('the generic JSON preset: the whole Reading as msg.payload, by MQTT and by HTTP push', async () => {
    const dir = tempDir('meterbridge-node-red-gw-');
    const json = presetById('json')!;
    const g = await startGateway({
      config: config({
        source: { type: 'simulator', simulator: { intervalMs: 100 } },
        mqtt: {
          enabled: true, host: '127.0.0.1', port: broker.port, baseTopic: 'mb', qos: 1, preset: 'json',
          topicTemplate: json.topicTemplate, payloadTemplate: json.payloadTemplate, homeAssistant: { enabled: false },
        },
        httpPush: {
          enabled: true, url: `${red.url}/meter`, preset: 'json', bodyTemplate: json.payloadTemplate, bodyFormat: 'json',
          headers: { 'Content-Type': json.contentType },
        },
      }),
      dataDir: dir,
      httpPort: 0,
      host: '127.0.0.1',
      log: () => {},
    });
    let seen: Seen[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        seen = (await (await fetch(`${red.url}/seen`)).json()) as Seen[];
        if (seen.filter((s) => s.via === 'mqtt').length >= 3 && seen.filter((s) => s.via === 'http').length >= 3) break;
        await sleep(50);
      }
      const push = g.gateway.status().publishers.find((p) => p.name === 'http-push')!;
      expect(push.rejected).toBe(0);
      expect(push.delivered).toBeGreaterThanOrEqual(3);
    } finally {
      await g.stop();
    }
    for (const via of ['mqtt', 'http'] as const) {
      const got = seen.filter((s) => s.via === via);
      expect(got.length, `${via}: ${red.log()}`).toBeGreaterThanOrEqual(3);
      for (const s of got) {
        expect(s.type, via).toBe('object');
        expect(s.payload).toMatchObject({
          meter: { number: '1KFM0200204035', systemTitle: '4B464D1020019F8B' },
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/),
          frameCounter: expect.any(Number),
          values: { '1-0:1.8.0': { value: expect.any(Number), unit: 'Wh' }, '1-0:32.7.0': { value: expect.any(Number), unit: 'V' } },
        });
      }
      if (via === 'mqtt') expect(got.every((s) => s.topic === 'mb/reading')).toBe(true);
    }
  }, 60_000);
});
