import { spawn, type ChildProcess } from 'node:child_process';
import { BUNDLE } from '../support/bundle.ts';

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
}

/** `sluice run <app> ...args` from the bundle; every process started is killed by `killAll`. */
export function partStarter(app: () => string) {
  const children: ChildProcess[] = [];
  return {
    start(args: readonly string[]): PartProcess {
      const child = spawn(process.execPath, [BUNDLE, 'run', app(), ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
      children.push(child);
      let err = '';
      child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
      const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      return { child, exit, stderr: () => err };
    },
    killAll(): void {
      for (const c of children.splice(0)) c.kill('SIGKILL');
    },
  };
}
