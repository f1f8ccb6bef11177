/**
 * The fleet's MQTT connections, one per slot (a device, or a shared connection): opened with a
 * concurrency limit, retried with seeded doubling back-off, and closed on purpose when a
 * simulated device goes offline (then not retried until it comes back).
 */
import type { MqttClient } from 'mqtt';
import type { IoError } from '../shared/errors.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { connectError, openClient } from './connections.ts';
import type { ConnectSettings } from './connections.ts';
import type { Random } from './random.ts';

/** How to build a pool. */
export interface ConnectionPoolOptions {
  readonly settings: ConnectSettings;
  readonly size: number;
  /** Paced connection attempts in flight at once. */
  readonly concurrency: number;
  readonly clock: Clock;
  /** Seeds the back-off jitter. */
  readonly random: Random;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly clientId: (slot: number) => string;
  /** A slot's connection came up (`first`: for the first time). */
  readonly onUp: (slot: number, first: boolean) => void;
  /** A connection failed or was lost; it is retried after `retryInMs`. */
  readonly onError: (error: IoError, clientId: string, retryInMs: number) => void;
}

/** The open connections of a fleet. */
export interface ConnectionPool {
  /** Queues every slot for a paced first connect. */
  openAll(): void;
  /** Opens a slot now, unpaced (a reconnect storm should hit the broker at once). */
  open(slot: number): void;
  /** Closes a slot on purpose; it stays closed until `open(slot)`. */
  drop(slot: number): void;
  client(slot: number): MqttClient | undefined;
  online(slot: number): boolean;
  /** Connections up now. */
  connected(): number;
  /** Failed or lost connections so far. */
  errors(): number;
  close(): Promise<void>;
}

/**
 * Creates a connection pool; nothing connects until `openAll()` or `open()`.
 *
 * @example
 * const pool = createConnectionPool({ settings, size: 100, concurrency: 50, clock, random, backoff, clientId, onUp, onError });
 * pool.openAll();
 */
export function createConnectionPool(o: ConnectionPoolOptions): ConnectionPool {
  const clients: Array<MqttClient | undefined> = new Array(o.size).fill(undefined);
  const up = new Uint8Array(o.size);
  const everUp = new Uint8Array(o.size);
  const dropped = new Uint8Array(o.size);
  const attempts = new Uint16Array(o.size);
  const timers = new Set<TimerHandle>();
  const queue: number[] = [];
  let head = 0;
  let inFlight = 0;
  let connected = 0;
  let errors = 0;
  let closing = false;

  function pump(): void {
    while (inFlight < o.concurrency && head < queue.length && !closing) {
      inFlight++;
      connect(queue[head++] as number, true);
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
  }

  function connect(slot: number, paced: boolean): void {
    if (clients[slot] !== undefined || closing) {
      if (paced) inFlight--;
      return;
    }
    const client = openClient(o.settings, o.clientId(slot));
    clients[slot] = client;
    let acked = false;
    let lastError: unknown;
    const release = (): void => {
      if (!paced) return;
      paced = false;
      inFlight--;
      pump();
    };
    client.on('error', (err) => { lastError = err; });
    client.once('connect', () => {
      acked = true;
      release();
      if (closing || clients[slot] !== client) return;
      attempts[slot] = 0;
      up[slot] = 1;
      connected++;
      const first = everUp[slot] === 0;
      everUp[slot] = 1;
      o.onUp(slot, first);
    });
    client.once('close', () => {
      release();
      if (clients[slot] !== client) return;
      if (acked) {
        up[slot] = 0;
        connected--;
      }
      clients[slot] = undefined;
      if (closing || dropped[slot] === 1) return;
      retry(slot, lastError ?? new Error(acked ? 'connection lost' : 'connection closed before CONNACK'));
    });
  }

  function retry(slot: number, err: unknown): void {
    errors++;
    const n = Math.min(attempts[slot] ?? 0, 16);
    attempts[slot] = n + 1;
    const delay = Math.round(Math.min(o.backoff.maxMs, o.backoff.initialMs * 2 ** n) * o.random.range(0.5, 1));
    o.onError(connectError(err, o.settings.url), o.clientId(slot), delay);
    const handle = o.clock.setTimer(() => {
      timers.delete(handle);
      if (closing || dropped[slot] === 1) return;
      queue.push(slot);
      pump();
    }, delay);
    timers.add(handle);
  }

  return {
    openAll() {
      for (let slot = 0; slot < o.size; slot++) queue.push(slot);
      pump();
    },
    open(slot) {
      dropped[slot] = 0;
      connect(slot, false);
    },
    drop(slot) {
      dropped[slot] = 1;
      clients[slot]?.end(true);
    },
    client: (slot) => clients[slot],
    online: (slot) => up[slot] === 1,
    connected: () => connected,
    errors: () => errors,
    async close() {
      if (closing) return;
      closing = true;
      for (const t of timers) t.cancel();
      timers.clear();
      // End gracefully so readings already written reach the broker; force whatever is still
      // open after a grace period (a broker that went away must not hang a stop).
      const open = clients.filter((c): c is MqttClient => c !== undefined);
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(open.map((c) => c.endAsync(false).catch(() => undefined))),
        new Promise<void>((resolve) => { grace = setTimeout(resolve, 3000); }),
      ]);
      clearTimeout(grace);
      await Promise.all(open.map((c) => (c.disconnected ? undefined : c.endAsync(true).catch(() => undefined))));
    },
  };
}
