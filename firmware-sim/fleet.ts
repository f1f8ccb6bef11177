/**
 * A live fleet: the same `DeviceSim`s as `generate()`, driven by one timer wheel and published
 * over MQTT. In the realistic mode (the default) every device has its own client id and TCP
 * connection, opened with a concurrency limit and retried with seeded back-off; simulated
 * disconnects really close the connection and reconnect storms really reconnect together.
 * With `connections: n`, devices share n connections instead (cheaper, for throughput runs).
 */
import type { IoError } from '../shared/errors.ts';
import { ConfigError } from '../shared/errors.ts';
import { systemClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { createConnectionPool } from './connection-pool.ts';
import { DeviceSim } from './device-sim.ts';
import type { SimAction } from './device-sim.ts';
import { deviceId, parseSimOptions } from './options.ts';
import type { SimConfig, SimOptions } from './options.ts';
import { createRandom } from './random.ts';
import { createTimerWheel } from './timer-wheel.ts';
import type { TimerWheel } from './timer-wheel.ts';

/** What a user passes to `createFleet`. */
export interface FleetOptions extends SimOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883 (normally the gateway's local broker). */
  readonly broker: string;
  readonly username?: string;
  readonly password?: string;
  /** Time source (default the system clock); tests pass a manual one. */
  readonly clock?: Clock;
  /** 'per-device' (default): one connection per device; a number: that many shared connections. */
  readonly connections?: 'per-device' | number;
  /** Connection attempts in flight at once (default 200). */
  readonly concurrency?: number;
  readonly qos?: 0 | 1;
  /** Client ids are `<prefix><device id>` (default "sim-"). */
  readonly clientIdPrefix?: string;
  /** Reconnect back-off: doubles from initialMs up to maxMs, with seeded jitter (default 500 ms .. 30 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly connectTimeoutMs?: number;
  /**
   * A connection with more than this many bytes waiting in its socket buffer takes no more
   * readings until it drains; they are counted as `overflow` (default 1 MiB). Keeps memory
   * bounded when asked for more than the broker or the network can take.
   */
  readonly maxBufferedBytes?: number;
  /** Connection problems and milestones, reported as they happen instead of thrown. */
  readonly onEvent?: (event: FleetEvent) => void;
}

/** Something that happened to the fleet. */
export type FleetEvent =
  | { readonly type: 'error'; readonly error: IoError; readonly client: string; readonly retryInMs: number }
  | { readonly type: 'all-connected'; readonly ms: number }
  /** No device has anything more to do: a replay ran out, or every battery did. */
  | { readonly type: 'finished' };

/** Counters since `start()`. */
export interface FleetStats {
  readonly devices: number;
  /** Connections up now (devices, or shared connections). */
  readonly connected: number;
  /** Readings published (duplicates included). */
  readonly sent: number;
  /** Ground-truth records published. */
  readonly truth: number;
  /** Readings due while their connection was down (the simulator could not send them). */
  readonly skipped: number;
  /** Readings not sent because their connection's socket buffer was full (see maxBufferedBytes). */
  readonly overflow: number;
  readonly errors: number;
  /** Readings per second asked for (devices × rate); undefined for a replay. */
  readonly requestedRate: number | undefined;
  /** Readings per second published since the first device started. */
  readonly achievedRate: number;
  readonly elapsedMs: number;
}

/** A running fleet; close it with `stop()` or `close()`. */
export interface Fleet {
  readonly config: SimConfig;
  /** Starts connecting and publishing (once). */
  start(): void;
  /** Resolves once every device (or shared connection) has connected at least once. */
  whenConnected(): Promise<void>;
  stats(): FleetStats;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates a fleet of simulated devices publishing to a broker.
 *
 * @example
 * const fleet = createFleet({ broker: 'mqtt://127.0.0.1:1883', model: 'plug', devices: 1000, rate: 1, seed: 7 });
 * fleet.start();
 * await fleet.whenConnected();
 * console.log(fleet.stats().achievedRate);
 * await fleet.close();
 */
export function createFleet(options: FleetOptions): Fleet {
  const config = parseSimOptions(options);
  const clock = options.clock ?? systemClock;
  if (typeof options.broker !== 'string' || !/^(mqtts?|wss?|tcp):\/\//.test(options.broker)) {
    throw new ConfigError('SIM_OPTION', `broker URL "${String(options.broker)}" is not an MQTT URL`, { where: 'options.broker', fix: 'pass a URL such as mqtt://127.0.0.1:1883' });
  }
  const pooled = options.connections !== undefined && options.connections !== 'per-device';
  const slots = pooled ? Math.min(config.devices, Number(options.connections)) : config.devices;
  if (!Number.isInteger(slots) || slots < 1) throw new ConfigError('SIM_OPTION', `connections must be 'per-device' or a positive integer`, { where: 'options.connections', fix: "pass 'per-device' or a count such as 10" });
  const prefix = options.clientIdPrefix ?? 'sim-';
  const publishOptions = { qos: options.qos ?? 0 } as const;
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  const emit = options.onEvent ?? ((): void => undefined);
  // Slots 0..slots-1 carry devices (one each, or shared); the last one carries ground truth.
  const truthSlot = slots;
  const pool = createConnectionPool({
    settings: {
      url: options.broker, connectTimeoutMs: options.connectTimeoutMs ?? 10_000, keepaliveS: 60,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
    },
    size: slots + 1,
    concurrency: options.concurrency ?? 200,
    clock,
    random: createRandom(config.seed, -2),
    backoff: { initialMs: options.backoff?.initialMs ?? 500, maxMs: options.backoff?.maxMs ?? 30_000 },
    clientId: (slot) => `${prefix}${slot === truthSlot ? 'truth' : pooled ? `pool-${slot}` : deviceId(config, slot)}`,
    onUp,
    onError: (error, client, retryInMs) => emit({ type: 'error', error, client, retryInMs }),
  });

  const sims: Array<DeviceSim | undefined> = new Array(config.devices).fill(undefined);
  // Readings due while a connection is being (re)opened wait here, up to the firmware's
  // offline buffer (more are counted as skipped).
  const held = new Map<number, Array<Extract<SimAction, { type: 'publish' }>>>();
  const maxHeld = Math.max(100, config.faults.disconnect?.buffer ?? 0);
  const corked: Corkable[] = [];
  let upOnce = 0;
  let finished = 0;
  let sent = 0;
  let truth = 0;
  let skipped = 0;
  let overflow = 0;
  let startedAt = 0;
  let firstDeviceAt = 0;
  let started = false;
  let stopping = false;
  let wheel: TimerWheel | undefined;
  let resolveConnected: () => void = () => undefined;
  const allConnected = new Promise<void>((resolve) => { resolveConnected = resolve; });

  function onUp(slot: number, first: boolean): void {
    if (stopping) return;
    if (first) {
      if (slot !== truthSlot) {
        const now = clock.now();
        if (firstDeviceAt === 0) firstDeviceAt = now;
        // A device's schedule starts when its connection first comes up (its t0).
        for (let i = slot; i < config.devices; i += pooled ? slots : config.devices) startDevice(i, now);
      }
      if (++upOnce === slots + 1) {
        emit({ type: 'all-connected', ms: clock.now() - startedAt });
        resolveConnected();
      }
    }
    const backlog = held.get(slot);
    held.delete(slot);
    for (const a of backlog ?? []) perform(a);
  }

  function startDevice(index: number, now: number): void {
    const sim = new DeviceSim(config, index, now, startedAt);
    sims[index] = sim;
    schedule(index, sim);
  }

  function schedule(index: number, sim: DeviceSim): void {
    const at = sim.nextAt();
    if (at !== Infinity) wheel?.schedule(index, at);
    else if (++finished === config.devices) emit({ type: 'finished' });
  }

  function onDue(index: number, now: number): void {
    const sim = sims[index];
    if (sim === undefined || stopping) return;
    while (sim.nextAt() <= now) perform(sim.pop() as SimAction);
    schedule(index, sim);
  }

  function perform(action: SimAction): void {
    const slot = pooled ? action.device % slots : action.device;
    if (action.type === 'publish') publish(slot, action);
    else if (action.type === 'truth') {
      const client = pool.client(truthSlot);
      if (client !== undefined && pool.online(truthSlot)) {
        client.publish(action.topic, toBuffer(action.payload), publishOptions);
        truth++;
      }
    } else if (!pooled && action.type === 'disconnect') pool.drop(slot);
    else if (!pooled && action.type === 'connect') pool.open(slot);
  }

  function publish(slot: number, action: Extract<SimAction, { type: 'publish' }>): void {
    const client = pool.client(slot);
    if (client !== undefined && !pool.online(slot)) {
      let backlog = held.get(slot);
      if (backlog === undefined) held.set(slot, (backlog = []));
      if (backlog.length < maxHeld) {
        backlog.push(action);
        return;
      }
    }
    if (client === undefined || !pool.online(slot)) {
      skipped++;
      return;
    }
    const stream = client.stream as Corkable | undefined;
    if ((stream?.writableLength ?? 0) > maxBuffered) {
      overflow++;
      return;
    }
    // Shared connections carry many readings per wheel run: cork each for the rest of the run
    // so they go out in one write. (A per-device socket sends one reading a run; no gain.)
    if (pooled && stream !== undefined && stream.writableCorked === 0) {
      stream.cork();
      corked.push(stream);
    }
    client.publish(action.topic, toBuffer(action.payload), publishOptions);
    sent++;
  }

  function uncorkAll(): void {
    for (const s of corked) s.uncork();
    corked.length = 0;
  }

  async function close(): Promise<void> {
    if (stopping) return;
    stopping = true;
    wheel?.close();
    uncorkAll();
    await pool.close();
  }

  return {
    config,
    start() {
      if (started || stopping) return;
      started = true;
      startedAt = clock.now();
      wheel = createTimerWheel({ clock, onDue, afterRun: uncorkAll });
      pool.open(truthSlot);
      pool.openAll();
    },
    whenConnected: () => allConnected,
    stats() {
      const now = clock.now();
      const running = firstDeviceAt === 0 ? 0 : now - firstDeviceAt;
      return {
        devices: config.devices,
        connected: pool.connected() - (pool.online(truthSlot) ? 1 : 0),
        sent, truth, skipped, overflow,
        errors: pool.errors(),
        requestedRate: config.replay ? undefined : config.devices * config.rate,
        achievedRate: running > 0 ? (sent * 1000) / running : 0,
        elapsedMs: started ? now - startedAt : 0,
      };
    },
    stop: close,
    close,
  };
}

interface Corkable {
  readonly writableCorked: number;
  readonly writableLength: number;
  cork(): void;
  uncork(): void;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
