/**
 * An embedded aedes 1.x broker on a node:net server, on 127.0.0.1 port 0, for tests.
 * `stop()` takes it down (clients see the connection drop) and `restart()` brings a fresh
 * broker up on the same port, so broker-restart tests need no fixed port.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { AedesOptions } from 'aedes';
import { IoError } from '../../shared/errors.ts';

export interface AedesTestOptions {
  /** Passed to `Aedes.createBroker` on every (re)start. */
  readonly aedes?: Partial<AedesOptions>;
  /** Port to listen on; 0 (the default) picks a free one. */
  readonly port?: number;
}

export interface AedesTestBroker {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The live broker; a new instance after each `restart()`. */
  readonly broker: Aedes;
  readonly running: boolean;
  /** Closes every client and the listener; the port is kept for `restart()`. */
  stop(): Promise<void>;
  /** Starts a fresh broker on the same port (stopping the current one first if needed). */
  restart(): Promise<void>;
  /** Stops for good. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts aedes on a free port.
 *
 * @example
 * const b = await startAedes();
 * try { const c = mqtt.connect(b.url); ... } finally { await b.close(); }
 */
export async function startAedes(options: AedesTestOptions = {}): Promise<AedesTestBroker> {
  const brokerOptions = { ...options.aedes };
  let broker: Aedes | undefined;
  let server: Server | undefined;
  let sockets = new Set<Socket>();
  let port = options.port ?? 0;
  let closed = false;

  const up = async (): Promise<void> => {
    const b = await Aedes.createBroker(brokerOptions);
    const s = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      b.handle(socket);
    });
    try {
      await listenWithRetry(s, port);
    } catch (err) {
      await new Promise<void>((resolve) => b.close(() => resolve()));
      throw err;
    }
    const address = s.address();
    if (address === null || typeof address === 'string') throw new IoError('TEST_BROKER_ADDRESS', 'aedes server has no TCP address');
    port = address.port;
    broker = b;
    server = s;
  };

  const down = async (): Promise<void> => {
    const b = broker;
    const s = server;
    broker = undefined;
    server = undefined;
    if (b === undefined || s === undefined) return;
    const serverClosed = new Promise<void>((resolve) => s.close(() => resolve()));
    await new Promise<void>((resolve) => b.close(() => resolve()));
    // Sockets that never sent CONNECT are not aedes clients yet; drop them too.
    for (const socket of sockets) socket.destroy();
    sockets = new Set();
    await serverClosed;
  };

  await up();
  return {
    get url() { return `mqtt://127.0.0.1:${port}`; },
    get port() { return port; },
    get broker() {
      if (broker === undefined) throw new IoError('TEST_BROKER_STOPPED', 'aedes is stopped', { fix: 'call restart() first' });
      return broker;
    },
    get running() { return broker !== undefined; },
    stop: down,
    async restart() {
      if (closed) throw new IoError('TEST_BROKER_CLOSED', 'aedes test broker was closed', { retryable: false });
      await down();
      await up();
    },
    async close() {
      closed = true;
      await down();
    },
  };
}

/** Listens on 127.0.0.1:port; a just-freed fixed port may linger briefly, so retry EADDRINUSE a few times. */
async function listenWithRetry(server: Server, port: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const outcome = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => resolve(err);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        resolve(undefined);
      });
    });
    if (outcome === undefined) return;
    const code = outcome.code;
    if (code !== 'EADDRINUSE' || port === 0 || attempt >= 20) {
      throw new IoError('TEST_BROKER_LISTEN', `aedes could not listen on 127.0.0.1:${port}: ${String(code)}`, { cause: outcome });
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // back-off before retrying the bind, not a sync sleep
  }
}
