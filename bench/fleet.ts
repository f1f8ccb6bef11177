/**
 * The fleet on one machine (issue 5), not a test: `npm run bench -- fleet`. Starts one
 * `sluice cloud` (embedded broker, coordinator, worker cloud-0, HTTP API) and N `sluice edge`
 * gateways from the bundle, each its own process, deploys bench/fleet/app.ts to them, and
 * runs D simulated plugs per gateway at 1 Hz against each gateway's local broker. Prints:
 *  - registration and deploy time: from spawning `sluice deploy` until every gateway and
 *    cloud-0 report the app running in their retained status;
 *  - CPU (% of one core) and RSS of the cloud process, idle (before the deploy, and with the
 *    app running but no devices) and under load, from /proc; the same for one gateway, over
 *    all gateways, and for this process (the simulators);
 *  - latency from device publish (`ts`, stamped by the simulator) to the cloud worker handling
 *    the reading (`at`, stamped by the app's cloud map just before the sink appends it), and to
 *    the line being readable in the sink file (seen by this process via fs.watch);
 *  - readings published vs readings in the cloud sink file, and duplicates.
 * The simulators run in this process (createFleet, a few shared connections per gateway), so
 * their CPU is this process's, reported apart from the cloud's and the gateways'.
 * Sizes: BENCH_FLEET_GATEWAYS (50), BENCH_FLEET_DEVICES per gateway (40), BENCH_FLEET_SECONDS
 * measured window (60), BENCH_FLEET_IDLE_SECONDS (10), BENCH_FLEET_CONNECTIONS per gateway (2).
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createFleet, type Fleet } from '../firmware-sim/index.ts';
import { createProcessGroup, quantile, runs, watchProcs, watchStatuses, type BundleProcess, type ProcWindow } from './fleet/procs.ts';

const GATEWAYS = Number(process.env.BENCH_FLEET_GATEWAYS ?? 50);
const DEVICES = Number(process.env.BENCH_FLEET_DEVICES ?? 40);
const SECONDS = Number(process.env.BENCH_FLEET_SECONDS ?? 60);
const IDLE_SECONDS = Number(process.env.BENCH_FLEET_IDLE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_FLEET_CONNECTIONS ?? 2);
/** Gateways started at once: startup is CPU-bound, so more only slows every one of them. */
const START_CONCURRENCY = 4;
const WARMUP_MS = 5000;
/** After the devices stop, give up waiting for the rest of the readings once none arrived for this long. */
const DRAIN_QUIET_MS = 30_000;
const APP = 'fleet-bench';

const gwId = (i: number): string => `gw-${String(i).padStart(2, '0')}`;
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

interface Row { ts: number; gw: number; at: number; seen: number; key: string }

/** Follows the sink file as the cloud worker appends to it; `seen` is this process's clock on reading a line. */
function tailSink(file: string) {
  const rows: Row[] = [];
  let fd: number | undefined;
  let offset = 0;
  let partial = '';
  let lastNew = performance.now();
  const buf = Buffer.alloc(1 << 20);
  let watcher: FSWatcher | undefined;
  const read = (): void => {
    if (fd === undefined) {
      if (!existsSync(file)) return;
      fd = openSync(file, 'r');
      watcher = watch(file, read);
    }
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      const seen = Date.now();
      const lines = (partial + buf.toString('utf8', 0, n)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        const r = JSON.parse(line) as { id: string; seq: number; ts: number; kwh: number; gw: number; at: number };
        rows.push({ ts: r.ts, gw: r.gw, at: r.at, seen, key: `${r.id}|${r.seq}|${r.ts}|${r.kwh}` });
      }
      lastNew = performance.now();
    }
  };
  // fs.watch may coalesce or miss events (and the file appears only with the first reading).
  const backstop = setInterval(read, 250);
  return {
    rows, read, quietFor: () => performance.now() - lastNew,
    close(): void { clearInterval(backstop); watcher?.close(); if (fd !== undefined) closeSync(fd); },
  };
}

function printProcs(label: string, w: Map<number, ProcWindow>, cloud: BundleProcess, gateways: readonly BundleProcess[], self: { pct: number; what: string }): void {
  const c = w.get(cloud.pid);
  const g0 = gateways[0] ? w.get(gateways[0].pid) : undefined;
  const all = gateways.map((g) => w.get(g.pid)).filter((x): x is ProcWindow => x !== undefined);
  const mean = (f: (x: ProcWindow) => number): number => all.reduce((s, x) => s + f(x), 0) / all.length;
  const max = (f: (x: ProcWindow) => number): number => Math.max(...all.map(f));
  console.log(`${label}: cloud process CPU ${fmt(c?.cpuPct ?? NaN)}% of a core, RSS ${fmt(c?.rssMeanMb ?? NaN, 0)} MB (peak ${fmt(c?.rssPeakMb ?? NaN, 0)})`);
  console.log(`${label}: ${gwId(0)} CPU ${fmt(g0?.cpuPct ?? NaN)}%, RSS ${fmt(g0?.rssMeanMb ?? NaN, 0)} MB; over ${all.length} gateways CPU mean ${fmt(mean((x) => x.cpuPct))}% (max ${fmt(max((x) => x.cpuPct))}%), RSS mean ${fmt(mean((x) => x.rssMeanMb), 0)} MB (max peak ${fmt(max((x) => x.rssPeakMb), 0)}), sum of gateway CPU ${fmt(all.reduce((s, x) => s + x.cpuPct, 0))}%`);
  console.log(`${label}: this process (${self.what}) CPU ${fmt(self.pct)}%; load average ${load()}`);
}

async function selfCpu<T>(run: () => Promise<T>): Promise<{ value: T; pct: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await run();
  const used = process.cpuUsage(c0);
  return { value, pct: (100 * (used.user + used.system)) / 1000 / (performance.now() - t0) };
}

async function main(): Promise<void> {
  if (!existsSync('dist/sluice.mjs')) throw new Error('dist/sluice.mjs is missing: run npm run build first');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-fleet-'));
  const procs = createProcessGroup();
  process.once('exit', () => { procs.killAll(); rmSync(dir, { recursive: true, force: true }); });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const fleets: Fleet[] = [];
  let statuses: Awaited<ReturnType<typeof watchStatuses>> | undefined;
  let sink: ReturnType<typeof tailSink> | undefined;
  try {
    console.log(`fleet bench: 1 cloud + ${GATEWAYS} gateways (processes from dist/sluice.mjs), ${DEVICES} plugs per gateway at 1 Hz on ${CONNECTIONS} shared connections each, simulated in this process; ${SECONDS} s window; load average ${load()}`);
    const cloud = procs.start('cloud', ['cloud', '--data', join(dir, 'cloud'), '--mqtt-port', '0', '--http-port', '0']);
    const mqttUrl = (await cloud.waitFor(/MQTT (mqtt:\/\/\S+)/))[1]!;
    const httpUrl = (await cloud.waitFor(/HTTP (http:\/\/\S+)/))[1]!;
    statuses = await watchStatuses(mqttUrl);
    const st = statuses;
    await st.until('cloud-0', (s) => s.online);

    // Gateways, a few at a time; each counts as registered once its retained status says online.
    const t0 = performance.now();
    const gateways: BundleProcess[] = [];
    const localUrls: string[] = [];
    let next = 0;
    const starter = async (): Promise<void> => {
      while (next < GATEWAYS) {
        const i = next++;
        mkdirSync(join(dir, gwId(i)));
        const p = procs.start(gwId(i), ['edge', '--id', gwId(i), '--cloud', mqttUrl, '--data', join(dir, gwId(i)), '--local-port', '0', '--tags', 'bench=fleet']);
        gateways[i] = p;
        localUrls[i] = (await p.waitFor(/devices publish to (mqtt:\/\/\S+)/))[1]!;
        await st.until(gwId(i), (s) => s.online && s.role === 'edge');
      }
    };
    await Promise.all(Array.from({ length: START_CONCURRENCY }, starter));
    console.log(`registered: ${GATEWAYS} gateways online in ${fmt((performance.now() - t0) / 1000)} s (${START_CONCURRENCY} started at a time)`);

    const idle = await selfCpu(async () => { const w = watchProcs([cloud.pid, ...gateways.map((g) => g.pid)]); await sleep(IDLE_SECONDS * 1000); return w.stop(); });
    printProcs(`idle (${IDLE_SECONDS} s, no app)`, idle.value, cloud, gateways, { pct: idle.pct, what: 'status watcher' });

    // Deploy: from spawning the CLI until every node's retained status says the app runs.
    const nodes = [...gateways.map((_g, i) => gwId(i)), 'cloud-0'];
    const d0 = performance.now();
    const deploy = procs.start('deploy', ['deploy', 'bench/fleet/app.ts', '--cloud', httpUrl, '--gateways', 'bench=fleet']);
    const cliDone = new Promise<number>((resolve, reject) => deploy.child.once('exit', (code) => {
      if (code === 0) resolve(performance.now());
      else reject(new Error(`sluice deploy exited ${deploy.exited}:\n${deploy.output()}`));
    }));
    const running = await Promise.race([Promise.all(nodes.map((n) => st.until(n, runs(APP, 1)))), cliDone.then(() => new Promise<never>(() => undefined))]);
    const d1 = performance.now();
    const cliAt = await cliDone;
    const gwRunning = running.slice(0, GATEWAYS).map((t) => t - d0).sort((a, b) => a - b);
    console.log(`deploy: ${fmt((d1 - d0) / 1000, 2)} s from \`sluice deploy\` until all ${GATEWAYS} gateways and cloud-0 run ${APP} v1 (CLI returned after ${fmt((cliAt - d0) / 1000, 2)} s; gateways running: first ${fmt(gwRunning[0]! / 1000, 2)} s, median ${fmt(quantile(gwRunning, 0.5) / 1000, 2)} s, last ${fmt(gwRunning[gwRunning.length - 1]! / 1000, 2)} s; cloud-0 ${fmt((running[GATEWAYS]! - d0) / 1000, 2)} s)`);

    const ready = await selfCpu(async () => { const w = watchProcs([cloud.pid, ...gateways.map((g) => g.pid)]); await sleep(IDLE_SECONDS * 1000); return w.stop(); });
    printProcs(`app running, no devices (${IDLE_SECONDS} s)`, ready.value, cloud, gateways, { pct: ready.pct, what: 'status watcher' });

    // Load: the devices, then a warm-up, then the measured window.
    sink = tailSink(join(dir, 'cloud', 'worker', 'apps', APP, 'sinks', 'readings.jsonl'));
    for (let i = 0; i < GATEWAYS; i++) {
      const f = createFleet({ broker: localUrls[i]!, model: 'plug', devices: DEVICES, rate: 1, seed: 1000 + i, connections: CONNECTIONS, clientIdPrefix: `${gwId(i)}-sim-` });
      f.start();
      fleets.push(f);
    }
    await Promise.all(fleets.map((f) => f.whenConnected()));
    // Same-run baseline: a bare mqtt.js subscriber on gw-00's local broker, one aedes hop.
    const raw = await mqtt.connectAsync(localUrls[0]!, { clientId: `bench-fleet-raw-${process.pid}`, reconnectPeriod: 0 });
    const rawLatency: number[] = [];
    let rawFrom = Number.POSITIVE_INFINITY;
    let rawTo = Number.POSITIVE_INFINITY;
    raw.on('message', (_t, p) => {
      const now = Date.now();
      const ts = (JSON.parse(p.toString()) as { ts: number }).ts;
      if (ts >= rawFrom && ts < rawTo) rawLatency.push(now - ts);
    });
    await raw.subscribeAsync('sim/plug/+', { qos: 0 });
    await sleep(WARMUP_MS);
    const winStart = Date.now();
    rawFrom = winStart;
    const sent0 = fleets.reduce((s, f) => s + f.stats().sent, 0);
    const loaded = await selfCpu(async () => { const w = watchProcs([cloud.pid, ...gateways.map((g) => g.pid)]); await sleep(SECONDS * 1000); return w.stop(); });
    const winEnd = Date.now();
    rawTo = winEnd;
    const sentInWindow = fleets.reduce((s, f) => s + f.stats().sent, 0) - sent0;
    console.log(`load: ${fmt((sentInWindow * 1000) / (winEnd - winStart), 0)} readings/s published in the window (${GATEWAYS * DEVICES} requested)`);
    printProcs(`load (${SECONDS} s)`, loaded.value, cloud, gateways, { pct: loaded.pct, what: 'simulators, status watcher, sink tail' });

    // Stop the devices and wait for what they sent to reach the cloud results.
    await Promise.all(fleets.map((f) => f.stop()));
    const stats = fleets.map((f) => f.stats());
    const published = stats.reduce((s, x) => s + x.sent, 0);
    const s = sink;
    while (s.rows.length < published && s.quietFor() < DRAIN_QUIET_MS) await sleep(200);
    s.read();
    const distinct = new Set(s.rows.map((r) => r.key)).size;
    const skipped = stats.reduce((a, x) => a + x.skipped + x.overflow, 0);
    const errors = stats.reduce((a, x) => a + x.errors, 0);
    const eventsIn = nodes.slice(0, GATEWAYS).reduce((a, n) => a + (st.latest(n)?.apps?.find((x) => x.app === APP)?.eventsIn ?? 0), 0);
    console.log(`readings: ${published} published by the simulators (not sent: ${skipped}, connection errors: ${errors}); ${s.rows.length} lines in the cloud sink, ${distinct} distinct, ${s.rows.length - distinct} duplicates, ${published - distinct} missing${published - distinct > 0 ? ` (no new line for ${fmt(s.quietFor() / 1000)} s)` : ''}; gateways' latest statuses (periodic, so behind) count ${eventsIn} readings in`);

    // Latency of the readings published inside the measured window.
    const inWin = s.rows.filter((r) => r.ts >= winStart && r.ts < winEnd);
    const worker = inWin.map((r) => r.at - r.ts).sort((a, b) => a - b);
    const file = inWin.map((r) => r.seen - r.ts).sort((a, b) => a - b);
    const toGw = inWin.map((r) => r.gw - r.ts).sort((a, b) => a - b);
    const gwToCloud = inWin.map((r) => r.at - r.gw).sort((a, b) => a - b);
    await raw.endAsync(true);
    rawLatency.sort((a, b) => a - b);
    console.log(`latency publish -> cloud worker (app map): p50 ${fmt(quantile(worker, 0.5))} ms, p99 ${fmt(quantile(worker, 0.99))} ms, max ${fmt(worker[worker.length - 1] ?? NaN)} ms over ${worker.length} readings`);
    console.log(`  of which publish -> gateway fragment (edge map): p50 ${fmt(quantile(toGw, 0.5))} ms, p99 ${fmt(quantile(toGw, 0.99))} ms; gateway fragment -> cloud worker: p50 ${fmt(quantile(gwToCloud, 0.5))} ms, p99 ${fmt(quantile(gwToCloud, 0.99))} ms`);
    console.log(`latency publish -> line in the sink file (read by this process): p50 ${fmt(quantile(file, 0.5))} ms, p99 ${fmt(quantile(file, 0.99))} ms, max ${fmt(file[file.length - 1] ?? NaN)} ms`);
    console.log(`baseline, same run: publish -> bare mqtt.js subscriber on ${gwId(0)}'s local broker (one aedes hop, received in this process): p50 ${fmt(quantile(rawLatency, 0.5))} ms, p99 ${fmt(quantile(rawLatency, 0.99))} ms over ${rawLatency.length} readings`);
    const died = [cloud, ...gateways].filter((p) => p.exited !== undefined);
    if (died.length > 0) console.log(`exited during the run: ${died.map((p) => `${p.name} (${p.exited}): ${p.output().slice(-300)}`).join('\n')}`);
  } finally {
    await Promise.all(fleets.map((f) => f.close().catch(() => undefined)));
    sink?.close();
    await statuses?.close().catch(() => undefined);
    const killed = await procs.close((p) => p.name.startsWith('gw-'));
    if (killed > 0) console.log(`cleanup: ${killed} process(es) did not exit within 5 s of SIGTERM and were killed`);
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await main();
  process.exit(0);
} catch (e) {
  console.error(e);
  process.exit(1);
}
