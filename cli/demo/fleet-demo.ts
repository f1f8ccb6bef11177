import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import type { AppView, NodeRecord } from '../../cloud/index.ts';
import { IoError } from '../../shared/errors.ts';
import { artifactHash } from '../../shared/runtime/index.ts';
import { decodeStatus, nodeStatusTopic } from '../../shared/wire/index.ts';
import { buildApp } from '../build-app.ts';
import { callCloud } from '../cloud-client.ts';
import { cloudWorkers } from '../fleet-views.ts';
import type { Io } from '../io.ts';
import { renderSummary, type GatewayView } from './demo-view.ts';
import { createUplinkRelay, type UplinkRelay } from './uplink-relay.ts';

export interface FleetDemoOptions {
  readonly root: string;
  readonly dataDir: string | undefined;
  /** Stop by itself after this long (default: run until Ctrl-C). */
  readonly durationMs: number | undefined;
  readonly cutAtMs: number;
  readonly cutForMs: number;
  readonly window: string;
  readonly devices: number;
  readonly everyMs: number;
}

const APP = 'smart-plugs';

/**
 * `sluice demo`: the cloud, two gateways (each behind an uplink the demo can cut) and a
 * simulated smart-plug fleet per gateway, all separate processes of this one bundle, with
 * examples/smart-plugs.ts deployed. Partway through, gateway gw-b's uplink is cut for a while
 * and restored; the summary shows its outbox growing on disk and draining, and the cloud's
 * house totals catching up (revisions). Ctrl-C (or --duration) stops every process in order.
 */
export async function fleetDemo(o: FleetDemoOptions, io: Io): Promise<number> {
  const bundle = fileURLToPath(import.meta.url).endsWith('.mjs') ? fileURLToPath(import.meta.url) : join(o.root, 'dist', 'sluice.mjs');
  const dir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  const children: { name: string; child: ChildProcess }[] = [];
  const relays: UplinkRelay[] = [];
  const watchers: MqttClient[] = [];
  let stopping = false;
  const killAll = () => { for (const c of children) c.child.kill('SIGKILL'); };
  process.once('exit', killAll);

  // Children run in their own process group: Ctrl-C reaches the demo, which stops them in order.
  const start = (name: string, args: string[]) => {
    const child = spawn(process.execPath, [bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push({ name, child });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    void exited.then((code) => { if (!stopping) io.stderr.write(`sluice demo: ${name} exited (${code}) unexpectedly:\n${out.slice(-2000)}\n`); });
    const line = (re: RegExp) => new Promise<string>((resolve, reject) => {
      const check = () => { const m = re.exec(out); if (m) { child.stdout!.off('data', check); resolve(m[1]!); } };
      child.stdout!.on('data', check);
      check();
      void exited.then(() => reject(new IoError('DEMO_START', `${name} stopped before it was ready`, { fix: 'see its output above' })));
    });
    return { child, line, exited };
  };

  const stopAll = async () => {
    stopping = true;
    // Devices first, then gateways (their outboxes keep what is unsent), then the cloud.
    for (const group of [['sim'], ['gw'], ['cloud']]) {
      const now = children.filter((c) => group.some((g) => c.name.startsWith(g)));
      await Promise.all(now.map((c) => new Promise<void>((resolve) => {
        if (c.child.exitCode !== null || c.child.signalCode !== null) { resolve(); return; }
        c.child.once('exit', () => resolve());
        c.child.kill('SIGINT');
      })));
    }
    for (const w of watchers) w.end(true);
    for (const r of relays) await r.close();
    process.removeListener('exit', killAll);
  };

  const stopped = new Promise<string>((resolve) => {
    const onSignal = () => resolve('stopped by Ctrl-C');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (o.durationMs !== undefined) setTimeout(() => resolve('the duration ended'), o.durationMs).unref();
  });

  try {
    io.stdout.write(`Sluice demo: one cloud, two gateways, ${o.devices} smart plugs per gateway, ${APP} deployed (${o.window} windows).\nState and results: ${dir}\n\n`);
    const cloud = start('cloud', ['cloud', '--data', join(dir, 'cloud'), '--mqtt-port', '0', '--http-port', '0']);
    const mqttUrl = await cloud.line(/MQTT (mqtt:\/\/\S+)/);
    const httpUrl = await cloud.line(/HTTP (http:\/\/\S+)/);
    const gateways: (GatewayView & { relay: UplinkRelay; local: string })[] = [];
    for (const id of ['gw-a', 'gw-b']) {
      const relay = await createUplinkRelay(Number(new URL(mqttUrl).port));
      relays.push(relay);
      const gw = start(id, ['edge', '--id', id, '--cloud', relay.url, '--data', join(dir, id), '--local-port', '0', '--tags', 'site=demo']);
      const local = await gw.line(/devices publish to (mqtt:\/\/\S+)/);
      gateways.push({ id, dataDir: join(dir, id), status: undefined, cutSince: undefined, relay, local });
    }
    io.stdout.write(`cloud: MQTT ${mqttUrl}, HTTP ${httpUrl}\n${gateways.map((g) => `${g.id}: devices publish to ${g.local}`).join('\n')}\n`);

    await until(async () => (await callCloud<NodeRecord[]>(httpUrl, 'GET', '/api/nodes')).filter((n) => n.online).length >= 3);
    const built = await buildApp(join(o.root, 'examples', 'smart-plugs.ts'), join(dir, 'artifacts'));
    const bytes = readFileSync(built.path);
    const { app } = await callCloud<{ app: AppView }>(httpUrl, 'POST', `/api/apps?gateways=site%3Ddemo&param=window%3D${encodeURIComponent(o.window)}`, bytes, { 'x-sluice-sha256': artifactHash(bytes) });
    io.stdout.write(`deployed ${app.name} v${app.version}: edge part on ${app.gateways.join(', ')}, cloud part on ${cloudWorkers(app)}\n`);

    for (const g of gateways) {
      const w = await mqtt.connectAsync(g.local, { clientId: `demo-watch-${g.id}` });
      watchers.push(w);
      w.on('message', (_t, p) => { const r = decodeStatus(p); if (r.ok) g.status = r.message; });
      await w.subscribeAsync(nodeStatusTopic(g.id));
    }
    await until(async () => gateways.every((g) => g.status?.apps?.some((a) => a.app === APP && a.state === 'running')));
    gateways.forEach((g, i) => start(`sim-${g.id}`, ['sim', '--broker', g.local, '--model', 'plug', '--devices', String(o.devices), '--rate', '1', '--seed', String(7 + i), '--connections', '4']));
    io.stdout.write(`simulators started; gw-b's uplink will be cut ${o.cutAtMs / 1000} s from now, for ${o.cutForMs / 1000} s. Ctrl-C stops everything.\n\n`);

    const t0 = Date.now();
    const cloudResults = join(dir, 'cloud', 'worker', 'apps', APP, 'sinks', 'house-totals.jsonl');
    const b = gateways[1]!;
    const cutTimer = setTimeout(() => { b.relay.cut(); b.cutSince = Date.now(); io.stdout.write(`\n>>> cutting ${b.id}'s uplink: it keeps computing and buffers its output on disk\n\n`); }, o.cutAtMs);
    const restoreTimer = setTimeout(() => { b.relay.restore(); b.cutSince = undefined; io.stdout.write(`\n>>> ${b.id}'s uplink is back: its backlog drains and the house totals catch up (rev > 0)\n\n`); }, o.cutAtMs + o.cutForMs);
    const tick = setInterval(() => io.stdout.write(renderSummary(Date.now() - t0, gateways, APP, cloudResults)), o.everyMs);
    const why = await stopped;
    clearInterval(tick); clearTimeout(cutTimer); clearTimeout(restoreTimer);
    io.stdout.write(renderSummary(Date.now() - t0, gateways, APP, cloudResults));
    io.stdout.write(`\nsluice demo: ${why}; stopping the simulators, gateways and cloud...\n`);
  } finally {
    await stopAll();
  }
  io.stdout.write(`sluice demo: every process stopped cleanly. Results: ${join(dir, 'cloud', 'worker', 'apps', APP, 'sinks')} (cloud), ${join(dir, 'gw-a', 'apps', APP, 'sinks')} (edge)\n`);
  return 0;
}

/** Re-checks `test` every 100 ms until it holds (the demo waits on other processes' state). */
async function until(test: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await test()) return; } catch { /* not up yet */ }
    if (Date.now() > end) throw new IoError('DEMO_TIMEOUT', 'the demo fleet did not come up in time', { fix: 'run `npm run build` and try again; see the output above' });
    await new Promise((r) => setTimeout(r, 100));
  }
}
