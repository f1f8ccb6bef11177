/**
 * Builds test/sim/sim-entry.ts into one self-contained file with esbuild's JS API (as the
 * real CLI is built) and runs it as a real child process, collecting its output.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

export interface SimBundle {
  readonly file: string;
  cleanup(): Promise<void>;
}

export async function buildSimBundle(): Promise<SimBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sim-'));
  const file = join(dir, 'sim.mjs');
  // cbor-x's node entry tries an optional native extractor; bundle its pure-JS entry.
  const pureCbor = require.resolve('cbor-x').replace(/dist[/\\]node\.cjs$/, 'index.js');
  await build({
    entryPoints: [fileURLToPath(new URL('./sim-entry.ts', import.meta.url))],
    outfile: file, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    plugins: [{ name: 'pure-cbor-x', setup: (b) => { b.onResolve({ filter: /^cbor-x$/ }, () => ({ path: pureCbor })); } }],
    banner: { js: "import { createRequire as __req } from 'node:module'; const require = __req(import.meta.url);" },
  });
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface SimChild {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout or stderr has matched `pattern`. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): void;
}

export function runSim(bundle: SimBundle, args: string[]): SimChild {
  const child = spawn(process.execPath, [bundle.file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const wake = (): void => { for (const w of [...waiters]) w(); };
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); wake(); });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); wake(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { wake(); resolve(code); }));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, stream = 'stdout', timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(stream === 'stdout' ? out : err);
          if (m) {
            done();
            resolve(m[0]);
          } else if (child.exitCode !== null) {
            done();
            reject(new Error(`sim exited (${child.exitCode}) before ${String(pattern)}; stdout: ${out}; stderr: ${err}`));
          }
        };
        const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${String(pattern)}; stdout: ${out}; stderr: ${err}`)); }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
        };
        waiters.push(check);
        check();
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
