/**
 * A fault-injecting TCP proxy for tests. It listens on 127.0.0.1 port 0 and forwards both
 * directions to `target`; at run time a test can add latency and seeded jitter, cap the
 * bandwidth, blackhole the link (hold every byte, keep sockets open), reset every connection,
 * refuse new ones, and slice writes into small random pieces. "up" is client -> target,
 * "down" is target -> client.
 */
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { IoError } from '../../shared/errors.ts';
import { BandwidthShaper } from './bandwidth-shaper.ts';
import type { BandwidthAccounting } from './bandwidth-shaper.ts';
import { FaultPipe } from './fault-pipe.ts';
import type { DirectionCounters, LiveFaults } from './fault-pipe.ts';
import { createSeededRandom } from './seeded-random.ts';

export interface FaultProxyOptions {
  readonly target: { readonly host: string; readonly port: number };
  /** Seeds jitter and slice sizes, so a failing schedule replays. Default 1. */
  readonly seed?: number;
}

export type Direction = 'up' | 'down';

export interface FaultProxyStats {
  /** Connections accepted and forwarded. */
  readonly accepted: number;
  /** Connections open now. */
  readonly active: number;
  /** Connections reset on arrival while refusing. */
  readonly refused: number;
  /** Connections destroyed by `reset()`. */
  readonly resets: number;
  readonly up: Readonly<Omit<DirectionCounters, 'holds'>>;
  readonly down: Readonly<Omit<DirectionCounters, 'holds'>>;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  /** Holds every chunk `ms` plus a seeded uniform jitter in [0, jitterMs), in one or both directions. */
  setLatency(ms: number, jitterMs?: number, direction?: Direction | 'both'): void;
  /** Caps each direction at `bytesPerSecond` (undefined lifts it), booked per `intervalMs` slot. */
  setBandwidth(bytesPerSecond: number | undefined, options?: { intervalMs?: number }): void;
  /**
   * On: forward nothing, hold what arrives, keep sockets open. Off: deliver what was held.
   * One direction only makes an asymmetric partition (e.g. 'down': data arrives, acks do not).
   */
  blackhole(on?: boolean, direction?: Direction | 'both'): void;
  /** On: reset new connections as they arrive. Existing ones are untouched. */
  refuse(on?: boolean): void;
  /** Writes pieces of 1..maxPieceBytes (seeded sizes), one per event-loop turn; undefined: whole chunks. */
  slice(maxPieceBytes: number | undefined): void;
  /** Destroys every current connection with a TCP RST on both sides. */
  reset(): void;
  /** Lifts every fault (latency, bandwidth, blackhole, refuse, slicing). */
  heal(): void;
  stats(): FaultProxyStats;
  /** Planned and actual hold of recent chunks, ms on the proxy's clock. */
  holds(direction: Direction): readonly { readonly planned: number; readonly actual: number }[];
  bandwidth(direction: Direction): BandwidthAccounting;
  /** Resolves once `predicate(stats())` holds, re-checked on every proxy event. */
  waitFor(predicate: (stats: FaultProxyStats) => boolean): Promise<FaultProxyStats>;
  /** Destroys every connection and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

interface Connection {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly pipes: readonly FaultPipe[];
}

/**
 * @example
 * const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port }, seed: 7 });
 * const client = mqtt.connect(proxy.url);
 * proxy.blackhole(); ... proxy.blackhole(false);
 * await proxy.close();
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = Object.freeze({ host: options.target.host, port: options.target.port });
  const rng = createSeededRandom(options.seed ?? 1);
  const faults: Record<Direction, LiveFaults> = {
    up: { latencyMs: 0, jitterMs: 0, blackhole: false, sliceMaxBytes: 0 },
    down: { latencyMs: 0, jitterMs: 0, blackhole: false, sliceMaxBytes: 0 },
  };
  const each = (direction: Direction | 'both', set: (f: LiveFaults) => void): void => {
    if (direction !== 'down') set(faults.up);
    if (direction !== 'up') set(faults.down);
  };
  const counters: Record<Direction, DirectionCounters> = {
    up: { chunks: 0, bytes: 0, writes: 0, held: 0, holds: [] },
    down: { chunks: 0, bytes: 0, writes: 0, held: 0, holds: [] },
  };
  const shapers: Record<Direction, BandwidthShaper> = { up: new BandwidthShaper(), down: new BandwidthShaper() };
  const connections = new Set<Connection>();
  const waiters = new Set<() => void>();
  let refusing = false;
  let accepted = 0;
  let refused = 0;
  let resets = 0;
  let closed: Promise<void> | undefined;

  const stats = (): FaultProxyStats => {
    const pick = ({ chunks, bytes, writes, held }: DirectionCounters) => ({ chunks, bytes, writes, held });
    return { accepted, active: connections.size, refused, resets, up: pick(counters.up), down: pick(counters.down) };
  };
  const changed = (): void => {
    for (const check of [...waiters]) check();
  };
  const kickAll = (): void => {
    for (const c of connections) for (const p of c.pipes) p.kick();
  };
  const drop = (c: Connection, how: 'reset' | 'destroy'): void => {
    if (!connections.delete(c)) return;
    for (const p of c.pipes) p.dispose();
    if (how === 'reset') {
      c.client.resetAndDestroy();
      c.upstream.resetAndDestroy();
    } else {
      c.client.destroy();
      c.upstream.destroy();
    }
    changed();
  };

  // Half-open on both sides, so a FIN travels through the (possibly delayed) pipes like data.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    client.on('error', () => undefined); // resets are expected here; the close handler cleans up
    if (refusing) {
      refused++;
      client.resetAndDestroy();
      changed();
      return;
    }
    accepted++;
    client.setNoDelay(true);
    const upstream = connect({ port: target.port, host: target.host, allowHalfOpen: true });
    upstream.setNoDelay(true);
    upstream.on('error', () => undefined);
    const pipes = [
      new FaultPipe(client, upstream, faults.up, shapers.up, rng, counters.up, changed),
      new FaultPipe(upstream, client, faults.down, shapers.down, rng, counters.down, changed),
    ];
    const connection: Connection = { client, upstream, pipes };
    connections.add(connection);
    // Once either socket is fully closed (both FINs passed, or an error) the pair is done.
    client.on('close', () => drop(connection, 'destroy'));
    upstream.on('close', () => drop(connection, 'destroy'));
    changed();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new IoError('TEST_PROXY_LISTEN', `fault proxy could not listen: ${err.message}`, { cause: err })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new IoError('TEST_PROXY_ADDRESS', 'fault proxy has no TCP address');
  const port = address.port;

  const nonNegative = (name: string, value: number): number => {
    if (!Number.isFinite(value) || value < 0) {
      throw new IoError('TEST_PROXY_BAD_SETTING', `${name} must be a finite number >= 0, got ${value}`, { retryable: false });
    }
    return value;
  };

  return {
    host: '127.0.0.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    setLatency(ms, jitterMs = 0, direction = 'both') {
      const latencyMs = nonNegative('latency', ms);
      const jitter = nonNegative('jitter', jitterMs);
      each(direction, (f) => { f.latencyMs = latencyMs; f.jitterMs = jitter; });
    },
    setBandwidth(bytesPerSecond, opts = {}) {
      const intervalMs = nonNegative('intervalMs', opts.intervalMs ?? 100) || 100;
      const cap = bytesPerSecond === undefined ? undefined : nonNegative('bytesPerSecond', bytesPerSecond);
      shapers.up.set(cap, intervalMs);
      shapers.down.set(cap, intervalMs);
      kickAll();
    },
    blackhole(on = true, direction = 'both') {
      each(direction, (f) => { f.blackhole = on; });
      if (!on) kickAll();
    },
    refuse(on = true) {
      refusing = on;
    },
    slice(maxPieceBytes) {
      const max = maxPieceBytes === undefined ? 0 : Math.max(1, Math.floor(nonNegative('maxPieceBytes', maxPieceBytes)));
      each('both', (f) => { f.sliceMaxBytes = max; });
    },
    reset() {
      for (const c of [...connections]) {
        resets++;
        drop(c, 'reset');
      }
    },
    heal() {
      each('both', (f) => Object.assign(f, { latencyMs: 0, jitterMs: 0, blackhole: false, sliceMaxBytes: 0 }));
      refusing = false;
      shapers.up.set(undefined, 100);
      shapers.down.set(undefined, 100);
      kickAll();
    },
    stats,
    holds: (direction) => counters[direction].holds.map((h) => ({ ...h })),
    bandwidth: (direction) => shapers[direction].accounting(),
    waitFor(predicate) {
      return new Promise((resolve) => {
        const check = (): void => {
          const s = stats();
          if (!predicate(s)) return;
          waiters.delete(check);
          resolve(s);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of [...connections]) drop(c, 'destroy');
        waiters.clear();
      });
      return closed;
    },
  };
}
