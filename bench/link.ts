/**
 * Edge -> cloud over loopback MQTT: a Sluice channel (disk outbox, at-least-once, end-to-end
 * acks) beside the baseline users would write (raw mqtt.js, one 100-byte event per QoS 1
 * message), against the same broker in the same run; then the replay rate of a backlog
 * accumulated during an outage. Broker: `sluice broker` from the bundle, in its own process.
 * Sender and receiver share this process in both cases. Not a test: `npm run bench -- link`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { createChannelReceiver, createChannelSender } from '../shared/link/index.ts';
import { openDiskLog } from '../shared/store/index.ts';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
const payload = { device: 'plug-00042', w: 812.4, kwh: 42.318771, house: 1, seq: 0, pad: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' };
const EVENT_BYTES = JSON.stringify(payload).length;

async function startBroker(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['dist/sluice.mjs', 'broker', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]!); });
    child.on('exit', (code) => reject(new Error(`broker exited ${code}; run npm run build first`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

const connect = (url: string, id: string): Promise<MqttClient> => mqtt.connectAsync(url, { clientId: id, reconnectPeriod: 0 });

async function rawBaseline(url: string): Promise<number> {
  const pub = await connect(url, 'raw-pub');
  const sub = await connect(url, 'raw-sub');
  await sub.subscribeAsync('bench/raw', { qos: 1 });
  let got = 0;
  const all = new Promise<void>((resolve) => sub.on('message', () => { if (++got === N) resolve(); }));
  const t0 = performance.now();
  // Keep 1,000 publishes in flight: more only queues inside mqtt.js.
  let sent = 0;
  await new Promise<void>((resolve) => {
    let inflight = 0;
    const pump = () => {
      while (inflight < 1000 && sent < N) {
        inflight++;
        const body = JSON.stringify({ ...payload, seq: sent++ });
        pub.publish('bench/raw', body, { qos: 1 }, () => { inflight--; if (sent < N) pump(); else if (inflight === 0) resolve(); });
      }
    };
    pump();
  });
  await all;
  const rate = (N * 1000) / (performance.now() - t0);
  await pub.endAsync(); await sub.endAsync();
  return rate;
}

async function channel(url: string, dir: string, name: string, events: number, connectedDuringAppend: boolean) {
  const tx = await connect(url, `tx-${name}`);
  const rxClient = await connect(url, `rx-${name}`);
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => { done = resolve; });
  const rx = createChannelReceiver({ client: rxClient, app: 'bench', channel: name, onEvents: (_p, evs) => { got += evs.length; if (got >= events) done(); }, onWatermark: () => {} });
  await rx.start();
  const log = await openDiskLog(join(dir, name), { maxBytes: 1 << 30 });
  if (!connectedDuringAppend) tx.end(true);
  const sender = createChannelSender({ client: tx, app: 'bench', channel: name, producer: 'gw', log, maxEventsPerFrame: 1000, maxInflightFrames: Number(process.env.BENCH_INFLIGHT ?? 8) });
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    sender.push(i, undefined, { ...payload, seq: i });
    if (i % 5000 === 4999) await sender.flushed();
  }
  await sender.flushed();
  const appendedMs = performance.now() - t0;
  const rssDuringOutage = rssMb();
  let t1 = t0;
  if (!connectedDuringAppend) {
    // The outage ends: everything in the outbox drains.
    t1 = performance.now();
    tx.reconnect();
  }
  await all;
  await sender.drained();
  const totalMs = performance.now() - t1;
  await sender.close(); rx.close(); await log.close(); tx.end(true); await rxClient.endAsync();
  return { rate: (events * 1000) / totalMs, appendRate: (events * 1000) / appendedMs, rssDuringOutage };
}

/** Added latency at a fixed rate: time from push at the sender to delivery at the receiver. */
async function latency(url: string, dir: string, rate: number, seconds: number) {
  const tx = await connect(url, 'tx-lat');
  const rxClient = await connect(url, 'rx-lat');
  const lat: number[] = [];
  const sentAt = new Map<number, number>();
  const rx = createChannelReceiver({
    client: rxClient, app: 'bench', channel: 'lat', onWatermark: () => {},
    onEvents: (_p, evs) => { const now = performance.now(); for (const e of evs) { const t = sentAt.get(e.ts); if (t !== undefined) { lat.push(now - t); sentAt.delete(e.ts); } } },
  });
  await rx.start();
  const log = await openDiskLog(join(dir, 'lat'));
  const sender = createChannelSender({ client: tx, app: 'bench', channel: 'lat', producer: 'gw', log });
  const total = rate * seconds;
  const t0 = performance.now();
  for (let i = 0; i < total;) {
    // Paced by the clock: ~1 ms ticks, each sending its share.
    const due = Math.floor(((performance.now() - t0) * rate) / 1000);
    for (; i < Math.min(due, total); i++) { sentAt.set(i, performance.now()); sender.push(i, undefined, { ...payload, seq: i }); }
    await new Promise((r) => setTimeout(r, 1));
  }
  await sender.drained();
  await sender.close(); rx.close(); await log.close(); tx.end(true); await rxClient.endAsync();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: q(0.5), p99: q(0.99), n: lat.length };
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);
const broker = await startBroker();
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-link-'));
try {
  const rssIdle = rssMb();
  const raw = await rawBaseline(broker.url);
  const live = await channel(broker.url, dir, 'live', N, true);
  const rssLoad = rssMb();
  const replay = await channel(broker.url, dir, 'replay', BACKLOG, false);
  const rssOutage = replay.rssDuringOutage;
  const half = Number(process.env.BENCH_LAT_RATE ?? Math.round(live.rate / 2));
  const lat = await latency(broker.url, dir, half, 5);
  console.log(`edge -> cloud over loopback MQTT, ${EVENT_BYTES}-byte JSON events, broker in its own process`);
  console.log(`  raw mqtt.js, 1 event per QoS 1 message      ${(raw / 1000).toFixed(1)} k events/s`);
  console.log(`  sluice channel, disk outbox, e2e acks       ${(live.rate / 1000).toFixed(1)} k events/s  (${(live.rate / raw).toFixed(1)}x raw)`);
  console.log(`  replay of a ${BACKLOG.toLocaleString()}-event backlog after an outage  ${(replay.rate / 1000).toFixed(1)} k events/s  (${(replay.rate / live.rate).toFixed(1)}x the steady rate; appended at ${(replay.appendRate / 1000).toFixed(0)} k/s)`);
  console.log(`  added latency at half the channel's max (${(half / 1000).toFixed(0)} k events/s, ${lat.n} events): p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`);
  console.log(`  RSS of the bench process (sender + receiver): idle ${rssIdle} MB, after load ${rssLoad} MB, during the outage backlog ${rssOutage} MB`);
} finally {
  broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
