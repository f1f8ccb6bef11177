/**
 * A real aedes broker on port 0 for the simulator's integration tests: counts what devices
 * publish, and can refuse credentials.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { Aedes } from 'aedes';
import type { AedesPublishPacket } from 'aedes';

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** Every publish a client sent (not the broker's own $SYS ones). */
  onPublish(fn: (packet: AedesPublishPacket, clientId: string) => void): void;
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  /** Accept only this username/password pair. */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Listen on this port instead of 0 (only to bring a broker back where a test expects it). */
  readonly port?: number;
}

export async function startBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const { credentials } = options;
  if (credentials) {
    aedes.authenticate = (_client, username, password, done) => {
      if (username === credentials.username && password?.toString() === credentials.password) return done(null, true);
      const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
      done(err, false);
    };
  }
  const listeners: Array<(p: AedesPublishPacket, id: string) => void> = [];
  aedes.on('publish', (packet, client) => {
    if (client) for (const fn of listeners) fn(packet, client.id);
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    aedes,
    onPublish: (fn) => { listeners.push(fn); },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when `check()` turns true (checked every 20 ms); rejects after timeoutMs. */
export function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (check()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}
