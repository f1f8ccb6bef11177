/**
 * Debian's Mosquitto as a child process, for tests against an external broker.
 * Each call writes a config (and a password file via `mosquitto_passwd`) into a fresh temp
 * dir, finds a free port, and waits until the broker accepts a TCP connection.
 * Needs the `mosquitto` package (`apt-get install -y mosquitto mosquitto-clients`); guard suites
 * with `describe.skipIf(!hasMosquitto())`.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { IoError } from '../../shared/errors.ts';

export interface MosquittoOptions {
  /** With username and password the listener refuses anonymous clients. */
  readonly username?: string;
  readonly password?: string;
}

export interface MosquittoBroker {
  /** `mqtt://127.0.0.1:<port>`; the listener takes MQTT 3.1, 3.1.1 and 5. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything Mosquitto logged so far (it logs to stderr). */
  log(): string;
  /** Kills the broker and removes its temp dir. Safe to call twice. */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Whether the `mosquitto` and `mosquitto_passwd` binaries can be found. */
export function hasMosquitto(): boolean {
  return findBinary('mosquitto') !== undefined && findBinary('mosquitto_passwd') !== undefined;
}

/**
 * Starts Mosquitto on a free 127.0.0.1 port.
 *
 * @example
 * const m = await startMosquitto({ username: 'u', password: 'p' });
 * try { mqtt.connect(m.url, { username: 'u', password: 'p', protocolVersion: 5 }); } finally { await m.close(); }
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = findBinary('mosquitto');
  const passwd = findBinary('mosquitto_passwd');
  if (binary === undefined || passwd === undefined) {
    throw new IoError('TEST_NO_MOSQUITTO', 'mosquitto is not installed', {
      retryable: false, fix: 'apt-get install -y mosquitto mosquitto-clients, or guard the suite with hasMosquitto()',
    });
  }
  if ((options.username === undefined) !== (options.password === undefined)) {
    throw new IoError('TEST_MOSQUITTO_AUTH', 'give both username and password, or neither', { retryable: false });
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-mosquitto-'));
  try {
    const auth: string[] = ['allow_anonymous true'];
    if (options.username !== undefined && options.password !== undefined) {
      const file = join(dir, 'passwd');
      await promisify(execFile)(passwd, ['-c', '-b', file, options.username, options.password]);
      auth.splice(0, 1, 'allow_anonymous false', `password_file ${file}`);
    }
    // The port is found by binding 0 and letting go; another process may grab it in between,
    // so a start that fails with "Address already in use" is tried again on a new port.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = [
        `listener ${port} 127.0.0.1`, ...auth,
        'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information',
        // As root, Mosquitto would switch to user "mosquitto", who cannot read our private temp dir.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
      ].join('\n');
      const confFile = join(dir, 'mosquitto.conf');
      await writeFile(confFile, `${config}\n`);
      const started = await launch(binary, confFile, port);
      if (started.ok) {
        const child = started.child;
        let logged = started.log;
        child.stderr?.on('data', (chunk: Buffer) => { logged += chunk.toString(); });
        let closing: Promise<void> | undefined;
        return {
          url: `mqtt://127.0.0.1:${port}`,
          port,
          pid: child.pid ?? -1,
          log: () => logged,
          close: () => (closing ??= stop(child).finally(() => rm(dir, { recursive: true, force: true }))),
        };
      }
      if (!/Address already in use/i.test(started.log) || attempt >= 5) {
        throw new IoError('TEST_MOSQUITTO_START', `mosquitto did not start: ${started.log.trim().split('\n').slice(-3).join(' | ')}`, {
          where: confFile, retryable: false,
        });
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

type Launch = { ok: true; child: ChildProcess; log: string } | { ok: false; log: string };

/** Spawns Mosquitto and resolves once a TCP connect to its port succeeds, or once it exits. */
function launch(binary: string, confFile: string, port: number): Promise<Launch> {
  installExitHook();
  const child = spawn(binary, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let log = '';
  return new Promise<Launch>((resolve) => {
    let settled = false;
    let probing = false;
    // A broker that neither says "running" nor exits is stuck; give up rather than hang the suite.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, log: `${log}\nno "running" line within 10 s` });
    }, 10_000);
    const finish = (result: Launch): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      // Mosquitto prints "... running" once its listeners are open; confirm with a real connect.
      if (!probing && / running/.test(log)) {
        probing = true;
        probe(port).then((ok) => {
          if (settled) return;
          if (ok) finish({ ok: true, child, log });
          else { child.kill('SIGKILL'); finish({ ok: false, log: `${log}\nport ${port} refused connections` }); }
        }, () => undefined);
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', (err) => finish({ ok: false, log: `${log}\n${err.message}` }));
    child.once('exit', (code, signal) => finish({ ok: false, log: `${log}\nexited with ${code ?? signal}` }));
  });
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** A test worker that dies mid-suite must not leave brokers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
