import { LRUCache } from 'lru-cache';
import type { MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../clock.ts';
import { keepNoDelay } from './no-delay.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeFrame, type DataFrame, type FrameEvent, type FrameLimits } from '../wire/index.ts';

export interface ChannelReceiverOptions {
  readonly client: MqttClient;
  readonly app: string;
  readonly channel: string;
  readonly partition?: number;
  /** New events of one producer, in seq order, each exactly once (while its state is kept). */
  readonly onEvents: (producer: string, events: readonly FrameEvent[], lastSeq: number) => void;
  /** The channel's watermark moved: the minimum over live producers. */
  readonly onWatermark: (wm: number) => void;
  /**
   * When results of events up to `seq` are durable, call `ack()`; the default acks as soon as
   * `onEvents` returns (right when onEvents writes durably itself, e.g. into a disk log).
   */
  readonly durable?: (producer: string, seq: number, ack: () => void) => void;
  /**
   * Producers known to feed this channel (from the plan): the watermark waits for each of them
   * to report (or go idle), so one that has not spoken yet cannot have its events made late.
   */
  readonly expect?: readonly string[];
  /** A producer with no frame for this long stops holding the watermark back (default 10 s). */
  readonly idleMs?: number;
  /** Out-of-order frames held per producer while a gap is resent (default 64). */
  readonly maxBufferedFrames?: number;
  /** Producers whose seq state is kept (LRU); beyond it the oldest is forgotten (default 10,000). */
  readonly maxProducers?: number;
  readonly limits?: FrameLimits;
  readonly clock?: Clock;
}

export interface ChannelReceiverStats {
  frames: number;
  events: number;
  duplicates: number;
  rejectedFrames: number;
  lastRejection: string | undefined;
  fencedFrames: number;
  resendRequests: number;
  /** Producers met at a new epoch (their outbox made anew): their seqs start over. */
  epochChanges: number;
  /** Seqs the producers declared dropped by their outbox policy. */
  upstreamDropped: number;
  bufferOverflows: number;
  forgottenProducers: number;
}

interface Producer {
  epoch: number;
  /** Highest seq delivered with nothing missing below it. */
  contiguous: number;
  watermark: number;
  lastHeard: number;
  offline: boolean;
  buffer: Map<number, DataFrame>;
  askedFrom: number;
  /** Highest seq whose results are durable here (acked to the producer as such). */
  durable: number;
  /** The state of the epoch this one replaced, kept in case that epoch speaks again. */
  previous?: Producer | undefined;
}

/**
 * The receiving end of a channel: takes data frames from any number of producers, drops
 * duplicates by (producer, epoch, seq) with bounded memory, holds frames after a gap and asks
 * for the missing ones, fences off stale epochs, and acks the highest contiguous seq once its
 * results are durable. A malformed frame is counted and dropped: it never blocks the channel.
 *
 * @example
 * const rx = createChannelReceiver({ client, app: 'plant', channel: 'readings',
 *   onEvents: (p, events) => { for (const e of events) source.push(e.ts, e.key, e.value); },
 *   onWatermark: (wm) => source.watermark(wm) });
 * await rx.start();
 */
export function createChannelReceiver(opts: ChannelReceiverOptions): ChannelReceiver {
  return new ChannelReceiver(opts);
}

export class ChannelReceiver {
  private readonly producers: LRUCache<string, Producer>;
  private readonly dataTopic: string;
  private readonly clock: Clock;
  private readonly idleMs: number;
  private readonly maxBuffered: number;
  private watermark = -Infinity;
  private timer: unknown;
  private stopNoDelay: (() => void) | undefined;
  private readonly s: ChannelReceiverStats = {
    frames: 0, events: 0, duplicates: 0, rejectedFrames: 0, lastRejection: undefined, fencedFrames: 0,
    resendRequests: 0, epochChanges: 0, upstreamDropped: 0, bufferOverflows: 0, forgottenProducers: 0,
  };
  private readonly onMessage = (topic: string, payload: Buffer) => { if (topic === this.dataTopic) this.onFrame(payload); };
  // Subscribing again after every reconnect: a clean session forgets subscriptions.
  private readonly onConnect = () => { void this.opts.client.subscribeAsync(this.dataTopic, { qos: 1 }).catch(() => {}); };

  constructor(private readonly opts: ChannelReceiverOptions) {
    this.clock = opts.clock ?? systemClock;
    this.idleMs = opts.idleMs ?? 10_000;
    this.maxBuffered = opts.maxBufferedFrames ?? 64;
    this.dataTopic = channelDataTopic(opts.app, opts.channel, opts.partition ?? 0);
    this.producers = new LRUCache<string, Producer>({
      max: opts.maxProducers ?? 10_000,
      dispose: (_v, _k, reason) => { if (reason === 'evict') this.s.forgottenProducers++; },
    });
  }

  async start(): Promise<void> {
    const now = this.clock.now();
    for (const id of this.opts.expect ?? []) {
      if (!this.producers.has(id)) {
        // Seq state is learned from its first frame (epoch -1 accepts any epoch).
        this.producers.set(id, { epoch: -1, contiguous: -1, watermark: -Infinity, lastHeard: now, offline: false, buffer: new Map(), askedFrom: 0, durable: -1 });
      }
    }
    this.stopNoDelay = keepNoDelay(this.opts.client);
    this.opts.client.on('message', this.onMessage);
    this.opts.client.on('connect', this.onConnect);
    if (this.opts.client.connected) await this.opts.client.subscribeAsync(this.dataTopic, { qos: 1 });
    this.tick();
  }

  private onFrame(payload: Buffer): void {
    const r = decodeFrame(payload, this.opts.limits);
    if (!r.ok) { this.s.rejectedFrames++; this.s.lastRejection = r.reason; return; }
    if (r.frame.type !== 'data') return;
    const f = r.frame;
    this.s.frames++;
    let p = this.producers.get(f.producer);
    // A lower epoch is a stale frame of an older incarnation while the newer one is live; once
    // that has gone quiet (offline), it is a producer back under an older epoch (its outbox
    // made anew on a clock set back, an earlier layout restored), and starts over like a new one.
    if (p !== undefined && f.epoch < p.epoch && !p.offline) { this.s.fencedFrames++; return; }
    if (p !== undefined && f.epoch !== p.epoch && p.previous?.epoch === f.epoch) {
      // The epoch we switched away from speaks again (that switch was a stale frame, say): take
      // its state back as it was, not from its base, which would deliver what it had again.
      const back: Producer = p.previous;
      p.previous = undefined;
      back.previous = p;
      back.watermark = Math.max(back.watermark, p.watermark);
      p = back;
      this.producers.set(f.producer, p);
    } else if (p === undefined || f.epoch !== p.epoch) {
      // A producer we know nothing of, or at another epoch (its outbox made anew numbers from 1
      // again: what we hold of the old one says nothing of these seqs): start after what it
      // says is durable (asking for any gap up to this frame), or, if it does not say, from here.
      const from = f.baseSeq ?? f.firstSeq - (f.dropped ?? 0) - 1;
      const previous = p !== undefined && p.epoch >= 0 ? p : undefined;
      if (previous) {
        this.s.epochChanges++;
        // Kept small: frames it held after a gap are asked for again if that epoch comes back.
        previous.previous = undefined;
        previous.buffer.clear();
        previous.askedFrom = 0;
      }
      p = { epoch: f.epoch, contiguous: from, watermark: p?.watermark ?? -Infinity, lastHeard: 0, offline: false, buffer: new Map(), askedFrom: 0, durable: f.baseSeq ?? -1, previous };
      this.producers.set(f.producer, p);
    }
    // Everything up to the producer's base is durable at some receiver (an earlier incarnation of
    // this one, say) and trimmed from its outbox: never wait for it, even if asked for before.
    if (f.baseSeq !== undefined && f.baseSeq > p.contiguous) {
      p.contiguous = f.baseSeq;
      if (f.baseSeq > p.durable) p.durable = f.baseSeq;
      p.askedFrom = 0;
      for (const [k, b] of p.buffer) if (b.lastSeq <= p.contiguous) p.buffer.delete(k);
    }
    p.lastHeard = this.clock.now();
    if (p.offline) p.offline = false;
    // One ack per frame that moved us on, or that repeats what we have (its ack may be lost).
    if (this.accept(f.producer, p, f) !== 'held') this.ackWhenDurable(f.producer, p, p.contiguous);
    this.updateWatermark();
  }

  /** Applies one frame: `advanced` (new events delivered), `duplicate`, or `held` (after a gap). */
  private accept(producer: string, p: Producer, f: DataFrame): 'advanced' | 'duplicate' | 'held' {
    const start = f.firstSeq - (f.dropped ?? 0);
    if (start > p.contiguous + 1) {
      // A gap: hold this frame and ask for what is missing, once per gap.
      if (p.buffer.size < this.maxBuffered) p.buffer.set(f.firstSeq, f);
      else this.s.bufferOverflows++;
      if (p.askedFrom !== p.contiguous + 1) {
        p.askedFrom = p.contiguous + 1;
        this.s.resendRequests++;
        this.send(producer, { type: 'resend', producer, epoch: p.epoch, fromSeq: p.contiguous + 1, toSeq: start - 1 });
      }
      return 'held';
    }
    if (f.lastSeq <= p.contiguous) {
      this.s.duplicates += f.events.length;
      if (f.events.length === 0) p.watermark = Math.max(p.watermark, f.watermark);
      return 'duplicate';
    }
    if (f.dropped && start > p.contiguous) this.s.upstreamDropped += Math.min(f.dropped, f.firstSeq - 1 - p.contiguous);
    const skip = Math.max(0, p.contiguous + 1 - f.firstSeq);
    this.s.duplicates += skip;
    const fresh = skip === 0 ? f.events : f.events.slice(skip);
    p.contiguous = f.lastSeq;
    p.watermark = Math.max(p.watermark, f.watermark);
    if (fresh.length > 0) {
      this.s.events += fresh.length;
      this.opts.onEvents(producer, fresh, f.lastSeq);
    }
    // Frames held after a gap may now follow on.
    const held = [...p.buffer.values()].sort((a, b) => a.firstSeq - b.firstSeq);
    p.buffer.clear();
    for (const b of held) {
      if (b.lastSeq <= p.contiguous) this.s.duplicates += b.events.length;
      else this.accept(producer, p, b);
    }
    return 'advanced';
  }

  /**
   * Says at once what arrived (so the producer goes on sending), and acks it as durable when
   * the `durable` hook says its results are (at once without one).
   */
  private ackWhenDurable(producer: string, p: Producer, seq: number): void {
    const ack = (durable: number) => {
      if (durable > p.durable) p.durable = durable;
      this.send(producer, { type: 'ack', producer, epoch: p.epoch, ackedSeq: Math.min(p.durable, p.contiguous), receivedSeq: p.contiguous, watermark: p.watermark });
    };
    if (!this.opts.durable) { ack(seq); return; }
    ack(p.durable);
    if (seq > p.durable) this.opts.durable(producer, seq, () => ack(seq));
  }

  private send(producer: string, frame: Parameters<typeof encodeFrame>[0]): void {
    const topic = channelAckTopic(this.opts.app, this.opts.channel, this.opts.partition ?? 0, producer);
    this.opts.client.publish(topic, Buffer.from(encodeFrame(frame)), { qos: 1 }, () => {});
  }

  /** A producer's last-will said it went offline: it stops holding the watermark back. */
  markOffline(producer: string): void {
    const p = this.producers.get(producer);
    if (p && !p.offline) { p.offline = true; this.updateWatermark(); }
  }

  private updateWatermark(): void {
    let min = Infinity;
    let live = 0;
    for (const p of this.producers.values()) {
      if (p.offline) continue;
      live++;
      if (p.watermark < min) min = p.watermark;
    }
    if (live === 0) return;
    if (min > this.watermark) {
      this.watermark = min;
      this.opts.onWatermark(min);
    }
  }

  /** Producers silent for `idleMs` go offline, so one dead gateway cannot stall every window. */
  private tick(): void {
    this.timer = this.clock.setTimeout(() => {
      const now = this.clock.now();
      let changed = false;
      for (const p of this.producers.values()) {
        if (!p.offline && now - p.lastHeard > this.idleMs) { p.offline = true; changed = true; }
      }
      if (changed) this.updateWatermark();
      this.tick();
    }, Math.max(50, this.idleMs / 4), true);
  }

  /** The highest contiguous seq delivered per producer. */
  positions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, p] of this.producers.entries()) out[k] = p.contiguous;
    return out;
  }

  stats(): ChannelReceiverStats { return { ...this.s }; }

  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.opts.client.removeListener('message', this.onMessage);
    this.opts.client.removeListener('connect', this.onConnect);
    this.stopNoDelay?.();
  }
}
