/**
 * An embedded aedes 1.x broker on a node:net server, on 127.0.0.1 port 0, for tests.
 * `stop()` takes it down (clients see the connection drop) and `restart()` brings a fresh
 * broker up on the same port, so broker-restart tests need no fixed port.
 */
import type { Aedes, AedesOptions } from 'aedes';
import { IoError } from '../../shared/errors.ts';
import { createEmbeddedBroker, type EmbeddedBroker } from '../../shared/link/index.ts';

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
  let current: EmbeddedBroker | undefined;
  let port = options.port ?? 0;
  let closed = false;
  const up = async (): Promise<void> => {
    current = await createEmbeddedBroker({ port, aedes: options.aedes });
    port = current.port;
  };
  const down = async (): Promise<void> => {
    const b = current;
    current = undefined;
    await b?.close();
  };
  await up();
  return {
    get url() { return `mqtt://127.0.0.1:${port}`; },
    get port() { return port; },
    get broker() {
      if (current === undefined) throw new IoError('TEST_BROKER_STOPPED', 'aedes is stopped', { fix: 'call restart() first' });
      return current.aedes;
    },
    get running() { return current !== undefined; },
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
