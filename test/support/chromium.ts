/**
 * Test support: Debian's Chromium, headless, as root (--no-sandbox), with nothing that reaches
 * beyond loopback (no background networking, component updates, sync or QUIC).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startGateway, type RunningGateway } from '../../hal/node/run.js';
import { validateConfig } from '../../firmware/config/validate.js';
import { startBroker, type Broker } from './mosquitto.js';
import { requireTool } from './tools.js';

export function launchChromium(): Promise<Browser> {
  requireTool('chromium');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface UiRig {
  browser: Browser;
  gateway: RunningGateway;
  broker: Broker;
  /** http://127.0.0.1:port of the gateway */
  base: string;
  /** the gateway's data folder, fresh: factory settings */
  dir: string;
  stop(): Promise<void>;
}

/** The gateway on the built-in simulator with a fresh data folder, a mosquitto and Chromium. */
export async function startUiRig(prefix: string): Promise<UiRig> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const broker = await startBroker();
  const v = validateConfig({ source: { type: 'simulator', simulator: { intervalMs: 1000 } } });
  if (!v.ok) throw new Error('config');
  const gateway = await startGateway({ config: v.config, dataDir: dir, httpPort: 0, host: '127.0.0.1', log: () => {} });
  const browser = await launchChromium();
  return {
    browser,
    gateway,
    broker,
    base: `http://127.0.0.1:${gateway.port}`,
    dir,
    stop: async () => {
      await browser.close();
      await gateway.stop();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
