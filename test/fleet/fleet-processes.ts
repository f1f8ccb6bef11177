import { spawn, type ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeStatus, type NodeStatus } from '../../shared/wire/index.ts';
import { BUNDLE, ROOT } from '../support/bundle.ts';

/** A bundle process of the fleet (`sluice cloud`, `sluice edge`, ...). */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr, as soon as it is printed. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
}

/** Starts fleet processes from the bundle; `killAll` ends every one still running. */
export function fleetProcesses() {
  const children = new Set<ChildProcess>();
  const start = (args: readonly string[]): NodeProcess => {
    const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    const check = () => {
      for (const w of [...waiters]) {
        const m = (out + err).match(w.pattern);
        if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
      }
    };
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); check(); });
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); check(); });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => { children.delete(child); resolve({ code, signal }); }));
    return {
      child, exit, stdout: () => out, stderr: () => err,
      waitFor: (pattern) => new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        void exit.then(({ code, signal }) => reject(new Error(`process ${args[0]} exited (${code ?? signal}) before printing ${pattern}:\n${out}\n${err}`)));
      }),
    };
  };
  return {
    /** `sluice cloud` on free ports (or the given MQTT port, to restart on the same one). */
    async cloud(dataDir: string, mqttPort = 0, extra: readonly string[] = []) {
      const p = start(['cloud', '--data', dataDir, '--mqtt-port', String(mqttPort), '--http-port', '0', '--ws-port', '0', ...extra]);
      const mqttUrl = (await p.waitFor(/MQTT (mqtt:\/\/\S+)/))[1]!;
      const httpUrl = (await p.waitFor(/HTTP (http:\/\/\S+)/))[1]!;
      const wsUrl = /WebSocket (ws:\/\/\S+)/.exec(p.stdout())?.[1];
      return { proc: p, mqttUrl, httpUrl, wsUrl, mqttPort: Number(new URL(mqttUrl).port) };
    },
    /** `sluice edge` with a free local port; resolves with the URL its devices publish to. */
    async edge(id: string, cloudMqtt: string, dataDir: string, tags: readonly string[] = [], extra: readonly string[] = []) {
      const p = start(['edge', '--id', id, '--cloud', cloudMqtt, '--data', dataDir, '--local-port', '0', ...(tags.length ? ['--tags', tags.join(',')] : []), ...extra]);
      const localUrl = (await p.waitFor(/devices publish to (mqtt:\/\/\S+)/))[1]!;
      return { proc: p, localUrl };
    },
    /** `sluice worker`: one more cloud worker. */
    async worker(id: string, cloudMqtt: string, dataDir: string) {
      const p = start(['worker', '--id', id, '--cloud', cloudMqtt, '--data', dataDir]);
      await p.waitFor(/working for/);
      return { proc: p };
    },
    run: start,
    killAll(): void {
      for (const c of [...children]) c.kill('SIGKILL');
    },
  };
}

/**
 * Watches the nodes' retained status messages on the cloud's broker, so a test waits for a
 * state ("gw-3 runs plug-totals v1") as the node reports it, not for a fixed time.
 */
export async function watchStatuses(mqttUrl: string, auth: { username?: string; password?: string } = {}) {
  const client: MqttClient = await mqtt.connectAsync(mqttUrl, { clientId: `test-status-${process.pid}-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 200, ...auth });
  const latest = new Map<string, NodeStatus>();
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  client.on('message', (_t, payload) => {
    const r = decodeStatus(payload);
    if (!r.ok) return;
    latest.set(r.message.node, r.message);
    for (const w of [...waiters]) if (w.test()) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  await client.subscribeAsync('sluice/v1/node/+/status', { qos: 1 });
  return {
    latest: (node: string) => latest.get(node),
    /** Resolves once the latest status of `node` satisfies `predicate`. */
    until(node: string, predicate: (s: NodeStatus) => boolean): Promise<NodeStatus> {
      return new Promise((resolve) => {
        const test = () => { const s = latest.get(node); if (s && predicate(s)) { resolve(s); return true; } return false; };
        if (!test()) waiters.push({ test, resolve: () => {} });
      });
    },
    close: () => client.endAsync(true),
  };
}

/** The status says `app` runs at `version` on the node. */
export const runs = (app: string, version: number) => (s: NodeStatus) =>
  s.online && (s.apps ?? []).some((a) => a.app === app && a.version === version && a.state === 'running');
