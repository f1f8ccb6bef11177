import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Graph, Reliability } from '../graph/index.ts';
import { channelBinding, type ChannelCut, type GraphPart, type SinkBinding, type SourceBinding } from '../runtime/index.ts';
import { partitionOf } from '../runtime/partition.ts';
import { createMemoryLog, openDiskLog, type LogOptions, type OutboxLog } from '../store/index.ts';
import { AckGate, resultHorizon } from './ack-gate.ts';
import { fileFinalWatermark, type FinalWatermarkStore } from './final-watermark.ts';
import { inboundGroups } from './inbound-groups.ts';
import { orphanOutboxes, type OrphanOutbox } from './orphan-outboxes.ts';
import { createChannelReceiver, type ChannelReceiver, type ChannelReceiverStats } from './receiver.ts';
import { SourcePositions, type Positions } from './positions.ts';
import { createChannelSender, type ChannelSender, type ChannelSenderStats } from './sender.ts';

export interface PartChannelsOptions {
  readonly client: MqttClient;
  /** This process's producer id on its outbound channels (unique per sender, e.g. the gateway id). */
  readonly producer: string;
  /** Where disk outboxes live (`<stateDir>/outbox/<channel>`); needed for at-least-once channels. */
  readonly stateDir: string;
  /** Bounds and overflow policy of every outbox. */
  readonly outbox?: LogOptions;
  /** Cap on events per second each outbound channel sends (backlog drains leave room for live data). */
  readonly maxEventsPerSecond?: number;
  /** Producers each inbound channel waits for before its watermark moves. */
  readonly expectProducers?: readonly string[];
  readonly idleMs?: number;
  /**
   * Outbound: into how many partitions each channel is cut (default 1). Each event goes to the
   * partition of its key, through a sender and outbox of its own; watermarks go to every one.
   */
  readonly partitions?: number;
  /** Inbound: the partition of each channel this part receives (default 0). */
  readonly partition?: number;
  /**
   * Where the inbound side keeps the watermark its results are final up to (default the file
   * `<stateDir>/inbound/final-watermark.json`); a partition that may move between workers
   * keeps it on the broker as well.
   */
  readonly finalWatermark?: FinalWatermarkStore;
  /**
   * The part's inputs can be read again from a record number (files): the outboxes then keep
   * input positions, so a restart resumes after what is durable. Live inputs (device topics)
   * cannot be read again, and keep none (the default).
   */
  readonly replayableInputs?: boolean;
}

export interface PartChannels {
  readonly sources: Record<string, SourceBinding>;
  readonly sinks: Record<string, SinkBinding>;
  /** Input already durable in the outboxes before a restart: pass to the run as `resumeAfter`. */
  readonly resumeAfter: Positions;
  /** Pass to the run: records each source batch's input position in the outboxes. */
  readonly onSourceProgress: ((source: string, lastRecord: number) => void) | undefined;
  /** Why input positions are not kept (and a restart re-reads its input), if they are not. */
  readonly noResumeReason: string | undefined;
  /**
   * Events of a batch a crash tore (stored without the record carrying its position): `skipped`
   * are dropped as they are read again, `again` will be stored twice (several sources or outboxes).
   */
  readonly torn: { readonly skipped: number; readonly again: number };
  /** The watermark the inbound channels resumed from (results up to it were final before a restart). */
  readonly resumeWatermark: number;
  /** Outboxes of an earlier version that no channel opens now, with events still in them. */
  readonly orphans: readonly OrphanOutbox[];
  /** Why inbound events are acked on delivery instead of once their results are written, if so. */
  readonly acksOnDelivery: string | undefined;
  /** Tells the channels how to write out the part's results before they ack (pass `run.flushed`). */
  setFlush(flush: () => Promise<void>): void;
  /** A producer's last-will said it went offline: it stops holding any inbound watermark back. */
  markOffline(producer: string): void;
  stats(): { outbound: Record<string, ChannelSenderStats & { backlog: number; undelivered: number }>; inbound: Record<string, ChannelReceiverStats> };
  /**
   * Stops the receivers at once (synchronously: call it in the turn that stops the run, which
   * drops what it is given from then on), sends the acks the written results allow, then closes
   * the senders and their outboxes.
   */
  close(): Promise<void>;
}

/**
 * Binds the cut edges of one part to MQTT channels: each outbound cut gets a sender with its
 * own outbox (on disk for at-least-once, in memory for best-effort), each inbound cut a
 * receiver feeding the part's `channel:<name>` source. The run ends an inbound source when
 * the channel's watermark reaches +∞, and an outbound sink once the receiver acked it all.
 *
 * @example
 * const part = splitGraph(graph, 'edge');
 * const ch = await bindPartChannels(part, { client, producer: 'gw-7', stateDir: '/var/lib/sluice' });
 * await startRun(part.graph, { sources: { ...ch.sources, logs }, sinks: ch.sinks }).done;
 */
export async function bindPartChannels(part: GraphPart, opts: PartChannelsOptions): Promise<PartChannels> {
  const senders: { channel: string; sender: ChannelSender; log: OutboxLog }[] = [];
  const outboxNames = new Set<string>();
  const receivers = new Map<string, ChannelReceiver>();
  const sinks: Record<string, SinkBinding> = {};
  const sources: Record<string, SourceBinding> = {};
  // Input positions are exact only while no operator of this part holds state a crash would lose.
  const stateful = part.graph.operators.find((o) => STATEFUL.has(o.config.kind));
  let noResumeReason = !opts.replayableInputs ? 'its inputs are live or streamed, and cannot be read again from a position'
    : stateful ? `operator "${stateful.id}" keeps state in memory (checkpoints are not built yet)` : undefined;
  const recovered: Positions[] = [];
  const ends: (() => void)[] = [];
  const partitions = opts.partitions ?? 1;
  // Sources other than the inbound channels: the part's own inputs.
  const inputs = part.graph.operators.filter((o) => o.config.kind === 'source').length - part.inbound.length;
  const replayInOrder = inputs === 1 && part.outbound.length === 1 && partitions === 1;
  let tornSkipped = 0;
  let tornUnskipped = 0;
  for (const cut of part.outbound) {
    const level = reliabilityOf(part.graph, cut);
    const lanes: ChannelSender[] = [];
    for (let k = 0; k < partitions; k++) {
      // One partition keeps the unpartitioned layout; more get an outbox each.
      const name = partitions === 1 ? cut.name : `${cut.name}.p${k}`;
      outboxNames.add(name);
      const log = level === 'best-effort'
        ? createMemoryLog(opts.outbox)
        : await openDiskLog(join(opts.stateDir, 'outbox', name), opts.outbox);
      let positions: SourcePositions | undefined;
      const positionsFile = join(opts.stateDir, 'outbox', `${name}.positions.json`);
      if (level === 'best-effort') noResumeReason ??= `channel ${cut.name} is best-effort (memory outbox)`;
      else if (!noResumeReason) {
        positions = await SourcePositions.open(log, positionsFile);
        recovered.push(positions.current());
      } else {
        // Records appended from now on carry no positions: an older positions file would make a
        // later run that keeps them take those records for a torn batch.
        await rm(positionsFile, { force: true });
      }
      // A torn batch is read again from its position; its first events are in the outbox already.
      // Only one source into one outbox replays them in the order they were stored.
      const torn = positions?.tornRecords ?? 0;
      if (replayInOrder) tornSkipped += torn; else tornUnskipped += torn;
      const sender = createChannelSender({
        client: opts.client, app: part.graph.app, channel: cut.name, partition: k, producer: opts.producer, log,
        ...(positions ? { positions } : {}),
        ...(torn > 0 && replayInOrder ? { skipReplayed: torn } : {}),
        ...(opts.maxEventsPerSecond !== undefined ? { maxEventsPerSecond: opts.maxEventsPerSecond } : {}),
      });
      senders.push({ channel: cut.name, sender, log });
      lanes.push(sender);
    }
    sinks[channelBinding(cut)] = {
      type: 'target',
      target: {
        write: partitions === 1
          ? (ts, key, value) => lanes[0]!.push(ts, key, value)
          : (ts, key, value) => lanes[partitionOf(key, partitions)]!.push(ts, key, value),
        watermark: (wm) => { if (wm !== Infinity) for (const l of lanes) l.watermark(wm); },
        end: async () => { for (const l of lanes) l.watermark(Infinity); await Promise.all(lanes.map((l) => l.drained())); },
      },
    };
  }
  const orphans = part.outbound.length > 0 ? await orphanOutboxes(join(opts.stateDir, 'outbox'), outboxNames) : [];
  // Inbound events are acked once their results are written (see ack-gate.ts), so a crash of
  // this process loses nothing its producers have deleted; without a bound on how long results
  // may change, they are acked on delivery, and the part says so.
  const horizon = resultHorizon(part.graph);
  const final = opts.finalWatermark ?? fileFinalWatermark(join(opts.stateDir, 'inbound', 'final-watermark.json'));
  // One gate per group of channels that meet downstream: each is final up to its own slowest
  // channel, and its watermark is saved under its own name (all in one store, written in turn).
  const gated = part.inbound.length > 0 && horizon.ms !== Infinity;
  const saved: Record<string, number> = {};
  let saving: Promise<void> = Promise.resolve();
  const save = (group: string, wm: number): Promise<void> => {
    // Final before a restart stays final: a group's saved watermark never moves back.
    saved[group] = Math.max(saved[group] ?? -Infinity, wm);
    saving = saving.catch(() => {}).then(() => final.write({ ...saved }));
    return saving;
  };
  const gates = new Map<string, AckGate>();
  const resume = new Map<string, number>();
  const marks = gated ? await final.read() : {};
  for (const group of gated ? inboundGroups(part) : []) {
    const gate = new AckGate(horizon.ms, () => Promise.resolve(), (wm) => save(group.name, wm), undefined, group.channels);
    for (const c of group.channels) { gates.set(c, gate); resume.set(c, marks[group.name] ?? -Infinity); }
    if (marks[group.name] !== undefined) saved[group.name] = marks[group.name]!;
  }
  const allGates = [...new Set(gates.values())];
  // After a restart the part starts at the watermark its results were final up to: a window
  // already written is not fired again from the few of its events that arrive again.
  const resumeWatermark = resume.size > 0 ? Math.min(...resume.values()) : -Infinity;
  const acksOnDelivery = part.inbound.length > 0 && !gated ? horizon.unbounded : undefined;
  for (const cut of part.inbound) {
    const gate = gates.get(cut.name);
    const resumeAt = resume.get(cut.name) ?? -Infinity;
    sources[channelBinding(cut)] = {
      type: 'push',
      attach: (into) => new Promise<void>((resolve, reject) => {
        // Closing the channels ends the source too, so a run over a live channel can stop.
        ends.push(resolve);
        if (resumeAt > -Infinity) into.watermark(resumeAt);
        const rx = createChannelReceiver({
          client: opts.client, app: part.graph.app, channel: cut.name, partition: opts.partition ?? 0,
          onEvents: (producer, events) => {
            if (gate) { let max = -Infinity; for (const e of events) if (e.ts > max) max = e.ts; gate.observed(cut.name, producer, max); }
            into.events(events);
          },
          onWatermark: (wm) => { into.watermark(wm); gate?.watermark(cut.name, wm); if (wm === Infinity) resolve(); },
          ...(gate ? { durable: (producer: string, seq: number, ack: () => void) => gate.delivered(cut.name, producer, seq, ack) } : {}),
          ...(opts.expectProducers ? { expect: opts.expectProducers } : {}),
          ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
        });
        receivers.set(cut.name, rx);
        rx.start().catch(reject);
      }),
    };
  }
  // Every sender, receiver and final-watermark store listens on the shared uplink client, and a
  // node runs many (apps × channels × partitions): the client's listener budget grows by this
  // part's share, so Node's leak warning still means a leak.
  const budget = LISTENERS_PER_LINK * (senders.length + part.inbound.length) + (gated ? 1 : 0);
  opts.client.setMaxListeners(opts.client.getMaxListeners() + budget);
  let closing: Promise<void> | undefined;
  const resumeAfter: Positions = {};
  if (!noResumeReason) {
    // A source feeding several channels resumes after what all of them hold.
    for (const src of new Set(recovered.flatMap((r) => Object.keys(r)))) {
      resumeAfter[src] = Math.min(...recovered.map((r) => r[src] ?? Infinity));
    }
  }
  return {
    sources,
    sinks,
    resumeAfter,
    noResumeReason,
    torn: { skipped: tornSkipped, again: tornUnskipped },
    onSourceProgress: noResumeReason ? undefined : (source, record) => { for (const { sender } of senders) sender.markPosition(source, record); },
    acksOnDelivery,
    resumeWatermark,
    orphans,
    setFlush: (flush) => { for (const g of allGates) g.setFlush(flush); },
    markOffline: (producer) => { for (const r of receivers.values()) r.markOffline(producer); },
    stats: () => ({
      outbound: outboundStats(senders),
      inbound: Object.fromEntries([...receivers].map(([name, r]) => [name, r.stats()])),
    }),
    close() {
      return closing ??= (async () => {
        // No more deliveries, at once: a run that is stopping drops what it is given, and the
        // gate would ack it (what arrives from now on stays in its producer's outbox).
        for (const r of receivers.values()) r.close();
        // Acks the last results allow (all of them at the end of a stream) go out before closing.
        await Promise.all(allGates.map((g) => g.settle()));
        for (const g of allGates) g.close();
        for (const end of ends.splice(0)) end();
        for (const { sender, log } of senders) {
          await sender.close();
          await log.close();
        }
        final.close?.();
        opts.client.setMaxListeners(Math.max(10, opts.client.getMaxListeners() - budget));
      })();
    },
  };
}

const STATEFUL = new Set(['aggregate', 'join', 'process', 'exec']);

/** Listeners one sender or receiver adds to the client ('message', 'connect', and TCP_NODELAY's 'connect'). */
const LISTENERS_PER_LINK = 3;

function reliabilityOf(graph: Graph, cut: ChannelCut): Reliability {
  return graph.operators.find((o) => o.id === cut.from)?.reliability ?? graph.reliability;
}

type OutboundStats = ChannelSenderStats & { backlog: number; undelivered: number };

/** Per channel: the sum over its partitions' senders. */
function outboundStats(senders: readonly { channel: string; sender: ChannelSender; log: OutboxLog }[]): Record<string, OutboundStats> {
  const out: Record<string, OutboundStats> = {};
  for (const s of senders) {
    const st = s.sender.stats();
    // The outbox holds what the receiver has not got yet, and what it got but has not made durable.
    const one: OutboundStats = { ...st, backlog: s.log.stats().records, undelivered: Math.max(0, s.log.durableSeq - Math.max(st.receivedSeq, st.ackedSeq)) };
    const sum = out[s.channel];
    out[s.channel] = sum ? addCounts(sum, one) : one;
  }
  return out;
}

/**
 * Counters of two partitions as one: numbers added, any other field `a`'s (or `b`'s where `a`
 * has none).
 *
 * @example
 * addCounts({ events: 2, lastRejection: 'bad' }, { events: 3 }) // { events: 5, lastRejection: 'bad' }
 */
export function addCounts<T extends object>(a: T, b: T): T {
  const out = { ...b, ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    const mine = (a as Record<string, unknown>)[k];
    if (typeof v === 'number' && typeof mine === 'number') out[k] = mine + v;
  }
  return out as T;
}
