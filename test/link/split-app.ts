import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { BUNDLE, ensureBundle } from '../support/bundle.ts';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

/**
 * The app the process-level channel suites split: a stateless edge (filter, key by machine)
 * and a cloud window (10 s sums), as a gateway and the cloud would share the work.
 */
export function splitApp(name: string): string {
  return `import { defineApp, tumbling } from 'sluice';
export default defineApp('${name}', (app) => {
  app.source('readings', { format: 'json', eventTime: 'ts', maxDelay: 1000 })
    .filter((r) => r.v >= 0)
    .keyBy((r) => r.m)
    .window(tumbling('10s')).sum((r) => r.v).place('cloud')
    .map((w) => ({ m: w.key, start: w.windowStart, sum: w.value }))
    .sink('sums');
});
`;
}

/** Readings with some negative values the edge filters out. */
export function readings(n: number, machines: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ ts: i * 5, m: `m${i % machines}`, v: (i % 9) - (i % 211 === 0 ? 20 : 0) }));
}

export interface PartProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  stderr(): string;
  /** Resolves once stderr matches `pattern` (rejects if the process exits first). */
  waitFor(pattern: RegExp): Promise<void>;
}

/** `sluice run <app> ...args` from the bundle; every process started is killed by `killAll`. */
export function partStarter(app: () => string) {
  const children: ChildProcess[] = [];
  return {
    start(args: readonly string[]): PartProcess {
      const child = spawn(process.execPath, [BUNDLE, 'run', app(), ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
      children.push(child);
      let err = '';
      const waiters: { pattern: RegExp; resolve: () => void }[] = [];
      child.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
        for (const w of [...waiters]) if (w.pattern.test(err)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      });
      const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      const waitFor = (pattern: RegExp) => new Promise<void>((resolve, reject) => {
        if (pattern.test(err)) { resolve(); return; }
        waiters.push({ pattern, resolve });
        void exit.then(({ code, signal }) => reject(new Error(`exited (${code ?? signal}) before printing ${pattern}:\n${err}`)));
      });
      return { child, exit, stderr: () => err, waitFor };
    },
    killAll(): void {
      for (const c of children.splice(0)) c.kill('SIGKILL');
    },
  };
}

/** What the crash suites share, filled in before their tests run. */
export interface CrashRig {
  dir: string;
  app: string;
  /** `events` readings of 11 machines, one JSON line each. */
  input: string;
  broker: AedesTestBroker;
  /** A fault proxy in front of the broker: its traffic tells how far a process has got. */
  proxy: FaultProxy;
  readonly parts: ReturnType<typeof partStarter>;
}

/**
 * Registers the crash suites' setup and teardown: the split app and its input in a temp dir,
 * an aedes broker and a proxy in front of it; every process started is killed at the end.
 */
export function crashRig(name: string, events: number): CrashRig {
  // `name` is the app's name (a topic level) and the temp dir's prefix.
  const rig = { parts: partStarter(() => rig.app) } as CrashRig;
  beforeAll(async () => {
    ensureBundle();
    rig.dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
    rig.app = join(rig.dir, 'app.ts');
    writeFileSync(rig.app, splitApp(name));
    rig.input = join(rig.dir, 'in.jsonl');
    writeFileSync(rig.input, `${readings(events, 11).join('\n')}\n`);
    rig.broker = await startAedes();
    rig.proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: rig.broker.port } });
  });
  afterAll(async () => {
    rig.parts.killAll();
    await rig.proxy.close();
    await rig.broker.close();
    rmSync(rig.dir, { recursive: true, force: true });
  });
  return rig;
}
