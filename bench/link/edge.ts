/**
 * The edge side of the link benchmark, run as its own process (`link.mjs --edge <mode> ...`),
 * so its RSS and CPU are the sender's alone. It reports on stdout, one JSON object a line:
 * `{ type: 'idle', rss }` once connected, then `{ type: 'done', ... }`. Modes:
 *   raw <url> <n>                  mqtt.js, one event per QoS 1 message, 1,000 in flight
 *   live <url> <dir> <n>           a Sluice sender with a disk outbox, pushing at full speed
 *   outage <url> <dir> <n>         the same, disconnected while it appends, then draining
 *   catchup <url> <dir> <n> <rate> as outage, with live events pushed at <rate> per second
 *                                  while the backlog drains, until the receiver acked all of it
 *   paced <url> <dir> <rate> <s>   the same, paced by the clock; ts carries the send time. It
 *                                  runs BENCH_LAT_WARMUP_S (default 2) seconds first, which the
 *                                  figures leave out (the JIT is still compiling the path)
 * Times are wall clock (performance.timeOrigin + now), comparable across the two processes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { createChannelSender, reconnectClient } from '../../shared/link/index.ts';
import { openDiskLog } from '../../shared/store/index.ts';
import { connect, LatencyHistogram, payload, wallNow, warmupSeconds, watchStalls } from './common.ts';

/** Starts the V8 CPU profiler in this process; the returned function stops it and writes the profile. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session.post(method, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return async (file) => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
const report = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

/** What the RSS held when it peaked: V8's heap (used / reserved) and buffers outside it, in MB. */
let atPeak = { rss: 0, heapUsed: 0, heapTotal: 0, arrayBuffers: 0 };

/** BENCH_SMAPS=1 (Linux): /proc/self/smaps at the RSS peak, summed by mapping on stderr at the end. */
let peakSmaps = '';

function smapsSummary(text: string): string {
  const rss: Record<string, number> = {};
  let region = '';
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) { region = (m[1] || '[anonymous]').split('/').pop()!; continue; }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) rss[region] = (rss[region] ?? 0) + Number(r[1]);
  }
  return Object.entries(rss).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} MB`).join(', ');
}

/** Peak RSS, sampled every 50 ms while `run` runs. */
async function peakRss<T>(run: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    const rss = Math.round(m.rss / 1e6);
    if (rss > peak) peak = rss;
    // BENCH_RSS_TRACE=1: every sample on stderr, to see what grows and what a GC takes back.
    if (process.env.BENCH_RSS_TRACE) process.stderr.write(`rss ${rss} MB, V8 heap ${Math.round(m.heapUsed / 1e6)} of ${Math.round(m.heapTotal / 1e6)}, buffers ${Math.round(m.arrayBuffers / 1e6)}\n`);
    if (rss > atPeak.rss && process.env.BENCH_SMAPS) peakSmaps = readFileSync('/proc/self/smaps', 'utf8');
    if (rss > atPeak.rss) atPeak = { rss, heapUsed: Math.round(m.heapUsed / 1e6), heapTotal: Math.round(m.heapTotal / 1e6), arrayBuffers: Math.round(m.arrayBuffers / 1e6) };
  };
  sample();
  const t = setInterval(sample, 50);
  try {
    const result = await run();
    sample();
    return { result, peak };
  } finally { clearInterval(t); }
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** The kernel's share of the CPU since `since` (fsync, file and socket calls), in ms. */
function sysMs(since: NodeJS.CpuUsage): number {
  return process.cpuUsage(since).system / 1000;
}

async function raw(url: string, n: number): Promise<void> {
  const pub = await connect(url, 'raw-pub');
  report({ type: 'idle', rss: rssMb() });
  const cpu0 = process.cpuUsage();
  const t0 = wallNow();
  let sent = 0;
  await new Promise<void>((resolve) => {
    let inflight = 0;
    const pump = (): void => {
      while (inflight < 1000 && sent < n) {
        inflight++;
        const body = JSON.stringify({ ...payload, seq: sent++ });
        pub.publish('bench/raw', body, { qos: 1 }, () => { inflight--; if (sent < n) pump(); else if (inflight === 0) resolve(); });
      }
    };
    pump();
  });
  report({ type: 'done', t0, cpuMs: cpuMs(cpu0), rss: rssMb() });
  await pub.endAsync();
}

async function channel(mode: 'live' | 'outage' | 'catchup' | 'paced', url: string, dir: string, a: number, b: number): Promise<void> {
  const tx = await connect(url, `tx-${mode}`, true);
  // BENCH_GROUP_COMMIT_MS / BENCH_GROUP_COMMIT_BYTES set the outbox's group commit bounds (default 5 ms / 32 KiB).
  const groupCommitMs = process.env.BENCH_GROUP_COMMIT_MS === undefined ? {} : { groupCommitMs: Number(process.env.BENCH_GROUP_COMMIT_MS) };
  const groupCommitBytes = process.env.BENCH_GROUP_COMMIT_BYTES === undefined ? {} : { groupCommitBytes: Number(process.env.BENCH_GROUP_COMMIT_BYTES) };
  const log = await openDiskLog(join(dir, mode), { maxBytes: 1 << 30, ...groupCommitMs, ...groupCommitBytes });
  const outage = mode === 'outage' || mode === 'catchup';
  if (outage) tx.end(true);
  const sender = createChannelSender({
    client: tx, app: 'bench', channel: mode, producer: 'gw', log,
    ...(mode === 'paced' ? {} : { maxEventsPerFrame: 1000, maxInflightFrames: Number(process.env.BENCH_INFLIGHT ?? 8) }),
  });
  report({ type: 'idle', rss: rssMb() });
  const cpu0 = process.cpuUsage();
  const t0 = wallNow();
  const outageRss: number[] = [];
  const durableLat = new LatencyHistogram();
  // What stalls the edge's event loop while it runs: its delay, and the GC pauses in it.
  const stalls = watchStalls();
  const { peak } = await peakRss(async () => {
    if (mode === 'paced') {
      const warm = Math.round(a * warmupSeconds());
      const total = warm + a * b;
      // Push -> durable in the outbox, the part of the added latency the disk sets. The events
      // of one tick are pushed within microseconds: one push time a tick keeps the bench's own
      // memory out of the sender's RSS (an array of times per event was 7 MB at 128 k/s).
      const ticks: { first: number; at: number }[] = [];
      let seen = 0;
      let tick = 0;
      log.subscribe((ev) => {
        if (ev.type !== 'durable') return;
        const now = wallNow();
        for (; seen < ev.seq && seen < total; seen++) {
          while (tick + 1 < ticks.length && ticks[tick + 1]!.first <= seen) tick++;
          if (seen >= warm) durableLat.add(now - ticks[tick]!.at);
        }
      });
      const start = performance.now();
      for (let i = 0; i < total;) {
        // Paced by the clock: ~1 ms ticks, each sending its share.
        const due = Math.floor(((performance.now() - start) * a) / 1000);
        if (due > i) ticks.push({ first: i, at: wallNow() });
        for (; i < Math.min(due, total); i++) {
          sender.push(wallNow(), undefined, { ...payload, seq: i });
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      return;
    }
    // BENCH_WATERMARK_EVERY=N: a batch of N events and its watermark at a time, as a gateway's sources give them.
    const wmEvery = Number(process.env.BENCH_WATERMARK_EVERY ?? 0);
    for (let i = 0; i < a; i++) {
      sender.push(i, undefined, { ...payload, seq: i });
      if (wmEvery > 0 && i % wmEvery === wmEvery - 1) { sender.watermark(i); await sender.flushed(); }
      if (i % 5000 === 4999) await sender.flushed();
      if (outage && i % (a / 10) === a / 10 - 1) outageRss.push(rssMb());
    }
    await sender.flushed();
  });
  const appendedMs = wallNow() - t0;
  let t1 = t0;
  let cpu1 = cpu0;
  if (outage) {
    // The outage ends: everything in the outbox drains.
    t1 = wallNow();
    cpu1 = process.cpuUsage();
    reconnectClient(tx);
  }
  // catchup: live data keeps coming at the steady rate `b` while the backlog of `a` drains.
  let live = 0;
  let caughtUpMs = 0;
  if (mode === 'catchup') {
    const start = performance.now();
    while (sender.stats().ackedSeq < a) {
      const due = Math.floor(((performance.now() - start) * b) / 1000);
      for (; live < due; live++) sender.push(wallNow(), undefined, { ...payload, seq: a + live });
      await new Promise((r) => setTimeout(r, 1));
    }
    caughtUpMs = wallNow() - t1;
  }
  // BENCH_DRAIN_PROFILE=FILE: a CPU profile of the drain alone (after the outage), for finding its cost.
  const profile = mode === 'outage' && process.env.BENCH_DRAIN_PROFILE ? await startProfile() : undefined;
  const { peak: drainPeak } = await peakRss(() => sender.drained());
  if (profile) await profile(process.env.BENCH_DRAIN_PROFILE!);
  const t2 = wallNow();
  const dq = (p: number): number | undefined => durableLat.quantile(p);
  if (peakSmaps) process.stderr.write(`edge ${mode}: RSS at its peak by mapping: ${smapsSummary(peakSmaps)}\n`);
  report({ type: 'done', t0: t1, t2, live, caughtUpMs, stalls: stalls.stop(), atPeak, durableP50: dq(0.5), durableP99: dq(0.99), appendedMs, cpuMs: cpuMs(cpu1), sysMs: sysMs(cpu1), peak: Math.max(peak, drainPeak), outageRss, rss: rssMb(), stats: sender.stats() });
  await sender.close(); await log.close(); tx.end(true);
}

/** Runs the edge role named by argv (see the module comment). */
export async function edgeMain(args: readonly string[]): Promise<void> {
  const [mode, url, ...rest] = args;
  if (mode === 'raw') await raw(url!, Number(rest[0]));
  else if (mode === 'live' || mode === 'outage' || mode === 'catchup' || mode === 'paced') await channel(mode, url!, rest[0]!, Number(rest[1]), Number(rest[2]));
  else throw new Error(`unknown edge mode ${String(mode)}`);
}
