/**
 * Test support: a real server program (influxd, Node-RED) started as a child process on
 * loopback, waited for until it answers a URL, its output kept for the error message, and stopped
 * with SIGTERM (SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from './mosquitto.js';

export interface ServerProcess {
  /** http://127.0.0.1:port */
  url: string;
  log: () => string;
  stop: () => Promise<void>;
}

export interface ServerProcessOptions {
  /** for messages: "influxd", "Node-RED" */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** the path that answers `readyStatus` once the server is up */
  readyPath: string;
  readyStatus: number;
  timeoutMs: number;
  pollMs: number;
}

export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  let log = '';
  let exited: string | null = null;
  const child: ChildProcess = spawn(o.command, o.args, { stdio: ['ignore', 'pipe', 'pipe'], env: o.env });
  for (const s of [child.stdout, child.stderr]) s?.setEncoding('utf8').on('data', (t: string) => (log = (log + t).slice(-20_000)));
  child.once('exit', (code, signal) => (exited = `${o.name} exited (${signal ?? `code ${code}`})`));
  const url = `http://127.0.0.1:${o.port}`;
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${exited}:\n${log}`);
    const ok = await fetch(`${url}${o.readyPath}`).then((r) => r.status === o.readyStatus, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} did not answer ${url}${o.readyPath} within ${o.timeoutMs / 1000} s:\n${log}`);
    }
    await sleep(o.pollMs);
  }
  return {
    url,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}
