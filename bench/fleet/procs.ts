/**
 * Helpers of the fleet benchmark (bench/fleet.ts): bundle processes that are always cleaned
 * up, CPU and RSS of a process read from /proc, and the nodes' retained statuses watched
 * over MQTT so the benchmark waits for what the nodes report, never for a fixed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeStatus, type NodeStatus } from '../../shared/wire/index.ts';

const BUNDLE = 'dist/sluice.mjs';
/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux x86-64). */
const TICKS = 100;
const TAIL = 4096;

/** A bundle process; its output is kept (the last few KB) for error reports. */
export interface BundleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set once the process has exited: code or signal. */
  exited: string | undefined;
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
}

/** Starts bundle processes; `close()` ends every one still running (SIGTERM, then SIGKILL). */
export function createProcessGroup() {
  const running = new Set<BundleProcess>();
  const start = (name: string, args: readonly string[]): BundleProcess => {
    const child = spawn(process.execPath, [BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];
    const onData = (c: Buffer): void => {
      out = (out + c.toString()).slice(-TAIL);
      for (const w of [...waiters]) {
        const m = out.match(w.pattern);
        if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const p: BundleProcess = {
      name, child, pid: child.pid ?? -1, exited: undefined, output: () => out,
      waitFor: (pattern) => new Promise((resolve, reject) => {
        const m = out.match(pattern);
        if (m) resolve(m);
        else if (p.exited !== undefined) reject(new Error(`${name} exited (${p.exited}) before printing ${pattern}:\n${out}`));
        else waiters.push({ pattern, resolve, reject });
      }),
    };
    child.on('exit', (code, signal) => {
      p.exited = String(code ?? signal);
      running.delete(p);
      for (const w of waiters.splice(0)) w.reject(new Error(`${name} exited (${p.exited}) before printing ${w.pattern}:\n${out}`));
    });
    running.add(p);
    return p;
  };
  /** SIGTERM to `which`; SIGKILL to any still up after 5 s. Returns how many had to be killed. */
  const stop = async (which: readonly BundleProcess[]): Promise<number> => {
    for (const p of which) p.child.kill('SIGTERM');
    const gone = Promise.all(which.map((p) => new Promise<void>((r) => { if (p.exited !== undefined) r(); else p.child.once('exit', () => r()); })));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((r) => { timer = setTimeout(r, 5000); })]);
    clearTimeout(timer);
    const left = which.filter((p) => p.exited === undefined);
    for (const p of left) p.child.kill('SIGKILL');
    return left.length;
  };
  // Gateways first: a gateway whose cloud is already gone may not exit on SIGTERM (see BENCHMARKS.md).
  const close = async (first: (p: BundleProcess) => boolean = () => false): Promise<number> => {
    const a = [...running].filter(first);
    const killed = await stop(a);
    return killed + (await stop([...running]));
  };
  /** Synchronous last resort, for `process.on('exit')`. */
  const killAll = (): void => { for (const p of running) p.child.kill('SIGKILL'); };
  return { start, close, killAll };
}

/** CPU seconds (user + system) and RSS of a process, from /proc; undefined once it is gone. */
export interface ProcSample { readonly cpuS: number; readonly rssMb: number; readonly at: number }

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: utime is
    // field 14 and stime field 15 of the whole line, so 12 and 13 after the ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(rest[11]) + Number(rest[12])) / TICKS;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** CPU % of one core and RSS (mean and peak of the samples) of one process over a window. */
export interface ProcWindow { cpuPct: number; rssMeanMb: number; rssPeakMb: number }

/** Samples processes every `everyMs` until `stop()`; then CPU over the whole window and RSS. */
export function watchProcs(pids: readonly number[], everyMs = 1000) {
  const first = new Map<number, ProcSample>();
  const last = new Map<number, ProcSample>();
  const rss = new Map<number, number[]>();
  const take = (): void => {
    for (const pid of pids) {
      const s = sampleProc(pid);
      if (!s) continue;
      if (!first.has(pid)) first.set(pid, s);
      last.set(pid, s);
      const list = rss.get(pid) ?? [];
      list.push(s.rssMb);
      rss.set(pid, list);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop(): Map<number, ProcWindow> {
      take();
      clearInterval(timer);
      const out = new Map<number, ProcWindow>();
      for (const pid of pids) {
        const a = first.get(pid);
        const b = last.get(pid);
        const r = rss.get(pid) ?? [];
        if (!a || !b || b.at <= a.at) continue;
        out.set(pid, {
          cpuPct: (100 * (b.cpuS - a.cpuS) * 1000) / (b.at - a.at),
          rssMeanMb: r.reduce((x, y) => x + y, 0) / r.length,
          rssPeakMb: Math.max(...r),
        });
      }
      return out;
    },
  };
}

/** The latest retained status of every node, with waits on a predicate per node. */
export async function watchStatuses(mqttUrl: string) {
  const client: MqttClient = await mqtt.connectAsync(mqttUrl, { clientId: `bench-fleet-status-${process.pid}`, reconnectPeriod: 500 });
  const latest = new Map<string, NodeStatus>();
  const waiters = new Set<{ node: string; test: (s: NodeStatus) => boolean; resolve: (at: number) => void }>();
  client.on('message', (_t, payload) => {
    const r = decodeStatus(payload);
    if (!r.ok) return;
    const at = performance.now();
    latest.set(r.message.node, r.message);
    for (const w of waiters) if (w.node === r.message.node && w.test(r.message)) { waiters.delete(w); w.resolve(at); }
  });
  await client.subscribeAsync('sluice/v1/node/+/status', { qos: 1 });
  return {
    latest: (node: string) => latest.get(node),
    /** Resolves with performance.now() of the status message that first satisfies `test`. */
    until(node: string, test: (s: NodeStatus) => boolean): Promise<number> {
      const s = latest.get(node);
      if (s && test(s)) return Promise.resolve(performance.now());
      return new Promise((resolve) => waiters.add({ node, test, resolve }));
    },
    close: () => client.endAsync(true),
  };
}

/** The status says `app` runs at `version` on the node. */
export const runs = (app: string, version: number) => (s: NodeStatus): boolean =>
  s.online && (s.apps ?? []).some((a) => a.app === app && a.version === version && a.state === 'running');

/** The value at quantile q (0..1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
