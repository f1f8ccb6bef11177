import mqtt, { type MqttClient } from 'mqtt';
import { ChannelFrameStore, reconnectClient } from './frame-store.ts';

export interface ConnectOptions {
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** MQTT 3.1.1 (4, the default: what aedes speaks) or MQTT 5. Nothing here needs MQTT 5. */
  readonly protocolVersion?: 4 | 5;
  /** Seconds between pings; a link silent for 1.5x this is declared dead (default 10). */
  readonly keepaliveSeconds?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** The broker publishes this when the link dies without a clean disconnect (MQTT last-will). */
  readonly will?: { readonly topic: string; readonly payload: Uint8Array; readonly retain: boolean; readonly qos: 0 | 1 };
  /** Told about every connect, drop and retry, for status lines. */
  readonly onState?: (state: { type: 'connected' } | { type: 'disconnected'; retryInMs: number; reason: string }) => void;
}

/**
 * Connects mqtt.js with jittered exponential back-off (mqtt.js itself retries at a fixed
 * period, so a fleet whose broker restarts would reconnect in lockstep) and MQTT keepalive to
 * find a silent, blackholed link. Returns at once: an edge works offline from its first
 * moment, and channels send when the link comes up. A wrong password or an unreachable broker
 * is reported through `onState` and retried, never thrown.
 *
 * @example
 * const client = connectWithBackoff('mqtt://127.0.0.1:1883', { clientId: 'gw-7' });
 */
export function connectWithBackoff(url: string, opts: ConnectOptions): MqttClient {
  const min = opts.minBackoffMs ?? 100;
  const max = opts.maxBackoffMs ?? 10_000;
  let backoff = min;
  let timer: NodeJS.Timeout | undefined;
  let lastError = 'connection closed';
  // Data frames are not copied and kept for mqtt.js to resend: their channel resends them.
  const store = new ChannelFrameStore();
  const client = mqtt.connect(url, {
    outgoingStore: store,
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    keepalive: opts.keepaliveSeconds ?? 10,
    protocolVersion: opts.protocolVersion ?? 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
    ...(opts.will ? { will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), retain: opts.will.retain, qos: opts.will.qos } } : {}),
  });
  store.attach(client);
  client.on('error', (err) => { lastError = err.message; });
  client.on('close', () => {
    if (client.disconnecting || timer) return;
    // Full jitter: a random delay up to the current bound, then double the bound.
    const delay = Math.floor(Math.random() * backoff) + 1;
    backoff = Math.min(max, backoff * 2);
    opts.onState?.({ type: 'disconnected', retryInMs: delay, reason: lastError });
    // Not unref'd: a process waiting to reconnect has work left and must stay alive.
    timer = setTimeout(() => { timer = undefined; if (!client.disconnecting) reconnectClient(client); }, delay);
  });
  client.on('connect', () => {
    backoff = min;
    opts.onState?.({ type: 'connected' });
  });
  // An ended client retries no more: a pending retry must not keep the process alive.
  client.on('end', () => { if (timer) { clearTimeout(timer); timer = undefined; } });
  return client;
}

/**
 * Ends a client: first gracefully, so that messages in flight (a receiver's last acks) reach
 * the broker; after `graceMs` by force, because after a dropped connection mqtt.js may wait for
 * PUBACKs that will never come (delivery is proven by the channels' end-to-end acks anyway).
 */
export async function disconnect(client: MqttClient, graceMs = 3000): Promise<void> {
  // With no connection nothing in flight can be delivered: end at once, not after the grace.
  if (!client.connected) { await client.endAsync(true).catch(() => {}); return; }
  let timer: NodeJS.Timeout | undefined;
  const graceful = client.endAsync(false).then(() => true, () => false);
  const expired = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); });
  const clean = await Promise.race([graceful, expired]);
  if (timer) clearTimeout(timer);
  if (!clean) {
    // A graceful end already in progress ignores a second end(): close the socket under it.
    (client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    client.end(true);
  }
}
