/**
 * Test support: Debian's Chromium, headless, as root (--no-sandbox), with nothing that reaches
 * beyond loopback (no background networking, component updates, sync or QUIC).
 */
import { chromium, type Browser } from 'playwright-core';
import { requireTool } from './tools.js';

export function launchChromium(): Promise<Browser> {
  requireTool('chromium');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
