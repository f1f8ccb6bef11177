/**
 * firmware-sim benchmark (not a test). Against an aedes broker in its own child process:
 *  1. devices per core at 1 Hz: a realistic fleet (one connection per device) at 1 Hz, CPU of
 *     this process via process.cpuUsage over a measured window, beside a peer run of bare
 *     mqtt.js clients publishing a fixed payload from one timer (no model, encoding or faults);
 *  2. max messages/s of one process: a fleet on 4 shared connections, the requested rate
 *     stepped up until the broker counts less than 98% of it, beside bare mqtt.js publishing
 *     a fixed payload as fast as it can on 4 connections.
 * Run: `node scripts/bench.mjs sim`. Sizes: BENCH_SIM_DEVICES (default 10000), BENCH_SIM_SECONDS (10).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { Aedes } from 'aedes';
import { createFleet } from '../firmware-sim/index.ts';

const DEVICES = Number(process.env.BENCH_SIM_DEVICES ?? 10_000);
const SECONDS = Number(process.env.BENCH_SIM_SECONDS ?? 10);
const STEP_SECONDS = 4;

if (process.argv[2] === '--broker-child') await brokerChild();
else await main();

/** The broker process: prints its port, then its publish count and clock every 200 ms. */
async function brokerChild(): Promise<void> {
  const aedes = await Aedes.createBroker();
  let count = 0;
  aedes.on('publish', (_p, client) => { if (client) count++; });
  const server = createServer(aedes.handle);
  server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as AddressInfo).port}`));
  setInterval(() => console.log(`count ${count} ${performance.now()}`), 200);
}

interface BrokerSample { count: number; at: number }
interface Broker { url: string; sample(): BrokerSample; close(): void }

/** Publishes per second between two broker samples, timed by the broker's own clock. */
function brokerRate(a: BrokerSample, b: BrokerSample): number {
  return b.at > a.at ? ((b.count - a.count) * 1000) / (b.at - a.at) : 0;
}

async function startBrokerChild(): Promise<Broker> {
  const child = spawn(process.execPath, [process.argv[1] as string, '--broker-child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: BrokerSample = { count: 0, at: 0 };
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, a, b] = line.split(' ');
      if (kind === 'port') resolve(Number(a));
      else if (kind === 'count') last = { count: Number(a), at: Number(b) };
    });
  });
  process.once('exit', () => child.kill());
  return { url: `mqtt://127.0.0.1:${port}`, sample: () => last, close: () => child.kill() };
}

/** CPU (in cores) and wall time over `ms`, with a counter read before and after. */
async function measure(ms: number, counter: () => number): Promise<{ cores: number; perSecond: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const n0 = counter();
  await new Promise((r) => setTimeout(r, ms));
  // If a pause (GC, a busy broker) delayed this timer, let the wheel catch up first: its
  // schedule is absolute, so the readings owed for the pause go out right after it.
  await new Promise((r) => setTimeout(r, 30));
  const used = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  return { cores: (used.user + used.system) / 1000 / wall, perSecond: ((counter() - n0) * 1000) / wall };
}

async function connectMany(url: string, n: number, prefix: string): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const c = mqtt.connect(url, { clientId: `${prefix}${i}`, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60 });
      clients.push(c);
      await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });
    }
  };
  await Promise.all(Array.from({ length: 200 }, worker));
  return clients;
}

async function main(): Promise<void> {
  const broker = await startBrokerChild();
  console.log(`firmware-sim bench: ${DEVICES} devices, ${SECONDS} s windows, aedes in a child process`);

  // 1a. The fleet, realistic mode, 1 Hz.
  const fleet = createFleet({ broker: broker.url, model: 'plug', devices: DEVICES, rate: 1, seed: 1, concurrency: 200 });
  const t0 = performance.now();
  fleet.start();
  await fleet.whenConnected();
  const connectS = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2000)); // every device past its first period
  const sim = await measure(SECONDS * 1000, () => fleet.stats().sent);
  const rss = process.memoryUsage().rss / 1e6;
  await fleet.close();
  console.log(`fleet   1 Hz: connected ${DEVICES} in ${connectS.toFixed(1)} s; ${sim.perSecond.toFixed(0)} msg/s of ${DEVICES} requested (${((100 * sim.perSecond) / DEVICES).toFixed(1)}%); CPU ${(100 * sim.cores).toFixed(1)}% of a core; RSS ${rss.toFixed(0)} MB`);
  console.log(`fleet   devices per core at 1 Hz: ${(DEVICES / sim.cores).toFixed(0)}`);

  // 1b. Peer: bare mqtt.js clients, one fixed payload, one 10 ms timer.
  const peers = await connectMany(broker.url, DEVICES, 'peer-');
  const payload = Buffer.from(JSON.stringify({ id: 'plug-00000', seq: 1, ts: Date.now(), house: 0, household: 0, plug: 0, w: 12.5, kwh: 3.25 }));
  let sent = 0;
  let cursor = 0;
  const perTick = DEVICES / 100;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const c = peers[cursor] as MqttClient;
      c.publish(`peer/${cursor}`, payload, { qos: 0 });
      cursor = (cursor + 1) % DEVICES;
      sent++;
    }
  }, 10);
  await new Promise((r) => setTimeout(r, 2000));
  const peer = await measure(SECONDS * 1000, () => sent);
  clearInterval(timer);
  await Promise.all(peers.map((c) => c.endAsync(true)));
  console.log(`peer    bare mqtt.js 1 Hz: ${peer.perSecond.toFixed(0)} msg/s; CPU ${(100 * peer.cores).toFixed(1)}% of a core; devices per core ${(DEVICES / peer.cores).toFixed(0)}`);
  console.log(`ratio   fleet / bare mqtt.js devices per core: ${(peer.cores / sim.cores).toFixed(2)}`);

  // 2a. Max sustained messages/s: the fleet on 4 shared connections, stepping the requested
  // rate up until the broker counts less than 98% of it.
  let best = 0;
  let bestCores = 0;
  for (const total of [20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 160_000]) {
    const fast = createFleet({ broker: broker.url, model: 'plug', devices: 2000, rate: total / 2000, seed: 2, connections: 4, clientIdPrefix: `fast${total}-` });
    fast.start();
    await fast.whenConnected();
    await new Promise((r) => setTimeout(r, 1000));
    const b0 = broker.sample();
    const step = await measure(STEP_SECONDS * 1000, () => fast.stats().sent);
    const atBroker = brokerRate(b0, broker.sample());
    await fast.close();
    const ok = atBroker >= 0.98 * total;
    console.log(`fleet   asked ${total} msg/s: sent ${step.perSecond.toFixed(0)}/s, broker counted ~${atBroker.toFixed(0)}/s, CPU ${(100 * step.cores).toFixed(0)}% of a core${ok ? '' : ' (not sustained)'}`);
    if (!ok) break;
    best = total;
    bestCores = step.cores;
  }
  console.log(`fleet   max sustained: ${best} msg/s from one process (CPU ${(100 * bestCores).toFixed(0)}% of a core)`);

  // 2b. Peer: bare mqtt.js, 4 connections, one fixed payload, publishing in 1000-message turns.
  const four = await connectMany(broker.url, 4, 'fastpeer-');
  let n = 0;
  let running = true;
  const pumpOnce = (): void => {
    if (!running) return;
    // 2000 distinct topics, as the fleet's 2000 devices use: aedes pays per topic too.
    for (let i = 0; i < 1000; i++, n++) (four[n % 4] as MqttClient).publish(`peer/fast/${n % 2000}`, payload, { qos: 0 });
    setImmediate(pumpOnce);
  };
  pumpOnce();
  const p0 = broker.sample();
  const pm = await measure(SECONDS * 1000, () => n);
  const peerAtBroker = brokerRate(p0, broker.sample());
  running = false;
  await Promise.all(four.map((c) => c.endAsync(true)));
  console.log(`peer    bare mqtt.js max: ${pm.perSecond.toFixed(0)} msg/s sent (broker counted ~${peerAtBroker.toFixed(0)}/s); CPU ${(100 * pm.cores).toFixed(0)}% of a core`);
  console.log(`ratio   fleet max sustained / bare mqtt.js max (at the broker): ${(best / peerAtBroker).toFixed(2)}`);
  broker.close();
  process.exit(0);
}
