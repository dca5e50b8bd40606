// Drives @agoric/xsnap's `xsnap-worker` binary directly over its netstring protocol, without the
// package's JS API (which needs `@endo/init` and would lock down the vitest realm). Parent → child
// on fd 3, child → parent on fd 4, each message `<length>:<payload>,`. Commands: `e<code>` eval a
// script, `?<bytes>` call globalThis.handleCommand, `q` quit. Replies: `.<meters JSON>\x01<bytes>`,
// `!<message>`, or `?<bytes>` when XS calls issueCommand (answered with `/`, empty).
// Plain .mjs so bench/xs.mjs can use it under plain node.
import { spawn } from 'node:child_process';

/** A running worker; one command at a time is in flight, replies come back in order. */
export class XsWorker {
  static start(bin, { meteringLimit = 100_000_000, name = 'meterbridge-xs' } = {}) {
    return new XsWorker(spawn(bin, [name, '-l', String(meteringLimit)], { stdio: ['ignore', 'inherit', 'pipe', 'pipe', 'pipe'] }));
  }

  constructor(child) {
    this.child = child;
    this.pending = [];
    this.input = Buffer.alloc(0);
    this.stderr = '';
    this.exited = null;
    child.stderr.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    child.stdio[4].on('data', (d) => this.receive(d));
    child.stdio[3].on('error', () => {}); // EPIPE after a crash: reported by 'exit'
    child.on('exit', (code, signal) => {
      this.exited = `xsnap-worker exited (${signal ?? `code ${code}`})${this.stderr ? `: ${this.stderr.trim()}` : ''}`;
      for (const p of this.pending.splice(0)) p.reject(new Error(this.exited));
    });
  }

  receive(chunk) {
    this.input = Buffer.concat([this.input, chunk]);
    for (;;) {
      const colon = this.input.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.input.subarray(0, colon).toString('latin1'));
      if (this.input.length < colon + 2 + length) return;
      const msg = this.input.subarray(colon + 1, colon + 1 + length);
      this.input = this.input.subarray(colon + 2 + length);
      const kind = String.fromCharCode(msg[0]);
      if (kind === '?') this.send('/', Buffer.alloc(0)); // issueCommand from XS: empty answer
      else if (kind === '!') this.pending.shift()?.reject(new Error(`XS: ${msg.subarray(1).toString('utf8') || this.stderr.trim()}`));
      else this.pending.shift()?.resolve(this.reply(msg));
    }
  }

  /** `.{"currentHeapCount":…,"compute":…,"allocate":…,"timestamps":[…]}\x01<reply>` */
  reply(msg) {
    const sep = msg.indexOf(0x01);
    if (sep < 0) return { reply: new Uint8Array(msg.subarray(1)), meters: null };
    const { compute, currentHeapCount, allocate } = JSON.parse(msg.subarray(1, sep).toString('utf8'));
    return { reply: new Uint8Array(msg.subarray(sep + 1)), meters: { compute, currentHeapCount, allocate } };
  }

  send(prefix, payload) {
    const body = Buffer.concat([Buffer.from(prefix, 'latin1'), payload]);
    this.child.stdio[3].write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
  }

  request(prefix, payload) {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.send(prefix, payload);
    });
  }

  /** Evaluates a classic script (an IIFE bundle) in the global scope. */
  evaluate(code) {
    return this.request('e', Buffer.from(code, 'utf8'));
  }

  /** Calls globalThis.handleCommand(ArrayBuffer) with the UTF-8 of a string; decodes the reply. */
  async command(text) {
    const { reply, meters } = await this.request('?', Buffer.from(text, 'utf8'));
    return { text: Buffer.from(reply).toString('utf8'), meters };
  }

  async close() {
    if (this.exited) return;
    const done = new Promise((resolve) => this.child.once('exit', resolve));
    this.send('q', Buffer.alloc(0));
    this.child.stdio[3].end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(timer);
  }
}
