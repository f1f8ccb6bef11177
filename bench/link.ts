/**
 * Edge -> cloud over loopback MQTT: a Sluice channel (disk outbox, at-least-once, end-to-end
 * acks) beside the baseline users would write (raw mqtt.js, one 100-byte event per QoS 1
 * message), against the same broker in the same run; then the replay rate of a backlog
 * accumulated during an outage, and the added latency at half the channel's rate (on the
 * shared broker, then on one of its own).
 * Three processes: the broker (`sluice broker` from the bundle), the edge (this bundle with
 * `--edge`, bench/link/edge.ts: only the sender, or only the raw publisher, so its RSS and CPU
 * are the edge's alone) and this one, the cloud side (receiver or raw subscriber).
 * Not a test: `npm run bench -- link`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createChannelReceiver } from '../shared/link/index.ts';
import { sampleProc } from './fleet/procs.ts';
import { connect, describeStalls, EVENT_BYTES, LatencyHistogram, type Stalls, wallNow, warmupSeconds, watchStalls } from './link/common.ts';
import { edgeMain } from './link/edge.ts';

// A million events: long enough (3-5 s) that the figure is the steady state, not the JIT warming up.
const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
/**
 * The steady ingest rate live data keeps while a backlog drains (BENCH_STEADY_RATE): 20,000
 * events/s, ten times the 2,000 devices at 1 Hz of DESIGN.md's gateway budget.
 */
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 20_000);

/** Starts `sluice broker` from the bundle; BENCH_BROKER_NODE_OPTIONS (e.g. '--no-memory-reducer') go to its node. */
async function startBroker(): Promise<{ url: string; pid: number; stop: () => void }> {
  const nodeArgs = (process.env.BENCH_BROKER_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'dist/sluice.mjs', 'broker', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]!); });
    child.on('exit', (code) => reject(new Error(`broker exited ${code}; run npm run build first`)));
  });
  return { url, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') };
}

/** CPU ms a process has used (user + system), from /proc; 0 where there is none. */
const procCpuMs = (pid: number): number => (sampleProc(pid)?.cpuS ?? 0) * 1000;

type Report = Record<string, unknown> & { type: string };

/** Starts the edge process; resolves its 'idle' and 'done' reports. */
function edge(args: readonly string[]): { idle: Promise<Report>; done: Promise<Report> } {
  // BENCH_EDGE_NODE_OPTIONS, e.g. '--cpu-prof', profiles the edge process alone.
  const nodeArgs = (process.env.BENCH_EDGE_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), '--edge', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let idle!: (r: Report) => void;
  let done!: (r: Report) => void;
  let fail!: (e: Error) => void;
  const idleP = new Promise<Report>((resolve) => { idle = resolve; });
  const doneP = new Promise<Report>((resolve, reject) => { done = resolve; fail = reject; });
  lines.on('line', (line) => {
    // Lines that are not reports come from Node flags such as --trace-gc: passed on to stderr.
    if (!line.startsWith('{')) { process.stderr.write(`${line}\n`); return; }
    const r = JSON.parse(line) as Report; if (r.type === 'idle') idle(r); else done(r);
  });
  child.on('exit', (code) => { if (code !== 0) fail(new Error(`edge ${args[0]} exited ${code}`)); });
  return { idle: idleP, done: doneP };
}

async function rawBaseline(url: string) {
  const sub = await connect(url, 'raw-sub');
  await sub.subscribeAsync('bench/raw', { qos: 1 });
  let got = 0;
  const all = new Promise<number>((resolve) => sub.on('message', () => { if (++got === N) resolve(wallNow()); }));
  const e = edge(['raw', url, String(N)]);
  const end = await all;
  const r = await e.done;
  await sub.endAsync();
  return { rate: (N * 1000) / (end - (r.t0 as number)), cpuMs: r.cpuMs as number, idleRss: (await e.idle).rss as number };
}

/** A receiver on channel `channel` that counts what it gets; `close` checks it got `expected`. */
async function countingReceiver(url: string, channel: string) {
  const client = await connect(url, `rx-${channel}`);
  let got = 0;
  const rx = createChannelReceiver({ client, app: 'bench', channel, onEvents: (_p, evs) => { got += evs.length; }, onWatermark: () => {} });
  await rx.start();
  return {
    async close(expected: number): Promise<void> {
      rx.close(); await client.endAsync();
      if (got < expected) throw new Error(`receiver got ${got} of ${expected} events`);
    },
  };
}

/** From now on: the CPU the receiver (this process) and the broker use, and the edge's kernel time, in cores over `ms`. */
function otherCpu(brokerPid: number): (edgeSysMs: number, ms: number) => string {
  const rxCpu0 = process.cpuUsage();
  const brokerCpu0 = procCpuMs(brokerPid);
  return (edgeSysMs, ms) => {
    const rxCpu = process.cpuUsage(rxCpu0);
    return `receiver ${(((rxCpu.user + rxCpu.system) / 1000) / ms).toFixed(2)} cores, broker ${((procCpuMs(brokerPid) - brokerCpu0) / ms).toFixed(2)} cores; edge kernel time ${(edgeSysMs / ms).toFixed(2)} cores`;
  };
}

async function channel(url: string, brokerPid: number, dir: string, mode: 'live' | 'outage', events: number) {
  const cpu = otherCpu(brokerPid);
  const rx = await countingReceiver(url, mode);
  const e = edge([mode, url, dir, String(events)]);
  const idle = await e.idle;
  const r = await e.done;
  await rx.close(events);
  const ms = (r.t2 as number) - (r.t0 as number);
  // The receiver and the broker work only while events flow (in an outage, only once it ends).
  const others = cpu(r.sysMs as number, ms);
  return { others, rate: (events * 1000) / ms, appendRate: (events * 1000) / (r.appendedMs as number), cpuMs: r.cpuMs as number, ms, idleRss: idle.rss as number, peak: r.peak as number, atPeak: describePeak(r.atPeak), outageRss: r.outageRss as number[] };
}

/**
 * Added latency at a fixed rate: time from push at the edge to delivery here, over the events
 * pushed after the edge's warm-up (BENCH_LAT_WARMUP_S, default 2 s); `withWarmup` counts all.
 */
async function latency(url: string, brokerPid: number, dir: string, rate: number, seconds: number) {
  const rxClient = await connect(url, 'rx-lat');
  // Histograms, not arrays of times: the bench's own memory stays out of the receiver's GC.
  const measured = new LatencyHistogram();
  const all = new LatencyHistogram();
  const warm = Math.round(rate * warmupSeconds());
  const rx = createChannelReceiver({
    client: rxClient, app: 'bench', channel: 'paced', onWatermark: () => {},
    onEvents: (_p, evs) => {
      const now = wallNow();
      for (const e of evs) {
        all.add(now - e.ts);
        if ((e.value as { seq: number }).seq >= warm) measured.add(now - e.ts);
      }
    },
  });
  await rx.start();
  const cpu = otherCpu(brokerPid);
  const rxStalls = watchStalls();
  const e = edge(['paced', url, dir, String(rate), String(seconds)]);
  const r = await e.done;
  const ms = (r.t2 as number) - (r.t0 as number);
  const others = cpu(r.sysMs as number, ms);
  rx.close(); await rxClient.endAsync();
  const stalls = `${describeStalls('edge', r.stalls as Stalls)}; ${describeStalls('receiver', rxStalls.stop())}`;
  return {
    p50: measured.quantile(0.5)!, p99: measured.quantile(0.99)!, n: measured.count, cpuMs: r.cpuMs as number, ms, others, peak: r.peak as number, atPeak: describePeak(r.atPeak),
    withWarmup: `with the warm-up: p50 ${all.quantile(0.5)!.toFixed(2)} ms, p99 ${all.quantile(0.99)!.toFixed(2)} ms over ${all.count} events`,
    durable: `push -> durable in the outbox p50 ${(r.durableP50 as number).toFixed(2)} ms, p99 ${(r.durableP99 as number).toFixed(2)} ms; ${stalls}`,
  };
}

/**
 * The outage ends while the gateway's sources go on at the steady ingest rate `rate`: how fast
 * the backlog drains (until the receiver acked its last event) with live data arriving behind it.
 */
async function catchup(url: string, dir: string, backlog: number, rate: number) {
  const rx = await countingReceiver(url, 'catchup');
  const r = await edge(['catchup', url, dir, String(backlog), String(rate)]).done;
  const live = r.live as number;
  await rx.close(backlog + live);
  const ms = r.caughtUpMs as number;
  return { replayRate: (backlog * 1000) / ms, liveRate: (live * 1000) / ms, ms };
}

const cores = (cpuMs: number, ms: number): string => (cpuMs / ms).toFixed(2);

function describePeak(p: unknown): string {
  const m = p as { rss: number; heapUsed: number; heapTotal: number; arrayBuffers: number };
  return `at the peak: V8 heap ${m.heapUsed} used of ${m.heapTotal} MB, buffers ${m.arrayBuffers} MB`;
}

async function main(): Promise<void> {
  const broker = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-link-'));
  try {
    if (process.env.BENCH_LAT_RATE !== undefined && process.env.BENCH_ONLY === 'latency') {
      // Only the latency phase, at a given rate: for finding what sets it.
      const lat = await latency(broker.url, broker.pid, dir, Number(process.env.BENCH_LAT_RATE), 5);
      console.log(`  added latency at ${process.env.BENCH_LAT_RATE} events/s (${lat.n} events after the warm-up): p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms (${lat.withWarmup}); edge used ${cores(lat.cpuMs, lat.ms)} cores, ${lat.others}; ${lat.durable}; RSS peak ${lat.peak} MB (${lat.atPeak})`);
      return;
    }
    if (process.env.BENCH_ONLY === 'catchup') {
      const c = await catchup(broker.url, dir, BACKLOG, STEADY_RATE);
      console.log(`  catchup at a steady ${STEADY_RATE} events/s: backlog drained at ${(c.replayRate / 1000).toFixed(1)} k events/s = ${(c.replayRate / STEADY_RATE).toFixed(1)}x, in ${(c.ms / 1000).toFixed(2)} s (live pushed at ${(c.liveRate / 1000).toFixed(1)} k/s)`);
      return;
    }
    if (process.env.BENCH_ONLY === 'replay' || process.env.BENCH_ONLY === 'live') {
      // One channel phase alone, e.g. to profile the edge: BENCH_EDGE_NODE_OPTIONS=--cpu-prof.
      const only = process.env.BENCH_ONLY === 'live' ? await channel(broker.url, broker.pid, dir, 'live', N) : await channel(broker.url, broker.pid, dir, 'outage', BACKLOG);
      const events = process.env.BENCH_ONLY === 'live' ? N : BACKLOG;
      console.log(`  ${process.env.BENCH_ONLY}: ${(only.rate / 1000).toFixed(1)} k events/s, edge used ${cores(only.cpuMs, only.ms)} cores: ${((events * 1000) / only.cpuMs / 1000).toFixed(0)} k events per edge CPU-second (${only.others})`);
      if (only.outageRss.length > 0) console.log(`  during the outage, every 10% of the backlog: ${only.outageRss.join(' ')} MB; peak appending+draining ${only.peak} MB`);
      return;
    }
    const raw = await rawBaseline(broker.url);
    const live = await channel(broker.url, broker.pid, dir, 'live', N);
    const replay = await channel(broker.url, broker.pid, dir, 'outage', BACKLOG);
    const catchUp = await catchup(broker.url, dir, BACKLOG, STEADY_RATE);
    const half = Number(process.env.BENCH_LAT_RATE ?? Math.round(live.rate / 2));
    // The latency phase runs twice: on the broker the phases above used, right after them, then
    // on a broker of its own; both figures are printed. The first broker, its young generation
    // grown by the busy phases, was seen running a full GC every 0.5-1 s through the phase
    // (--trace-gc; none with BENCH_BROKER_NODE_OPTIONS=--no-memory-reducer), 4-13 ms pauses.
    const shared = await latency(broker.url, broker.pid, join(dir, 'shared-broker'), half, 5);
    const own = await startBroker();
    const lat = await latency(own.url, own.pid, join(dir, 'own-broker'), half, 5).finally(() => own.stop());
    const rawMs = (N * 1000) / raw.rate;
    console.log(`edge -> cloud over loopback MQTT, ${EVENT_BYTES}-byte JSON events; broker, edge (sender only) and cloud (receiver) in 3 processes`);
    console.log(`  raw mqtt.js, 1 event per QoS 1 message      ${(raw.rate / 1000).toFixed(1)} k events/s  (edge process used ${cores(raw.cpuMs, rawMs)} cores)`);
    console.log(`  sluice channel, disk outbox, e2e acks       ${(live.rate / 1000).toFixed(1)} k events/s  (${(live.rate / raw.rate).toFixed(1)}x raw; edge process used ${cores(live.cpuMs, live.ms)} cores: ${((N * 1000) / live.cpuMs / 1000).toFixed(0)} k events per edge CPU-second; ${live.others})`);
    console.log(`  replay of a ${BACKLOG.toLocaleString()}-event backlog after an outage  ${(replay.rate / 1000).toFixed(1)} k events/s  (${(replay.rate / live.rate).toFixed(1)}x the steady rate; appended at ${(replay.appendRate / 1000).toFixed(0)} k/s; edge used ${cores(replay.cpuMs, replay.ms)} cores; ${replay.others})`);
    console.log(`  replay of the same backlog while live data arrives at a steady ${(STEADY_RATE / 1000).toFixed(0)} k events/s  ${(catchUp.replayRate / 1000).toFixed(1)} k events/s  (${(catchUp.replayRate / STEADY_RATE).toFixed(1)}x the steady rate; caught up in ${(catchUp.ms / 1000).toFixed(2)} s, live pushed at ${(catchUp.liveRate / 1000).toFixed(1)} k/s meanwhile)`);
    console.log(`  added latency at half the channel's max (${(half / 1000).toFixed(0)} k events/s, a broker of its own, ${lat.n} events after the warm-up): p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms  (${lat.withWarmup}; edge used ${cores(lat.cpuMs, lat.ms)} cores, ${lat.others}; ${lat.durable})`);
    console.log(`  the same just before, on the broker the phases above used: p50 ${shared.p50.toFixed(2)} ms, p99 ${shared.p99.toFixed(2)} ms  (${shared.withWarmup}; ${shared.others}; ${shared.durable})`);
    console.log(`  edge (sender-only) process RSS: idle ${live.idleRss} MB (raw mqtt.js publisher idle ${raw.idleRss} MB), peak under load ${live.peak} MB (${live.atPeak}), at half rate ${lat.peak} MB (${lat.atPeak})`);
    console.log(`  during the outage, every 10% of the backlog: ${replay.outageRss.join(' ')} MB; peak appending+draining ${replay.peak} MB (${replay.atPeak})`);
  } finally {
    broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--edge') await edgeMain(process.argv.slice(3));
else await main();
