import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { readJsonFile, writeFileAtomically } from '../store/index.ts';

/**
 * The watermarks up to which a part's results are final, one per group of its inbound channels
 * (channels that meet downstream, as a join's two sides, are one group: see inbound-groups.ts);
 * `''` names the only group of a part that has one. A group missing reads as -∞.
 */
export type FinalMarks = Readonly<Record<string, number>>;

/**
 * Where a part keeps the watermarks up to which its results are final and written (see
 * ack-gate.ts): saved before the acks that depend on them, read when the part starts again —
 * on the same node after a crash, or on another worker that takes its partition over.
 */
export interface FinalWatermarkStore {
  /** What is saved (none: `{}`); a stream that had ended (+∞ saved) reads as nothing saved. */
  read(): Promise<FinalMarks>;
  /** Saves them all; resolves only once it is durable. */
  write(marks: FinalMarks): Promise<void>;
  /** Stops whatever the store keeps doing on its own (republishing). */
  close?(): void;
}

/** A store in one JSON file, replaced atomically. */
export function fileFinalWatermark(file: string): FinalWatermarkStore {
  return {
    async read() {
      const saved = await readJsonFile(file);
      return saved === undefined || saved instanceof Error ? {} : decode(saved);
    },
    write: (marks) => writeFileAtomically(file, encode(marks)),
  };
}

/**
 * A store on the broker: a retained message on `topic` (a partition's `partFinalTopic`), so
 * whichever worker runs the partition next reads where the last one got to. A write resolves
 * on the broker's PUBACK and fails at once when the link is down (the acks behind it then wait).
 * Reading subscribes, then sends a probe on the same topic: the retained value, if any, comes
 * before the probe, so no timeout guesses whether one exists (aedes streams retained messages
 * right after the SUBACK, before it reads the client's next packet; Mosquitto queues them with
 * the SUBACK). A broker restarted without persistence forgets retained messages: the value last
 * written is published again on every reconnect.
 */
export function brokerFinalWatermark(client: MqttClient, topic: string): FinalWatermarkStore {
  let last: FinalMarks | undefined;
  const republish = () => { if (last !== undefined) client.publish(topic, encode(last), { qos: 1, retain: true }); };
  client.on('connect', republish);
  return {
    close: () => { client.removeListener('connect', republish); },
    async read() {
      if (!client.connected) return {};
      const probe = `probe:${randomUUID()}`;
      let best: FinalMarks = {};
      let done!: () => void;
      const seen = new Promise<void>((resolve) => { done = resolve; });
      const onMessage = (t: string, payload: Buffer) => {
        if (t !== topic) return;
        const text = payload.toString();
        if (text === probe) { done(); return; }
        try { best = newest([best, decode(JSON.parse(text))]); } catch { /* not ours */ }
      };
      client.on('message', onMessage);
      // A broker that refuses the subscription (an ACL) never echoes the probe: give up then.
      let timer: NodeJS.Timeout | undefined;
      const refused = new Promise<void>((resolve) => { timer = setTimeout(resolve, PROBE_TIMEOUT_MS); });
      try {
        await whileOpen(client, (async () => {
          await client.subscribeAsync(topic, { qos: 1 });
          await client.publishAsync(topic, probe, { qos: 1 });
          await Promise.race([seen, refused]);
        })());
      } catch {
        // The link went down while reading: what the node itself saved has to do.
      } finally {
        clearTimeout(timer);
        client.removeListener('message', onMessage);
        // Awaited: a later read's subscription must not be undone by this one's unsubscribe.
        if (client.connected) await whileOpen(client, client.unsubscribeAsync(topic)).catch(() => {});
      }
      return best;
    },
    async write(marks) {
      if (!client.connected) throw new Error('the broker link is down');
      await whileOpen(client, client.publishAsync(topic, encode(marks), { qos: 1, retain: true }));
      last = marks;
    },
  };
}

/** How long a read waits for its probe to come back before it goes by what else is saved. */
const PROBE_TIMEOUT_MS = 10_000;

/** Saves to every store (all must succeed); reads the newest any of them holds, group by group. */
export function combinedFinalWatermark(stores: readonly FinalWatermarkStore[]): FinalWatermarkStore {
  return {
    read: async () => newest(await Promise.all(stores.map((s) => s.read()))),
    write: async (marks) => { for (const s of stores) await s.write(marks); },
    close: () => { for (const s of stores) s.close?.(); },
  };
}

/** Per group, the newest of several readings. */
function newest(all: readonly FinalMarks[]): FinalMarks {
  const out: Record<string, number> = {};
  for (const marks of all) for (const [g, wm] of Object.entries(marks)) out[g] = Math.max(out[g] ?? -Infinity, wm);
  return out;
}

/** `{ finalWatermark }` for the only group (the format before groups), `groups` for the others. */
function encode(marks: FinalMarks): string {
  const num = (wm: number) => (wm === Infinity ? 'Infinity' : wm);
  const { '': only, ...groups } = marks;
  return JSON.stringify({
    ...(only !== undefined ? { finalWatermark: num(only) } : {}),
    ...(Object.keys(groups).length > 0 ? { groups: Object.fromEntries(Object.entries(groups).map(([g, wm]) => [g, num(wm)])) } : {}),
  });
}

function decode(saved: unknown): FinalMarks {
  const o = (saved ?? {}) as { finalWatermark?: unknown; groups?: unknown };
  const out: Record<string, number> = {};
  if (finite(o.finalWatermark) > -Infinity) out[''] = finite(o.finalWatermark);
  if (o.groups && typeof o.groups === 'object') {
    for (const [g, wm] of Object.entries(o.groups as Record<string, unknown>)) if (finite(wm) > -Infinity) out[g] = finite(wm);
  }
  return out;
}

function finite(wm: unknown): number {
  // A stream that reached its end (+∞) is complete: the next run over this state starts afresh.
  return typeof wm === 'number' && Number.isFinite(wm) ? wm : -Infinity;
}

/** `work`, or a rejection if the broker link closes first (a publish would wait for the next connection). */
async function whileOpen<T>(client: MqttClient, work: Promise<T>): Promise<T> {
  let onClose!: () => void;
  const closed = new Promise<never>((_, reject) => { onClose = () => reject(new Error('the broker link closed')); });
  client.once('close', onClose);
  try { return await Promise.race([work, closed]); } finally { client.removeListener('close', onClose); }
}
